"""Small validators the aggregates share: each returns the cleaned value or raises.

Every failure is an `InvalidCommand` naming the field and the rule, so the HTTP layer can point
at the offending input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec

from verbinders.errors import InvalidCommand

__all__ = [
    "aware",
    "changed_fields",
    "choice",
    "codes",
    "count",
    "labels",
    "multi_line",
    "party",
    "reason",
    "single_line",
    "web_url",
]

S = TypeVar("S", bound=msgspec.Struct)
E = TypeVar("E", bound=StrEnum)

_WHITESPACE = re.compile(r"\s+")


def aware(at: datetime, *, field: str = "at") -> datetime:
    """A moment with a time zone: naive datetimes cannot be compared or ordered safely."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommand(f"{field} must carry a time zone", field=field, rule="timezone")
    return at


def choice(options: type[E], value: str, *, field: str) -> E:
    """One of an enumeration's values (given as the member or its string value)."""
    try:
        return options(value)
    except ValueError:
        raise InvalidCommand(
            f"{field} must be one of {', '.join(option.value for option in options)},"
            f" got {value!r}",
            field=field,
            rule="choice",
        ) from None


def single_line(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    """Text on one line: stripped, inner whitespace collapsed to single spaces."""
    cleaned = _WHITESPACE.sub(" ", value).strip()
    if len(cleaned) < min_length:
        if min_length == 1:
            raise InvalidCommand(f"{field} must not be empty", field=field, rule="required")
        raise InvalidCommand(
            f"{field} must be at least {min_length} characters long",
            field=field,
            rule="min-length",
        )
    if len(cleaned) > max_length:
        raise InvalidCommand(
            f"{field} must be at most {max_length} characters long", field=field, rule="max-length"
        )
    return cleaned


def multi_line(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    """Free text that may span lines: only stripped at both ends."""
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidCommand(f"{field} must not be empty", field=field, rule="required")
    if len(cleaned) > max_length:
        raise InvalidCommand(
            f"{field} must be at most {max_length} characters long", field=field, rule="max-length"
        )
    return cleaned


def reason(value: str, *, field: str = "reason") -> str:
    """The grounds of a decision: required, so that auditors can read why."""
    return multi_line(value, field=field, max_length=2000, required=True)


def party(value: str, *, field: str = "decided_by") -> str:
    """The party (an organisation id, or `platform` for platform-wide roles) who decided."""
    return single_line(value, field=field, max_length=200)


def count(value: int | None, *, field: str, minimum: int = 0) -> int | None:
    """An optional whole number of at least `minimum`."""
    if value is None:
        return None
    if isinstance(value, bool) or value < minimum:
        raise InvalidCommand(
            f"{field} must be a whole number of at least {minimum}", field=field, rule="minimum"
        )
    return value


def labels(
    values: Iterable[str], *, field: str, max_items: int, max_length: int
) -> tuple[str, ...]:
    """Free-text labels (communities, target groups), cleaned; duplicates (any case) dropped."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        label = single_line(value, field=field, max_length=max_length)
        if label.casefold() not in seen:
            seen.add(label.casefold())
            result.append(label)
    if len(result) > max_items:
        raise InvalidCommand(
            f"{field} may hold at most {max_items} entries", field=field, rule="max-items"
        )
    return tuple(result)


def codes(values: Iterable[str], *, allowed: Collection[str], field: str) -> tuple[str, ...]:
    """Codes from a closed list (themes, districts): order kept, duplicates dropped."""
    result = tuple(dict.fromkeys(value.strip().lower() for value in values))
    unknown = [code for code in result if code not in allowed]
    if unknown:
        raise InvalidCommand(
            f"{field}: unknown {', '.join(map(repr, unknown))};"
            f" choose from {', '.join(sorted(allowed)) or 'nothing (the list is empty)'}",
            field=field,
            rule="vocabulary",
        )
    return result


def web_url(value: str, *, field: str) -> str:
    """An absolute http(s) address with a host name, at most 2,048 characters."""
    url = value.strip()
    parts = urlsplit(url)
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or "." not in host
        or any(c.isspace() for c in url)
        or len(url) > 2048
    ):
        raise InvalidCommand(
            f"{field} must be a web address starting with https:// (or http://), got {value!r}",
            field=field,
            rule="url",
        )
    return url


def changed_fields(
    current: S, changes: msgspec.Struct, validators: Mapping[str, Callable[[Any], Any]]
) -> tuple[S, tuple[str, ...]]:
    """Apply the set (not `UNSET`) fields of `changes` to `current`, each through its validator.

    Only the fields `current` has are looked at (`changes` may carry others). Returns the new
    value and the names of the fields whose value really changed; a field given with its current
    value is no change.
    """
    updates: dict[str, Any] = {}
    for name in current.__struct_fields__:
        given = getattr(changes, name, msgspec.UNSET)
        if given is msgspec.UNSET:
            continue
        value = validators[name](given) if name in validators else given
        if value != getattr(current, name):
            updates[name] = value
    if not updates:
        return current, ()
    return msgspec.structs.replace(current, **updates), tuple(updates)


def not_before(at: datetime, earlier: datetime, *, what: str, field: str = "at") -> datetime:
    """`at` checked to be no earlier than the moment of `what`, so that history stays ordered."""
    if at < earlier:
        raise InvalidCommand(
            f"{field} ({at.isoformat()}) lies before {what} ({earlier.isoformat()})",
            field=field,
            rule="chronology",
        )
    return at
