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
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from verbinders.domain import limits, rules, text
from verbinders.errors import InvalidCommand

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "PLATFORM_TIME_ZONE",
    "OneOff",
    "Schedule",
    "TimeRange",
    "Weekday",
    "Weekly",
    "check_schedule",
    "hours_of",
    "occurrences",
    "time_zone",
    "total_hours",
    "utc_moment",
    "utc_seconds",
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
        return _WEEKDAY_NUMBERS[self]


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


def _day_ordinals(schedule: Weekly) -> list[int]:
    """The local days (`date.toordinal()`) on which `schedule` occurs, exceptions left out,
    in order: per chosen weekday an arithmetic series (7 days, or 7 n for every n-th week)."""
    first = schedule.first_day.toordinal()
    last = schedule.last_day.toordinal()
    week_zero = first - schedule.first_day.weekday()
    step = 7 * schedule.every_weeks
    excepted = {day.toordinal() for day in schedule.except_on}
    result: list[int] = []
    # by the plain string (a `Weekday`'s own hash is Python code)
    for weekday in {_WEEKDAY_BY_VALUE[str.__str__(day)] for day in schedule.weekdays}:
        day = first + (weekday - schedule.first_day.weekday()) % 7
        # the first of these days in a counted week (every n-th week from week zero's)
        day += 7 * (-((day - week_zero) // 7) % schedule.every_weeks)
        result.extend(range(day, last + 1, step))
    if excepted:
        result = [day for day in result if day not in excepted]
    result.sort()
    return result


def _days(schedule: Weekly) -> list[date]:
    """The local days on which `schedule` occurs, exceptions left out, in order."""
    return [date.fromordinal(day) for day in _day_ordinals(schedule)]


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    # fold=0: a skipped time reads as after the change, a repeated one as its first instance
    return _local_to_utc(day, at, at.fold, zone)


@functools.lru_cache(maxsize=65536)
def _local_to_utc(day: date, at: time, fold: int, zone: ZoneInfo) -> datetime:
    """Cached: the days on which the clocks change repeat across a platform's activities
    (`fold` is part of the key: `time`'s equality ignores it)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


_WEEKDAY_NUMBERS = {day: number for number, day in enumerate(Weekday)}
_WEEKDAY_BY_VALUE = {day.value: number for number, day in enumerate(Weekday)}
_EPOCH = date(1970, 1, 1).toordinal()
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_DAY = 86400
_FAST_FIRST, _FAST_END = date(1900, 1, 1).toordinal(), date(9000, 1, 1).toordinal()
"""The days that `_ZoneDays` tabulates (before or after them: the exact conversion)."""


class _ZoneDays:
    """Per local day of a zone (`date.toordinal()`): its UTC offset in seconds when the
    offset is the same all day, else None (a day on which the clocks change).

    Between two changes every local time of a day is its UTC time minus one offset, so a
    weekly series is expanded by arithmetic; only the occurrences on a day of a change are
    converted one by one (`_local_to_utc`, with PEP 495's rules for skipped and repeated
    times). Filled a year at a time, when a schedule first needs it."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.offsets: dict[int, int | None] = {}
        self.changes: list[int] = []
        """The days on which the clocks change (offset None), in order, of the years filled."""
        self._years: set[int] = set()

    def cover(self, first: int, last: int) -> dict[int, int | None]:
        for year in range(date.fromordinal(first).year, date.fromordinal(last).year + 1):
            if year not in self._years:
                self._fill(year)
        return self.offsets

    def _offset(self, day: int, hour: int = 0) -> int:
        moment = datetime.combine(date.fromordinal(day), time(hour), tzinfo=self.zone)
        offset = moment.utcoffset()
        assert offset is not None  # a ZoneInfo always has one
        return offset // _SECOND

    def _fill(self, year: int) -> None:
        first, end = date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
        at_midnight = self._offset(first)
        for day in range(first, end):
            next_midnight = self._offset(day + 1)
            # the offsets at both midnights and at noon agree: no change in between (zones
            # change their clocks at most once a day, and keep them for months)
            same = at_midnight == next_midnight == self._offset(day, 12)
            self.offsets[day] = at_midnight if same else None
            if not same:
                self.changes.append(day)
            at_midnight = next_midnight
        self.changes.sort()
        self._years.add(year)


@functools.cache
def _zone_days(zone: ZoneInfo) -> _ZoneDays:
    return _ZoneDays(zone)


def _seconds_of(at: time) -> int | None:
    """Seconds since local midnight of a wall-clock time, or None if it has a fraction."""
    if at.microsecond:
        return None
    return at.hour * 3600 + at.minute * 60 + at.second


def _exact(day: int, at: time, zone: ZoneInfo) -> int:
    return (_utc(date.fromordinal(day), at, zone) - _UTC_EPOCH) // _SECOND


def utc_seconds(schedule: Schedule) -> tuple[tuple[int, int], ...] | None:
    """`occurrences(schedule)` as whole seconds since 1970-01-01 UTC, (start, end) each, or
    None if a moment has a fraction of a second (a one-off given to the microsecond).

    The read models fold these integers (first and last, hours, hour slots, the ranges)
    rather than two `datetime`s per occurrence. A weekly series is expanded by arithmetic:
    per local day `_ZoneDays` knows the offset to UTC (one per period between two changes of
    the clocks), and only the occurrences on a day of a change are converted one by one,
    with the same rules as `occurrences` (equal to the second, a test)."""
    if isinstance(schedule, OneOff):
        start, start_fraction = divmod(schedule.starts_at - _UTC_EPOCH, _SECOND)
        end, end_fraction = divmod(schedule.ends_at - _UTC_EPOCH, _SECOND)
        if start_fraction or end_fraction:
            return None
        return ((start, end),)
    starts, ends = _seconds_of(schedule.starts), _seconds_of(schedule.ends)
    if starts is None or ends is None:
        return None
    days = _day_ordinals(schedule)
    if not days:
        return ()
    zone = time_zone(schedule.time_zone)
    next_day = 1 if schedule.ends <= schedule.starts else 0
    first, last = days[0], days[-1] + next_day
    if first < _FAST_FIRST or last >= _FAST_END:
        return tuple(
            ((r.start - _UTC_EPOCH) // _SECOND, (r.end - _UTC_EPOCH) // _SECOND)
            for r in _exact_occurrences(schedule)
        )
    zone_days = _zone_days(zone)
    offsets = zone_days.cover(first, last)
    changes = zone_days.changes
    # The days whose occurrence starts or ends on a day of a change are converted one by
    # one; between two of them the offset is one, so each run of days is a comprehension.
    slow = sorted(
        {
            day - shift
            for day in changes[bisect_left(changes, first) : bisect_right(changes, last)]
            for shift in {0, next_day}
        }
    )
    if not slow:  # one offset for all (most series: no change of the clocks in their weeks)
        offset = offsets[first]
        assert offset is not None
        start_at = starts - offset - _EPOCH * _DAY
        end_at = ends - offset + (next_day - _EPOCH) * _DAY
        return tuple([(day * _DAY + start_at, day * _DAY + end_at) for day in days])
    result: list[tuple[int, int]] = []
    done = 0
    for stop in [*slow, None]:
        end_index = len(days) if stop is None else bisect_left(days, stop, done)
        if end_index > done:
            offset = offsets[days[done]]
            assert offset is not None  # not a day of a change: those are in `slow`
            start_at = starts - offset - _EPOCH * _DAY
            end_at = ends - offset + (next_day - _EPOCH) * _DAY
            result.extend(
                [(day * _DAY + start_at, day * _DAY + end_at) for day in days[done:end_index]]
            )
        done = end_index
        if stop is not None and done < len(days) and days[done] == stop:
            span = _one_by_one(days[done], schedule, starts, ends, next_day, offsets, zone)
            if span is not None:
                result.append(span)
            done += 1
    return tuple(result)


def _one_by_one(
    day: int,
    schedule: Weekly,
    starts: int,
    ends: int,
    next_day: int,
    offsets: dict[int, int | None],
    zone: ZoneInfo,
) -> tuple[int, int] | None:
    """The occurrence on `day` (or None if a gap makes it end before it starts), its start and
    end each converted one by one if on a day of a change, else by its offset."""
    offset = offsets[day]
    if offset is None:
        start = _exact(day, schedule.starts, zone)
    else:
        start = (day - _EPOCH) * _DAY + starts - offset
    end_day = day + next_day
    offset = offsets[end_day]
    if offset is None:
        end = _exact(end_day, schedule.ends, zone)
    else:
        end = (end_day - _EPOCH) * _DAY + ends - offset
    return (start, end) if end > start else None


@functools.lru_cache(maxsize=65536)
def utc_moment(seconds: int) -> datetime:
    """The UTC moment `seconds` after 1970-01-01 (cached: occurrences share their hours)."""
    return _UTC_EPOCH + timedelta(seconds=seconds)


def _exact_occurrences(schedule: Weekly) -> list[TimeRange]:
    """A weekly schedule's occurrences converted one by one (the definition that
    `utc_seconds` computes by arithmetic)."""
    zone = time_zone(schedule.time_zone)
    next_day = timedelta(days=1) if schedule.ends <= schedule.starts else timedelta()
    result = []
    for day in _days(schedule):
        start = _utc(day, schedule.starts, zone)
        end = _utc(day + next_day, schedule.ends, zone)
        if end > start:
            result.append(TimeRange(start, end))
    return result


def occurrences(schedule: Schedule) -> tuple[TimeRange, ...]:
    """Every occurrence of a checked schedule as [start, end) in UTC, in order."""
    if isinstance(schedule, OneOff):
        return (TimeRange(schedule.starts_at.astimezone(UTC), schedule.ends_at.astimezone(UTC)),)
    spans = utc_seconds(schedule)
    if spans is None:
        return tuple(_exact_occurrences(schedule))
    return tuple(TimeRange(utc_moment(start), utc_moment(end)) for start, end in spans)


def hours_of(spans: Iterable[tuple[int, int]]) -> float:
    """`total_hours` of the occurrences `utc_seconds` gives (the same sum, term by term)."""
    return sum([(end - start) / 3600 for start, end in spans])


def total_hours(ranges: tuple[TimeRange, ...]) -> float:
    return sum(r.hours for r in ranges)
