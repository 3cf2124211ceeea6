"""An organisation's profile: what it is, whom it serves, where, and in which languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules, text
from verbinders.domain.limits import EARLIEST_FOUNDING_YEAR
from verbinders.domain.vocabulary import Vocabulary, language_codes
from verbinders.errors import InvalidCommand

__all__ = [
    "EARLIEST_FOUNDING_YEAR",
    "Profile",
    "ProfileChanges",
    "kvk_number",
    "organisation_name",
    "profile_validators",
    "validate_profile",
]

_KVK = re.compile(r"^[0-9]{8}$")


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    description: str = ""
    founding_year: int | None = None
    communities: tuple[str, ...] = ()
    """Communities served, in the organisation's own words ("Marokkaans-Nederlands", ...)."""
    languages: tuple[str, ...] = ()
    """ISO 639 codes (see `vocabulary.LANGUAGES`)."""
    themes: tuple[str, ...] = ()
    """Codes from the platform's themes."""
    districts: tuple[str, ...] = ()
    """Codes from the platform's districts."""
    target_groups: tuple[str, ...] = ()
    website: str | None = None
    constituency_size: int | None = None
    """Size of the constituency (achterban): people the organisation reaches."""
    active_volunteers: int | None = None


class ProfileChanges(msgspec.Struct, frozen=True, kw_only=True):
    """A partial update: only the fields that are not `UNSET` change; None clears a field."""

    name: str | UnsetType = UNSET
    kvk_number: str | UnsetType | None = UNSET
    description: str | UnsetType = UNSET
    founding_year: int | UnsetType | None = UNSET
    communities: tuple[str, ...] | UnsetType = UNSET
    languages: tuple[str, ...] | UnsetType = UNSET
    themes: tuple[str, ...] | UnsetType = UNSET
    districts: tuple[str, ...] | UnsetType = UNSET
    target_groups: tuple[str, ...] | UnsetType = UNSET
    website: str | UnsetType | None = UNSET
    constituency_size: int | UnsetType | None = UNSET
    active_volunteers: int | UnsetType | None = UNSET


def organisation_name(value: str) -> str:
    """An organisation's name: one line of 2 to 120 characters, no bidirectional controls."""
    return rules.single_line(
        value, field="name", max_length=limits.NAME_MAX, min_length=limits.NAME_MIN
    )


def kvk_number(value: str | None) -> str | None:
    """A Chamber of Commerce number: 8 digits (spaces and dots in between are dropped)."""
    if value is None:
        return None
    digits = value.replace(" ", "").replace(".", "")
    if not _KVK.fullmatch(digits):
        raise InvalidCommand(
            f"kvk_number must be 8 digits, got {text.shown(value)}", field="kvk_number", rule="kvk"
        )
    return digits


def _founding_year(value: int | None, *, at: datetime) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCommand("founding_year must be a year", field="founding_year", rule="type")
    if not EARLIEST_FOUNDING_YEAR <= value <= at.year:
        raise InvalidCommand(
            f"founding_year must lie between {EARLIEST_FOUNDING_YEAR} and {at.year}",
            field="founding_year",
            rule="range",
        )
    return value


def _website(value: str | None) -> str | None:
    return None if value is None else rules.web_url(value, field="website")


def profile_validators(vocabulary: Vocabulary, at: datetime) -> dict[str, Callable[[Any], Any]]:
    """One validator per profile field, checking against the platform's vocabulary."""
    return {
        "description": partial(
            rules.multi_line, field="description", max_length=limits.DESCRIPTION_MAX
        ),
        "founding_year": partial(_founding_year, at=at),
        "communities": partial(
            rules.labels,
            field="communities",
            max_items=limits.LABELS_MAX,
            max_length=limits.LABEL_MAX,
        ),
        "languages": partial(language_codes, field="languages"),
        "themes": partial(rules.codes, allowed=vocabulary.theme_codes, field="themes"),
        "districts": partial(rules.codes, allowed=vocabulary.district_codes, field="districts"),
        "target_groups": partial(
            rules.labels,
            field="target_groups",
            max_items=limits.LABELS_MAX,
            max_length=limits.LABEL_MAX,
        ),
        "website": _website,
        "constituency_size": partial(
            rules.count, field="constituency_size", maximum=limits.CONSTITUENCY_SIZE_MAX
        ),
        "active_volunteers": partial(
            rules.count, field="active_volunteers", maximum=limits.ACTIVE_VOLUNTEERS_MAX
        ),
    }


def validate_profile(profile: Profile, vocabulary: Vocabulary, at: datetime) -> Profile:
    """The profile with every field checked and cleaned."""
    validators = profile_validators(vocabulary, at)
    return Profile(
        **{name: validators[name](getattr(profile, name)) for name in Profile.__struct_fields__}
    )
