from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest

from verbinders.domain.meetings import (
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Decision,
    MeetingMode,
    Votes,
)
from verbinders.errors import Conflict, InvalidCommand

from .support import COORDINATOR, T0, TENANT, at, meeting, new_events

BEFORE = at(6)  # the day before the meeting
DURING = at(7, 1)  # it runs from day 7, 19:00 to 21:00
AFTER = at(7, 3)
ZOOM = "https://zoom.us/j/123456789"


def test_scheduling_an_in_person_meeting() -> None:
    meeting_id = uuid4()
    m = meeting(
        meeting_id=meeting_id,
        title="  Kennismaking  ",
        agenda=[
            AgendaItem(title=" Opening "),
            AgendaItem(title="Rondvraag", description=" Vragen "),
        ],
    )
    assert m.id == meeting_id and m.tenant == TENANT
    assert m.title == "Kennismaking"
    assert (m.starts_at, m.ends_at, m.mode) == (at(7), at(7, 2), MeetingMode.IN_PERSON)
    assert (m.venue, m.online_link) == ("Buurthuis Schalkwijk", None)
    assert m.agenda == (
        AgendaItem(title="Opening"),
        AgendaItem(title="Rondvraag", description="Vragen"),
    )
    assert m.cancelled_at is None and m.attendance == {} and m.decisions == {}
    assert m.minutes is None and m.minutes_published_at is None
    assert new_events(m) == ["Scheduled"]


def test_online_meetings_need_a_link_and_no_venue() -> None:
    m = meeting(mode=MeetingMode.ONLINE, venue=None, online_link=ZOOM)
    assert (m.mode, m.venue, m.online_link) == (MeetingMode.ONLINE, None, ZOOM)


def test_hybrid_meetings_need_a_venue_and_a_link() -> None:
    m = meeting(mode="hybrid", online_link=ZOOM)
    assert (m.mode, m.venue, m.online_link) == (MeetingMode.HYBRID, "Buurthuis Schalkwijk", ZOOM)


def test_meetings_may_be_scheduled_in_the_past_to_enter_history() -> None:
    m = meeting(
        starts_at=at(-300),
        ends_at=at(-300, 2),
        mode=MeetingMode.ONLINE,
        venue=None,
        online_link=ZOOM,
    )
    assert m.starts_at < m.ends_at < T0


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"title": " "}, "title", "required"),
        ({"ends_at": at(7)}, "ends_at", "after-start"),
        ({"ends_at": at(6)}, "ends_at", "after-start"),
        ({"ends_at": at(8, 1)}, "ends_at", "max-duration"),
        ({"starts_at": datetime(2019, 12, 9, 19)}, "starts_at", "timezone"),
        ({"ends_at": datetime(2019, 12, 9, 21)}, "ends_at", "timezone"),
        ({"at": datetime(2019, 12, 2)}, "at", "timezone"),
        ({"mode": "zoom"}, "mode", "choice"),
        ({"venue": None}, "venue", "required"),
        ({"online_link": ZOOM}, "online_link", "not-allowed"),
        ({"mode": MeetingMode.ONLINE, "online_link": ZOOM}, "venue", "not-allowed"),
        ({"mode": MeetingMode.ONLINE, "venue": None}, "online_link", "required"),
        ({"mode": MeetingMode.HYBRID}, "online_link", "required"),
        ({"mode": MeetingMode.HYBRID, "venue": None, "online_link": ZOOM}, "venue", "required"),
        (
            {"mode": MeetingMode.ONLINE, "venue": None, "online_link": "zoom.us/j/1"},
            "online_link",
            "url",
        ),
        ({"venue": " "}, "venue", "required"),
        ({"agenda": [AgendaItem(title="")]}, "agenda[0].title", "required"),
        ({"agenda": [AgendaItem(title="punt")] * 51}, "agenda", "max-items"),
    ],
)
def test_invalid_schedules_are_refused(overrides: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(InvalidCommand) as caught:
        meeting(**overrides)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_the_phase_follows_the_given_moment() -> None:
    m = meeting()
    assert [m.phase(t) for t in (BEFORE, at(7), DURING, at(7, 2), AFTER)] == [
        "upcoming",
        "in-progress",
        "in-progress",
        "ended",
        "ended",
    ]


# -- rescheduling and the agenda ----------------------------------------------------------------


def test_rescheduling_changes_only_the_given_arrangements() -> None:
    m = meeting()
    m.collect_events()
    m.reschedule(
        starts_at=at(14),
        ends_at=at(14, 3),
        mode=MeetingMode.HYBRID,
        online_link=ZOOM,
        reason="Zaal bezet",
        at=BEFORE,
    )
    assert (m.starts_at, m.ends_at, m.mode, m.venue, m.online_link) == (
        at(14),
        at(14, 3),
        MeetingMode.HYBRID,
        "Buurthuis Schalkwijk",
        ZOOM,
    )
    (event,) = m.collect_events()
    assert type(event).__name__ == "Rescheduled"
    assert event.reason == "Zaal bezet"  # type: ignore[attr-defined]


def test_going_online_during_corona() -> None:
    m = meeting()
    m.reschedule(mode=MeetingMode.ONLINE, venue=None, online_link=ZOOM, at=BEFORE)
    assert (m.mode, m.venue, m.online_link) == (MeetingMode.ONLINE, None, ZOOM)


def test_rescheduling_to_the_same_arrangements_records_nothing() -> None:
    m = meeting()
    m.collect_events()
    m.reschedule(starts_at=at(7), venue="Buurthuis  Schalkwijk", at=BEFORE)
    assert new_events(m) == []


def test_rescheduling_is_checked_like_scheduling() -> None:
    m = meeting()
    with pytest.raises(InvalidCommand) as caught:
        m.reschedule(starts_at=at(8), at=BEFORE)  # would end before it starts
    assert caught.value.rule == "after-start"
    with pytest.raises(InvalidCommand) as caught:
        m.reschedule(mode=MeetingMode.ONLINE, at=BEFORE)  # keeps its venue, has no link
    assert caught.value.field == "venue"
    assert m.starts_at == at(7)


def test_moving_the_start_drops_notices_of_absence() -> None:
    org = uuid4()
    m = meeting()
    m.record_attendance(org, AttendanceStatus.ABSENT_WITH_NOTICE, at=BEFORE)
    m.reschedule(venue="Pletterij", at=BEFORE)
    assert org in m.attendance
    m.collect_events()
    m.reschedule(starts_at=at(8), ends_at=at(8, 2), at=BEFORE)
    assert m.attendance == {}
    (event,) = m.collect_events()
    assert event.dropped_notices == (org,)  # type: ignore[attr-defined]


def test_the_agenda_can_change_until_the_minutes_are_published() -> None:
    m = meeting()
    m.collect_events()
    m.change_agenda([AgendaItem(title="Opening"), AgendaItem(title="Fondsen")], at=BEFORE)
    assert [item.title for item in m.agenda] == ["Opening", "Fondsen"]
    m.change_agenda([AgendaItem(title="Opening"), AgendaItem(title="Fondsen")], at=BEFORE)
    assert new_events(m) == ["AgendaChanged"]


# -- cancellation -------------------------------------------------------------------------------


def test_cancelling_records_the_reason_and_who_decided() -> None:
    m = meeting()
    m.collect_events()
    m.cancel(reason="Lockdown", decided_by=COORDINATOR, at=BEFORE)
    assert m.cancelled_at == BEFORE
    assert m.phase(AFTER) == "cancelled"
    (event,) = m.collect_events()
    assert type(event).__name__ == "Cancelled"
    assert (event.reason, event.decided_by) == ("Lockdown", COORDINATOR)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reason", "decided_by", "field"), [("", COORDINATOR, "reason"), ("r", "", "decided_by")]
)
def test_cancelling_needs_a_reason_and_who_decided(
    reason: str, decided_by: str, field: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        meeting().cancel(reason=reason, decided_by=decided_by, at=BEFORE)
    assert caught.value.field == field


_AFTER_CANCELLATION = {
    "reschedule": lambda m: m.reschedule(venue="Elders", at=AFTER),
    "change_agenda": lambda m: m.change_agenda([AgendaItem(title="x")], at=AFTER),
    "cancel": lambda m: m.cancel(reason="again", decided_by=COORDINATOR, at=AFTER),
    "notice": lambda m: m.record_attendance(
        uuid4(), AttendanceStatus.ABSENT_WITH_NOTICE, at=BEFORE
    ),
    "presence": lambda m: m.record_attendance(
        uuid4(), AttendanceStatus.PRESENT, people=2, at=AFTER
    ),
    "decision": lambda m: m.record_decision(uuid4(), "Besluit", at=AFTER),
    "minutes": lambda m: m.publish_minutes("Notulen", at=AFTER),
}


@pytest.mark.parametrize("command", sorted(_AFTER_CANCELLATION))
def test_a_cancelled_meeting_accepts_nothing(command: str) -> None:
    m = meeting()
    m.cancel(reason="Lockdown", decided_by=COORDINATOR, at=BEFORE)
    m.collect_events()
    with pytest.raises(Conflict) as caught:
        _AFTER_CANCELLATION[command](m)
    assert caught.value.details["state"] == "cancelled"
    assert new_events(m) == []


@pytest.mark.parametrize("command", ["reschedule", "cancel"])
@pytest.mark.parametrize("held_by", ["presence", "absence-without-notice", "decision"])
def test_a_meeting_that_was_held_cannot_be_rescheduled_or_cancelled(
    command: str, held_by: str
) -> None:
    m = meeting()
    if held_by == "presence":
        m.record_attendance(uuid4(), AttendanceStatus.PRESENT, people=3, at=DURING)
    elif held_by == "absence-without-notice":
        m.record_attendance(uuid4(), AttendanceStatus.ABSENT_WITHOUT_NOTICE, at=DURING)
    else:
        m.record_decision(uuid4(), "Besluit", at=DURING)
    assert m.was_held
    with pytest.raises(Conflict) as caught:
        _AFTER_CANCELLATION[command](m)
    assert caught.value.details["state"] == "held"


def test_notices_of_absence_alone_do_not_make_a_meeting_held() -> None:
    m = meeting()
    m.record_attendance(uuid4(), AttendanceStatus.ABSENT_WITH_NOTICE, at=BEFORE)
    assert not m.was_held
    m.cancel(reason="Te weinig aanmeldingen", decided_by=COORDINATOR, at=BEFORE)


def test_a_meeting_without_records_can_be_cancelled_after_the_fact() -> None:
    m = meeting()
    m.cancel(reason="Ging niet door", decided_by=COORDINATOR, at=AFTER)
    assert m.cancelled_at == AFTER


# -- attendance ---------------------------------------------------------------------------------


def test_attendance_is_recorded_per_organisation() -> None:
    present, excused, absent = uuid4(), uuid4(), uuid4()
    m = meeting()
    m.collect_events()
    m.record_attendance(present, AttendanceStatus.PRESENT, people=3, at=DURING)
    m.record_attendance(excused, "absent-with-notice", at=DURING)  # type: ignore[arg-type]
    m.record_attendance(absent, AttendanceStatus.ABSENT_WITHOUT_NOTICE, at=AFTER)
    assert m.attendance == {
        present: Attendance(status=AttendanceStatus.PRESENT, people=3),
        excused: Attendance(status=AttendanceStatus.ABSENT_WITH_NOTICE),
        absent: Attendance(status=AttendanceStatus.ABSENT_WITHOUT_NOTICE),
    }
    assert new_events(m) == ["AttendanceRecorded"] * 3


def test_a_notice_of_absence_can_be_given_before_the_meeting() -> None:
    org = uuid4()
    m = meeting()
    m.record_attendance(org, AttendanceStatus.ABSENT_WITH_NOTICE, at=BEFORE)
    assert m.attendance[org].status is AttendanceStatus.ABSENT_WITH_NOTICE


@pytest.mark.parametrize(
    "status", [AttendanceStatus.PRESENT, AttendanceStatus.ABSENT_WITHOUT_NOTICE]
)
def test_presence_and_unexcused_absence_only_once_the_meeting_started(
    status: AttendanceStatus,
) -> None:
    m = meeting()
    people = 2 if status is AttendanceStatus.PRESENT else None
    with pytest.raises(Conflict) as caught:
        m.record_attendance(uuid4(), status, people=people, at=BEFORE)
    assert caught.value.details["state"] == "upcoming"
    m.record_attendance(uuid4(), status, people=people, at=at(7))


def test_a_record_can_be_corrected_and_the_same_record_changes_nothing() -> None:
    org = uuid4()
    m = meeting()
    m.record_attendance(org, AttendanceStatus.ABSENT_WITH_NOTICE, at=BEFORE)
    m.record_attendance(org, AttendanceStatus.PRESENT, people=1, at=DURING)
    m.collect_events()
    m.record_attendance(org, AttendanceStatus.PRESENT, people=1, at=AFTER)
    assert new_events(m) == []
    m.record_attendance(org, AttendanceStatus.PRESENT, people=4, at=AFTER)
    assert m.attendance[org].people == 4


@pytest.mark.parametrize(
    ("status", "people", "field", "rule"),
    [
        (AttendanceStatus.PRESENT, None, "people", "required"),
        (AttendanceStatus.PRESENT, 0, "people", "range"),
        (AttendanceStatus.ABSENT_WITH_NOTICE, 2, "people", "not-allowed"),
        (AttendanceStatus.ABSENT_WITHOUT_NOTICE, 1, "people", "not-allowed"),
        ("late", None, "status", "choice"),
    ],
)
def test_invalid_attendance_is_refused(
    status: Any, people: int | None, field: str, rule: str
) -> None:
    m = meeting()
    with pytest.raises(InvalidCommand) as caught:
        m.record_attendance(uuid4(), status, people=people, at=DURING)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert m.attendance == {}


# -- decisions and minutes ----------------------------------------------------------------------


def test_decisions_are_recorded_with_optional_votes() -> None:
    first, second = uuid4(), uuid4()
    m = meeting()
    m.collect_events()
    m.record_decision(first, "  Stichting Al Amal wordt lid. ", at=DURING)
    m.record_decision(
        second,
        "Gezamenlijke aanvraag bij het fonds",
        votes=Votes(in_favour=9, against=1, abstained=2),
        at=AFTER,
    )
    assert m.decisions == {
        first: Decision(text="Stichting Al Amal wordt lid."),
        second: Decision(
            text="Gezamenlijke aanvraag bij het fonds",
            votes=Votes(in_favour=9, against=1, abstained=2),
        ),
    }
    assert list(m.decisions) == [first, second]
    assert new_events(m) == ["DecisionRecorded"] * 2


def test_decisions_only_once_the_meeting_started() -> None:
    with pytest.raises(Conflict) as caught:
        meeting().record_decision(uuid4(), "Besluit", at=BEFORE)
    assert caught.value.details["state"] == "upcoming"


def test_a_decision_is_recorded_once() -> None:
    m = meeting()
    decision_id = uuid4()
    m.record_decision(decision_id, "Besluit", at=DURING)
    with pytest.raises(Conflict) as caught:
        m.record_decision(decision_id, "Ander besluit", at=DURING)
    assert caught.value.details["state"] == "exists"


@pytest.mark.parametrize(
    ("text", "votes", "field", "rule"),
    [
        (" ", None, "text", "required"),
        ("Besluit", Votes(in_favour=-1), "votes.in_favour", "range"),
        ("Besluit", Votes(against=-2), "votes.against", "range"),
        ("Besluit", Votes(), "votes", "required"),
    ],
)
def test_invalid_decisions_are_refused(
    text: str, votes: Votes | None, field: str, rule: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        meeting().record_decision(uuid4(), text, votes=votes, at=DURING)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_minutes_are_published_after_the_meeting_and_close_the_record() -> None:
    m = meeting()
    m.record_attendance(uuid4(), AttendanceStatus.PRESENT, people=2, at=DURING)
    with pytest.raises(Conflict) as caught:
        m.publish_minutes("Notulen", at=DURING)
    assert caught.value.details["state"] == "in-progress"
    m.collect_events()
    m.publish_minutes("  # Notulen\n\nOpening door de voorzitter. ", at=at(9))
    assert m.minutes == "# Notulen\n\nOpening door de voorzitter."
    assert m.minutes_published_at == at(9)
    assert m.phase(at(10)) == "minutes-published"
    assert new_events(m) == ["MinutesPublished"]


def test_minutes_need_text() -> None:
    with pytest.raises(InvalidCommand) as caught:
        meeting().publish_minutes(" ", at=AFTER)
    assert caught.value.field == "minutes"


@pytest.mark.parametrize("command", sorted(_AFTER_CANCELLATION))
def test_after_the_minutes_nothing_changes(command: str) -> None:
    m = meeting()
    m.publish_minutes("Notulen", at=AFTER)
    m.collect_events()
    with pytest.raises(Conflict) as caught:
        _AFTER_CANCELLATION[command](m)
    assert caught.value.details["state"] == "minutes-published"
    assert new_events(m) == []


def test_meeting_commands_need_a_time_zone() -> None:
    with pytest.raises(InvalidCommand):
        meeting().record_decision(uuid4(), "Besluit", at=DURING.replace(tzinfo=None))
