from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest

from verbinders.domain.hours import HoursFigure
from verbinders.errors import Conflict, InvalidCommand

from .activity_support import ORGANISER, hours_entry
from .support import T0, at, new_events


def test_logging_hours_records_the_figure() -> None:
    activity_id = uuid4()
    entry = hours_entry(
        figure=HoursFigure(
            day=date(2019, 12, 1), hours=7.75, volunteers=3, activity_id=activity_id, note=" Iftar "
        )
    )
    assert entry.figure == HoursFigure(
        day=date(2019, 12, 1), hours=7.75, volunteers=3, activity_id=activity_id, note="Iftar"
    )
    assert (entry.organisation_id, entry.revision, entry.counted_hours) == (ORGANISER, 0, 7.75)
    assert new_events(entry) == ["Logged"]


def test_hours_are_whole_numbers_too() -> None:
    entry = hours_entry(figure=HoursFigure(day=date(2019, 12, 1), hours=4, volunteers=1))
    assert entry.figure.hours == 4.0 and isinstance(entry.figure.hours, float)


@pytest.mark.parametrize(
    ("figure", "field", "rule"),
    [
        ({"hours": 0}, "hours", "range"),
        ({"hours": -2}, "hours", "range"),
        ({"hours": 1.1}, "hours", "quarter-hours"),
        ({"hours": "3"}, "hours", "type"),
        ({"hours": 49, "volunteers": 2}, "hours", "max-per-volunteer"),
        ({"volunteers": 0}, "volunteers", "range"),
        ({"volunteers": None}, "volunteers", "required"),
        ({"day": date(2019, 12, 3)}, "day", "range"),  # after T0's date: not yet given
        ({"day": date(1989, 12, 31)}, "day", "range"),
        ({"note": "x" * 2001}, "note", "max-length"),
    ],
)
def test_figures_are_checked(figure: dict[str, Any], field: str, rule: str) -> None:
    values: dict[str, Any] = {"day": date(2019, 12, 1), "hours": 3.0, "volunteers": 2}
    values.update(figure)
    with pytest.raises(InvalidCommand) as raised:
        hours_entry(figure=HoursFigure(**values))
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_today_is_the_platforms_day() -> None:
    late_evening = datetime(2019, 12, 31, 23, 30, tzinfo=UTC)  # 1 January 0:30 in Amsterdam
    entry = hours_entry(
        figure=HoursFigure(day=date(2020, 1, 1), hours=2, volunteers=1), at=late_evening
    )
    assert entry.figure.day == date(2020, 1, 1)


def test_a_correction_records_the_whole_corrected_figure_and_the_previous_one() -> None:
    entry = hours_entry()
    entry.collect_events()
    original = entry.figure
    entry.correct(hours=10, reason="Twee vrijwilligers telden dubbel", corrected_by="org", at=at(1))
    assert entry.figure == HoursFigure(day=original.day, hours=10.0, volunteers=5)
    assert (entry.revision, entry.counted_hours) == (1, 10.0)
    (corrected,) = entry.collect_events()
    assert type(corrected).__name__ == "Corrected"
    assert corrected.previous == original  # type: ignore[attr-defined]
    assert corrected.revision == 1  # type: ignore[attr-defined]
    entry.correct(
        day=date(2019, 12, 1),
        activity_id=None,
        note="Verplaatst",
        reason="Andere dag",
        corrected_by="org",
        at=at(2),
    )
    assert entry.revision == 2 and entry.figure.day == date(2019, 12, 1)


def test_a_correction_into_another_year_stays_on_the_same_entry() -> None:
    entry = hours_entry(figure=HoursFigure(day=date(2018, 12, 31), hours=3, volunteers=1))
    entry.correct(day=date(2019, 1, 2), reason="Verkeerde datum", corrected_by="org", at=at(1))
    assert entry.figure.day.year == 2019


def test_a_correction_must_change_something_and_give_a_reason() -> None:
    entry = hours_entry()
    with pytest.raises(InvalidCommand) as raised:
        entry.correct(hours=entry.figure.hours, reason="niets", corrected_by="org", at=at(1))
    assert raised.value.rule == "no-change"
    with pytest.raises(InvalidCommand) as raised:
        entry.correct(hours=1, reason=" ", corrected_by="org", at=at(1))
    assert (raised.value.field, raised.value.rule) == ("reason", "required")
    with pytest.raises(InvalidCommand) as raised:
        entry.correct(hours=1000, reason="x", corrected_by="org", at=at(1))
    assert raised.value.rule == "max-per-volunteer"


def test_a_retracted_entry_counts_for_nothing_and_takes_no_more_corrections() -> None:
    entry = hours_entry()
    entry.retract(reason="Dubbel ingevoerd", decided_by="org", at=at(1))
    assert entry.counted_hours == 0.0 and entry.retracted_at == at(1)
    with pytest.raises(Conflict) as raised:
        entry.correct(hours=1, reason="x", corrected_by="org", at=at(2))
    assert raised.value.details["state"] == "retracted"
    with pytest.raises(Conflict):
        entry.retract(reason="x", decided_by="org", at=at(2))
    assert new_events(entry) == ["Logged", "Retracted"]


def test_corrections_keep_history_ordered() -> None:
    entry = hours_entry(at=at(5))
    with pytest.raises(InvalidCommand) as raised:
        entry.correct(hours=1, reason="x", corrected_by="org", at=T0)
    assert raised.value.rule == "chronology"
