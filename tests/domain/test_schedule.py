"""Schedules: validation, and expansion into UTC ranges across daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from verbinders.domain.schedule import (
    OneOff,
    TimeRange,
    Weekday,
    Weekly,
    check_schedule,
    occurrences,
    total_hours,
)
from verbinders.errors import InvalidCommand

AMS = ZoneInfo("Europe/Amsterdam")


def weekly(**overrides: object) -> Weekly:
    fields: dict[str, object] = {
        "weekdays": (Weekday.TUESDAY,),
        "starts": time(19, 0),
        "ends": time(21, 0),
        "first_day": date(2026, 3, 1),
        "last_day": date(2026, 6, 30),
    }
    fields.update(overrides)
    return check_schedule(Weekly(**fields))  # type: ignore[arg-type, return-value]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_every_tuesday_evening_from_march_to_june_stays_at_19_local_across_the_spring_change() -> (
    None
):
    ranges = occurrences(weekly())
    assert len(ranges) == 18  # 3 March .. 30 June 2026
    assert ranges[0] == TimeRange(utc(2026, 3, 3, 18), utc(2026, 3, 3, 20))  # CET, UTC+1
    assert ranges[3] == TimeRange(utc(2026, 3, 24, 18), utc(2026, 3, 24, 20))
    assert ranges[4] == TimeRange(utc(2026, 3, 31, 17), utc(2026, 3, 31, 19))  # CEST, UTC+2
    assert all(r.start.astimezone(AMS).time() == time(19) for r in ranges)
    assert all(r.end.astimezone(AMS).time() == time(21) for r in ranges)
    assert total_hours(ranges) == 36


def test_the_last_sundays_of_march_and_october_keep_their_local_times() -> None:
    sundays = weekly(
        weekdays=(Weekday.SUNDAY,),
        starts=time(10),
        ends=time(12),
        first_day=date(2026, 3, 22),
        last_day=date(2026, 11, 1),
    )
    by_day = {r.start.astimezone(AMS).date(): r for r in occurrences(sundays)}
    assert by_day[date(2026, 3, 22)].start == utc(2026, 3, 22, 9)
    assert by_day[date(2026, 3, 29)].start == utc(2026, 3, 29, 8)  # the clocks went forward at 2:00
    assert by_day[date(2026, 10, 25)].start == utc(2026, 10, 25, 9)  # and back at 3:00
    assert by_day[date(2026, 10, 18)].start == utc(2026, 10, 18, 8)
    assert all(r.hours == 2 for r in by_day.values())


def test_a_night_across_the_autumn_change_lasts_an_hour_longer_in_real_time() -> None:
    nights = weekly(
        weekdays=(Weekday.SATURDAY,),
        starts=time(22),
        ends=time(4),
        first_day=date(2026, 10, 17),
        last_day=date(2026, 10, 31),
    )
    hours = [r.hours for r in occurrences(nights)]
    assert hours == [6, 7, 6]  # the night of 24 to 25 October has 25 hours in its day


def test_a_skipped_time_reads_as_after_the_spring_change_and_a_vanished_slot_is_left_out() -> None:
    early = weekly(
        weekdays=(Weekday.SUNDAY,),
        starts=time(2, 30),
        ends=time(4, 0),
        first_day=date(2026, 3, 22),
        last_day=date(2026, 3, 29),
    )
    # 02:30 on 29 March does not exist: it reads as 03:30 CEST (01:30 UTC), as PEP 495 says
    assert occurrences(early)[1] == TimeRange(utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2))
    vanished = weekly(
        weekdays=(Weekday.SUNDAY,),
        starts=time(2, 30),
        ends=time(3, 30),
        first_day=date(2026, 3, 22),
        last_day=date(2026, 3, 29),
    )
    assert [r.start.date() for r in occurrences(vanished)] == [date(2026, 3, 22)]


def test_exception_dates_are_left_out() -> None:
    schedule = weekly(except_on=(date(2026, 4, 28), date(2026, 5, 5)))
    days = [r.start.astimezone(AMS).date() for r in occurrences(schedule)]
    assert date(2026, 4, 28) not in days and date(2026, 5, 5) not in days
    assert len(days) == 16


def test_every_other_week_counts_from_the_week_of_the_first_day() -> None:
    schedule = weekly(weekdays=(Weekday.MONDAY, Weekday.THURSDAY), every_weeks=2)
    days = [r.start.astimezone(AMS).date() for r in occurrences(schedule)][:4]
    # 1 March 2026 is a Sunday: its week's Monday is 23 February, so weeks 0, 2, 4, ...
    assert days == [date(2026, 3, 9), date(2026, 3, 12), date(2026, 3, 23), date(2026, 3, 26)]


def test_a_one_off_across_midnight_is_one_range() -> None:
    night = check_schedule(
        OneOff(
            starts_at=datetime(2026, 6, 30, 22, tzinfo=AMS),
            ends_at=datetime(2026, 7, 1, 2, tzinfo=AMS),
        )
    )
    assert occurrences(night) == (TimeRange(utc(2026, 6, 30, 20), utc(2026, 7, 1, 0)),)


def test_weekdays_are_ordered_and_exceptions_sorted_when_checked() -> None:
    schedule = weekly(
        weekdays=("thu", Weekday.MONDAY, "thu"),
        except_on=(date(2026, 6, 29), date(2026, 3, 2), date(2026, 3, 2)),
    )
    assert isinstance(schedule, Weekly)
    assert schedule.weekdays == (Weekday.MONDAY, Weekday.THURSDAY)
    assert schedule.except_on == (date(2026, 3, 2), date(2026, 6, 29))


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"weekdays": ()}, "schedule.weekdays", "required"),
        ({"weekdays": ("tuesday",)}, "schedule.weekdays", "choice"),
        ({"starts": time(19, 0, 30)}, "schedule.starts", "whole-minutes"),
        ({"ends": time(21, tzinfo=UTC)}, "schedule.ends", "timezone"),
        ({"last_day": date(2026, 2, 1)}, "schedule.last_day", "after-start"),
        ({"last_day": date(2028, 3, 2)}, "schedule.last_day", "max-span"),
        ({"first_day": date(1989, 12, 31)}, "schedule.first_day", "range"),
        ({"every_weeks": 0}, "schedule.every_weeks", "range"),
        ({"every_weeks": 5}, "schedule.every_weeks", "range"),
        ({"time_zone": "Mars/Olympus"}, "schedule.time_zone", "time-zone"),
        ({"except_on": (date(2026, 3, 4),)}, "schedule.except_on[0]", "not-an-occurrence"),
        (
            {"first_day": date(2026, 3, 4), "last_day": date(2026, 3, 9)},
            "schedule",
            "no-occurrences",
        ),
        (
            {
                "weekdays": tuple(Weekday)[:5],
                "first_day": date(2026, 1, 1),
                "last_day": date(2027, 12, 31),
            },
            "schedule",
            "max-occurrences",
        ),
    ],
)
def test_weekly_schedules_are_checked(overrides: dict[str, object], field: str, rule: str) -> None:
    with pytest.raises(InvalidCommand) as raised:
        weekly(**overrides)
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_too_many_exception_dates_are_refused() -> None:
    every_day = tuple(Weekday)
    days = tuple(date(2026, 3, 1) + timedelta(days=n) for n in range(101))
    with pytest.raises(InvalidCommand) as raised:
        weekly(weekdays=every_day, except_on=days)
    assert (raised.value.field, raised.value.rule) == ("schedule.except_on", "max-items")


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field", "rule"),
    [
        (
            datetime(2026, 7, 1, 14, tzinfo=AMS),
            datetime(2026, 7, 1, 14, tzinfo=AMS),
            "schedule.ends_at",
            "after-start",
        ),
        (
            datetime(2026, 7, 1, 14, tzinfo=AMS),
            datetime(2026, 7, 8, 15, tzinfo=AMS),
            "schedule.ends_at",
            "max-duration",
        ),
        (
            datetime(2026, 7, 1, 14),
            datetime(2026, 7, 1, 16, tzinfo=AMS),
            "schedule.starts_at",
            "timezone",
        ),
        (
            datetime(1989, 7, 1, 14, tzinfo=AMS),
            datetime(1989, 7, 1, 16, tzinfo=AMS),
            "schedule.starts_at",
            "range",
        ),
    ],
)
def test_one_off_periods_are_checked(
    starts_at: datetime, ends_at: datetime, field: str, rule: str
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        check_schedule(OneOff(starts_at=starts_at, ends_at=ends_at))
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_a_weekly_schedule_of_exactly_the_limits_expands_without_being_cut() -> None:
    schedule = weekly(
        weekdays=(Weekday.MONDAY, Weekday.WEDNESDAY, Weekday.FRIDAY),
        first_day=date(2026, 1, 1),
        last_day=date(2027, 12, 31),
    )
    assert len(occurrences(schedule)) == 313
