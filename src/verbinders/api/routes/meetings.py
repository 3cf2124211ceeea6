"""Platform meetings over HTTP: commands on the `Meeting` aggregate, queries on the read model.

Commands (coordinator; attendance also by a token for its own organisation) answer a
`CommandResult` with the meeting's `ETag` and accept `If-Match`. Queries read the `meetings`
read model through `projections.reading` (`wait_for` for read-your-writes; `as_of` reads the
versions true at the last position recorded by then, `projections.temporal`). "Upcoming",
"in progress" and "held" are judged at the moment asked about: now, or `as_of`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from verbinders.api.auth import READERS, get_actor, roles
from verbinders.api.routes.common import (
    AsOf,
    Timeout,
    WaitFor,
    etag,
    execute,
)
from verbinders.api.state import runtime_of
from verbinders.application import meetings as service
from verbinders.application.context import CommandResult
from verbinders.application.rights import OWN
from verbinders.domain import rules
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, MeetingMode, Votes
from verbinders.errors import InvalidCommand, NotFound
from verbinders.projections.meetings_queries import (
    attendance_report,
    meeting_detail,
    meetings_page,
)
from verbinders.projections.reading import reading

__all__ = ["AttendanceReportController", "MeetingsController"]

REPORT_READERS = ("coordinator", "analyst", "auditor", "municipality", "fund")


# -- request bodies ------------------------------------------------------------------------------


class AgendaItemIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: str
    description: str = ""


class VotesIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    in_favour: int = 0
    against: int = 0
    abstained: int = 0


class ScheduleMeeting(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: str
    starts_at: datetime
    ends_at: datetime
    mode: MeetingMode
    venue: str | None = None
    """Required in person and hybrid; not allowed online."""
    online_link: str | None = None
    """Required online and hybrid; not allowed in person."""
    agenda: tuple[AgendaItemIn, ...] = ()

    def fields(self) -> dict[str, Any]:
        return {**msgspec.structs.asdict(self), "agenda": _agenda(self.agenda)}


class RescheduleMeeting(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; `null` clears the venue or the link (as the mode needs)."""

    starts_at: datetime | UnsetType = UNSET
    ends_at: datetime | UnsetType = UNSET
    mode: MeetingMode | UnsetType = UNSET
    venue: str | UnsetType | None = UNSET
    online_link: str | UnsetType | None = UNSET
    reason: str = ""


class ChangeAgenda(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    agenda: tuple[AgendaItemIn, ...]


class CancelMeeting(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str


class RecordAttendance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    status: AttendanceStatus
    people: int | None = None
    """How many people came (present only, at least 1)."""


class RecordDecision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: str
    reason: str
    """The grounds of the decision, for those who read it later."""
    votes: VotesIn | None = None

    def fields(self) -> dict[str, Any]:
        votes = None if self.votes is None else Votes(**msgspec.structs.asdict(self.votes))
        return {"text": self.text, "reason": self.reason, "votes": votes}


class PublishMinutes(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    minutes: str


def _agenda(items: tuple[AgendaItemIn, ...]) -> tuple[AgendaItem, ...]:
    return tuple(AgendaItem(title=i.title, description=i.description) for i in items)


# -- answers ----------------------------------------------------------------------------------


class MeetingSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    mode: str
    venue: str | None
    online_link: str | None
    state: str
    """cancelled, minutes-published, upcoming, in-progress or ended (at the moment asked)."""
    held: bool
    organisations_present: int
    people_present: int
    absent_with_notice: int
    absent_without_notice: int
    decisions: int
    version: int


class MeetingPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[MeetingSummary]
    total: int
    limit: int
    offset: int
    at: datetime
    """The moment the meetings are seen at (now, or `as_of`)."""


class AttendanceEntry(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: uuid.UUID
    organisation_name: str | None
    status: str
    people: int | None
    recorded_at: datetime
    recorded_by: str | None


class DecisionEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    text: str
    votes: Votes | None
    decided_at: datetime
    recorded_by: str | None
    """Who recorded the decision (a party, or a token)."""
    grounds: str | None
    """Why, as given when it was recorded."""


class MeetingView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    mode: str
    venue: str | None
    online_link: str | None
    agenda: tuple[AgendaItem, ...]
    state: str
    held: bool
    scheduled_at: datetime
    scheduled_by: str | None
    reschedules: int
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None
    minutes: str | None
    minutes_published_at: datetime | None
    attendance: list[AttendanceEntry]
    organisations_present: int
    people_present: int
    decisions: list[DecisionEntry]
    version: int
    at: datetime


class AttendanceRate(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: uuid.UUID
    name: str | None
    kind: str | None
    member_since: datetime
    """Start of its first period of membership."""
    meetings_held: int
    """Meetings held while it was a member (those it could attend)."""
    attended: int
    absent_with_notice: int
    absent_without_notice: int
    not_recorded: int
    rate: float | None
    """attended / meetings_held (None when no meeting was held since it could attend)."""


# -- queries ----------------------------------------------------------------------------------


def _moment(as_of: datetime | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    return rules.aware(as_of, field="as_of")


class MeetingsController(Controller):
    path = "/meetings"
    tags = ["meetings"]

    # -- queries ------------------------------------------------------------------------------

    @get("/", **roles(*READERS), summary="Meetings: upcoming or past, paged")
    async def list(
        self,
        request: Request[Any, Any, Any],
        when: Annotated[
            Literal["upcoming", "past"] | None,
            Parameter(
                description="upcoming: not yet ended (soonest first); past: ended (latest first)"
            ),
        ] = None,
        include_cancelled: bool = True,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> MeetingPage:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        at = _moment(as_of)
        async with reading(
            runtime, "meetings", tenant=tenant, as_of=as_of, wait_for=wait_for, timeout=timeout
        ) as r:
            total, rows = await meetings_page(
                r,
                tenant,
                at,
                when=when,
                include_cancelled=include_cancelled,
                limit=limit,
                offset=offset,
            )
        items = [
            MeetingSummary(
                id=r["id"],
                title=r["title"],
                starts_at=r["starts_at"],
                ends_at=r["ends_at"],
                mode=r["mode"],
                venue=r["venue"],
                online_link=r["online_link"],
                state=r["state"],
                held=r["held"],
                organisations_present=r["present"],
                people_present=r["people"],
                absent_with_notice=r["excused"],
                absent_without_notice=r["unexcused"],
                decisions=r["decisions"],
                version=r["version"],
            )
            for r in rows
        ]
        return MeetingPage(items=items, total=total, limit=limit, offset=offset, at=at)

    @get(
        "/{meeting_id:uuid}",
        **roles(*READERS),
        summary="One meeting with its agenda, attendance, decisions and minutes",
    )
    async def show(
        self,
        request: Request[Any, Any, Any],
        meeting_id: uuid.UUID,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[MeetingView]:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        at = _moment(as_of)
        async with reading(
            runtime, "meetings", tenant=tenant, as_of=as_of, wait_for=wait_for, timeout=timeout
        ) as r:
            found = await meeting_detail(r, tenant, at, meeting_id)
        if found is None:
            raise NotFound(f"no meeting {meeting_id}", stream_type="Meeting", id=str(meeting_id))
        row, attendance, decisions = found
        view = MeetingView(
            id=row["id"],
            title=row["title"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            mode=row["mode"],
            venue=row["venue"],
            online_link=row["online_link"],
            agenda=msgspec.convert(row["agenda"], tuple[AgendaItem, ...]),
            state=row["state"],
            held=row["held"],
            scheduled_at=row["scheduled_at"],
            scheduled_by=row["scheduled_by"],
            reschedules=row["reschedules"],
            cancelled_at=row["cancelled_at"],
            cancelled_by=row["cancelled_by"],
            cancel_reason=row["cancel_reason"],
            minutes=row["minutes"],
            minutes_published_at=row["minutes_published_at"],
            attendance=[
                AttendanceEntry(
                    organisation_id=a["organisation_id"],
                    organisation_name=a["name"],
                    status=a["status"],
                    people=a["people"],
                    recorded_at=a["recorded_at"],
                    recorded_by=a["recorded_by"],
                )
                for a in attendance
            ],
            organisations_present=row["present"],
            people_present=row["people"],
            decisions=[
                DecisionEntry(
                    id=d["decision_id"],
                    text=d["text"],
                    votes=None
                    if d["votes_in_favour"] is None
                    else Votes(
                        in_favour=d["votes_in_favour"],
                        against=d["votes_against"],
                        abstained=d["votes_abstained"],
                    ),
                    decided_at=d["decided_at"],
                    recorded_by=d["recorded_by"],
                    grounds=d["grounds"],
                )
                for d in decisions
            ],
            version=row["version"],
            at=at,
        )
        return Response(view, headers={"ETag": etag(view.version)})

    # -- commands -----------------------------------------------------------------------------

    @post(
        "/",
        **roles("coordinator", command=True, location="/meetings/{id}"),
        summary="Schedule a meeting: in person (venue), online (link) or hybrid (both)",
        status_code=HTTP_201_CREATED,
    )
    async def schedule(
        self, request: Request[Any, Any, Any], data: ScheduleMeeting
    ) -> Response[CommandResult]:
        return await execute(request, service.schedule_meeting, **data.fields())

    @post(
        "/{meeting_id:uuid}/reschedule",
        **roles("coordinator", command=True),
        summary="Move a meeting or change where it takes place (not once it was held)",
        status_code=200,
    )
    async def reschedule(
        self, request: Request[Any, Any, Any], meeting_id: uuid.UUID, data: RescheduleMeeting
    ) -> Response[CommandResult]:
        return await execute(
            request, service.reschedule_meeting, meeting_id, **msgspec.structs.asdict(data)
        )

    @post(
        "/{meeting_id:uuid}/agenda",
        **roles("coordinator", command=True),
        summary="Replace the agenda",
        status_code=200,
    )
    async def agenda(
        self, request: Request[Any, Any, Any], meeting_id: uuid.UUID, data: ChangeAgenda
    ) -> Response[CommandResult]:
        return await execute(request, service.change_agenda, meeting_id, _agenda(data.agenda))

    @post(
        "/{meeting_id:uuid}/cancel",
        **roles("coordinator", command=True),
        summary="Cancel a meeting that was not held (reason required)",
        status_code=200,
    )
    async def cancel(
        self, request: Request[Any, Any, Any], meeting_id: uuid.UUID, data: CancelMeeting
    ) -> Response[CommandResult]:
        return await execute(request, service.cancel_meeting, meeting_id, reason=data.reason)

    @post(
        "/{meeting_id:uuid}/attendance",
        **roles(*OWN, command=True),
        summary="Record an organisation's attendance (an organisation only its own)",
        status_code=200,
    )
    async def attendance(
        self, request: Request[Any, Any, Any], meeting_id: uuid.UUID, data: RecordAttendance
    ) -> Response[CommandResult]:
        return await execute(
            request,
            service.record_attendance,
            meeting_id,
            data.organisation_id,
            data.status,
            people=data.people,
        )

    @post(
        "/{meeting_id:uuid}/decisions",
        **roles("coordinator", command=True),
        summary="Record a decision taken at the meeting, with its grounds and votes",
        status_code=HTTP_201_CREATED,
    )
    async def decide(
        self, request: Request[Any, Any, Any], meeting_id: uuid.UUID, data: RecordDecision
    ) -> Response[CommandResult]:
        return await execute(request, service.record_decision, meeting_id, **data.fields())

    @post(
        "/{meeting_id:uuid}/minutes",
        **roles("coordinator", command=True),
        summary="Publish the minutes of an ended meeting (closes its record)",
        status_code=200,
    )
    async def minutes(
        self, request: Request[Any, Any, Any], meeting_id: uuid.UUID, data: PublishMinutes
    ) -> Response[CommandResult]:
        return await execute(request, service.publish_minutes, meeting_id, data.minutes)


# -- the attendance report --------------------------------------------------------------------


class AttendanceReportController(Controller):
    path = "/reports"
    tags = ["reports", "meetings"]

    @get(
        "/attendance",
        **roles(*REPORT_READERS),
        summary="Attendance rate per organisation: meetings attended / held since it could attend",
    )
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        since: Annotated[
            date | None, Parameter(description="Only meetings starting on or after (UTC)")
        ] = None,
        until: Annotated[
            date | None, Parameter(description="Only meetings starting on or before (UTC)")
        ] = None,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> list[AttendanceRate]:
        """An organisation could attend the meetings that started while it was a member
        (from admission until it left; a suspension does not interrupt membership). A meeting
        counts as held when it was not cancelled, has started, and something shows it took
        place: presence, absence without notice, a decision or minutes."""
        runtime = runtime_of(request)
        if since is not None and until is not None and since > until:
            raise InvalidCommand("since must not be after until", field="since", rule="order")
        tenant = get_actor(request).tenant
        at = _moment(as_of)
        start = None if since is None else datetime.combine(since, time(), UTC)
        end = None if until is None else datetime.combine(until, time(), UTC) + timedelta(days=1)
        async with reading(
            runtime, "meetings", tenant=tenant, as_of=as_of, wait_for=wait_for, timeout=timeout
        ) as r:
            rows = await attendance_report(r, tenant, at, start, end)
        return [
            AttendanceRate(
                organisation_id=r["organisation_id"],
                name=r["name"],
                kind=r["kind"],
                member_since=r["member_since"],
                meetings_held=r["held"],
                attended=r["attended"],
                absent_with_notice=r["excused"],
                absent_without_notice=r["unexcused"],
                not_recorded=r["held"] - r["attended"] - r["excused"] - r["unexcused"],
                rate=round(r["attended"] / r["held"], 4) if r["held"] else None,
            )
            for r in rows
        ]
