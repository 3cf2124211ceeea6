"""Meetings: upcoming and past meetings, attendance per meeting, attendance rate per organisation.

Tables (readers query the views `meetings.<table>`; every row carries its tenant):

- `meetings`: one row per meeting as it stands: plan, agenda, cancellation (who and why),
  minutes;
- `attendance`: per meeting and organisation, the latest record (a correction replaces it; a
  notice of absence dropped by a reschedule disappears);
- `decisions`: per decision, its text and votes, when it was taken, and who recorded it with
  which grounds (the event's metadata `actor` and `reason`);
- `organisations`: names and kinds of the platform's organisations (for the report);
- `memberships` and `membership_periods`: which organisation each membership stream is about
  and its periods of membership (admitted until left), which decide the meetings an
  organisation "could attend".

A meeting's stream version (its ETag) and when it last changed are not a row of their own:
each row of the three tables above carries the version and recording time of the meeting's
event that wrote it (`meeting_version`, `changed_at`), and the meeting's are the greatest of
its rows' (`meetings_queries.py`). Every event of a meeting writes one of them (a reschedule
that drops notices writes the meeting's row too), and a stream's recording times follow its
versions, so as of any position these are the version and time of the meeting's last event
up to it, exactly, with no version of anything per attendance record but the attendance row.

Whether a meeting was held, and whether it is upcoming, in progress or ended, is not stored:
it depends on the moment asked about and is worked out by the queries (`MEETING_STATE`).

Every table keeps its history (`temporal.py`): `as_of` queries are the live queries with the
versions' condition, and every column here is derived only from the events (never from the
clock), so an answer as of a position equals a rebuild up to it. Queries: `meetings_queries.py`.

Attendance records, most of this model's events, are not read in Python (`unread`): a batch's
attendance versions are built in PostgreSQL from the stored events (`_write_attendance`), each
record a version from its position to the next record of its key or the reschedule that
dropped the notice, as `Rows` would have made them; the rest of the batch is folded as usual.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncpg.pgproto.pgproto import UUID as FastUUID

from verbinders.domain.meetings import Meeting
from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.projections.temporal import Rows, Table, TemporalProjection, events_of
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.projections.temporal import Key
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
        ("meeting_version", "integer"),
        ("changed_at", "timestamptz"),
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
        ("meeting_version", "integer"),
        ("changed_at", "timestamptz"),
    ),
    # No secondary index: every query reads attendance per meeting (or per meeting and
    # organisation), which the key's own indexes (current and versions) serve.
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
        ("changed_at", "timestamptz"),
    ),
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
    # No secondary index: the report reads a platform's memberships through the key's indexes.
)
"""Which organisation each membership stream is about, and the start of its open period."""
PERIODS = Table(
    "membership_periods",
    keys=(("tenant", "text"), ("membership_id", "uuid"), ("since", "timestamptz")),
    values=(("until", "timestamptz"),),
)


ATTENDANCE_RECORDED = topic_of(Meeting.AttendanceRecorded)  # type: ignore[attr-defined]
RESCHEDULED = topic_of(Meeting.Rescheduled)  # type: ignore[attr-defined]
if getattr(Meeting.AttendanceRecorded, "class_version", 1) != 1:  # type: ignore[attr-defined]
    # `_ATTENDANCE_MARKS` reads the stored payload as version 1 wrote it, not upcast.
    raise TypeError("AttendanceRecorded has a newer version: read it in _ATTENDANCE_MARKS")

_ATTENDANCE_MARKS = """
SELECT e.position, e.tenant, e.stream_id AS meeting_id,
       (e.payload ->> 'organisation_id')::uuid AS organisation_id, true AS record,
       e.payload -> 'attendance' ->> 'status' AS status,
       (e.payload -> 'attendance' ->> 'people')::integer AS people,
       (e.payload ->> 'at')::timestamptz AS recorded_at, e.metadata ->> 'actor' AS recorded_by,
       e.version AS meeting_version, e.recorded_at AS changed_at
  FROM events e
 WHERE e.position = ANY ($1::bigint[])
UNION ALL
SELECT d.position, d.tenant, d.meeting_id, d.organisation_id, false,
       NULL, NULL, NULL, NULL, NULL, NULL
  FROM unnest($2::bigint[], $3::text[], $4::uuid[], $5::uuid[])
       AS d(position, tenant, meeting_id, organisation_id)
"""
"""Per organisation and meeting, what a batch does to its attendance row: a record (the event
`AttendanceRecorded` at its position, its values read from the stored payload and metadata as
`attendance_recorded` read them) or the end of the row (a reschedule that dropped the notice)."""

_WRITE_ATTENDANCE = f"""
WITH marks AS MATERIALIZED ({_ATTENDANCE_MARKS}),
closed AS (
    UPDATE attendance t SET valid_to = f.first
      FROM (SELECT m.tenant, m.meeting_id, m.organisation_id, min(m.position) AS first
              FROM marks m GROUP BY 1, 2, 3) f
     WHERE t.tenant = f.tenant AND t.meeting_id = f.meeting_id
       AND t.organisation_id = f.organisation_id AND t.valid_to IS NULL
    RETURNING 1
)
INSERT INTO attendance (tenant, meeting_id, organisation_id, status, people, recorded_at,
                        recorded_by, meeting_version, changed_at, valid_from, valid_to)
SELECT m.tenant, m.meeting_id, m.organisation_id, m.status, m.people, m.recorded_at,
       m.recorded_by, m.meeting_version, m.changed_at, m.position, m.valid_to
  FROM (SELECT x.*, lead(x.position) OVER (PARTITION BY x.tenant, x.meeting_id,
                                           x.organisation_id ORDER BY x.position) AS valid_to
          FROM marks x) m
 WHERE m.record AND (SELECT count(*) FROM closed) >= 0
"""
"""The batch's attendance in one statement, its marks read once: the current rows it
supersedes end at its first mark of their key (`closed`), then each record is a version
ending at the next mark of its key (a later record, or the drop). The condition on `closed`
is a one-time filter evaluated before the first row is inserted, so the UPDATE has ended the
old current rows before the new ones enter the current-key index (within one statement a
row the statement itself updated no longer counts against that index's uniqueness)."""


async def _write_attendance(
    conn: Connection, records: list[int], drops: list[tuple[int, str, uuid.UUID, uuid.UUID]]
) -> None:
    """The batch's attendance versions, built in PostgreSQL from the stored events: what
    `Rows.put` and `Rows.delete` would make of them, event by event, without decoding them."""
    await conn.execute(_WRITE_ATTENDANCE, records, *([d[i] for d in drops] for i in range(4)))


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


@functools.lru_cache(maxsize=65536)
def _parsed(text: str) -> uuid.UUID:
    return FastUUID(text)


def as_uuid(value: Any) -> uuid.UUID:
    """A payload's id as asyncpg's own UUID (a `uuid.UUID` equal to the stdlib's and hashed in
    C: the keys of an attendance row are hashed a dozen times per event), parsed once per id."""
    return _parsed(value) if isinstance(value, str) else _parsed(str(value))


class MeetingsProjection(TemporalProjection):
    name = "meetings"
    version = 4
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
    unread = (Meeting.AttendanceRecorded,)  # type: ignore[attr-defined]

    async def load(self, conn: Connection, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        meetings: set[Key] = set()
        decisions: set[Key] = set()
        organisations: set[Key] = set()
        memberships: set[Key] = set()
        dispatch = self.dispatch
        for e in events:
            method = dispatch[e.topic]
            if method == "attendance_recorded":
                continue  # written in SQL (`_write_attendance`)
            if method == "decision_recorded":
                decisions.add((e.tenant, e.stream_id, as_uuid(e.payload["decision_id"])))
            elif method in ("organisation", "renamed"):
                organisations.add((e.tenant, e.stream_id))
            elif method in ("applied", "admitted", "left"):
                memberships.add((e.tenant, e.stream_id))
            else:
                meetings.add((e.tenant, e.stream_id))
        await rows.load(conn, MEETINGS, meetings)
        await rows.load(conn, DECISIONS, decisions)
        await rows.load(conn, ORGANISATIONS, organisations)
        await rows.load(conn, MEMBERSHIPS, memberships)
        # The open period a `Left` closes is found through its membership.
        periods: set[Key] = set()
        for e in events:
            method = dispatch[e.topic]
            if method == "left" and rows.known(MEMBERSHIPS, key := (e.tenant, e.stream_id)):
                membership = rows.get(MEMBERSHIPS, key)
                if membership is not None and membership["open_since"] is not None:
                    periods.add((*key, membership["open_since"]))
            elif method == "admitted":
                periods.add((e.tenant, e.stream_id, _moment(e.payload["at"])))
        await rows.load(conn, PERIODS, periods)

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        rows = Rows(self.versioned)
        await self.load(conn, rows, events)
        records: list[int] = []
        drops: list[tuple[int, str, uuid.UUID, uuid.UUID]] = []
        for e in events:
            if e.topic == ATTENDANCE_RECORDED:
                records.append(e.position)
                continue
            self.apply(rows, e)
            if e.topic == RESCHEDULED:
                drops.extend(
                    (e.position, e.tenant, e.stream_id, as_uuid(o))
                    for o in e.payload["dropped_notices"]
                )
        await rows.write(conn)
        if records or drops:
            await _write_attendance(conn, records, drops)

    # -- meetings -------------------------------------------------------------------------------

    def _change(self, rows: Rows, e: RecordedEvent, **values: Any) -> None:
        """The meeting's row with `values`, at the event's version and time."""
        key = (e.tenant, e.stream_id)
        row = rows.get(MEETINGS, key)
        if row is not None:
            row.update(values, meeting_version=e.version, changed_at=e.recorded_at)
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
                "meeting_version": e.version,
                "changed_at": e.recorded_at,
            },
            e,
        )

    def rescheduled(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        row = rows.get(MEETINGS, (e.tenant, e.stream_id))
        self._change(
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
        # The dropped notices end in SQL with the batch's attendance (`_write_attendance`).

    def agenda_changed(self, rows: Rows, e: RecordedEvent) -> None:
        self._change(rows, e, agenda=e.payload["agenda"])

    def cancelled(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        self._change(
            rows,
            e,
            cancelled_at=_moment(p["at"]),
            cancelled_by=p["decided_by"],
            cancel_reason=p["reason"],
        )

    def attendance_recorded(self, rows: Rows, e: RecordedEvent) -> None:
        """Written in SQL with the batch's other attendance records (`_write_attendance`)."""

    def decision_recorded(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        decision = p["decision"]
        votes = decision.get("votes") or {}
        rows.put(
            DECISIONS,
            (e.tenant, e.stream_id, as_uuid(p["decision_id"])),
            {
                "meeting_version": e.version,
                "text": decision["text"],
                "votes_in_favour": votes.get("in_favour"),
                "votes_against": votes.get("against"),
                "votes_abstained": votes.get("abstained"),
                "decided_at": _moment(p["at"]),
                "recorded_by": e.metadata.get("actor"),
                "grounds": e.metadata.get("reason"),
                "changed_at": e.recorded_at,
            },
            e,
        )

    def minutes_published(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        self._change(rows, e, minutes=p["minutes"], minutes_published_at=_moment(p["at"]))

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
            organisation = as_uuid(e.payload["organisation_id"])
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
