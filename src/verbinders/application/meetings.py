"""Platform meetings: schedule, reschedule, agenda, cancel, attendance, decisions and minutes.

Rights: the coordinator does everything on its platform's meetings; an `organisation` token
records only its own organisation's attendance. Every command loads the meeting within the
actor's tenant (another platform's meeting is `NotFound`) and saves it in the command's
transaction. Decisions carry who decided and why: cancelling names the actor in the event
(`decided_by`); a decision taken at a meeting is recorded with the actor and the grounds in its
event's metadata (`actor`, `reason`), which the meetings read model shows beside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from verbinders.application.context import CommandContext, CommandResult
from verbinders.application.organisations import authorize_organisation
from verbinders.domain import rules
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, Meeting, MeetingMode, Votes
from verbinders.domain.organisations import Organisation
from verbinders.errors import Conflict, InvalidCommand, StreamConflict

__all__ = [
    "cancel_meeting",
    "change_agenda",
    "publish_minutes",
    "record_attendance",
    "record_decision",
    "reschedule_meeting",
    "schedule_meeting",
]

Check = Callable[[int], None] | None
"""Sees the meeting's current version before anything changes (for If-Match)."""


async def _meeting(ctx: CommandContext, meeting_id: uuid.UUID, check: Check) -> Meeting:
    meeting = await ctx.repository.get(Meeting, meeting_id, tenant=ctx.actor.tenant)
    if check is not None:
        check(meeting.version)
    return meeting


async def _save(
    ctx: CommandContext, meeting: Meeting, *, reason: str | None = None, data: object = None
) -> CommandResult:
    positions = await ctx.save(meeting, reason=reason or None)
    return CommandResult(
        id=str(meeting.id),
        version=meeting.version,
        position=positions[-1] if positions else 0,
        data=data,
    )


async def schedule_meeting(
    ctx: CommandContext,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    mode: MeetingMode,
    venue: str | None = None,
    online_link: str | None = None,
    agenda: Sequence[AgendaItem] = (),
    meeting_id: uuid.UUID | None = None,
) -> CommandResult:
    """Schedule a meeting (coordinator). Earlier meetings may be entered afterwards."""
    meeting = Meeting.schedule(
        meeting_id=meeting_id or uuid.uuid4(),
        tenant=ctx.actor.tenant,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        venue=venue,
        online_link=online_link,
        agenda=agenda,
        at=ctx.now(),
    )
    try:
        return await _save(ctx, meeting)
    except StreamConflict as error:
        if error.expected == 0:
            raise Conflict(
                f"meeting {meeting.id} already exists", state="exists", id=str(meeting.id)
            ) from error
        raise


async def reschedule_meeting(
    ctx: CommandContext,
    meeting_id: uuid.UUID,
    *,
    starts_at: datetime | UnsetType = UNSET,
    ends_at: datetime | UnsetType = UNSET,
    mode: MeetingMode | UnsetType = UNSET,
    venue: str | UnsetType | None = UNSET,
    online_link: str | UnsetType | None = UNSET,
    reason: str = "",
    check: Check = None,
) -> CommandResult:
    """Move the meeting or change where it takes place (only the fields given)."""
    meeting = await _meeting(ctx, meeting_id, check)
    meeting.reschedule(
        at=ctx.now(),
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        venue=venue,
        online_link=online_link,
        reason=reason,
    )
    return await _save(ctx, meeting, reason=reason.strip())


async def change_agenda(
    ctx: CommandContext, meeting_id: uuid.UUID, agenda: Sequence[AgendaItem], *, check: Check = None
) -> CommandResult:
    """Replace the agenda (the whole list)."""
    meeting = await _meeting(ctx, meeting_id, check)
    meeting.change_agenda(agenda, at=ctx.now())
    return await _save(ctx, meeting)


async def cancel_meeting(
    ctx: CommandContext, meeting_id: uuid.UUID, *, reason: str, check: Check = None
) -> CommandResult:
    """Cancel a meeting that was not held; the reason and who decided are recorded."""
    meeting = await _meeting(ctx, meeting_id, check)
    meeting.cancel(reason=reason, decided_by=ctx.actor.name, at=ctx.now())
    return await _save(ctx, meeting, reason=reason.strip())


async def record_attendance(
    ctx: CommandContext,
    meeting_id: uuid.UUID,
    organisation_id: uuid.UUID,
    status: AttendanceStatus,
    *,
    people: int | None = None,
    check: Check = None,
) -> CommandResult:
    """Present (with how many people), or absent with or without notice.

    The coordinator records it for any organisation of the platform; an organisation only for
    itself. The organisation must be registered on this platform (it need not be a member:
    guests can attend; the attendance rate counts only meetings held while it was a member).
    """
    authorize_organisation(ctx.actor, organisation_id)
    meeting = await _meeting(ctx, meeting_id, check)
    organisation = await ctx.repository.find(Organisation, organisation_id, tenant=ctx.actor.tenant)
    if organisation is None:
        raise InvalidCommand(
            f"no organisation {organisation_id} on this platform",
            field="organisation_id",
            rule="unknown",
        )
    meeting.record_attendance(organisation_id, status, people=people, at=ctx.now())
    return await _save(ctx, meeting)


class RecordedDecision(msgspec.Struct, frozen=True, kw_only=True):
    decision_id: uuid.UUID


async def record_decision(
    ctx: CommandContext,
    meeting_id: uuid.UUID,
    *,
    text: str,
    reason: str,
    votes: Votes | None = None,
    decision_id: uuid.UUID | None = None,
    check: Check = None,
) -> CommandResult:
    """Record a decision taken at the meeting, with its grounds (`reason`, required)."""
    grounds = rules.reason(reason)
    meeting = await _meeting(ctx, meeting_id, check)
    decision_id = decision_id or uuid.uuid4()
    meeting.record_decision(decision_id, text, votes=votes, at=ctx.now())
    return await _save(ctx, meeting, reason=grounds, data=RecordedDecision(decision_id=decision_id))


async def publish_minutes(
    ctx: CommandContext, meeting_id: uuid.UUID, minutes: str, *, check: Check = None
) -> CommandResult:
    """Publish the minutes of an ended meeting; afterwards its record is closed."""
    meeting = await _meeting(ctx, meeting_id, check)
    meeting.publish_minutes(minutes, at=ctx.now())
    return await _save(ctx, meeting)
