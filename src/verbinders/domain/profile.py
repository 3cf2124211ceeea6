"""An organisation's profile: what it is, whom it serves, where, and in which languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from verbinders.domain import rules
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

EARLIEST_FOUNDING_YEAR = 1600

_KVK = re.compile(r"^\d{8}$")


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
    return rules.single_line(value, field="name", max_length=120, min_length=2)


def kvk_number(value: str | None) -> str | None:
    """A Chamber of Commerce number: 8 digits (spaces and dots in between are dropped)."""
    if value is None:
        return None
    digits = value.replace(" ", "").replace(".", "")
    if not _KVK.fullmatch(digits):
        raise InvalidCommand(
            f"kvk_number must be 8 digits, got {value!r}", field="kvk_number", rule="kvk"
        )
    return digits


def _founding_year(value: int | None, *, at: datetime) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not EARLIEST_FOUNDING_YEAR <= value <= at.year:
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
        "description": partial(rules.multi_line, field="description", max_length=4000),
        "founding_year": partial(_founding_year, at=at),
        "communities": partial(rules.labels, field="communities", max_items=30, max_length=80),
        "languages": partial(language_codes, field="languages"),
        "themes": partial(rules.codes, allowed=vocabulary.theme_codes, field="themes"),
        "districts": partial(rules.codes, allowed=vocabulary.district_codes, field="districts"),
        "target_groups": partial(rules.labels, field="target_groups", max_items=30, max_length=80),
        "website": _website,
        "constituency_size": partial(rules.count, field="constituency_size"),
        "active_volunteers": partial(rules.count, field="active_volunteers"),
    }


def validate_profile(profile: Profile, vocabulary: Vocabulary, at: datetime) -> Profile:
    """The profile with every field checked and cleaned."""
    validators = profile_validators(vocabulary, at)
    return Profile(
        **{name: validators[name](getattr(profile, name)) for name in Profile.__struct_fields__}
    )
