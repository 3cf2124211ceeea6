"""Platform meetings (bijeenkomsten): in person, online or hybrid, with attendance and decisions.

Life of a meeting, judged against the `at` each command passes in (never a clock):

- upcoming (before its start): reschedule, change the agenda, cancel, and record notices of
  absence ("absent with notice" is usually sent ahead);
- in progress / ended: presence, absence without notice and decisions can be recorded too;
- once anything showing it was held is recorded (presence, absence without notice, a decision)
  it can no longer be rescheduled or cancelled;
- publishing the minutes (only after its end) closes the record: nothing changes afterwards;
- a cancelled meeting accepts nothing any more.

Scheduling a meeting in the past is allowed, so that earlier meetings can be entered; its
times lie between `limits.MEETING_EARLIEST` and `limits.MEETING_LATEST`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules
from verbinders.errors import Conflict, InvalidCommand

__all__ = [
    "MAX_DURATION",
    "AgendaItem",
    "Attendance",
    "AttendanceStatus",
    "Decision",
    "Meeting",
    "MeetingMode",
    "Votes",
]

MAX_DURATION = timedelta(hours=24)


class MeetingMode(StrEnum):
    IN_PERSON = "in-person"
    ONLINE = "online"
    HYBRID = "hybrid"


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    ABSENT_WITH_NOTICE = "absent-with-notice"
    ABSENT_WITHOUT_NOTICE = "absent-without-notice"


class AgendaItem(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    description: str = ""


class Attendance(msgspec.Struct, frozen=True, kw_only=True):
    status: AttendanceStatus
    people: int | None = None
    """How many people came (present only)."""


class Votes(msgspec.Struct, frozen=True, kw_only=True):
    in_favour: int = 0
    against: int = 0
    abstained: int = 0


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    votes: Votes | None = None


def _agenda(items: Sequence[AgendaItem]) -> tuple[AgendaItem, ...]:
    if len(items) > limits.AGENDA_ITEMS_MAX:
        raise InvalidCommand(
            f"agenda may hold at most {limits.AGENDA_ITEMS_MAX} items",
            field="agenda",
            rule="max-items",
        )
    return tuple(
        AgendaItem(
            title=rules.single_line(
                item.title, field=f"agenda[{index}].title", max_length=limits.AGENDA_TITLE_MAX
            ),
            description=rules.multi_line(
                item.description,
                field=f"agenda[{index}].description",
                max_length=limits.AGENDA_DESCRIPTION_MAX,
            ),
        )
        for index, item in enumerate(items)
    )


def _when(value: datetime, field: str) -> datetime:
    return rules.moment(
        value, field=field, earliest=limits.MEETING_EARLIEST, latest=limits.MEETING_LATEST
    )


class _Plan(msgspec.Struct, frozen=True, kw_only=True):
    starts_at: datetime
    ends_at: datetime
    mode: MeetingMode
    venue: str | None
    online_link: str | None


def _plan(
    starts_at: datetime,
    ends_at: datetime,
    mode: MeetingMode,
    venue: str | None,
    online_link: str | None,
) -> _Plan:
    """When and where, checked: end after start, the place the mode needs and nothing else."""
    _when(starts_at, "starts_at")
    _when(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise InvalidCommand(
            "ends_at must lie after starts_at", field="ends_at", rule="after-start"
        )
    if ends_at - starts_at > MAX_DURATION:
        raise InvalidCommand(
            "a meeting lasts at most 24 hours", field="ends_at", rule="max-duration"
        )
    mode = rules.choice(MeetingMode, mode, field="mode")
    needs_venue = mode in (MeetingMode.IN_PERSON, MeetingMode.HYBRID)
    needs_link = mode in (MeetingMode.ONLINE, MeetingMode.HYBRID)
    if needs_venue and venue is None:
        raise InvalidCommand(
            f"a {mode.value} meeting needs a venue", field="venue", rule="required"
        )
    if not needs_venue and venue is not None:
        raise InvalidCommand("an online meeting has no venue", field="venue", rule="not-allowed")
    if needs_link and online_link is None:
        raise InvalidCommand(
            f"an {mode.value} meeting needs an online link", field="online_link", rule="required"
        )
    if not needs_link and online_link is not None:
        raise InvalidCommand(
            "an in-person meeting has no online link", field="online_link", rule="not-allowed"
        )
    if venue is not None:
        venue = rules.single_line(venue, field="venue", max_length=limits.VENUE_MAX)
    if online_link is not None:
        online_link = rules.web_url(online_link, field="online_link")
    return _Plan(
        starts_at=starts_at, ends_at=ends_at, mode=mode, venue=venue, online_link=online_link
    )


class Meeting(Aggregate):
    STREAM_TYPE = "Meeting"

    tenant: str
    title: str
    starts_at: datetime
    ends_at: datetime
    mode: MeetingMode
    venue: str | None
    online_link: str | None
    agenda: tuple[AgendaItem, ...]
    cancelled_at: datetime | None
    attendance: dict[UUID, Attendance]
    """Per organisation id."""
    decisions: dict[UUID, Decision]
    """Per decision id, in the order recorded."""
    minutes: str | None
    minutes_published_at: datetime | None

    @classmethod
    def schedule(
        cls,
        *,
        meeting_id: UUID,
        tenant: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        mode: MeetingMode,
        at: datetime,
        venue: str | None = None,
        online_link: str | None = None,
        agenda: Sequence[AgendaItem] = (),
    ) -> Meeting:
        rules.aware(at)
        plan = _plan(starts_at, ends_at, mode, venue, online_link)
        return cls(
            id=meeting_id,
            tenant=tenant,
            title=rules.single_line(title, field="title", max_length=limits.TITLE_MAX),
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            mode=plan.mode,
            venue=plan.venue,
            online_link=plan.online_link,
            agenda=_agenda(agenda),
            at=at,
        )

    @event("Scheduled")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        mode: MeetingMode,
        venue: str | None,
        online_link: str | None,
        agenda: tuple[AgendaItem, ...],
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.title = title
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.mode = mode
        self.venue = venue
        self.online_link = online_link
        self.agenda = agenda
        self.cancelled_at = None
        self.attendance = {}
        self.decisions = {}
        self.minutes = None
        self.minutes_published_at = None

    # -- reading --------------------------------------------------------------------------------

    def phase(self, at: datetime) -> str:
        """cancelled, minutes-published, upcoming, in-progress or ended, as seen at `at`."""
        if self.cancelled_at is not None:
            return "cancelled"
        if self.minutes_published_at is not None:
            return "minutes-published"
        if at < self.starts_at:
            return "upcoming"
        return "in-progress" if at < self.ends_at else "ended"

    @property
    def was_held(self) -> bool:
        """Whether anything recorded shows the meeting took place."""
        return bool(self.decisions) or any(
            a.status is not AttendanceStatus.ABSENT_WITH_NOTICE for a in self.attendance.values()
        )

    def _require(self, at: datetime, action: str, *phases: str) -> None:
        rules.aware(at)
        phase = self.phase(at)
        if phase not in phases:
            raise Conflict(f"a meeting that is {phase} cannot {action}", state=phase)

    def _require_not_held(self, action: str) -> None:
        if self.was_held:
            raise Conflict(
                f"the meeting was held (attendance or decisions are recorded) and cannot {action}",
                state="held",
            )

    # -- planning -------------------------------------------------------------------------------

    def reschedule(
        self,
        *,
        at: datetime,
        starts_at: datetime | UnsetType = UNSET,
        ends_at: datetime | UnsetType = UNSET,
        mode: MeetingMode | UnsetType = UNSET,
        venue: str | UnsetType | None = UNSET,
        online_link: str | UnsetType | None = UNSET,
        reason: str = "",
    ) -> None:
        """Move the meeting or change where it takes place (given fields only).

        When the start moves, notices of absence no longer apply and are dropped (the event
        names the organisations concerned).
        """
        self._require(at, "be rescheduled", "upcoming", "in-progress", "ended")
        self._require_not_held("be rescheduled")
        plan = _plan(
            self.starts_at if starts_at is UNSET else starts_at,
            self.ends_at if ends_at is UNSET else ends_at,
            self.mode if mode is UNSET else mode,
            self.venue if venue is UNSET else venue,
            self.online_link if online_link is UNSET else online_link,
        )
        current = _Plan(
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            mode=self.mode,
            venue=self.venue,
            online_link=self.online_link,
        )
        if plan == current:
            return
        dropped = tuple(self.attendance) if plan.starts_at != self.starts_at else ()
        self._rescheduled(
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            mode=plan.mode,
            venue=plan.venue,
            online_link=plan.online_link,
            reason=rules.optional_reason(reason),
            dropped_notices=dropped,
            at=at,
        )

    @event("Rescheduled")
    def _rescheduled(
        self,
        starts_at: datetime,
        ends_at: datetime,
        mode: MeetingMode,
        venue: str | None,
        online_link: str | None,
        reason: str,
        dropped_notices: tuple[UUID, ...],
        at: datetime,
    ) -> None:
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.mode = mode
        self.venue = venue
        self.online_link = online_link
        for organisation_id in dropped_notices:
            del self.attendance[organisation_id]

    def change_agenda(self, agenda: Sequence[AgendaItem], *, at: datetime) -> None:
        self._require(at, "change its agenda", "upcoming", "in-progress", "ended")
        items = _agenda(agenda)
        if items != self.agenda:
            self._agenda_changed(agenda=items, at=at)

    @event("AgendaChanged")
    def _agenda_changed(self, agenda: tuple[AgendaItem, ...], at: datetime) -> None:
        self.agenda = agenda

    def cancel(self, *, reason: str, decided_by: str, at: datetime) -> None:
        self._require(at, "be cancelled", "upcoming", "in-progress", "ended")
        self._require_not_held("be cancelled")
        self._cancelled(reason=rules.reason(reason), decided_by=rules.party(decided_by), at=at)

    @event("Cancelled")
    def _cancelled(self, reason: str, decided_by: str, at: datetime) -> None:
        self.cancelled_at = at

    # -- the meeting itself ---------------------------------------------------------------------

    def record_attendance(
        self,
        organisation_id: UUID,
        status: AttendanceStatus,
        *,
        at: datetime,
        people: int | None = None,
    ) -> None:
        """Present (with how many people, at least 1), or absent with or without notice.

        A notice of absence can be recorded before the meeting; the rest once it has started.
        Recording again for the same organisation corrects the earlier record.
        """
        status = rules.choice(AttendanceStatus, status, field="status")
        if status is AttendanceStatus.ABSENT_WITH_NOTICE:
            self._require(at, "take notices of absence", "upcoming", "in-progress", "ended")
        else:
            self._require(at, f"record who was {status.value}", "in-progress", "ended")
        if status is not AttendanceStatus.PRESENT and people is not None:
            raise InvalidCommand(
                "people is only recorded for organisations that were present",
                field="people",
                rule="not-allowed",
            )
        if status is AttendanceStatus.PRESENT:
            if people is None:
                raise InvalidCommand(
                    "present needs how many people came (at least 1)",
                    field="people",
                    rule="required",
                )
            rules.count(people, field="people", minimum=1, maximum=limits.ATTENDANCE_PEOPLE_MAX)
        attendance = Attendance(status=status, people=people)
        if self.attendance.get(organisation_id) != attendance:
            self._attendance_recorded(organisation_id=organisation_id, attendance=attendance, at=at)

    @event("AttendanceRecorded")
    def _attendance_recorded(
        self, organisation_id: UUID, attendance: Attendance, at: datetime
    ) -> None:
        self.attendance[organisation_id] = attendance

    def record_decision(
        self, decision_id: UUID, text: str, *, at: datetime, votes: Votes | None = None
    ) -> None:
        """A decision taken at the meeting, optionally with the votes cast (at least one)."""
        self._require(at, "record decisions", "in-progress", "ended")
        if decision_id in self.decisions:
            raise Conflict(f"decision {decision_id} is already recorded", state="exists")
        if votes is not None:
            for name in Votes.__struct_fields__:
                rules.count(getattr(votes, name), field=f"votes.{name}", maximum=limits.VOTES_MAX)
            if votes.in_favour + votes.against + votes.abstained == 0:
                raise InvalidCommand(
                    "votes, when given, need at least one vote cast", field="votes", rule="required"
                )
        self._decision_recorded(
            decision_id=decision_id,
            decision=Decision(
                text=rules.multi_line(
                    text, field="text", max_length=limits.DECISION_TEXT_MAX, required=True
                ),
                votes=votes,
            ),
            at=at,
        )

    @event("DecisionRecorded")
    def _decision_recorded(self, decision_id: UUID, decision: Decision, at: datetime) -> None:
        self.decisions[decision_id] = decision

    def publish_minutes(self, minutes: str, *, at: datetime) -> None:
        """Publish the minutes once the meeting has ended; this closes the record."""
        self._require(at, "publish minutes", "ended")
        self._minutes_published(
            minutes=rules.multi_line(
                minutes, field="minutes", max_length=limits.MINUTES_MAX, required=True
            ),
            at=at,
        )

    @event("MinutesPublished")
    def _minutes_published(self, minutes: str, at: datetime) -> None:
        self.minutes = minutes
        self.minutes_published_at = at
