"""Meetings: upcoming and past meetings, attendance per meeting, attendance rate per organisation.

Tables (readers query the views `meetings.<table>`; every row carries its tenant):

- `meetings`: one row per meeting as it stands: plan, agenda, cancellation (who and why),
  minutes, the stream version (the ETag) and when it last changed;
- `attendance`: per meeting and organisation, the latest record (a correction replaces it; a
  notice of absence dropped by a reschedule disappears);
- `decisions`: per decision, its text and votes, when it was taken, and who recorded it with
  which grounds (the event's metadata `actor` and `reason`);
- `organisations`: names and kinds of the platform's organisations (for the report);
- `memberships` and `membership_periods`: which organisation each membership stream is about
  and its periods of membership (admitted until left), which decide the meetings an
  organisation "could attend".

Whether a meeting was held, and whether it is upcoming, in progress or ended, is not stored:
it depends on the moment asked about and is worked out by the queries (`MEETING_STATE`).

Every table keeps its history (`temporal.py`): `as_of` queries are the live queries with the
versions' condition, and every column here is derived only from the events (never from the
clock), so an answer as of a position equals a rebuild up to it. Queries: `meetings_queries.py`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbinders.domain.meetings import Meeting
from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.projections.temporal import Table, TemporalProjection, events_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.projections.temporal import Key, Rows
    from verbinders.store.events import RecordedEvent

__all__ = [
    "ATTENDANCE",
    "DECISIONS",
    "HELD",
    "MEETINGS",
    "MEETING_STATE",
    "MEMBERSHIPS",
    "ORGANISATIONS",
    "PERIODS",
    "MeetingsProjection",
]

HELD = """(
    {m}.minutes_published_at IS NOT NULL
    OR EXISTS (SELECT 1 FROM {attendance} ha WHERE ha.tenant = {m}.tenant
               AND ha.meeting_id = {m}.id AND ha.status <> 'absent-with-notice'
               AND {valid_ha})
    OR EXISTS (SELECT 1 FROM {decisions} hd WHERE hd.tenant = {m}.tenant
               AND hd.meeting_id = {m}.id AND {valid_hd})
)"""
"""SQL: the meeting `{m}` was held (as the domain's `Meeting.was_held`, or minutes exist)."""

MEETING_STATE = """CASE
    WHEN {m}.cancelled_at IS NOT NULL THEN 'cancelled'
    WHEN {m}.minutes_published_at IS NOT NULL THEN 'minutes-published'
    WHEN {at} < {m}.starts_at THEN 'upcoming'
    WHEN {at} < {m}.ends_at THEN 'in-progress'
    ELSE 'ended'
END"""
"""SQL: the meeting's phase at moment `{at}` (as the domain's `Meeting.phase`)."""

MEETINGS = Table(
    "meetings",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("title", "text"),
        ("starts_at", "timestamptz"),
        ("ends_at", "timestamptz"),
        ("mode", "text"),
        ("venue", "text"),
        ("online_link", "text"),
        ("agenda", "jsonb"),
        ("scheduled_at", "timestamptz"),
        ("scheduled_by", "text"),
        ("reschedules", "integer"),
        ("last_reschedule", "text"),
        ("cancelled_at", "timestamptz"),
        ("cancelled_by", "text"),
        ("cancel_reason", "text"),
        ("minutes", "text"),
        ("minutes_published_at", "timestamptz"),
        ("version", "integer"),
        ("updated_at", "timestamptz"),
    ),
    indexes=("(tenant, starts_at, id)", "(tenant, ends_at, id)"),
)
ATTENDANCE = Table(
    "attendance",
    keys=(("tenant", "text"), ("meeting_id", "uuid"), ("organisation_id", "uuid")),
    values=(
        ("status", "text"),
        ("people", "integer"),
        ("recorded_at", "timestamptz"),
        ("recorded_by", "text"),
    ),
    indexes=("(tenant, meeting_id)", "(tenant, organisation_id)"),
)
DECISIONS = Table(
    "decisions",
    keys=(("tenant", "text"), ("meeting_id", "uuid"), ("decision_id", "uuid")),
    values=(
        ("meeting_version", "integer"),
        ("text", "text"),
        ("votes_in_favour", "integer"),
        ("votes_against", "integer"),
        ("votes_abstained", "integer"),
        ("decided_at", "timestamptz"),
        ("recorded_by", "text"),
        ("grounds", "text"),
    ),
    indexes=("(tenant, meeting_id)",),
)
ORGANISATIONS = Table(
    "organisations",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(("name", "text"), ("kind", "text")),
)
MEMBERSHIPS = Table(
    "memberships",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(("organisation_id", "uuid"), ("open_since", "timestamptz")),
    indexes=("(tenant, organisation_id)",),
)
"""Which organisation each membership stream is about, and the start of its open period."""
PERIODS = Table(
    "membership_periods",
    keys=(("tenant", "text"), ("membership_id", "uuid"), ("since", "timestamptz")),
    values=(("until", "timestamptz"),),
    indexes=("(tenant, membership_id)",),
)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


class MeetingsProjection(TemporalProjection):
    name = "meetings"
    version = 2
    versioned = (MEETINGS, ATTENDANCE, DECISIONS, ORGANISATIONS, MEMBERSHIPS, PERIODS)
    events = {
        **events_of(
            Meeting,
            Scheduled="scheduled",
            Rescheduled="rescheduled",
            AgendaChanged="agenda_changed",
            Cancelled="cancelled",
            AttendanceRecorded="attendance_recorded",
            DecisionRecorded="decision_recorded",
            MinutesPublished="minutes_published",
        ),
        **events_of(Organisation, Registered="organisation", Renamed="renamed"),
        **events_of(Membership, Applied="applied", Admitted="admitted", Left="left"),
    }

    async def load(self, conn: Connection, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        wanted: dict[Table, set[Key]] = {t: set() for t in self.versioned}
        for e in events:
            method, key = self.dispatch[e.topic], (e.tenant, e.stream_id)
            if method in ("organisation", "renamed"):
                wanted[ORGANISATIONS].add(key)
            elif method in ("applied", "admitted", "left"):
                wanted[MEMBERSHIPS].add(key)
            else:
                wanted[MEETINGS].add(key)
                p = e.payload
                if method == "attendance_recorded":
                    wanted[ATTENDANCE].add((*key, _uuid(p["organisation_id"])))
                elif method == "rescheduled":
                    wanted[ATTENDANCE].update((*key, _uuid(o)) for o in p["dropped_notices"])
                elif method == "decision_recorded":
                    wanted[DECISIONS].add((*key, _uuid(p["decision_id"])))
        for table in (MEETINGS, ATTENDANCE, DECISIONS, ORGANISATIONS, MEMBERSHIPS):
            await rows.load(conn, table, wanted[table])
        # The open period a `Left` closes is found through its membership.
        for e in events:
            if self.dispatch[e.topic] == "left" and rows.known(
                MEMBERSHIPS, key := (e.tenant, e.stream_id)
            ):
                membership = rows.get(MEMBERSHIPS, key)
                if membership is not None and membership["open_since"] is not None:
                    wanted[PERIODS].add((*key, membership["open_since"]))
            elif self.dispatch[e.topic] == "admitted":
                wanted[PERIODS].add((e.tenant, e.stream_id, _moment(e.payload["at"])))
        await rows.load(conn, PERIODS, wanted[PERIODS])

    # -- meetings -------------------------------------------------------------------------------

    def _touch(self, rows: Rows, e: RecordedEvent, **values: Any) -> None:
        """The meeting's version and change time, and `values`."""
        key = (e.tenant, e.stream_id)
        row = rows.get(MEETINGS, key)
        if row is None:
            return
        row.update(values, version=e.version, updated_at=e.recorded_at)
        rows.put(MEETINGS, key, row, e)

    def scheduled(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        rows.put(
            MEETINGS,
            (e.tenant, e.stream_id),
            {
                "title": p["title"],
                "starts_at": _moment(p["starts_at"]),
                "ends_at": _moment(p["ends_at"]),
                "mode": p["mode"],
                "venue": p["venue"],
                "online_link": p["online_link"],
                "agenda": p["agenda"],
                "scheduled_at": _moment(p["at"]),
                "scheduled_by": e.metadata.get("actor"),
                "reschedules": 0,
                "last_reschedule": None,
                "cancelled_at": None,
                "cancelled_by": None,
                "cancel_reason": None,
                "minutes": None,
                "minutes_published_at": None,
                "version": e.version,
                "updated_at": e.recorded_at,
            },
            e,
        )

    def rescheduled(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        row = rows.get(MEETINGS, (e.tenant, e.stream_id))
        self._touch(
            rows,
            e,
            starts_at=_moment(p["starts_at"]),
            ends_at=_moment(p["ends_at"]),
            mode=p["mode"],
            venue=p["venue"],
            online_link=p["online_link"],
            reschedules=(row["reschedules"] if row else 0) + 1,
            last_reschedule=p["reason"],
        )
        for organisation in p["dropped_notices"]:
            rows.delete(ATTENDANCE, (e.tenant, e.stream_id, _uuid(organisation)), e)

    def agenda_changed(self, rows: Rows, e: RecordedEvent) -> None:
        self._touch(rows, e, agenda=e.payload["agenda"])

    def cancelled(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        self._touch(
            rows,
            e,
            cancelled_at=_moment(p["at"]),
            cancelled_by=p["decided_by"],
            cancel_reason=p["reason"],
        )

    def attendance_recorded(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        attendance = p["attendance"]
        rows.put(
            ATTENDANCE,
            (e.tenant, e.stream_id, _uuid(p["organisation_id"])),
            {
                "status": attendance["status"],
                "people": attendance.get("people"),
                "recorded_at": _moment(p["at"]),
                "recorded_by": e.metadata.get("actor"),
            },
            e,
        )
        self._touch(rows, e)

    def decision_recorded(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        decision = p["decision"]
        votes = decision.get("votes") or {}
        rows.put(
            DECISIONS,
            (e.tenant, e.stream_id, _uuid(p["decision_id"])),
            {
                "meeting_version": e.version,
                "text": decision["text"],
                "votes_in_favour": votes.get("in_favour"),
                "votes_against": votes.get("against"),
                "votes_abstained": votes.get("abstained"),
                "decided_at": _moment(p["at"]),
                "recorded_by": e.metadata.get("actor"),
                "grounds": e.metadata.get("reason"),
            },
            e,
        )
        self._touch(rows, e)

    def minutes_published(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        self._touch(rows, e, minutes=p["minutes"], minutes_published_at=_moment(p["at"]))

    # -- who could attend -----------------------------------------------------------------------

    def organisation(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        rows.put(ORGANISATIONS, (e.tenant, e.stream_id), {"name": p["name"], "kind": p["kind"]}, e)

    def renamed(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        row = rows.get(ORGANISATIONS, key)
        if row is not None:
            rows.put(ORGANISATIONS, key, {**row, "name": e.payload["name"]}, e)

    def applied(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        if rows.get(MEMBERSHIPS, key) is None:
            organisation = _uuid(e.payload["organisation_id"])
            rows.put(MEMBERSHIPS, key, {"organisation_id": organisation, "open_since": None}, e)

    def admitted(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        since = _moment(e.payload["at"])
        period = (*key, since)
        if rows.get(PERIODS, period) is None:
            rows.put(PERIODS, period, {"until": None}, e)
        membership = rows.get(MEMBERSHIPS, key)
        if membership is not None and membership["open_since"] is None:
            rows.put(MEMBERSHIPS, key, {**membership, "open_since": since}, e)

    def left(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        membership = rows.get(MEMBERSHIPS, key)
        if membership is None or membership["open_since"] is None:
            return
        period = (*key, membership["open_since"])
        if rows.known(PERIODS, period) and rows.get(PERIODS, period) is not None:
            rows.put(PERIODS, period, {"until": _moment(e.payload["at"])}, e)
        rows.put(MEMBERSHIPS, key, {**membership, "open_since": None}, e)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
