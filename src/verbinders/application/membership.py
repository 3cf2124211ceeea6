"""Membership of the platform: applying, the coordinator's decisions, and one membership's story.

Rights (`rights.py`): an organisation applies, withdraws its application and leaves for
itself (a token acting for it), the coordinator for any organisation of its platform;
admitting, rejecting, suspending and reinstating are the coordinator's; its record is read by
those who trace decisions and by the organisation itself. Every decision records who decided
(`uow.actor.name`) and why; a decision may name the platform meeting where it was taken (which
must exist on the platform and not be cancelled).

The organisation must exist on the platform; applying and being admitted or reinstated also
need it not to be dissolved (leaving, rejecting, withdrawing and suspending stay possible, so
that a dissolved organisation's membership can be closed).

`membership_of` answers from the event stream itself (not from a read model), so its version is
the one `If-Match` is checked against. As everywhere in the product, `as_of` is a moment of
recording: only the events recorded by then count (what the platform knew then).
`effective_at` is a moment in the world (the events' `at`): the transitions that had taken
effect by then, which for history loaded afterwards (the demo, imports) is what tells how
things stood on a past date.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.domain import rules
from verbinders.domain.meetings import Meeting
from verbinders.domain.membership import Membership, MembershipStatus, Period, membership_id
from verbinders.domain.organisations import Organisation
from verbinders.errors import Conflict, InvalidCommand

if TYPE_CHECKING:
    from verbinders.application.context import Actor
    from verbinders.application.unit_of_work import UnitOfWork
    from verbinders.runtime import Runtime
    from verbinders.store.events import RecordedEvent

__all__ = [
    "MembershipStep",
    "MembershipView",
    "admit",
    "apply",
    "close_for_dissolution",
    "leave",
    "membership_of",
    "reinstate",
    "reject",
    "suspend",
    "withdraw",
]

NONE = "none"
"""The status of an organisation that never applied."""

_STATUS_AFTER = {
    "Applied": MembershipStatus.APPLIED,
    "Reapplied": MembershipStatus.APPLIED,
    "ApplicationWithdrawn": MembershipStatus.WITHDRAWN,
    "Admitted": MembershipStatus.MEMBER,
    "Rejected": MembershipStatus.REJECTED,
    "Suspended": MembershipStatus.SUSPENDED,
    "Reinstated": MembershipStatus.MEMBER,
    "Left": MembershipStatus.LEFT,
}


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """What a membership command answers in `CommandResult.data`."""

    organisation_id: uuid.UUID
    status: str
    at: datetime


class MembershipStep(msgspec.Struct, frozen=True, kw_only=True):
    """One event of a membership's history: what happened, when, by whom and why."""

    event: str
    status: str
    """The status it led to."""
    at: datetime
    by: str
    """Who decided (the coordinator's decisions) or acted (the organisation's own steps)."""
    reason: str | None = None
    motivation: str | None = None
    meeting_id: uuid.UUID | None = None
    recorded_at: datetime
    version: int


class MembershipView(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: uuid.UUID
    organisation_name: str
    organisation_kind: str
    status: str
    """none (never applied), applied, member, suspended, rejected, withdrawn or left."""
    is_member: bool
    """Member now (suspended members are still members)."""
    member_since: datetime | None
    """Start of the running period of membership."""
    first_admitted_at: datetime | None
    changed_at: datetime | None
    motivation: str | None
    """The motivation of the latest application."""
    periods: tuple[Period, ...]
    """Periods of membership, oldest first (a suspension does not interrupt one)."""
    suspensions: tuple[Period, ...]
    history: tuple[MembershipStep, ...]
    version: int
    """The membership stream's version: its ETag, and what `If-Match` is compared with."""


# -- commands -------------------------------------------------------------------------------------
# Each reads what it needs and changes the membership alone: `writes_once`.


def _not_dissolved(organisation: Organisation, doing: str) -> None:
    if organisation.dissolved_at is not None:
        raise Conflict(
            f"organisation {organisation.name!r} was dissolved on"
            f" {organisation.dissolved_at.date()} and cannot {doing}",
            state="dissolved",
        )


async def _membership(uow: UnitOfWork, organisation_id: uuid.UUID) -> Membership | None:
    """The organisation's membership (its version checked against If-Match; 0 before the
    first application)."""
    return await uow.target_or_none(Membership, membership_id(uow.tenant, organisation_id))


async def _preload(
    uow: UnitOfWork, organisation_id: uuid.UUID, meeting_id: uuid.UUID | None = None
) -> None:
    """The organisation, its membership (and a decision's meeting) in one round trip."""
    await uow.preload(
        (Organisation, organisation_id),
        (Membership, membership_id(uow.tenant, organisation_id)),
        *([(Meeting, meeting_id)] if meeting_id is not None else []),
    )


async def _existing(uow: UnitOfWork, organisation_id: uuid.UUID, action: str) -> Membership:
    membership = await _membership(uow, organisation_id)
    if membership is None:
        raise Conflict(
            f"organisation {organisation_id} never applied for membership (its status is"
            f" none) and cannot {action}",
            state=NONE,
        )
    return membership


async def _meeting(uow: UnitOfWork, meeting_id: uuid.UUID | None) -> uuid.UUID | None:
    """A decision's meeting: one of this platform's, not cancelled."""
    if meeting_id is None:
        return None
    meeting = await uow.find(Meeting, meeting_id)
    if meeting is None:
        raise InvalidCommand(
            f"there is no meeting {meeting_id} on this platform", field="meeting_id", rule="exists"
        )
    if meeting.cancelled_at is not None:
        raise InvalidCommand(
            f"meeting {meeting_id} was cancelled; no decision was taken there",
            field="meeting_id",
            rule="cancelled",
        )
    return meeting_id


def _result(uow: UnitOfWork, membership: Membership, reason: str | None) -> CommandResult:
    uow.save(membership, reason=reason or None)
    return CommandResult.of(
        membership,
        data=Transition(
            organisation_id=membership.organisation_id,
            status=membership.status.value,
            at=membership.changed_at,
        ),
    )


@command(writes_once=True)
async def apply(uow: UnitOfWork, organisation_id: uuid.UUID, *, motivation: str) -> CommandResult:
    """Apply for membership (first time, or again after rejection, withdrawal or leaving)."""
    rights.act_for(uow.actor, organisation_id)
    await _preload(uow, organisation_id)
    organisation = await uow.get(Organisation, organisation_id)
    _not_dissolved(organisation, "apply for membership")
    membership = await _membership(uow, organisation_id)
    at = uow.now()
    if membership is None:
        membership = Membership.apply_for(
            tenant=uow.tenant, organisation_id=organisation_id, motivation=motivation, at=at
        )
    else:
        membership.reapply(motivation=motivation, at=at)
    return _result(uow, membership, "applied for membership")


@command(writes_once=True)
async def withdraw(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str = ""
) -> CommandResult:
    """Withdraw a pending application."""
    rights.act_for(uow.actor, organisation_id)
    await _preload(uow, organisation_id)
    await uow.get(Organisation, organisation_id)
    membership = await _existing(uow, organisation_id, "withdraw an application")
    membership.withdraw_application(at=uow.now(), reason=reason)
    return _result(uow, membership, reason or "application withdrawn")


@command(writes_once=True)
async def leave(uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str = "") -> CommandResult:
    """End the membership (also while suspended, and after dissolution)."""
    rights.act_for(uow.actor, organisation_id)
    await _preload(uow, organisation_id)
    await uow.get(Organisation, organisation_id)
    membership = await _existing(uow, organisation_id, "leave")
    membership.leave(at=uow.now(), reason=reason)
    return _result(uow, membership, reason or "left the platform")


@command(writes_once=True)
async def close_for_dissolution(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str
) -> CommandResult | None:
    """Close a dissolved organisation's membership: a member (or suspended member) leaves, a
    pending application is withdrawn, with the dissolution as the reason. Nothing to do (None)
    when it is closed already; no earlier than the membership's last change."""
    rights.act_for(uow.actor, organisation_id)
    membership = await _membership(uow, organisation_id)
    if membership is None:
        return None
    at = max(uow.now(), membership.changed_at)
    if membership.is_member:
        membership.leave(at=at, reason=reason)
    elif membership.status is MembershipStatus.APPLIED:
        membership.withdraw_application(at=at, reason=reason)
    else:
        return None
    return _result(uow, membership, reason)


async def _decide(
    uow: UnitOfWork,
    organisation_id: uuid.UUID,
    action: str,
    *,
    reason: str,
    meeting_id: uuid.UUID | None,
) -> CommandResult:
    rights.decide_membership(uow.actor)
    await _preload(uow, organisation_id, meeting_id)
    organisation = await uow.get(Organisation, organisation_id)
    if action in ("admit", "reinstate"):
        _not_dissolved(organisation, f"be {_PAST[action]}")
    membership = await _existing(uow, organisation_id, f"be {_PAST[action]}")
    decision: dict[str, Any] = {
        "reason": reason,
        "decided_by": uow.actor.name,
        "at": uow.now(),
        "meeting_id": await _meeting(uow, meeting_id),
    }
    getattr(membership, action)(**decision)
    return _result(uow, membership, rules.reason(reason))


_PAST = {
    "admit": "admitted",
    "reject": "rejected",
    "suspend": "suspended",
    "reinstate": "reinstated",
}


@command(writes_once=True)
async def admit(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str, meeting_id: uuid.UUID | None = None
) -> CommandResult:
    """Admit an applicant (coordinator), optionally naming the meeting that decided."""
    return await _decide(uow, organisation_id, "admit", reason=reason, meeting_id=meeting_id)


@command(writes_once=True)
async def reject(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str, meeting_id: uuid.UUID | None = None
) -> CommandResult:
    """Reject an application (coordinator); the organisation may apply again later."""
    return await _decide(uow, organisation_id, "reject", reason=reason, meeting_id=meeting_id)


@command(writes_once=True)
async def suspend(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str, meeting_id: uuid.UUID | None = None
) -> CommandResult:
    """Suspend a member (coordinator); it stays a member until it leaves."""
    return await _decide(uow, organisation_id, "suspend", reason=reason, meeting_id=meeting_id)


@command(writes_once=True)
async def reinstate(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str, meeting_id: uuid.UUID | None = None
) -> CommandResult:
    """End a member's suspension (coordinator)."""
    return await _decide(uow, organisation_id, "reinstate", reason=reason, meeting_id=meeting_id)


# -- one membership, read from its stream ---------------------------------------------------------


def _at(event: RecordedEvent) -> datetime:
    return datetime.fromisoformat(event.payload["at"])


def _step(event: RecordedEvent) -> MembershipStep:
    name = event.topic.rsplit(".", 1)[-1]
    payload = event.payload
    meeting = payload.get("meeting_id")
    return MembershipStep(
        event=name,
        status=_STATUS_AFTER[name].value if name in _STATUS_AFTER else "unknown",
        at=_at(event),
        by=str(payload.get("decided_by") or event.metadata.get("actor") or ""),
        reason=payload.get("reason"),
        motivation=payload.get("motivation"),
        meeting_id=uuid.UUID(meeting) if meeting else None,
        recorded_at=event.recorded_at,
        version=event.version,
    )


async def membership_of(
    runtime: Runtime,
    actor: Actor,
    organisation_id: uuid.UUID,
    *,
    as_of: datetime | None = None,
    effective_at: datetime | None = None,
) -> MembershipView:
    """An organisation's membership: status, member since, periods and the decisions taken.

    404 if the organisation is not on this platform; status `none` (version 0) if it never
    applied. The transitions of one membership follow each other in time, so the events up to
    `effective_at` (and those recorded up to `as_of`) are a prefix of its stream: the aggregate
    is loaded at that version.
    """
    rights.read_membership_record(actor, organisation_id)
    tenant = actor.tenant
    if as_of is not None:
        rules.aware(as_of, field="as_of")
    if effective_at is not None:
        rules.aware(effective_at, field="effective_at")
    organisation = await runtime.repository.get(
        Organisation, organisation_id, tenant=tenant, as_of=as_of
    )
    stream = membership_id(tenant, organisation_id)
    events = await runtime.store.read_stream(stream, tenant=tenant, as_of=as_of)
    if effective_at is not None:
        events = [e for e in events if _at(e) <= effective_at]
    membership = (
        await runtime.repository.get(Membership, stream, tenant=tenant, version=events[-1].version)
        if events
        else None
    )
    return MembershipView(
        organisation_id=organisation_id,
        organisation_name=organisation.name,
        organisation_kind=organisation.kind.value,
        status=membership.status.value if membership else NONE,
        is_member=membership.is_member if membership else False,
        member_since=membership.member_since if membership else None,
        first_admitted_at=membership.first_admitted_at if membership else None,
        changed_at=membership.changed_at if membership else None,
        motivation=membership.motivation if membership else None,
        periods=tuple(membership.periods) if membership else (),
        suspensions=tuple(membership.suspensions) if membership else (),
        history=tuple(_step(e) for e in events),
        version=membership.version if membership else 0,
    )
