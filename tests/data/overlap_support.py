"""Builders for the labelled overlap pairs: Haarlem activities written compactly.

Times are local (Europe/Amsterdam); weekdays in Dutch (ma di wo do vr za zo).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from verbinders.domain.schedule import OneOff, Schedule, Weekday, Weekly

__all__ = ["Act", "Pair", "once", "vary", "wk"]

AMS = ZoneInfo("Europe/Amsterdam")
_DAYS = {
    "ma": Weekday.MONDAY,
    "di": Weekday.TUESDAY,
    "wo": Weekday.WEDNESDAY,
    "do": Weekday.THURSDAY,
    "vr": Weekday.FRIDAY,
    "za": Weekday.SATURDAY,
    "zo": Weekday.SUNDAY,
}


def _time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def wk(
    days: str,
    starts: str,
    ends: str,
    first: str,
    last: str,
    *,
    every: int = 1,
    except_on: tuple[str, ...] = (),
) -> Weekly:
    """Weekly on `days` ("di" or "ma,wo"), `starts`–`ends` local, from `first` to `last`."""
    return Weekly(
        weekdays=tuple(_DAYS[d] for d in days.split(",")),
        starts=_time(starts),
        ends=_time(ends),
        first_day=date.fromisoformat(first),
        last_day=date.fromisoformat(last),
        every_weeks=every,
        except_on=tuple(date.fromisoformat(d) for d in except_on),
    )


def once(starts: str, ends: str) -> OneOff:
    """A one-off period between two local moments ("2026-07-01 14:00")."""
    return OneOff(
        starts_at=datetime.fromisoformat(starts).replace(tzinfo=AMS),
        ends_at=datetime.fromisoformat(ends).replace(tzinfo=AMS),
    )


@dataclass(frozen=True)
class Act:
    org: str
    title: str
    text: str
    themes: tuple[str, ...]
    groups: tuple[str, ...]
    districts: tuple[str, ...]
    langs: tuple[str, ...]
    when: Schedule
    venue: str | None = None


def vary(act: Act, **changes: object) -> Act:
    return replace(act, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Pair:
    a: Act
    b: Act
    overlap: bool
    why: str
    tags: tuple[str, ...] = field(default=())
