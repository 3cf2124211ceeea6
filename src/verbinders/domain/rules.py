"""Small validators the aggregates share: each returns the cleaned value or raises.

Every failure is an `InvalidCommand` naming the field (with its path, `agenda[2].title`) and the
rule (`required`, `min-length`, `max-length`, `max-items`, `range`, `characters`, `timezone`,
...), so the HTTP layer can point at the offending input. The bounds live in `limits`; what a
text may contain in `text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec

from verbinders.domain import limits, text
from verbinders.errors import InvalidCommand

__all__ = [
    "aware",
    "changed_fields",
    "choice",
    "codes",
    "count",
    "day",
    "hours",
    "labels",
    "moment",
    "multi_line",
    "not_before",
    "optional_reason",
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
    if not isinstance(at, datetime):
        raise InvalidCommand(f"{field} must be a date-time", field=field, rule="type")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommand(f"{field} must carry a time zone", field=field, rule="timezone")
    return at


def moment(
    at: datetime,
    *,
    field: str,
    earliest: datetime = limits.MOMENT_EARLIEST,
    latest: datetime = limits.MOMENT_LATEST,
) -> datetime:
    """A moment with a time zone, on or after `earliest` and before `latest` (in UTC).

    Checked without converting `at` to UTC first: near year 1 or 9999 that conversion itself
    overflows (`9999-12-31T20:00:00-14:00` is in year 10000 in UTC). `at` keeps its offset.
    """
    offset = aware(at, field=field).utcoffset() or timedelta()
    try:
        utc = at.replace(tzinfo=None) - offset
    except OverflowError:
        utc = None
    low, high = earliest.replace(tzinfo=None), latest.replace(tzinfo=None)
    if utc is None or not low <= utc < high:
        raise InvalidCommand(
            f"{field} must lie between {earliest.isoformat()} and {latest.isoformat()}",
            field=field,
            rule="range",
        )
    return at


def day(
    value: date,
    *,
    field: str,
    earliest: date = limits.DATE_EARLIEST,
    latest: date = limits.DATE_LATEST,
) -> date:
    """A calendar date from `earliest` to `latest` (both included)."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidCommand(f"{field} must be a date", field=field, rule="type")
    if not earliest <= value <= latest:
        raise InvalidCommand(
            f"{field} must lie between {earliest.isoformat()} and {latest.isoformat()}",
            field=field,
            rule="range",
        )
    return value


def choice(options: type[E], value: str, *, field: str) -> E:
    """One of an enumeration's values (given as the member or its string value)."""
    try:
        return options(value)
    except ValueError:
        raise InvalidCommand(
            f"{field} must be one of {', '.join(option.value for option in options)},"
            f" got {text.shown(value)}",
            field=field,
            rule="choice",
        ) from None


def single_line(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    """Text on one line: NFC, checked characters (`text.clean`), whitespace and invisible
    characters stripped at both ends, inner whitespace (line breaks, tabs) collapsed to single
    spaces. `min_length` counts the characters that show."""
    checked = text.clean(value, field=field, multi_line=False)
    cleaned = _WHITESPACE.sub(" ", text.strip_edges(checked))
    _length(cleaned, field=field, max_length=max_length, min_length=min_length)
    return cleaned


def multi_line(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    """Free text that may span lines: NFC, checked characters, line ends as `\\n`, whitespace
    and invisible characters stripped at both ends."""
    cleaned = text.strip_edges(text.clean(value, field=field, multi_line=True))
    _length(cleaned, field=field, max_length=max_length, min_length=1 if required else 0)
    return cleaned


def _length(value: str, *, field: str, max_length: int, min_length: int) -> None:
    if len(value) > max_length:
        raise InvalidCommand(
            f"{field} must be at most {max_length} characters long", field=field, rule="max-length"
        )
    if min_length and text.visible_length(value) < min_length:
        if min_length == 1:
            raise InvalidCommand(f"{field} must not be empty", field=field, rule="required")
        raise InvalidCommand(
            f"{field} must be at least {min_length} characters long",
            field=field,
            rule="min-length",
        )


def reason(value: str, *, field: str = "reason") -> str:
    """The grounds of a decision: required, so that auditors can read why."""
    return multi_line(value, field=field, max_length=limits.REASON_MAX, required=True)


def optional_reason(value: str, *, field: str = "reason") -> str:
    """Why, where saying so is optional (withdrawing, leaving, rescheduling)."""
    return multi_line(value, field=field, max_length=limits.REASON_MAX)


def party(value: str, *, field: str = "decided_by") -> str:
    """The party (an organisation id, or `platform` for platform-wide roles) who decided."""
    return single_line(value, field=field, max_length=limits.PARTY_MAX)


def count(
    value: int | None, *, field: str, minimum: int = 0, maximum: int = limits.INT32_MAX
) -> int | None:
    """An optional whole number from `minimum` to `maximum` (never past PostgreSQL's int32)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidCommand(
            f"{field} must be a whole number from {minimum} to {maximum}",
            field=field,
            rule="range",
        )
    return value


def hours(value: float, *, field: str, maximum: float, minimum: float = 0.0) -> float:
    """Hours in quarters of an hour (`limits.HOURS_QUANTUM`) from `minimum` to `maximum`, as a
    float: quarters are exact in binary floating point, so sums of them are exact too."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCommand(f"{field} must be a number of hours", field=field, rule="type")
    if not minimum <= value <= maximum:  # also refuses NaN
        raise InvalidCommand(
            f"{field} must lie between {minimum:g} and {maximum:g} hours", field=field, rule="range"
        )
    quarters = value / limits.HOURS_QUANTUM
    if quarters != int(quarters):
        raise InvalidCommand(
            f"{field} must be whole quarters of an hour (0.25, 0.5, 0.75, ...)",
            field=field,
            rule="quarter-hours",
        )
    return float(value)


def labels(
    values: Iterable[str], *, field: str, max_items: int, max_length: int
) -> tuple[str, ...]:
    """Free-text labels (communities, target groups), cleaned; duplicates (any case) dropped."""
    seen: set[str] = set()
    result: list[str] = []
    for index, value in enumerate(values):
        label = single_line(value, field=f"{field}[{index}]", max_length=max_length)
        if label.casefold() not in seen:
            seen.add(label.casefold())
            result.append(label)
        if len(result) > max_items:
            raise InvalidCommand(
                f"{field} may hold at most {max_items} entries", field=field, rule="max-items"
            )
    return tuple(result)


def codes(
    values: Iterable[str],
    *,
    allowed: Collection[str],
    field: str,
    max_items: int = limits.CODES_MAX,
) -> tuple[str, ...]:
    """Codes from a closed list (themes, districts): order kept, duplicates dropped."""
    result = tuple(dict.fromkeys(value.strip().lower() for value in values))
    unknown = [code for code in result if code not in allowed]
    if unknown:
        shown = ", ".join(text.shown(code, 40) for code in unknown[:5])
        raise InvalidCommand(
            f"{field}: unknown {shown};"
            f" choose from {', '.join(sorted(allowed)) or 'nothing (the list is empty)'}",
            field=field,
            rule="vocabulary",
        )
    if len(result) > max_items:
        raise InvalidCommand(
            f"{field} may hold at most {max_items} entries", field=field, rule="max-items"
        )
    return result


def web_url(value: str, *, field: str) -> str:
    """An absolute http(s) address with a host name, at most `limits.URL_MAX` characters."""
    url = text.clean(value, field=field, multi_line=False).strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # a malformed port or IPv6 literal
        host = ""
        parts = urlsplit("")
    if (
        parts.scheme not in ("http", "https")
        or "." not in host
        or any(c.isspace() or text.is_invisible(c) for c in url)
        or len(url) > limits.URL_MAX
    ):
        raise InvalidCommand(
            f"{field} must be a web address starting with https:// (or http://),"
            f" got {text.shown(value)}",
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
