"""Membership of the platform: applying, and the coordinator's decisions (the record of one
membership is read in `membership_record.py`).

Rights (`rights.py`): an organisation applies, withdraws its application and leaves for
itself (a token acting for it), the coordinator for any organisation of its platform;
admitting, rejecting, suspending and reinstating are the coordinator's; its record is read by
those who trace decisions and by the organisation itself. Every decision records who decided
(`uow.actor.name`) and why; a decision may name the platform meeting where it was taken (which
must exist on the platform and not be cancelled).

The organisation must exist on the platform; applying and being admitted or reinstated also
need it not to be dissolved (leaving, rejecting, withdrawing and suspending stay possible, so
that a dissolved organisation's membership can be closed).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.membership_record import NONE
from verbinders.domain import rules
from verbinders.domain.meetings import Meeting
from verbinders.domain.membership import Membership, MembershipStatus, membership_id
from verbinders.domain.organisations import Organisation
from verbinders.errors import Conflict, InvalidCommand

if TYPE_CHECKING:
    from verbinders.application.unit_of_work import UnitOfWork

__all__ = [
    "Transition",
    "admit",
    "apply",
    "close_for_dissolution",
    "leave",
    "reinstate",
    "reject",
    "suspend",
    "withdraw",
]


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    """What a membership command answers in `CommandResult.data`."""

    organisation_id: uuid.UUID
    status: str
    at: datetime


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
