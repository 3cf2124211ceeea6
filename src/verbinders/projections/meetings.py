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

`as_of` queries read a historical generation of this projection (see `projections.history`):
the same tables, built from the tenant's events recorded up to that moment, so every column
here is derived only from the events (never from the clock) and a replay equals the live model.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbinders.projections.engine import Projection

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["HELD", "MEETING_STATE", "MeetingsProjection"]

MEETING = "verbinders.domain.meetings:Meeting."
ORGANISATION = "verbinders.domain.organisations:Organisation."
MEMBERSHIP = "verbinders.domain.membership:Membership."

HELD = """(
    {m}.minutes_published_at IS NOT NULL
    OR EXISTS (SELECT 1 FROM {schema}.attendance ha WHERE ha.tenant = {m}.tenant
               AND ha.meeting_id = {m}.id AND ha.status <> 'absent-with-notice')
    OR EXISTS (SELECT 1 FROM {schema}.decisions hd WHERE hd.tenant = {m}.tenant
               AND hd.meeting_id = {m}.id)
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


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


class MeetingsProjection(Projection):
    name = "meetings"
    version = 1
    topics = tuple(
        [
            MEETING + e
            for e in (
                "Scheduled",
                "Rescheduled",
                "AgendaChanged",
                "Cancelled",
                "AttendanceRecorded",
                "DecisionRecorded",
                "MinutesPublished",
            )
        ]
        + [ORGANISATION + e for e in ("Registered", "Renamed")]
        + [MEMBERSHIP + e for e in ("Applied", "Admitted", "Left")]
    )
    tables = (
        "meetings",
        "attendance",
        "decisions",
        "organisations",
        "memberships",
        "membership_periods",
    )

    def ddl(self) -> str:
        return """
CREATE TABLE meetings (
    tenant               text        NOT NULL,
    id                   uuid        NOT NULL,
    title                text        NOT NULL,
    starts_at            timestamptz NOT NULL,
    ends_at              timestamptz NOT NULL,
    mode                 text        NOT NULL,
    venue                text,
    online_link          text,
    agenda               jsonb       NOT NULL DEFAULT '[]',
    scheduled_at         timestamptz NOT NULL,
    scheduled_by         text,
    reschedules          integer     NOT NULL DEFAULT 0,
    last_reschedule      text,
    cancelled_at         timestamptz,
    cancelled_by         text,
    cancel_reason        text,
    minutes              text,
    minutes_published_at timestamptz,
    version              integer     NOT NULL,
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX meetings_by_start ON meetings (tenant, starts_at, id);
CREATE INDEX meetings_by_end ON meetings (tenant, ends_at, id);

CREATE TABLE attendance (
    tenant          text        NOT NULL,
    meeting_id      uuid        NOT NULL,
    organisation_id uuid        NOT NULL,
    status          text        NOT NULL,
    people          integer,
    recorded_at     timestamptz NOT NULL,
    recorded_by     text,
    PRIMARY KEY (tenant, meeting_id, organisation_id)
);
CREATE INDEX attendance_by_organisation ON attendance (tenant, organisation_id);

CREATE TABLE decisions (
    tenant          text        NOT NULL,
    meeting_id      uuid        NOT NULL,
    decision_id     uuid        NOT NULL,
    meeting_version integer     NOT NULL,
    text            text        NOT NULL,
    votes_in_favour integer,
    votes_against   integer,
    votes_abstained integer,
    decided_at      timestamptz NOT NULL,
    recorded_by     text,
    grounds         text,
    PRIMARY KEY (tenant, meeting_id, decision_id)
);

CREATE TABLE organisations (
    tenant text NOT NULL,
    id     uuid NOT NULL,
    name   text NOT NULL,
    kind   text NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE memberships (
    tenant          text NOT NULL,
    id              uuid NOT NULL,
    organisation_id uuid NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX memberships_by_organisation ON memberships (tenant, organisation_id);

CREATE TABLE membership_periods (
    tenant        text        NOT NULL,
    membership_id uuid        NOT NULL,
    since         timestamptz NOT NULL,
    until         timestamptz,
    PRIMARY KEY (tenant, membership_id, since)
);
"""

    async def handle(self, conn: Connection, event: RecordedEvent) -> None:
        prefix, _, name = event.topic.rpartition(".")
        handler = getattr(self, f"_{prefix.rpartition(':')[2].lower()}_{name}", None)
        if handler is not None:
            await handler(conn, event, event.payload)

    # -- meetings -------------------------------------------------------------------------------

    async def _touch(self, conn: Connection, e: RecordedEvent, sets: str = "", *args: Any) -> None:
        """Update the meeting's version and change time, and `sets` (parameters from $5)."""
        await conn.execute(
            f"UPDATE meetings SET version = $3, updated_at = $4{', ' + sets if sets else ''}"
            " WHERE tenant = $1 AND id = $2",
            e.tenant,
            e.stream_id,
            e.version,
            e.recorded_at,
            *args,
        )

    async def _meeting_Scheduled(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await conn.execute(
            "INSERT INTO meetings (tenant, id, title, starts_at, ends_at, mode, venue,"
            " online_link, agenda, scheduled_at, scheduled_by, version, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            e.tenant,
            e.stream_id,
            p["title"],
            _moment(p["starts_at"]),
            _moment(p["ends_at"]),
            p["mode"],
            p["venue"],
            p["online_link"],
            p["agenda"],
            _moment(p["at"]),
            e.metadata.get("actor"),
            e.version,
            e.recorded_at,
        )

    async def _meeting_Rescheduled(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await self._touch(
            conn,
            e,
            "starts_at = $5, ends_at = $6, mode = $7, venue = $8, online_link = $9,"
            " reschedules = reschedules + 1, last_reschedule = $10",
            _moment(p["starts_at"]),
            _moment(p["ends_at"]),
            p["mode"],
            p["venue"],
            p["online_link"],
            p["reason"],
        )
        if p["dropped_notices"]:
            await conn.execute(
                "DELETE FROM attendance WHERE tenant = $1 AND meeting_id = $2"
                " AND organisation_id = ANY ($3::uuid[])",
                e.tenant,
                e.stream_id,
                p["dropped_notices"],
            )

    async def _meeting_AgendaChanged(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await self._touch(conn, e, "agenda = $5", p["agenda"])

    async def _meeting_Cancelled(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await self._touch(
            conn,
            e,
            "cancelled_at = $5, cancelled_by = $6, cancel_reason = $7",
            _moment(p["at"]),
            p["decided_by"],
            p["reason"],
        )

    async def _meeting_AttendanceRecorded(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        attendance = p["attendance"]
        await conn.execute(
            "INSERT INTO attendance (tenant, meeting_id, organisation_id, status, people,"
            " recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (tenant, meeting_id, organisation_id) DO UPDATE SET"
            " status = excluded.status, people = excluded.people,"
            " recorded_at = excluded.recorded_at, recorded_by = excluded.recorded_by",
            e.tenant,
            e.stream_id,
            p["organisation_id"],
            attendance["status"],
            attendance.get("people"),
            _moment(p["at"]),
            e.metadata.get("actor"),
        )
        await self._touch(conn, e)

    async def _meeting_DecisionRecorded(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        decision = p["decision"]
        votes = decision.get("votes") or {}
        await conn.execute(
            "INSERT INTO decisions (tenant, meeting_id, decision_id, meeting_version, text,"
            " votes_in_favour, votes_against, votes_abstained, decided_at, recorded_by, grounds)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            e.tenant,
            e.stream_id,
            p["decision_id"],
            e.version,
            decision["text"],
            votes.get("in_favour"),
            votes.get("against"),
            votes.get("abstained"),
            _moment(p["at"]),
            e.metadata.get("actor"),
            e.metadata.get("reason"),
        )
        await self._touch(conn, e)

    async def _meeting_MinutesPublished(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await self._touch(
            conn, e, "minutes = $5, minutes_published_at = $6", p["minutes"], _moment(p["at"])
        )

    # -- who could attend -----------------------------------------------------------------------

    async def _organisation_Registered(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await conn.execute(
            "INSERT INTO organisations (tenant, id, name, kind) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, kind = excluded.kind",
            e.tenant,
            e.stream_id,
            p["name"],
            p["kind"],
        )

    async def _organisation_Renamed(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await conn.execute(
            "UPDATE organisations SET name = $3 WHERE tenant = $1 AND id = $2",
            e.tenant,
            e.stream_id,
            p["name"],
        )

    async def _membership_Applied(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await conn.execute(
            "INSERT INTO memberships (tenant, id, organisation_id) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            e.tenant,
            e.stream_id,
            p["organisation_id"],
        )

    async def _membership_Admitted(
        self, conn: Connection, e: RecordedEvent, p: dict[str, Any]
    ) -> None:
        await conn.execute(
            "INSERT INTO membership_periods (tenant, membership_id, since) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            e.tenant,
            e.stream_id,
            _moment(p["at"]),
        )

    async def _membership_Left(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "UPDATE membership_periods SET until = $3"
            " WHERE tenant = $1 AND membership_id = $2 AND until IS NULL",
            e.tenant,
            e.stream_id,
            _moment(p["at"]),
        )
