from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest

from verbinders.domain.activities import ActivityStatus, PartnershipStatus
from verbinders.domain.activity_details import ActivityChanges, ActivityDetails, Contribution
from verbinders.domain.limits import PARTNERS_MAX
from verbinders.domain.schedule import OneOff
from verbinders.errors import Conflict, InvalidCommand, NotFound

from .activity_support import ORGANISER, PARTNER, TAALCAFE, TUESDAYS, activity
from .support import T0, TENANT, VOCABULARY, at, new_events

HELP = Contribution(role="locatie", pledged_hours=10.5, resources=("zaal voor 40", "koffie"))


def test_planning_an_activity_records_its_details_and_schedule() -> None:
    a = activity(details=ActivityDetails(**{**_fields(TAALCAFE), "title": "  Taalcafé  "}))
    assert (a.tenant, a.organisation_id, a.status) == (TENANT, ORGANISER, ActivityStatus.PLANNED)
    assert a.details.title == "Taalcafé"
    assert a.schedule == TUESDAYS
    assert len(a.occurrences) == 26
    assert a.partners == {} and not a.is_collaboration and a.is_open
    assert (a.planned_at, a.changed_at, a.started_at, a.ended_at) == (T0, T0, None, None)
    assert new_events(a) == ["Planned"]


def _fields(details: ActivityDetails) -> dict[str, Any]:
    return {name: getattr(details, name) for name in ActivityDetails.__struct_fields__}


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"title": " "}, "title", "required"),
        ({"title": "x" * 201}, "title", "max-length"),
        ({"themes": ("cooking",)}, "themes", "vocabulary"),
        ({"districts": ("amsterdam",)}, "districts", "vocabulary"),
        ({"languages": ("klingon",)}, "languages", "iso-639"),
        ({"target_groups": ("",)}, "target_groups[0]", "required"),
        ({"expected_participants": -1}, "expected_participants", "range"),
        ({"expected_participants": 1_000_001}, "expected_participants", "range"),
        ({"venue": "Zaal\x00"}, "venue", "characters"),
        ({"description": "x" * 4001}, "description", "max-length"),
    ],
)
def test_details_are_checked_against_the_platforms_vocabulary_and_limits(
    changes: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        activity(details=ActivityDetails(**{**_fields(TAALCAFE), **changes}))
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_the_schedule_is_checked_when_planning() -> None:
    backwards = OneOff(starts_at=at(3), ends_at=at(2))
    with pytest.raises(InvalidCommand) as raised:
        activity(schedule=backwards)
    assert (raised.value.field, raised.value.rule) == ("schedule.ends_at", "after-start")


def test_planning_needs_a_time_zone_on_at() -> None:
    with pytest.raises(InvalidCommand) as raised:
        activity(at=datetime(2019, 12, 2))
    assert raised.value.rule == "timezone"


def test_updating_records_changed_details_and_a_new_schedule_apart() -> None:
    a = activity()
    a.collect_events()
    new_schedule = OneOff(starts_at=at(10), ends_at=at(10, 3))
    a.update(
        ActivityChanges(title="Taalcafé Molenwijk", venue=None, schedule=new_schedule),
        vocabulary=VOCABULARY,
        at=at(1),
    )
    assert a.details.title == "Taalcafé Molenwijk" and a.details.venue is None
    assert a.schedule == new_schedule
    events = list(a.collect_events())
    assert [type(e).__name__ for e in events] == ["DetailsUpdated", "Rescheduled"]
    assert events[0].changed == ("title", "venue")  # type: ignore[attr-defined]


def test_an_update_to_the_same_values_records_nothing() -> None:
    a = activity()
    a.collect_events()
    a.update(
        ActivityChanges(title=TAALCAFE.title, schedule=TUESDAYS), vocabulary=VOCABULARY, at=at(1)
    )
    assert new_events(a) == []


def test_an_invalid_update_records_nothing() -> None:
    a = activity()
    a.collect_events()
    with pytest.raises(InvalidCommand):
        a.update(ActivityChanges(title="Nieuw", themes=("nope",)), vocabulary=VOCABULARY, at=at(1))
    assert new_events(a) == [] and a.details == TAALCAFE


def test_a_partner_accepts_with_its_contribution_and_makes_it_a_collaboration() -> None:
    a = activity()
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), message="Doen jullie mee?", at=at(1))
    assert a.partners[PARTNER].status is PartnershipStatus.INVITED
    assert not a.is_collaboration
    a.accept_invitation(PARTNER, HELP, at=at(2))
    part = a.partners[PARTNER]
    assert (part.status, part.contribution, part.answered_at) == (
        PartnershipStatus.ACCEPTED,
        HELP,
        at(2),
    )
    assert a.is_collaboration and a.accepted_partners == (PARTNER,)
    assert new_events(a) == ["Planned", "PartnerInvited", "InvitationAccepted"]


def test_an_accepted_partner_changes_its_contribution_and_may_withdraw() -> None:
    a = activity()
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(1))
    a.accept_invitation(PARTNER, HELP, at=at(2))
    more = Contribution(role="locatie en koks", pledged_hours=20, resources=("zaal",))
    a.change_contribution(PARTNER, more, at=at(3))
    a.change_contribution(PARTNER, more, at=at(3))  # the same: nothing
    a.withdraw_partner(PARTNER, reason="Zaal niet meer beschikbaar", at=at(4))
    assert a.partners[PARTNER].status is PartnershipStatus.WITHDRAWN
    assert a.partners[PARTNER].contribution == Contribution(
        role="locatie en koks", pledged_hours=20.0, resources=("zaal",)
    )
    assert not a.is_collaboration
    assert new_events(a)[-2:] == ["ContributionChanged", "PartnerWithdrew"]


def test_a_declined_or_withdrawn_partner_may_be_invited_again() -> None:
    a = activity()
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(1))
    a.decline_invitation(PARTNER, reason="Geen tijd", at=at(2))
    assert a.partners[PARTNER].status is PartnershipStatus.DECLINED
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(3))
    assert a.partners[PARTNER].status is PartnershipStatus.INVITED
    assert a.partners[PARTNER].invited_at == at(3)


@pytest.mark.parametrize("status", ["invited", "accepted"])
def test_inviting_an_organisation_that_is_invited_or_taking_part_is_a_conflict(status: str) -> None:
    a = activity()
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(1))
    if status == "accepted":
        a.accept_invitation(PARTNER, HELP, at=at(2))
    with pytest.raises(Conflict) as raised:
        a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(3))
    assert raised.value.details["state"] == status


def test_the_organiser_cannot_be_its_own_partner() -> None:
    with pytest.raises(InvalidCommand) as raised:
        activity().invite_partner(ORGANISER, invited_by=str(ORGANISER), at=at(1))
    assert raised.value.rule == "not-the-organiser"


def test_at_most_so_many_organisations_are_invited() -> None:
    a = activity()
    for _ in range(PARTNERS_MAX):
        a.invite_partner(uuid4(), invited_by=str(ORGANISER), at=at(1))
    with pytest.raises(InvalidCommand) as raised:
        a.invite_partner(uuid4(), invited_by=str(ORGANISER), at=at(1))
    assert raised.value.rule == "max-items"


@pytest.mark.parametrize(
    ("setup", "action", "state"),
    [
        ("invited", lambda a: a.withdraw_partner(PARTNER, at=at(3)), "invited"),
        ("invited", lambda a: a.change_contribution(PARTNER, HELP, at=at(3)), "invited"),
        ("accepted", lambda a: a.accept_invitation(PARTNER, HELP, at=at(3)), "accepted"),
        ("accepted", lambda a: a.decline_invitation(PARTNER, at=at(3)), "accepted"),
        ("declined", lambda a: a.accept_invitation(PARTNER, HELP, at=at(3)), "declined"),
    ],
)
def test_a_partners_answer_must_fit_its_state(setup: str, action: Any, state: str) -> None:
    a = activity()
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(1))
    if setup == "accepted":
        a.accept_invitation(PARTNER, HELP, at=at(2))
    if setup == "declined":
        a.decline_invitation(PARTNER, at=at(2))
    with pytest.raises(Conflict) as raised:
        action(a)
    assert raised.value.details["state"] == state


def test_answering_without_an_invitation_is_not_found() -> None:
    with pytest.raises(NotFound):
        activity().accept_invitation(PARTNER, HELP, at=at(1))


@pytest.mark.parametrize(
    ("contribution", "field", "rule"),
    [
        (Contribution(role=""), "contribution.role", "required"),
        (Contribution(role="x", pledged_hours=-1), "contribution.pledged_hours", "range"),
        (Contribution(role="x", pledged_hours=1.1), "contribution.pledged_hours", "quarter-hours"),
        (Contribution(role="x", pledged_hours=float("nan")), "contribution.pledged_hours", "range"),
        (Contribution(role="x", pledged_hours=100_000.25), "contribution.pledged_hours", "range"),
        (Contribution(role="x", resources=("",)), "contribution.resources[0]", "required"),
        (
            Contribution(role="x", resources=tuple(str(n) for n in range(21))),
            "contribution.resources",
            "max-items",
        ),
    ],
)
def test_contributions_are_checked(contribution: Contribution, field: str, rule: str) -> None:
    a = activity()
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(1))
    with pytest.raises(InvalidCommand) as raised:
        a.accept_invitation(PARTNER, contribution, at=at(2))
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_an_activity_starts_and_completes_with_its_result() -> None:
    a = activity()
    a.start(at=at(36))
    assert (a.status, a.started_at) == (ActivityStatus.RUNNING, at(36))
    a.complete(actual_participants=0, result=" Niemand kwam door de storm. ", at=at(200))
    assert a.status is ActivityStatus.COMPLETED and not a.is_open
    assert (a.actual_participants, a.result, a.ended_at) == (
        0,
        "Niemand kwam door de storm.",
        at(200),
    )
    assert new_events(a) == ["Planned", "Started", "Completed"]


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"actual_participants": None, "result": "ok"}, "actual_participants", "required"),
        ({"actual_participants": -3, "result": "ok"}, "actual_participants", "range"),
        ({"actual_participants": True, "result": "ok"}, "actual_participants", "range"),
        ({"actual_participants": 3, "result": " "}, "result", "required"),
    ],
)
def test_completion_needs_participants_and_a_result(
    kwargs: dict[str, Any], field: str, rule: str
) -> None:
    a = activity()
    a.start(at=at(1))
    with pytest.raises(InvalidCommand) as raised:
        a.complete(at=at(2), **kwargs)
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_cancelling_records_the_reason_and_who_decided() -> None:
    a = activity()
    a.cancel(reason="Geen locatie", decided_by=str(ORGANISER), at=at(1))
    assert (a.status, a.cancel_reason, a.ended_at) == (
        ActivityStatus.CANCELLED,
        "Geen locatie",
        at(1),
    )
    with pytest.raises(InvalidCommand) as raised:
        activity().cancel(reason=" ", decided_by="platform", at=at(1))
    assert raised.value.rule == "required"


def _planned() -> Any:
    return activity()


def _running() -> Any:
    a = activity()
    a.start(at=at(1))
    return a


def _completed() -> Any:
    a = _running()
    a.complete(actual_participants=12, result="Goed", at=at(2))
    return a


def _cancelled() -> Any:
    a = activity()
    a.cancel(reason="Corona", decided_by="platform", at=at(2))
    return a


LATER = at(5)
ACTIONS = {
    "start": lambda a: a.start(at=LATER),
    "complete": lambda a: a.complete(actual_participants=1, result="x", at=LATER),
    "cancel": lambda a: a.cancel(reason="x", decided_by="platform", at=LATER),
    "update": lambda a: a.update(ActivityChanges(title="Nieuw"), vocabulary=VOCABULARY, at=LATER),
    "invite": lambda a: a.invite_partner(PARTNER, invited_by="platform", at=LATER),
}


@pytest.mark.parametrize(
    ("make", "state", "action"),
    [
        (_planned, "planned", "complete"),
        (_running, "running", "start"),
        (_completed, "completed", "start"),
        (_completed, "completed", "complete"),
        (_completed, "completed", "cancel"),
        (_completed, "completed", "update"),
        (_completed, "completed", "invite"),
        (_cancelled, "cancelled", "start"),
        (_cancelled, "cancelled", "cancel"),
        (_cancelled, "cancelled", "update"),
        (_cancelled, "cancelled", "invite"),
    ],
)
def test_invalid_transitions_are_conflicts_naming_the_state(
    make: Any, state: str, action: str
) -> None:
    a = make()
    with pytest.raises(Conflict) as raised:
        ACTIONS[action](a)
    assert raised.value.details["state"] == state
    assert state in raised.value.message


def test_answers_of_partners_are_refused_once_the_activity_ended() -> None:
    a = activity()
    a.invite_partner(PARTNER, invited_by=str(ORGANISER), at=at(1))
    a.cancel(reason="x", decided_by="platform", at=at(2))
    with pytest.raises(Conflict) as raised:
        a.accept_invitation(PARTNER, HELP, at=at(3))
    assert raised.value.details["state"] == "cancelled"


def test_history_stays_ordered() -> None:
    a = activity()
    a.start(at=at(5))
    with pytest.raises(InvalidCommand) as raised:
        a.complete(actual_participants=1, result="x", at=at(4))
    assert raised.value.rule == "chronology"


def test_a_running_activity_may_be_rescheduled_and_take_partners() -> None:
    a = _running()
    longer = TUESDAYS.__class__(
        **{
            **{n: getattr(TUESDAYS, n) for n in TUESDAYS.__struct_fields__},
            "last_day": date(2020, 12, 29),
        }
    )
    a.update(ActivityChanges(schedule=longer), vocabulary=VOCABULARY, at=at(3))
    a.invite_partner(PARTNER, invited_by="platform", at=at(3))
    assert a.schedule == longer and a.partners[PARTNER].status is PartnershipStatus.INVITED
    assert a.occurrences[-1].start == datetime(2020, 12, 29, 18, tzinfo=UTC)
