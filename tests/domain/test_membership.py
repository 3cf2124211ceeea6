from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from verbinders.domain.membership import Membership, MembershipStatus, Period, membership_id
from verbinders.errors import Conflict, InvalidCommand

from .support import COORDINATOR, T0, TENANT, at, membership, new_events


def admit(m: Membership, day: float = 30) -> None:
    m.admit(reason="Past bij het platform", decided_by=COORDINATOR, at=at(day))


def test_applying_opens_the_organisations_membership_stream() -> None:
    org_id = uuid4()
    m = membership(organisation_id=org_id, motivation="  Samen sterker.\n")
    assert m.id == membership_id(TENANT, org_id)
    assert membership_id(TENANT, org_id) != membership_id("zaanstad", org_id)
    assert (m.tenant, m.organisation_id, m.status, m.motivation) == (
        TENANT,
        org_id,
        MembershipStatus.APPLIED,
        "Samen sterker.",
    )
    assert m.changed_at == T0
    assert not m.is_member and m.member_since is None and m.first_admitted_at is None
    assert new_events(m) == ["Applied"]


def test_an_application_needs_a_motivation() -> None:
    with pytest.raises(InvalidCommand) as caught:
        membership(motivation=" ")
    assert caught.value.field == "motivation"


def test_admission_starts_a_period_and_records_the_decision() -> None:
    m = membership()
    m.collect_events()
    meeting_id = uuid4()
    m.admit(reason="Unaniem", decided_by=COORDINATOR, meeting_id=meeting_id, at=at(30))
    assert m.status is MembershipStatus.MEMBER
    assert m.is_member and m.member_since == at(30) and m.first_admitted_at == at(30)
    assert m.periods == [Period(since=at(30))]
    (admitted,) = m.collect_events()
    assert type(admitted).__name__ == "Admitted"
    assert admitted.reason == "Unaniem"  # type: ignore[attr-defined]
    assert admitted.decided_by == COORDINATOR  # type: ignore[attr-defined]
    assert admitted.meeting_id == meeting_id  # type: ignore[attr-defined]
    assert admitted.at == at(30)  # type: ignore[attr-defined]


def test_rejection_records_the_decision_without_a_period() -> None:
    m = membership()
    m.collect_events()
    m.reject(reason="Geen zelforganisatie", decided_by=COORDINATOR, at=at(30))
    assert m.status is MembershipStatus.REJECTED
    assert m.periods == []
    (rejected,) = m.collect_events()
    assert (rejected.reason, rejected.decided_by, rejected.meeting_id) == (  # type: ignore[attr-defined]
        "Geen zelforganisatie",
        COORDINATOR,
        None,
    )


def test_suspension_is_a_period_of_its_own_and_membership_runs_on() -> None:
    m = membership()
    admit(m)
    m.suspend(reason="Geen contact meer", decided_by=COORDINATOR, at=at(100))
    assert m.status is MembershipStatus.SUSPENDED
    assert m.is_member and m.member_since == at(30)
    assert m.suspensions == [Period(since=at(100))]
    m.reinstate(reason="Weer actief", decided_by=COORDINATOR, at=at(150))
    assert m.status is MembershipStatus.MEMBER
    assert m.suspensions == [Period(since=at(100), until=at(150))]
    assert m.periods == [Period(since=at(30))]
    assert new_events(m)[-2:] == ["Suspended", "Reinstated"]


def test_leaving_closes_the_period() -> None:
    m = membership()
    admit(m)
    m.leave(at=at(365), reason="Verhuisd naar Amsterdam")
    assert m.status is MembershipStatus.LEFT
    assert not m.is_member and m.member_since is None
    assert m.periods == [Period(since=at(30), until=at(365))]
    assert new_events(m)[-1] == "Left"


def test_leaving_while_suspended_closes_the_suspension_too() -> None:
    m = membership()
    admit(m)
    m.suspend(reason="r", decided_by=COORDINATOR, at=at(100))
    m.leave(at=at(120))
    assert m.suspensions == [Period(since=at(100), until=at(120))]
    assert m.periods == [Period(since=at(30), until=at(120))]


def test_an_application_can_be_withdrawn() -> None:
    m = membership()
    m.withdraw_application(at=at(3), reason="Te vroeg")
    assert m.status is MembershipStatus.WITHDRAWN
    assert new_events(m)[-1] == "ApplicationWithdrawn"


def test_history_keeps_every_period_of_membership() -> None:
    m = membership()
    admit(m, 30)
    m.leave(at=at(200))
    m.reapply(motivation="We zijn terug", at=at(400))
    assert m.status is MembershipStatus.APPLIED and m.motivation == "We zijn terug"
    admit(m, 420)
    assert m.periods == [Period(since=at(30), until=at(200)), Period(since=at(420))]
    assert m.member_since == at(420)
    assert m.first_admitted_at == at(30)


# -- every transition from every state ----------------------------------------------------------


def _suspended(m: Membership) -> None:
    admit(m, 10)
    m.suspend(reason="r", decided_by=COORDINATOR, at=at(11))


def _left(m: Membership) -> None:
    admit(m, 10)
    m.leave(at=at(11))


_REACH: dict[MembershipStatus, Callable[[Membership], None]] = {
    MembershipStatus.APPLIED: lambda m: None,
    MembershipStatus.MEMBER: lambda m: admit(m, 10),
    MembershipStatus.SUSPENDED: _suspended,
    MembershipStatus.REJECTED: lambda m: m.reject(reason="r", decided_by=COORDINATOR, at=at(10)),
    MembershipStatus.WITHDRAWN: lambda m: m.withdraw_application(at=at(10)),
    MembershipStatus.LEFT: _left,
}

_COMMANDS: dict[
    str, tuple[Callable[[Membership], None], set[MembershipStatus], MembershipStatus]
] = {
    "reapply": (
        lambda m: m.reapply(motivation="opnieuw", at=at(20)),
        {MembershipStatus.REJECTED, MembershipStatus.WITHDRAWN, MembershipStatus.LEFT},
        MembershipStatus.APPLIED,
    ),
    "withdraw_application": (
        lambda m: m.withdraw_application(at=at(20)),
        {MembershipStatus.APPLIED},
        MembershipStatus.WITHDRAWN,
    ),
    "admit": (
        lambda m: m.admit(reason="r", decided_by=COORDINATOR, at=at(20)),
        {MembershipStatus.APPLIED},
        MembershipStatus.MEMBER,
    ),
    "reject": (
        lambda m: m.reject(reason="r", decided_by=COORDINATOR, at=at(20)),
        {MembershipStatus.APPLIED},
        MembershipStatus.REJECTED,
    ),
    "suspend": (
        lambda m: m.suspend(reason="r", decided_by=COORDINATOR, at=at(20)),
        {MembershipStatus.MEMBER},
        MembershipStatus.SUSPENDED,
    ),
    "reinstate": (
        lambda m: m.reinstate(reason="r", decided_by=COORDINATOR, at=at(20)),
        {MembershipStatus.SUSPENDED},
        MembershipStatus.MEMBER,
    ),
    "leave": (
        lambda m: m.leave(at=at(20)),
        {MembershipStatus.MEMBER, MembershipStatus.SUSPENDED},
        MembershipStatus.LEFT,
    ),
}

_CASES = [(state, command) for state in MembershipStatus for command in _COMMANDS]


@pytest.mark.parametrize(("state", "command"), _CASES)
def test_each_transition_is_allowed_only_from_its_states(
    state: MembershipStatus, command: str
) -> None:
    m = membership()
    _REACH[state](m)
    assert m.status is state
    run, allowed, target = _COMMANDS[command]
    m.collect_events()
    if state in allowed:
        run(m)
        assert m.status is target
        assert len(m.collect_events()) == 1
    else:
        with pytest.raises(Conflict) as caught:
            run(m)
        assert caught.value.details["state"] == state.value
        assert f"is {state.value}" in caught.value.message
        assert m.status is state
        assert m.collect_events() == []


# -- decisions and chronology -------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["admit", "reject", "suspend", "reinstate"])
@pytest.mark.parametrize(
    ("reason", "decided_by", "field"), [("", COORDINATOR, "reason"), ("r", "", "decided_by")]
)
def test_decisions_need_a_reason_and_who_decided(
    decision: str, reason: str, decided_by: str, field: str
) -> None:
    m = membership()
    if decision in ("suspend", "reinstate"):
        admit(m, 1)
    if decision == "reinstate":
        m.suspend(reason="r", decided_by=COORDINATOR, at=at(2))
    with pytest.raises(InvalidCommand) as caught:
        getattr(m, decision)(reason=reason, decided_by=decided_by, at=at(5))
    assert caught.value.field == field


def test_a_transition_cannot_be_dated_before_the_previous_one() -> None:
    m = membership(at=at(10))
    with pytest.raises(InvalidCommand) as caught:
        m.admit(reason="r", decided_by=COORDINATOR, at=at(9))
    assert (caught.value.field, caught.value.rule) == ("at", "chronology")
    admit(m, 10)  # the same moment is fine
    assert m.status is MembershipStatus.MEMBER


def test_transitions_need_a_time_zone() -> None:
    with pytest.raises(InvalidCommand):
        membership().admit(reason="r", decided_by=COORDINATOR, at=T0.replace(tzinfo=None))
    with pytest.raises(InvalidCommand):
        membership(at=T0.replace(tzinfo=None))
