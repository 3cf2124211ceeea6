"""One membership's record, read from its stream: status, member since, periods, and every
decision with who took it and why (the coordinator, auditors, analysts and the organisation
itself read it: `rights.read_membership_record`).

It answers from the event stream itself (not from a read model), so its version is the one
`If-Match` on the membership commands is checked against. As everywhere in the product,
`as_of` is a moment of recording: only the events recorded by then count (what the platform
knew then). `effective_at` is a moment in the world (the events' `at`): the transitions that
had taken effect by then, which for history loaded afterwards (the demo, imports) is what
tells how things stood on a past date.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from verbinders.application import rights
from verbinders.domain import rules
from verbinders.domain.membership import Membership, MembershipStatus, Period, membership_id
from verbinders.domain.organisations import Organisation

if TYPE_CHECKING:
    from verbinders.application.context import Actor
    from verbinders.runtime import Runtime
    from verbinders.store.events import RecordedEvent

__all__ = ["NONE", "MembershipStep", "MembershipView", "membership_of"]

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
