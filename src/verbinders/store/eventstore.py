"""An append-only, async event store on PostgreSQL through asyncpg.

Semantics kept from the `eventsourcing` library's recorders: optimistic concurrency on each
stream's version, atomic appends to several streams, a global feed in which a subscriber never
misses or reorders a committed event (see `schema.py` for how), and checkpoints that commit
together with a read model's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
import msgspec

from verbinders.errors import InvalidCommand, StreamConflict
from verbinders.store.events import Companion, FeedStatus, Metadata, NewEvent, RecordedEvent
from verbinders.store.schema import (
    APPEND_MANY,
    APPEND_ONE,
    APPEND_STREAMS,
    CALL_APPEND_EVENTS,
    HORIZON_CTE,
    INSERT_MANY,
    INSERT_ONE,
    STREAM_VERSION,
)

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.snapshots import SnapshotRow

__all__ = [
    "EVENT_COLUMNS",
    "NOTIFY_CHANNEL",
    "AppendLane",
    "EventStore",
    "StreamEvent",
    "row_to_event",
]

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "verbinders_events"
NOTIFY_INTERVAL = 0.02

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


def _check_batch(events: Sequence[NewEvent], expected: Mapping[UUID, int]) -> None:
    """Every stream's new versions must follow its expected version without gaps."""
    next_version = {stream: version + 1 for stream, version in expected.items()}
    for event in events:
        want = next_version.get(event.stream_id)
        if want is None:
            raise InvalidCommand(
                f"no expected version given for stream {event.stream_id}", field="expected"
            )
        if event.version != want:
            raise InvalidCommand(
                f"event for stream {event.stream_id} has version {event.version}, expected {want}",
                field="version",
            )
        next_version[event.stream_id] = want + 1


class AppendLane:
    """A few connections of the store's own for single-statement appends, handed out LIFO.

    An append outside a transaction is one autocommit statement, which leaves nothing on
    the connection to clean up; checking out from asyncpg's pool costs more than the
    statement's own client work (a queue, a connection proxy, a shielded release task).
    Here a checkout is a semaphore and a list. Connections open on first use, the most
    recently used is reused first (so a quiet lane keeps its hot ones), and one whose
    statement ended in anything but a PostgreSQL error (lost connection, cancellation) is
    closed and replaced.
    """

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], size: int) -> None:
        self._connect = connect
        self._slots = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []
        self._closed = False

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        """Run one autocommit statement on a connection of the lane."""
        if self._closed:
            raise asyncpg.InterfaceError("the event store is closed")
        await self._slots.acquire()
        try:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            except asyncpg.PostgresError:
                if not conn.is_closed():  # the statement failed, the connection is fine
                    self._put_back(conn)
                raise
            except BaseException:
                conn.terminate()  # lost, or cancelled mid-statement: its state is unknown
                raise
            self._put_back(conn)
            return rows
        finally:
            self._slots.release()

    def _put_back(self, conn: asyncpg.Connection) -> None:
        if self._closed:  # closed while this append ran
            conn.terminate()
        else:
            self._idle.append(conn)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            try:
                await asyncio.wait_for(conn.close(), 5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()


class EventStore:
    """Appends and reads events. Safe to share between tasks.

    Holds the pool and, with `connect` and `append_connections`, an `AppendLane` of its own
    connections for appends that are a single statement.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
        append_connections: int = 0,
    ) -> None:
        self.pool = pool
        self._lane = (
            AppendLane(connect, append_connections)
            if connect is not None and append_connections > 0
            else None
        )
        self._notify_wanted = asyncio.Event()
        self._notifier: asyncio.Task[None] | None = None
        self._last_position = 0
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
    ) -> list[int]:
        """Append `events` atomically; returns their global positions, in order.

        `expected` gives each stream's current version (0 for a new stream). If any stream
        has moved on, nothing is written and `StreamConflict` names the stream and both
        versions. With `connection`, the append joins that connection's transaction.
        `also` is a write that goes into the same statement (see `Companion`).
        """
        if also is not None and "appended" not in also.sql:
            raise ValueError("a companion write must refer to `appended` (see Companion)")
        if not events:
            return []
        if len(events) == 1 and len(expected) == 1:  # the common case, checked cheaply
            event = events[0]
            version = expected.get(event.stream_id)
            if version is None or version + 1 != event.version:
                _check_batch(events, expected)  # raises, naming what is wrong
        else:
            _check_batch(events, expected)
        encoded = _encode_metadata(metadata)
        try:
            if len(expected) == 1:
                positions = await self._append_one_stream(
                    events, expected, metadata.tenant, encoded, connection, also
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
            stream_id = _stream_from_unique_violation(error, events)
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

    async def _append_one_stream(
        self,
        events: Sequence[NewEvent],
        expected: Mapping[UUID, int],
        tenant: str,
        metadata: bytes,
        connection: Connection | None,
        also: Companion | None,
    ) -> list[int]:
        """One statement (`APPEND_ONE` or `APPEND_MANY` of schema.py), no stream lock."""
        first = events[0]
        version = expected[first.stream_id]
        if len(events) == 1:
            sql = APPEND_ONE if also is None else _with_companion("one", also.sql)
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
            sql = APPEND_MANY if also is None else _with_companion("many", also.sql)
            args = (
                tenant,
                first.stream_id,
                first.stream_type,
                version,
                [e.topic for e in events],
                [e.payload for e in events],
                metadata,
            )
        if also is not None:
            args += also.args
        rows = await self._append_rows(sql, args, connection)
        if not rows:
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
            sql = _with_companion("streams", also.sql)
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
            return await self._lane.fetch(sql, *args)
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
        """Wake subscribers soon, coalescing notifications under load.

        NOTIFY inside the append would serialise commits on PostgreSQL's notify queue lock, so
        a background task sends one notification for however many appends happened meanwhile.
        Subscribers also poll, so a lost notification only delays them.
        """
        if position is not None:
            self._last_position = max(self._last_position, position)
        for listener in self.local_listeners:
            listener()
        self._notify_wanted.set()
        if self._notifier is None or self._notifier.done():
            with contextlib.suppress(RuntimeError):
                self._notifier = asyncio.get_running_loop().create_task(self._notify_loop())

    async def _notify_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._notify_wanted.wait(), timeout=5.0)
            except TimeoutError:
                return
            self._notify_wanted.clear()
            try:
                async with self.pool.acquire() as conn:
                    await conn.execute(
                        "SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(self._last_position)
                    )
            except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as error:
                log.warning("could not notify subscribers (they will poll): %s", error)
                return
            # A NOTIFY commits (and flushes WAL) like any transaction: at most one per interval
            # keeps its cost off the appends under load, at the price of a few ms of latency
            # for readers in other processes (readers in this process are woken directly).
            await asyncio.sleep(NOTIFY_INTERVAL)

    async def close(self) -> None:
        """Close the append lane, send the last pending notification, stop the notifier."""
        if self._lane is not None:
            await self._lane.close()
        if self._notifier is not None and not self._notifier.done():
            if self._notify_wanted.is_set():
                await asyncio.sleep(0)
            self._notifier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._notifier

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
        connection: Connection | None = None,
    ) -> dict[UUID, tuple[SnapshotRow | None, list[StreamEvent]]]:
        """Several streams of `tenant` as they are now, in one statement: each one's latest
        snapshot (with `snapshots`) and its events after it, in version order. A stream of
        another tenant, or of none, comes back empty: (None, [])."""
        from verbinders.store.snapshots import SnapshotRow

        found: dict[UUID, tuple[SnapshotRow | None, list[StreamEvent]]] = {
            stream: (None, []) for stream in stream_ids
        }
        rows = await self._rows(READ_STREAMS, (list(found), tenant, snapshots), connection)
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
        return [row_to_event(row) for row in await self._rows(sql, args, connection)]

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
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM feed_status()")
        assert row is not None
        return FeedStatus(
            horizon=row["horizon"],
            allocated=row["allocated"],
            held_by_pid=row["held_by_pid"],
            held_since=row["held_since"],
        )

    async def last_position(self, *, tenant: str | None = None) -> int:
        """The highest position readable now (the horizon, or the tenant's last below it)."""
        async with self.pool.acquire() as conn:
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
        """The last position recorded at or before `moment`."""
        async with self.pool.acquire() as conn:
            value = await conn.fetchval(
                "SELECT coalesce(max(position), 0) FROM events WHERE recorded_at <= $1", moment
            )
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
WITH snap AS (
    SELECT DISTINCT ON (s.stream_id) s.stream_id, s.version, s.stream_type, s.topic, s.state
      FROM snapshots s
     WHERE $3 AND s.stream_id = any($1::uuid[]) AND s.tenant = $2
     ORDER BY s.stream_id, s.version DESC
)
SELECT true, stream_id, version, stream_type, topic, state FROM snap
UNION ALL
SELECT false, e.stream_id, e.version, e.stream_type, e.topic, e.payload
  FROM events e LEFT JOIN snap ON snap.stream_id = e.stream_id
 WHERE e.stream_id = any($1::uuid[]) AND e.tenant = $2 AND e.version > coalesce(snap.version, 0)
 ORDER BY 2, 1 DESC, 3
"""

_encode_metadata = msgspec.json.Encoder().encode

_APPENDS = {
    "one": (f"{HORIZON_CTE}, appended AS ({INSERT_ONE})", 7),
    "many": (f"{HORIZON_CTE}, appended AS ({INSERT_MANY})", 7),
    "streams": (f"appended AS (SELECT p AS position FROM {CALL_APPEND_EVENTS} AS p)", 9),
}


@functools.lru_cache(maxsize=64)
def _with_companion(kind: str, companion: str) -> str:
    """An append of `kind` and a companion write (its parameters renumbered) as one statement."""
    ctes, count = _APPENDS[kind]
    shifted = re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + count}", companion)
    return f"WITH {ctes}, also AS ({shifted}) SELECT position FROM appended ORDER BY position"


def _stream_from_unique_violation(error: asyncpg.PostgresError, events: Sequence[NewEvent]) -> UUID:
    detail = error.detail or ""
    for event in events:
        if str(event.stream_id) in detail:
            return event.stream_id
    return events[0].stream_id
