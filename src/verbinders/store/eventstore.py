"""An append-only, async event store on PostgreSQL through asyncpg.

Semantics kept from the `eventsourcing` library's recorders: optimistic concurrency on each
stream's version, atomic appends to several streams, a global feed in which a subscriber never
misses or reorders a committed event (see `schema.py` for how), and checkpoints that commit
together with a read model's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
import msgspec

from verbinders.errors import StaleRead, StreamConflict
from verbinders.store.appending import (
    append_statement,
    check_batch,
    companion_statement,
    conflicting_stream,
)
from verbinders.store.events import Companion, FeedStatus, Metadata, NewEvent, RecordedEvent
from verbinders.store.feed_guards import feed_refusal
from verbinders.store.lane import AppendLane
from verbinders.store.moments import POSITION_AT_SQL
from verbinders.store.notifier import NOTIFY_CHANNEL, Notifier
from verbinders.store.schema import (
    APPEND_ONE_UNCHANGED,
    APPEND_ONE_UNCHANGED_IN_TRANSACTION,
    APPEND_STREAMS,
    MOVED_STREAMS,
    STREAM_VERSION,
)
from verbinders.store.watchdog import AppendWatchdog

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.snapshots import SnapshotRow

__all__ = [
    "EVENT_COLUMNS",
    "NOTIFY_CHANNEL",
    "AppendLane",
    "EventStore",
    "StreamEvent",
    "feed_refusal",
    "row_to_event",
]

log = logging.getLogger(__name__)

EVENT_COLUMNS = (  # in the order `row_to_event` reads them
    "position, tenant, stream_id, stream_type, version, topic, payload, metadata, recorded_at"
)


def row_to_event(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        tenant=row[1],
        stream_id=row[2],
        stream_type=row[3],
        version=row[4],
        topic=row[5],
        payload=row[6],
        metadata=row[7],
        recorded_at=row[8],
    )


class EventStore:
    """Appends and reads events. Safe to share between tasks.

    Holds the pool and, with `connect` and `append_connections`, an `AppendLane` of its own
    connections for appends that are a single statement. An append that waits on the lane for
    a rival (an uncommitted append to the same stream) longer than the lane's lock timeout
    gives its lane connection back and waits on a pooled connection instead, so that the lane
    keeps serving other streams; at most half the pool waits so (`_waiting`), the rest of the
    pool stays free for everything else.

    `start()` runs the `AppendWatchdog` (with `append_timeout`, seconds), which ends
    transactions that hold the feed back for longer; `close()` stops it.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
        append_connections: int = 0,
        append_timeout: float | None = None,
    ) -> None:
        self.pool = pool
        self._lane = (
            AppendLane(connect, append_connections)
            if connect is not None and append_connections > 0
            else None
        )
        self._waiting = asyncio.Semaphore(max(1, pool.get_max_size() // 2))
        self.watchdog = AppendWatchdog(pool, append_timeout) if append_timeout is not None else None
        self._notifier = Notifier(pool)
        self.local_listeners: list[Callable[[], None]] = []
        """Called after every append in this process (e.g. `FeedSignal.poke`)."""

    # -- writing -------------------------------------------------------------------------

    async def append(
        self,
        events: Sequence[NewEvent],
        *,
        expected: Mapping[UUID, int],
        metadata: Metadata,
        connection: Connection | None = None,
        also: Companion | None = None,
        unchanged: Mapping[UUID, int] | None = None,
    ) -> list[int]:
        """Append `events` atomically; returns their global positions, in order.

        `expected` gives each stream's current version (0 for a new stream). If any stream
        has moved on, nothing is written and `StreamConflict` names the stream and both
        versions. With `connection`, the append joins that connection's transaction.
        `also` is a write that goes into the same statement (see `Companion`).
        `unchanged`: streams the append does not write to that must still be at these
        versions (a command used them without reading them, see `aggregate_cache.py`);
        checked in the append's own statement where it is one event of one stream (with or
        without a companion), else by a statement just before it. If one moved on, nothing is
        written and `StaleRead` names it.
        """
        if also is not None and "appended" not in also.sql:
            raise ValueError("a companion write must refer to `appended` (see Companion)")
        if not events:
            return []
        unchanged = await self._unchanged_in_statement(
            events, expected, unchanged, connection, also
        )
        if len(events) == 1 and len(expected) == 1:  # the common case, checked cheaply
            event = events[0]
            version = expected.get(event.stream_id)
            if version is None or version + 1 != event.version:
                check_batch(events, expected)  # raises, naming what is wrong
        else:
            check_batch(events, expected)
        encoded = _encode_metadata(metadata)
        try:
            if len(expected) == 1:
                positions = await self._append_one_stream(
                    events, expected, metadata.tenant, encoded, connection, also, unchanged
                )
            else:
                positions = await self._append_streams(
                    events, expected, metadata.tenant, encoded, connection, also
                )
        except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError) as error:
            # A single-stream append meets a concurrent one of the same stream on the unique
            # index (it takes no lock; see schema.py). For multi-stream appends it is a safety
            # net: an append that passed its version check on a stale snapshot (a caller's
            # REPEATABLE READ transaction), or two callers' transactions that each appended
            # to a stream the other then wants (a deadlock). The actual version is read on
            # another connection: a caller's transaction is aborted by now.
            # No other connection is taken while the caller's is held (a unit of work under
            # load would wait for the pool it holds a part of): a caller's aborted transaction
            # leaves the actual version unknown here, for the caller to read after rollback.
            stream_id = conflicting_stream(error, events)
            actual: int | None
            if connection is None:
                actual = await self.stream_version(stream_id)
            elif not connection.is_in_transaction():
                actual = int(await connection.fetchval(STREAM_VERSION, stream_id))
            else:
                actual = None
            raise StreamConflict(stream_id, expected[stream_id], actual) from error
        except asyncpg.PostgresError as error:
            if error.sqlstate == "VB409":
                detail = json.loads(error.detail or "{}")
                raise StreamConflict(
                    UUID(detail["stream_id"]), detail["expected"], detail["actual"]
                ) from error
            raise
        if connection is None or not connection.is_in_transaction():
            self._announce(positions[-1])
        # else: the caller's transaction is still open; it announces at commit (`announce`).
        return positions

    async def _unchanged_in_statement(
        self,
        events: Sequence[NewEvent],
        expected: Mapping[UUID, int],
        unchanged: Mapping[UUID, int] | None,
        connection: Connection | None,
        also: Companion | None,
    ) -> dict[UUID, int] | None:
        """The streams of `unchanged` the append's own statement is to check (those it does
        not write to); where the append cannot (several events or streams, a companion),
        they are checked now, and None is left for the statement."""
        if not unchanged:
            return None
        rest = {s: v for s, v in unchanged.items() if s not in expected}
        if rest and (len(events) != 1 or len(expected) != 1):
            await self.check_unchanged(rest, connection=connection)
            return None
        return rest or None

    async def _append_one_stream(
        self,
        events: Sequence[NewEvent],
        expected: Mapping[UUID, int],
        tenant: str,
        metadata: bytes,
        connection: Connection | None,
        also: Companion | None,
        unchanged: Mapping[UUID, int] | None = None,
    ) -> list[int]:
        """One statement (`APPEND_ONE` or `APPEND_MANY` of schema.py), no stream lock.

        On a connection outside a transaction the statement is a transaction of its own and
        takes the horizon's lock itself (`HORIZON_CTE`), as on the append lane; only inside
        a caller's transaction does it go through `feed_enter()`."""
        first = events[0]
        version = expected[first.stream_id]
        kind = "one" if len(events) == 1 else "many"
        in_transaction = connection is not None and connection.is_in_transaction()
        if in_transaction:
            kind += " in transaction"
        if unchanged and also is not None:  # one event (see `append`)
            sql = companion_statement(kind.replace("one", "one unchanged", 1), also.sql)
        elif unchanged:
            sql = APPEND_ONE_UNCHANGED_IN_TRANSACTION if in_transaction else APPEND_ONE_UNCHANGED
        elif also is None:
            sql = append_statement(kind)
        else:
            sql = companion_statement(kind, also.sql)
        if len(events) == 1:
            args: tuple[object, ...] = (
                tenant,
                first.stream_id,
                first.stream_type,
                version,
                first.topic,
                first.payload,
                metadata,
            )
        else:
            args = (
                tenant,
                first.stream_id,
                first.stream_type,
                version,
                [e.topic for e in events],
                [e.payload for e in events],
                metadata,
            )
        if unchanged:
            args += (list(unchanged), list(unchanged.values()))
        if also is not None:
            args += also.args
        rows = await self._append_rows(sql, args, connection)
        if not rows:
            if unchanged:
                await self.check_unchanged(unchanged, connection=connection)
            # The expected version is not (or not yet visibly) the stream's latest.
            if connection is not None:
                actual = await connection.fetchval(STREAM_VERSION, first.stream_id)
            else:
                actual = await self.stream_version(first.stream_id)
            raise StreamConflict(first.stream_id, version, int(actual))
        return [row[0] for row in rows]

    async def _append_streams(
        self,
        events: Sequence[NewEvent],
        expected: Mapping[UUID, int],
        tenant: str,
        metadata: bytes,
        connection: Connection | None,
        also: Companion | None,
    ) -> list[int]:
        """`append_events` (schema.py): streams locked in one order, then checked, then written."""
        args: tuple[object, ...] = (
            tenant,
            list(expected.keys()),
            list(expected.values()),
            [e.stream_id for e in events],
            [e.stream_type for e in events],
            [e.version for e in events],
            [e.topic for e in events],
            [e.payload for e in events],
            metadata,
        )
        sql = APPEND_STREAMS
        if also is not None:
            sql = companion_statement("streams", also.sql)
            args += also.args
        rows = await self._append_rows(sql, args, connection)
        return [row[0] for row in rows]

    async def _append_rows(
        self, sql: str, args: Sequence[object], connection: Connection | None
    ) -> list[asyncpg.Record]:
        """An append statement: in the caller's transaction, else on the lane (or the pool)."""
        if connection is not None:
            return await connection.fetch(sql, *args)
        if self._lane is not None:
            try:
                return await self._lane.fetch(sql, *args)
            except asyncpg.LockNotAvailableError:
                # A rival holds the stream: wait for it off the lane (nothing was written).
                async with self._waiting:
                    return await self._rows(sql, args, None)
        return await self._rows(sql, args, None)

    async def _rows(
        self, sql: str, args: Sequence[object], connection: Connection | None
    ) -> list[asyncpg.Record]:
        """A statement on `connection`, else on a connection from the pool."""
        if connection is not None:
            return await connection.fetch(sql, *args)
        async with self.pool.acquire() as conn:
            return await conn.fetch(sql, *args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction; appends through it are announced once it commits."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn
        self._announce(None)

    def announce(self, position: int | None = None) -> None:
        """Say that appends committed in a caller's own transaction (after its COMMIT)."""
        self._announce(position)

    def _announce(self, position: int | None) -> None:
        """Wake subscribers: those of this process now, those of others soon (`Notifier`)."""
        for listener in self.local_listeners:
            listener()
        self._notifier.announce(position)

    async def start(self) -> None:
        """Start the watchdog (if the store has an `append_timeout`)."""
        if self.watchdog is not None:
            self.watchdog.start()

    async def close(self) -> None:
        """Stop the watchdog, close the append lane, send the last pending notification, stop
        the notifier."""
        if self.watchdog is not None:
            await self.watchdog.stop()
        if self._lane is not None:
            await self._lane.close()
        await self._notifier.close()

    async def check_unchanged(
        self, versions: Mapping[UUID, int], *, connection: Connection | None = None
    ) -> None:
        """`StaleRead` if one of the streams is no longer at its version here (one statement,
        on `connection` if given)."""
        if not versions:
            return
        rows = await self._rows(
            MOVED_STREAMS, (list(versions), list(versions.values())), connection
        )
        if rows:
            raise StaleRead(rows[0][0], rows[0][1], rows[0][2])

    # -- reading streams -------------------------------------------------------------------

    async def stream_version(self, stream_id: UUID) -> int:
        async with self.pool.acquire() as conn:
            version = await conn.fetchval(STREAM_VERSION, stream_id)
        return int(version)

    async def read_stream(
        self,
        stream_id: UUID,
        *,
        after_version: int = 0,
        to_version: int | None = None,
        as_of: datetime | None = None,
        tenant: str | None = None,
        connection: Connection | None = None,
    ) -> list[RecordedEvent]:
        """A stream's events in version order: whole, after/up to a version, or as of a time."""
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2"
            " AND ($3::integer IS NULL OR version <= $3)"
            " AND ($4::timestamptz IS NULL OR recorded_at <= $4)"
            " AND ($5::text IS NULL OR tenant = $5)"
            " ORDER BY version"
        )
        args = (stream_id, after_version, to_version, as_of, tenant)
        return [row_to_event(row) for row in await self._rows(sql, args, connection)]

    async def read_streams(
        self,
        stream_ids: Sequence[UUID],
        *,
        tenant: str,
        snapshots: bool = True,
        after: Mapping[UUID, int] | None = None,
        connection: Connection | None = None,
    ) -> dict[UUID, tuple[SnapshotRow | None, list[StreamEvent]]]:
        """Several streams of `tenant` as they are now, in one statement: each one's latest
        snapshot (with `snapshots`) and its events after it, in version order. A stream of
        another tenant, or of none, comes back empty: (None, []). A stream named in `after`
        (a version its caller holds the aggregate at) comes without a snapshot, with only
        its events after that version."""
        from verbinders.store.snapshots import SnapshotRow

        found: dict[UUID, tuple[SnapshotRow | None, list[StreamEvent]]] = {
            stream: (None, []) for stream in stream_ids
        }
        streams = list(found)
        since = [after.get(stream, 0) for stream in streams] if after else [0] * len(streams)
        rows = await self._rows(READ_STREAMS, (streams, tenant, snapshots, since), connection)
        for row in rows:
            stream = row[1]
            if row[0]:  # the snapshot comes first
                snapshot = SnapshotRow(
                    stream_id=stream,
                    version=row[2],
                    tenant=tenant,
                    stream_type=row[3],
                    topic=row[4],
                    state=row[5],
                )
                found[stream] = (snapshot, [])
            else:
                found[stream][1].append(
                    StreamEvent(
                        stream_id=stream,
                        version=row[2],
                        stream_type=row[3],
                        topic=row[4],
                        payload=row[5],
                    )
                )
        return found

    # -- reading the feed ------------------------------------------------------------------

    async def read_feed(
        self,
        after: int = 0,
        limit: int = 1000,
        *,
        tenant: str | None = None,
        topics: Sequence[str] | None = None,
        until_position: int | None = None,
        connection: Connection | None = None,
    ) -> list[RecordedEvent]:
        """Committed events after position `after`, in feed order, at most `limit`.

        Never returns an event while an earlier position may still commit, so reading
        batch after batch from the last position seen misses nothing.
        """
        sql = f"SELECT {EVENT_COLUMNS} FROM read_feed($1, $2, $3, $4, $5)"
        args = (after, limit, tenant, list(topics) if topics is not None else None, until_position)
        with feed_refusal():
            rows = await self._rows(sql, args, connection)
        return [row_to_event(row) for row in rows]

    async def iter_feed(
        self,
        after: int = 0,
        *,
        batch_size: int = 1000,
        tenant: str | None = None,
        topics: Sequence[str] | None = None,
        until_position: int | None = None,
        until_time: datetime | None = None,
    ) -> AsyncIterator[list[RecordedEvent]]:
        """The feed from `after` to the current horizon, batch by batch (constant memory)."""
        if until_time is not None:
            # recorded_at follows each stream's versions but only roughly the positions of
            # different streams: stop at the last position recorded by then, filter below it.
            cutoff = await self.position_at(until_time)
            until_position = cutoff if until_position is None else min(until_position, cutoff)
        position = after
        while True:
            batch = await self.read_feed(
                position, batch_size, tenant=tenant, topics=topics, until_position=until_position
            )
            if not batch:
                return
            position = batch[-1].position
            if until_time is not None:
                batch = [e for e in batch if e.recorded_at <= until_time]
            if batch:
                yield batch

    async def feed_status(self) -> FeedStatus:
        """How far the feed can be read, what holds it back and since when, and whether it
        can be read here at all (`unsafe`). Never refuses: it reports."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM feed_status()")
        if row is None:  # pragma: no cover - a function with OUT parameters returns a row
            raise RuntimeError("feed_status() returned no row")
        return FeedStatus(
            horizon=row["horizon"],
            allocated=row["allocated"],
            withheld=row["allocated"] - row["horizon"],
            held_by_pid=row["held_by_pid"],
            held_by_gid=row["held_by_gid"],
            held_by_application=row["held_by_application"],
            held_by_client=row["held_by_client"],
            held_by_state=row["held_by_state"],
            held_since=row["held_since"],
            held_for_s=row["held_for_s"],
            holders=row["holders"],
            unsafe=row["unsafe"],
        )

    async def last_position(self, *, tenant: str | None = None) -> int:
        """The highest position readable now (the horizon, or the tenant's last below it)."""
        async with self.pool.acquire() as conn:
            with feed_refusal():
                if tenant is None:
                    value = await conn.fetchval("SELECT feed_horizon()")
                else:
                    value = await conn.fetchval(
                        "SELECT coalesce(max(position), 0) FROM events"
                        " WHERE tenant = $1 AND position <= feed_horizon()",
                        tenant,
                    )
        return int(value or 0)

    async def position_at(self, moment: datetime) -> int:
        """The last position recorded at or before `moment`.

        An event's time is read before its position is allocated (see `schema.py`), so an
        event of a higher position recorded earlier than another lies within a statement's
        duration of it (bounded here by two seconds). The moment marks (`store/moments.py`)
        give the position at the last 100 ms boundary before the moment, and the events
        recorded since then the rest; without a mark close enough, the events of the two
        seconds up to the latest time recorded by then. The same answer either way.
        """
        async with self.pool.acquire() as conn:
            value = await conn.fetchval(f"SELECT {POSITION_AT_SQL.format(moment='$1')}", moment)
        return int(value)

    # -- snapshots -------------------------------------------------------------------------

    async def save_snapshot(
        self, snapshot: SnapshotRow, *, connection: Connection | None = None
    ) -> None:
        """Keep a snapshot (on `connection` if given, else on one from the pool)."""
        await self._rows(
            "INSERT INTO snapshots (stream_id, version, tenant, stream_type, topic, state)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            (
                snapshot.stream_id,
                snapshot.version,
                snapshot.tenant,
                snapshot.stream_type,
                snapshot.topic,
                snapshot.state,
            ),
            connection,
        )

    async def latest_snapshot(
        self,
        stream_id: UUID,
        *,
        max_version: int | None = None,
        connection: Connection | None = None,
    ) -> SnapshotRow | None:
        """The stream's latest snapshot (up to `max_version`), read on `connection` if given."""
        from verbinders.store.snapshots import SnapshotRow

        rows = await self._rows(
            "SELECT stream_id, version, tenant, stream_type, topic, state FROM snapshots"
            " WHERE stream_id = $1 AND ($2::integer IS NULL OR version <= $2)"
            " ORDER BY version DESC LIMIT 1",
            (stream_id, max_version),
            connection,
        )
        row = rows[0] if rows else None
        if row is None:
            return None
        return SnapshotRow(
            stream_id=row["stream_id"],
            version=row["version"],
            tenant=row["tenant"],
            stream_type=row["stream_type"],
            topic=row["topic"],
            state=row["state"],
        )


class StreamEvent(msgspec.Struct, frozen=True, kw_only=True):
    """What loading an aggregate reads of an event (`read_streams`)."""

    stream_id: UUID
    version: int
    stream_type: str
    topic: str
    payload: dict[str, object]


# Streams ($1) of a tenant ($2): the latest snapshot of each (if $3) and the events after it,
# snapshot first, then by version; in one statement, so that loading the aggregates a command
# needs costs one round trip.
READ_STREAMS = """
WITH wanted AS (
    SELECT w.stream_id, w.after
      FROM unnest((SELECT $1::uuid[]), (SELECT $4::integer[])) AS w(stream_id, after)
), snap AS (
    SELECT DISTINCT ON (s.stream_id) s.stream_id, s.version, s.stream_type, s.topic, s.state
      FROM snapshots s JOIN wanted w ON w.stream_id = s.stream_id AND w.after = 0
     WHERE $3 AND s.tenant = $2
     ORDER BY s.stream_id, s.version DESC
), since AS MATERIALIZED (
    SELECT w.stream_id, greatest(w.after, coalesce(snap.version, 0)) AS version
      FROM wanted w LEFT JOIN snap ON snap.stream_id = w.stream_id
)
SELECT true, stream_id, version, stream_type, topic, state FROM snap
UNION ALL
SELECT false, e.stream_id, e.version, e.stream_type, e.topic, e.payload
  FROM since CROSS JOIN LATERAL (
       SELECT e.stream_id, e.version, e.stream_type, e.topic, e.payload, e.tenant
         FROM events e WHERE e.stream_id = since.stream_id AND e.version > since.version
       OFFSET 0) e
 WHERE e.tenant = $2
 ORDER BY 2, 1 DESC, 3
"""
"""Streams' latest snapshots and events after them; a stream with an `after` version ($4,
not 0: its aggregate is held at that version, see `aggregate_cache.py`) gets no snapshot,
only its events after that version.

The events are found through the (stream_id, version) index alone: the tenant is checked on
the rows found (the OFFSET 0 keeps the condition out of the subquery). With the condition
beside the others, the planner, whenever its statistics were behind a growing table, ANDed
that index with the whole tenant's range of (tenant, position): every read then scanned an
index entry per event of the tenant (69 buffers per read in the HTTP bench's mix, a growing
cost), where the stream's own few entries suffice.

The arrays are read through subqueries so that the planner sees no value of theirs: with
`unnest($1, $4)` it counted each call's elements, the plan for one call's values always looked
cheaper than the generic plan, and PostgreSQL planned the statement anew on every call
(0.4-0.5 ms of planning against 0.1 of execution). Now every plan is estimated alike and the
prepared statement keeps its generic plan after the first five calls
(tests/store/test_read_plans.py)."""

_encode_metadata = msgspec.json.Encoder().encode
