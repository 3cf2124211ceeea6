"""When an activity takes place: a one-off period or a weekly schedule, and its occurrences.

A schedule is a value (msgspec Structs, a tagged union stored in events as it was given):

- `OneOff`: one period between two moments with their time zone (a festival afternoon, a
  Keti Koti night from 20:00 to 02:00, a weekend camp of at most a week);
- `Weekly`: on some weekdays, from a local wall-clock time to another (an end at or before the
  start means the next day), from a first to a last day (at most two years), every week or
  every n-th week, except on some dates, in a time zone (the platform's: Europe/Amsterdam).

`occurrences(schedule)` expands a schedule into concrete `TimeRange`s in UTC, half-open
[start, end), sorted and disjoint: the read model stores them as a PostgreSQL
`tstzmultirange`. Wall-clock times stay wall-clock times across daylight saving: 19:00 on a
Tuesday is 18:00 UTC in winter and 17:00 UTC in summer. A local time that does not exist (the
hour skipped on the last Sunday of March) is read as the clock shows it after the change
(PEP 495: 02:30 becomes 03:30 CEST); an ambiguous one (the hour repeated on the last Sunday of
October) as its first, summer-time, instance. An occurrence that would end before it starts
because of such a gap (02:30–03:00 on the day the clocks skip that half hour) does not exist
and is left out.

`check_schedule` validates a schedule against `limits` (span, duration, count, exceptions that
are real occurrence days) before any event records it, so `occurrences` never has to cut a
schedule short.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from verbinders.domain import limits, rules, text
from verbinders.errors import InvalidCommand

__all__ = [
    "PLATFORM_TIME_ZONE",
    "OneOff",
    "Schedule",
    "TimeRange",
    "Weekday",
    "Weekly",
    "check_schedule",
    "occurrences",
    "time_zone",
    "total_hours",
]

PLATFORM_TIME_ZONE = "Europe/Amsterdam"
"""The time zone of every Dutch platform; a weekly schedule records the zone it was given in."""


class Weekday(StrEnum):
    MONDAY = "mon"
    TUESDAY = "tue"
    WEDNESDAY = "wed"
    THURSDAY = "thu"
    FRIDAY = "fri"
    SATURDAY = "sat"
    SUNDAY = "sun"

    @property
    def number(self) -> int:
        """0 for Monday ... 6 for Sunday (as `date.weekday()`)."""
        return list(Weekday).index(self)


class OneOff(msgspec.Struct, frozen=True, kw_only=True, tag="one-off"):
    """One period: from `starts_at` to `ends_at` (moments with a time zone), at most a week."""

    starts_at: datetime
    ends_at: datetime


class Weekly(msgspec.Struct, frozen=True, kw_only=True, tag="weekly"):
    """On `weekdays`, from `starts` to `ends` local time, from `first_day` to `last_day`."""

    weekdays: tuple[Weekday, ...]
    starts: time
    """Local wall-clock time in `time_zone`, whole minutes, no time zone of its own."""
    ends: time
    """At or before `starts`: the occurrence ends the next day (22:00–02:00)."""
    first_day: date
    last_day: date
    every_weeks: int = 1
    """1: every week; 2: every other week (counted from the week of `first_day`); ..."""
    except_on: tuple[date, ...] = ()
    """Days (local) on which the activity does not take place."""
    time_zone: str = PLATFORM_TIME_ZONE


Schedule = OneOff | Weekly


class TimeRange(NamedTuple):
    """[start, end) in UTC."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@functools.cache
def time_zone(name: str) -> ZoneInfo:
    """The zone called `name` (IANA), or `InvalidCommand` on `schedule.time_zone`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidCommand(
            f"schedule.time_zone: {text.shown(name)} is not a known time zone",
            field="schedule.time_zone",
            rule="time-zone",
        ) from None


# -- validation ---------------------------------------------------------------------------------


def _moment(value: datetime, field: str) -> datetime:
    return rules.moment(
        value, field=field, earliest=limits.ACTIVITY_EARLIEST, latest=limits.ACTIVITY_LATEST
    )


def _check_one_off(schedule: OneOff, field: str) -> OneOff:
    starts_at = _moment(schedule.starts_at, f"{field}.starts_at")
    ends_at = _moment(schedule.ends_at, f"{field}.ends_at")
    if ends_at <= starts_at:
        raise InvalidCommand(
            f"{field}.ends_at must lie after starts_at",
            field=f"{field}.ends_at",
            rule="after-start",
        )
    if ends_at - starts_at > limits.ONE_OFF_DURATION_MAX:
        raise InvalidCommand(
            f"a one-off period lasts at most {limits.ONE_OFF_DURATION_MAX.days} days;"
            " a longer series is a weekly schedule",
            field=f"{field}.ends_at",
            rule="max-duration",
        )
    return schedule


def _wall_time(value: time, field: str) -> time:
    if not isinstance(value, time):
        raise InvalidCommand(f"{field} must be a time of day", field=field, rule="type")
    if value.tzinfo is not None:
        raise InvalidCommand(
            f"{field} is a local time and carries no time zone (the schedule's time_zone"
            " says which)",
            field=field,
            rule="timezone",
        )
    if value.second or value.microsecond:
        raise InvalidCommand(f"{field} must be whole minutes", field=field, rule="whole-minutes")
    return value


def _weekdays(values: tuple[Weekday, ...], field: str) -> tuple[Weekday, ...]:
    chosen = {rules.choice(Weekday, value, field=f"{field}.weekdays") for value in values}
    if not chosen:
        raise InvalidCommand(
            f"{field}.weekdays needs at least one day", field=f"{field}.weekdays", rule="required"
        )
    return tuple(day for day in Weekday if day in chosen)


def _check_weekly(schedule: Weekly, field: str) -> Weekly:
    time_zone(schedule.time_zone)
    weekdays = _weekdays(schedule.weekdays, field)
    starts = _wall_time(schedule.starts, f"{field}.starts")
    ends = _wall_time(schedule.ends, f"{field}.ends")
    earliest = limits.ACTIVITY_EARLIEST.date()
    first_day = rules.day(schedule.first_day, field=f"{field}.first_day", earliest=earliest)
    last_day = rules.day(schedule.last_day, field=f"{field}.last_day", earliest=earliest)
    if last_day < first_day:
        raise InvalidCommand(
            f"{field}.last_day lies before first_day", field=f"{field}.last_day", rule="after-start"
        )
    if last_day - first_day > limits.SCHEDULE_SPAN_MAX:
        raise InvalidCommand(
            f"a weekly schedule runs at most {limits.SCHEDULE_SPAN_MAX.days} days"
            " (update it later to run longer)",
            field=f"{field}.last_day",
            rule="max-span",
        )
    if isinstance(schedule.every_weeks, bool) or schedule.every_weeks not in range(
        1, limits.EVERY_WEEKS_MAX + 1
    ):
        raise InvalidCommand(
            f"{field}.every_weeks must be a whole number from 1 to {limits.EVERY_WEEKS_MAX}",
            field=f"{field}.every_weeks",
            rule="range",
        )
    checked = msgspec.structs.replace(
        schedule,
        weekdays=weekdays,
        starts=starts,
        ends=ends,
        first_day=first_day,
        last_day=last_day,
        except_on=(),
    )
    days = set(_days(checked))
    except_on = _exceptions(schedule.except_on, days, field)
    if len(days) - len(except_on) > limits.OCCURRENCES_MAX:
        raise InvalidCommand(
            f"a schedule has at most {limits.OCCURRENCES_MAX} occurrences, this one"
            f" {len(days) - len(except_on)}",
            field=field,
            rule="max-occurrences",
        )
    if len(days) == len(except_on):
        raise InvalidCommand(
            f"{field} has no occurrence (no chosen weekday falls between first_day and"
            " last_day, or every one is an exception)",
            field=field,
            rule="no-occurrences",
        )
    return msgspec.structs.replace(checked, except_on=except_on)


def _exceptions(values: tuple[date, ...], days: set[date], field: str) -> tuple[date, ...]:
    result = sorted(set(values))
    if len(result) > limits.EXCEPTION_DATES_MAX:
        raise InvalidCommand(
            f"{field}.except_on may hold at most {limits.EXCEPTION_DATES_MAX} dates",
            field=f"{field}.except_on",
            rule="max-items",
        )
    for index, day in enumerate(result):
        rules.day(day, field=f"{field}.except_on[{index}]")
        if day not in days:
            raise InvalidCommand(
                f"{field}.except_on: {day.isoformat()} is not a day of the schedule",
                field=f"{field}.except_on[{index}]",
                rule="not-an-occurrence",
            )
    return tuple(result)


def check_schedule(schedule: Schedule, *, field: str = "schedule") -> Schedule:
    """`schedule` checked and cleaned (weekdays in order, exceptions sorted), or
    `InvalidCommand` naming the field and rule."""
    if isinstance(schedule, OneOff):
        return _check_one_off(schedule, field)
    if isinstance(schedule, Weekly):
        return _check_weekly(schedule, field)
    raise InvalidCommand(
        f"{field} must be a one-off or a weekly schedule", field=field, rule="type"
    )


# -- expansion ----------------------------------------------------------------------------------


def _days(schedule: Weekly) -> list[date]:
    """The local days on which `schedule` occurs, exceptions left out, in order."""
    week_zero = schedule.first_day - timedelta(days=schedule.first_day.weekday())
    excepted = set(schedule.except_on)
    result = []
    for weekday in {day.number for day in schedule.weekdays}:
        day = schedule.first_day + timedelta(days=(weekday - schedule.first_day.weekday()) % 7)
        while day <= schedule.last_day:
            if ((day - week_zero).days // 7) % schedule.every_weeks == 0 and day not in excepted:
                result.append(day)
            day += timedelta(days=7)
    result.sort()
    return result


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    # fold=0: a skipped time reads as after the change, a repeated one as its first instance
    return _local_to_utc(day, at, at.fold, zone)


@functools.lru_cache(maxsize=65536)
def _local_to_utc(day: date, at: time, fold: int, zone: ZoneInfo) -> datetime:
    """Cached: days and times repeat across a platform's activities, so that a rebuild of
    the read models converts each local day and time once (`fold` is part of the key:
    `time`'s equality ignores it)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def occurrences(schedule: Schedule) -> tuple[TimeRange, ...]:
    """Every occurrence of a checked schedule as [start, end) in UTC, in order."""
    if isinstance(schedule, OneOff):
        return (TimeRange(schedule.starts_at.astimezone(UTC), schedule.ends_at.astimezone(UTC)),)
    zone = time_zone(schedule.time_zone)
    next_day = timedelta(days=1) if schedule.ends <= schedule.starts else timedelta()
    result = []
    for day in _days(schedule):
        start = _utc(day, schedule.starts, zone)
        end = _utc(day + next_day, schedule.ends, zone)
        if end > start:
            result.append(TimeRange(start, end))
    return tuple(result)


def total_hours(ranges: tuple[TimeRange, ...]) -> float:
    return sum(r.hours for r in ranges)
