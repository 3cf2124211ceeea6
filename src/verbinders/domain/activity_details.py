"""What an activity is (its details) and what a partner brings to it (a contribution).

Details are checked as organisations' profiles are: themes and districts against the
platform's vocabulary, languages against `vocabulary.LANGUAGES`, target groups as free labels
in the organisation's own words ("moeders met jonge kinderen", "statushouders"), texts through
`rules` and `text`, bounds from `limits`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules
from verbinders.domain.schedule import Schedule
from verbinders.domain.vocabulary import Vocabulary, language_codes

__all__ = [
    "ActivityChanges",
    "ActivityDetails",
    "Contribution",
    "details_validators",
    "validate_contribution",
    "validate_details",
]


class ActivityDetails(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    description: str = ""
    themes: tuple[str, ...] = ()
    """Codes from the platform's themes."""
    target_groups: tuple[str, ...] = ()
    """Whom it is for, in the organisation's words (`target_groups.group_keys` reads them)."""
    districts: tuple[str, ...] = ()
    """Codes from the platform's districts; none: city-wide or online."""
    languages: tuple[str, ...] = ()
    """ISO 639 codes of the languages spoken at the activity."""
    venue: str | None = None
    expected_participants: int | None = None


class ActivityChanges(msgspec.Struct, frozen=True, kw_only=True):
    """A partial update: only fields that are not `UNSET` change; None clears a field."""

    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    themes: tuple[str, ...] | UnsetType = UNSET
    target_groups: tuple[str, ...] | UnsetType = UNSET
    districts: tuple[str, ...] | UnsetType = UNSET
    languages: tuple[str, ...] | UnsetType = UNSET
    venue: str | UnsetType | None = UNSET
    expected_participants: int | UnsetType | None = UNSET
    schedule: Schedule | UnsetType = UNSET
    """A new schedule is recorded as `Rescheduled`, the rest as `DetailsUpdated`."""


class Contribution(msgspec.Struct, frozen=True, kw_only=True):
    """What a partner brings: its role, the volunteer hours it pledges, resources."""

    role: str
    pledged_hours: float = 0.0
    resources: tuple[str, ...] = ()


def _venue(value: str | None) -> str | None:
    if value is None:
        return None
    return rules.single_line(value, field="venue", max_length=limits.VENUE_MAX)


def details_validators(vocabulary: Vocabulary) -> dict[str, Callable[[Any], Any]]:
    """One validator per field of `ActivityDetails`."""
    return {
        "title": partial(rules.single_line, field="title", max_length=limits.TITLE_MAX),
        "description": partial(
            rules.multi_line, field="description", max_length=limits.DESCRIPTION_MAX
        ),
        "themes": partial(rules.codes, allowed=vocabulary.theme_codes, field="themes"),
        "target_groups": partial(
            rules.labels,
            field="target_groups",
            max_items=limits.LABELS_MAX,
            max_length=limits.LABEL_MAX,
        ),
        "districts": partial(rules.codes, allowed=vocabulary.district_codes, field="districts"),
        "languages": partial(language_codes, field="languages"),
        "venue": _venue,
        "expected_participants": partial(
            rules.count, field="expected_participants", maximum=limits.PARTICIPANTS_MAX
        ),
    }


def validate_details(details: ActivityDetails, vocabulary: Vocabulary) -> ActivityDetails:
    """Every field checked and cleaned."""
    validators = details_validators(vocabulary)
    return ActivityDetails(
        **{
            name: validators[name](getattr(details, name))
            for name in ActivityDetails.__struct_fields__
        }
    )


def validate_contribution(contribution: Contribution) -> Contribution:
    return Contribution(
        role=rules.single_line(
            contribution.role, field="contribution.role", max_length=limits.PARTNER_ROLE_MAX
        ),
        pledged_hours=rules.hours(
            contribution.pledged_hours,
            field="contribution.pledged_hours",
            maximum=limits.PLEDGED_HOURS_MAX,
        ),
        resources=rules.labels(
            contribution.resources,
            field="contribution.resources",
            max_items=limits.RESOURCES_MAX,
            max_length=limits.RESOURCE_MAX,
        ),
    )
