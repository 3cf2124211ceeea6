"""The arithmetic expansion of weekly schedules (`utc_seconds`, and `occurrences` built on it)
equals the definition, each occurrence converted from local time on its own, to the second:
random series around the changes of the clocks, exceptions, every n-th week, nights across
midnight, times in the skipped and the repeated hour, in Amsterdam and in zones that change
at midnight, by half an hour, or not at all. The read models' folds of those integers (first
and last occurrence, hours, hour slots, ranges) equal what they computed from `TimeRange`s.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from asyncpg import Range

from verbinders.domain.schedule import (
    OneOff,
    TimeRange,
    Weekday,
    Weekly,
    hours_of,
    occurrences,
    total_hours,
    utc_moment,
    utc_seconds,
)
from verbinders.projections import activities, overlap_candidates
from verbinders.projections.overlap_candidates import hour_slots, multirange

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZONES = (
    "Europe/Amsterdam",
    "America/Santiago",  # changes at midnight
    "Australia/Lord_Howe",  # half an hour
    "America/Sao_Paulo",  # changed until 2019
    "Asia/Tokyo",  # never
)
# local days on which Amsterdam's clocks change, 2020-2028
CHANGES = [
    d
    for year in range(2020, 2029)
    for d in (
        max(date(year, 3, day) for day in range(25, 32) if date(year, 3, day).weekday() == 6),
        max(date(year, 10, day) for day in range(25, 32) if date(year, 10, day).weekday() == 6),
    )
]


def seconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(seconds=1)


def definition(schedule: Weekly) -> list[TimeRange]:
    """Every occurrence converted on its own (as `occurrences` did before the arithmetic)."""
    zone = ZoneInfo(schedule.time_zone)
    week_zero = schedule.first_day - timedelta(days=schedule.first_day.weekday())
    days = []
    numbers = {list(Weekday).index(day) for day in schedule.weekdays}
    day = schedule.first_day
    while day <= schedule.last_day:
        if (
            day.weekday() in numbers
            and ((day - week_zero).days // 7) % schedule.every_weeks == 0
            and day not in schedule.except_on
        ):
            days.append(day)
        day += timedelta(days=1)
    next_day = timedelta(days=1) if schedule.ends <= schedule.starts else timedelta()
    result = []
    for day in days:
        start = datetime.combine(day, schedule.starts, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + next_day, schedule.ends, tzinfo=zone).astimezone(UTC)
        if end > start:
            result.append(TimeRange(start, end))
    return result


def random_schedule(rng: random.Random, zone: str, *, folds: bool = True) -> Weekly:
    if rng.random() < 0.7:
        first_day = rng.choice(CHANGES) - timedelta(days=rng.randrange(0, 60))
    else:
        first_day = date(2020, 1, 1) + timedelta(days=rng.randrange(9 * 365))
    last_day = first_day + timedelta(days=rng.choice((0, 6, 13, 40, 90, 200, 400, 729)))
    edge = rng.random() < 0.6  # times in and around the hours the clocks change
    minutes = (0, 15, 30, 45, 59)

    def at() -> time:
        hour = rng.choice((0, 1, 2, 3, 4, 23)) if edge else rng.randrange(24)
        return time(hour, rng.choice(minutes), fold=rng.choice((0, 0, 0, 1)) if folds else 0)

    weekdays = tuple(rng.sample(list(Weekday), rng.randint(1, 7)))
    schedule = Weekly(
        weekdays=weekdays,
        starts=at(),
        ends=at(),
        first_day=first_day,
        last_day=last_day,
        every_weeks=rng.choice((1, 1, 2, 3, 4)),
        time_zone=zone,
    )
    days = [r.start for r in definition(schedule)]
    if days and rng.random() < 0.5:
        local = sorted(
            {d.astimezone(ZoneInfo(zone)).date() for d in rng.sample(days, min(len(days), 5))}
        )
        # exceptions are local days of the series (some of them not its start's UTC day)
        schedule = Weekly(
            weekdays=weekdays,
            starts=schedule.starts,
            ends=schedule.ends,
            first_day=first_day,
            last_day=last_day,
            every_weeks=schedule.every_weeks,
            except_on=tuple(local),
            time_zone=zone,
        )
    return schedule


@pytest.mark.parametrize("zone", ZONES)
def test_the_arithmetic_expansion_equals_each_occurrence_converted_on_its_own(zone: str) -> None:
    rng = random.Random(zone)
    for _ in range(400):
        schedule = random_schedule(rng, zone)
        expected = definition(schedule)
        found = occurrences(schedule)
        assert list(found) == expected, schedule
        assert [(r.start.tzinfo, r.start.fold, r.end.fold) for r in found] == [
            (UTC, 0, 0) for _ in expected
        ]
        spans = utc_seconds(schedule)
        assert spans == tuple((seconds(r.start), seconds(r.end)) for r in expected)
        assert spans is not None
        assert repr(hours_of(spans)) == repr(total_hours(tuple(expected)))


def test_every_day_of_a_year_at_every_quarter_hour_of_the_night_in_amsterdam() -> None:
    for starts in (time(h, m) for h in range(5) for m in (0, 15, 30, 45)):
        for ends in (time(1, 0), time(2, 30), time(3, 0), time(3, 15), time(23, 45)):
            schedule = Weekly(
                weekdays=tuple(Weekday),
                starts=starts,
                ends=ends,
                first_day=date(2026, 1, 1),
                last_day=date(2026, 12, 31),
            )
            assert list(occurrences(schedule)) == definition(schedule)


def test_a_skipped_half_hour_leaves_the_occurrence_out_and_a_repeated_one_reads_as_summer() -> None:
    spring = Weekly(
        weekdays=(Weekday.SUNDAY,),
        starts=time(2, 30),
        ends=time(3, 0),
        first_day=date(2026, 3, 22),
        last_day=date(2026, 4, 5),
    )
    assert [r.start.date() for r in occurrences(spring)] == [date(2026, 3, 22), date(2026, 4, 5)]
    autumn = Weekly(
        weekdays=(Weekday.SUNDAY,),
        starts=time(2, 30),
        ends=time(3, 30),
        first_day=date(2026, 10, 25),
        last_day=date(2026, 10, 25),
    )
    # 02:30 CEST (00:30 UTC) to 03:30 CET (02:30 UTC)
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    end = datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    assert occurrences(autumn) == (TimeRange(start, end),)
    assert utc_seconds(autumn) == ((seconds(start), seconds(end)),)


def test_a_one_off_given_to_the_microsecond_has_no_whole_seconds_and_folds_as_before() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    exact = OneOff(
        starts_at=datetime(2026, 5, 1, 19, 0, tzinfo=amsterdam),
        ends_at=datetime(2026, 5, 1, 21, 0, tzinfo=amsterdam),
    )
    assert utc_seconds(exact) == ((1777654800, 1777662000),)
    fraction = OneOff(
        starts_at=datetime(2026, 5, 1, 19, 0, 0, 500, tzinfo=amsterdam),
        ends_at=datetime(2026, 5, 1, 21, 0, tzinfo=amsterdam),
    )
    assert utc_seconds(fraction) is None
    assert utc_moment(1777654800) == datetime(2026, 5, 1, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ZONES[:3])
def test_the_read_models_fold_the_same_values_as_from_the_occurrences(zone: str) -> None:
    import msgspec

    rng = random.Random(f"folds {zone}")
    # as events record them: JSON has no `fold`
    schedules: list[OneOff | Weekly] = [random_schedule(rng, zone, folds=False) for _ in range(150)]
    amsterdam = ZoneInfo("Europe/Amsterdam")
    schedules += [
        OneOff(
            starts_at=datetime(2026, 10, 25, 1, 30, tzinfo=amsterdam),
            ends_at=datetime(2026, 10, 25, 4, 0, tzinfo=amsterdam),
        ),
        OneOff(
            starts_at=datetime(2026, 3, 29, 1, 59, 59, 999, tzinfo=amsterdam),
            ends_at=datetime(2026, 3, 29, 3, 0, 0, 1, tzinfo=amsterdam),
        ),
    ]
    for schedule in schedules:
        ranges = (
            tuple(definition(schedule)) if isinstance(schedule, Weekly) else occurrences(schedule)
        )
        if not ranges:
            continue
        encoded = msgspec.json.encode(schedule)
        facts = dict(activities._schedule_facts(encoded))
        assert facts == {
            "first_at": ranges[0].start,
            "last_at": ranges[-1].end,
            "occurrences": len(ranges),
            "scheduled_hours": total_hours(ranges),
        }
        assert repr(facts["scheduled_hours"]) == repr(total_hours(ranges))
        found_ranges, slots, hours = overlap_candidates._when(encoded)
        assert [(r.lower, r.upper, r.lower_inc, r.upper_inc) for r in found_ranges] == [
            (r.lower, r.upper, r.lower_inc, r.upper_inc) for r in multirange(ranges)
        ]
        assert all(isinstance(r, Range) for r in found_ranges)
        assert list(slots) == hour_slots(ranges)
        assert repr(hours) == repr(total_hours(ranges))


def test_hour_slots_in_one_pass_equal_the_set_of_every_occurrences_hours() -> None:
    spans = ((3600, 7201), (7300, 9000), (10800, 10800 + 60), (36000, 39600))
    expected = sorted({h for s, e in spans for h in range(s // 3600, -(-e // 3600))})
    assert overlap_candidates._hour_slots_of(spans) == tuple(expected) == (1, 2, 3, 10)
    # not in order (no schedule gives them so): still the sorted set
    assert overlap_candidates._hour_slots_of(spans[::-1]) == tuple(expected)
