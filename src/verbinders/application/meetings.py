"""Platform meetings: schedule, reschedule, agenda, cancel, attendance, decisions and minutes.

Rights: the coordinator does everything on its platform's meetings (the routes admit only
it); an organisation records only its own attendance (`rights.act_for`). Every command loads
the meeting within the actor's tenant (another platform's meeting is `NotFound`) and changes
it alone: `writes_once`. Decisions carry who decided and why: cancelling names the actor in
the event (`decided_by`); a decision taken at a meeting is recorded with the actor and the
grounds in its event's metadata (`actor`, `reason`), which the meetings read model shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec
from msgspec import UNSET, UnsetType

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.domain import rules
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, Meeting, MeetingMode, Votes
from verbinders.domain.organisations import Organisation
from verbinders.errors import Conflict, InvalidCommand

if TYPE_CHECKING:
    from verbinders.application.unit_of_work import UnitOfWork

__all__ = [
    "RecordedDecision",
    "cancel_meeting",
    "change_agenda",
    "publish_minutes",
    "record_attendance",
    "record_decision",
    "reschedule_meeting",
    "schedule_meeting",
]


async def _meeting(uow: UnitOfWork, meeting_id: uuid.UUID) -> Meeting:
    return await uow.target(Meeting, meeting_id)


@command(writes_once=True)
async def schedule_meeting(
    uow: UnitOfWork,
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
        tenant=uow.tenant,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        venue=venue,
        online_link=online_link,
        agenda=agenda,
        at=uow.now(),
    )
    uow.save(
        meeting,
        on_conflict=lambda: Conflict(
            f"meeting {meeting.id} already exists", state="exists", id=str(meeting.id)
        ),
    )
    return CommandResult.of(meeting)


@command(writes_once=True)
async def reschedule_meeting(
    uow: UnitOfWork,
    meeting_id: uuid.UUID,
    *,
    starts_at: datetime | UnsetType = UNSET,
    ends_at: datetime | UnsetType = UNSET,
    mode: MeetingMode | UnsetType = UNSET,
    venue: str | UnsetType | None = UNSET,
    online_link: str | UnsetType | None = UNSET,
    reason: str = "",
) -> CommandResult:
    """Move the meeting or change where it takes place (only the fields given)."""
    meeting = await _meeting(uow, meeting_id)
    meeting.reschedule(
        at=uow.now(),
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        venue=venue,
        online_link=online_link,
        reason=reason,
    )
    uow.save(reason=reason.strip() or None)
    return CommandResult.of(meeting)


@command(writes_once=True)
async def change_agenda(
    uow: UnitOfWork, meeting_id: uuid.UUID, agenda: Sequence[AgendaItem]
) -> CommandResult:
    """Replace the agenda (the whole list)."""
    meeting = await _meeting(uow, meeting_id)
    meeting.change_agenda(agenda, at=uow.now())
    return CommandResult.of(meeting)


@command(writes_once=True)
async def cancel_meeting(uow: UnitOfWork, meeting_id: uuid.UUID, *, reason: str) -> CommandResult:
    """Cancel a meeting that was not held; the reason and who decided are recorded."""
    meeting = await _meeting(uow, meeting_id)
    meeting.cancel(reason=reason, decided_by=uow.actor.name, at=uow.now())
    uow.save(reason=reason.strip() or None)
    return CommandResult.of(meeting)


@command(writes_once=True)
async def record_attendance(
    uow: UnitOfWork,
    meeting_id: uuid.UUID,
    organisation_id: uuid.UUID,
    status: AttendanceStatus,
    *,
    people: int | None = None,
) -> CommandResult:
    """Present (with how many people), or absent with or without notice.

    The coordinator records it for any organisation of the platform; an organisation only for
    itself. The organisation must be registered on this platform (it need not be a member:
    guests can attend; the attendance rate counts only meetings held while it was a member).
    """
    rights.act_for(uow.actor, organisation_id)
    await uow.preload((Meeting, meeting_id), (Organisation, organisation_id))
    meeting = await _meeting(uow, meeting_id)
    if await uow.find(Organisation, organisation_id) is None:
        raise InvalidCommand(
            f"no organisation {organisation_id} on this platform",
            field="organisation_id",
            rule="unknown",
        )
    meeting.record_attendance(organisation_id, status, people=people, at=uow.now())
    return CommandResult.of(meeting)


class RecordedDecision(msgspec.Struct, frozen=True, kw_only=True):
    decision_id: uuid.UUID


@command(writes_once=True)
async def record_decision(
    uow: UnitOfWork,
    meeting_id: uuid.UUID,
    *,
    text: str,
    reason: str,
    votes: Votes | None = None,
    decision_id: uuid.UUID | None = None,
) -> CommandResult:
    """Record a decision taken at the meeting, with its grounds (`reason`, required)."""
    grounds = rules.reason(reason)
    meeting = await _meeting(uow, meeting_id)
    decision_id = decision_id or uuid.uuid4()
    meeting.record_decision(decision_id, text, votes=votes, at=uow.now())
    uow.save(reason=grounds)
    return CommandResult.of(meeting, data=RecordedDecision(decision_id=decision_id))


@command(writes_once=True)
async def publish_minutes(uow: UnitOfWork, meeting_id: uuid.UUID, minutes: str) -> CommandResult:
    """Publish the minutes of an ended meeting; afterwards its record is closed."""
    meeting = await _meeting(uow, meeting_id)
    meeting.publish_minutes(minutes, at=uow.now())
    return CommandResult.of(meeting)
