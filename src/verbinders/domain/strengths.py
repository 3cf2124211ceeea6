"""Strengths: what an organisation can offer others (a venue, interpreters, catering, reach)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import partial
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules
from verbinders.domain.vocabulary import Vocabulary, language_codes
from verbinders.errors import InvalidCommand

__all__ = ["Strength", "StrengthChanges", "StrengthKind", "validate_strength"]


class StrengthKind(StrEnum):
    VENUE = "venue"
    INTERPRETERS = "interpreters"
    CATERING = "catering"
    TRANSPORT = "transport"
    EXPERTISE = "expertise"
    REACH = "reach"
    OTHER = "other"


class Strength(msgspec.Struct, frozen=True, kw_only=True):
    kind: StrengthKind
    title: str
    description: str = ""
    capacity: int | None = None
    """How many: people a venue seats, seats in transport, meals catered, ... (at least 1)."""
    languages: tuple[str, ...] = ()
    """ISO 639 codes; interpreters need at least one."""
    districts: tuple[str, ...] = ()
    """Where it is offered: codes from the platform's districts."""


class StrengthChanges(msgspec.Struct, frozen=True, kw_only=True):
    kind: StrengthKind | UnsetType = UNSET
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    capacity: int | UnsetType | None = UNSET
    languages: tuple[str, ...] | UnsetType = UNSET
    districts: tuple[str, ...] | UnsetType = UNSET


def strength_validators(vocabulary: Vocabulary) -> dict[str, Callable[[Any], Any]]:
    return {
        "kind": partial(rules.choice, StrengthKind, field="kind"),
        "title": partial(rules.single_line, field="title", max_length=limits.STRENGTH_TITLE_MAX),
        "description": partial(
            rules.multi_line, field="description", max_length=limits.STRENGTH_DESCRIPTION_MAX
        ),
        "capacity": partial(rules.count, field="capacity", minimum=1, maximum=limits.CAPACITY_MAX),
        "languages": partial(language_codes, field="languages"),
        "districts": partial(rules.codes, allowed=vocabulary.district_codes, field="districts"),
    }


def check_strength(strength: Strength) -> Strength:
    """Rules across fields, on a strength whose fields were checked one by one."""
    if strength.kind is StrengthKind.INTERPRETERS and not strength.languages:
        raise InvalidCommand(
            "interpreters need at least one language", field="languages", rule="required"
        )
    return strength


def validate_strength(strength: Strength, vocabulary: Vocabulary) -> Strength:
    validators = strength_validators(vocabulary)
    cleaned = Strength(
        **{name: validators[name](getattr(strength, name)) for name in Strength.__struct_fields__}
    )
    return check_strength(cleaned)
