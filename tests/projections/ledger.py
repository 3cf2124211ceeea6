"""Test projections and helpers for the engine's tests.

`LedgerProjection` notices double application: every event is a row keyed on its position
(a second application breaks the primary key) and every stream's versions must arrive as an
unbroken chain (a gap or a repeat raises). It can be made slow, so that a kill or a stop lands
inside its transaction, and it can report how many runners were inside `handle_batch` at once.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from verbinders.projections.engine import Projection
from verbinders.store.events import Metadata, NewEvent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent
    from verbinders.store.eventstore import EventStore

META = Metadata(tenant="haarlem")


class Overlap:
    """Counts the runners inside `handle_batch` at once (all in this process)."""

    def __init__(self) -> None:
        self.inside = 0
        self.most = 0
        self.batches = 0

    def enter(self) -> None:
        self.inside += 1
        self.batches += 1
        self.most = max(self.most, self.inside)

    def leave(self) -> None:
        self.inside -= 1


class LedgerProjection(Projection):
    name = "ledger"
    version = 1
    tables = ("applied", "totals")

    def __init__(self, delay: float = 0.0, overlap: Overlap | None = None) -> None:
        self.delay = delay
        self.overlap = overlap

    def ddl(self) -> str:
        return """
CREATE TABLE applied (position bigint PRIMARY KEY, stream_id uuid NOT NULL, version int NOT NULL);
CREATE TABLE totals (stream_id uuid PRIMARY KEY, events int NOT NULL, last_version int NOT NULL);
"""

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        if self.overlap is not None:
            self.overlap.enter()
        try:
            for e in events:
                await conn.execute(
                    "INSERT INTO applied (position, stream_id, version) VALUES ($1, $2, $3)",
                    e.position,
                    e.stream_id,
                    e.version,
                )
                status = await conn.execute(
                    "INSERT INTO totals AS t (stream_id, events, last_version) VALUES ($1, 1, $2)"
                    " ON CONFLICT (stream_id) DO UPDATE SET events = t.events + 1,"
                    " last_version = excluded.last_version WHERE t.last_version = $2 - 1",
                    e.stream_id,
                    e.version,
                )
                if status != "INSERT 0 1":
                    raise RuntimeError(f"version chain broken at {e.stream_id} v{e.version}")
                if self.delay:
                    await asyncio.sleep(self.delay)
        finally:
            if self.overlap is not None:
                self.overlap.leave()


class Appender:
    """Appends batches of 1-4 events to a few streams, in random order, and keeps count."""

    def __init__(self, store: EventStore, streams: int = 5, seed: int = 0) -> None:
        self.store = store
        self.versions = {uuid.uuid4(): 0 for _ in range(streams)}
        self.rng = random.Random(seed)
        self.last = 0
        self.appended = 0

    async def append(self, batches: int, *, pause: float = 0.0) -> int:
        """Append `batches` appends; returns the position of the last event."""
        for _ in range(batches):
            stream = self.rng.choice(list(self.versions))
            version = self.versions[stream]
            events = [
                NewEvent(
                    stream_id=stream,
                    stream_type="Thing",
                    version=version + i + 1,
                    topic="t:Happened",
                    payload=msgspec.json.encode({"i": i}),
                )
                for i in range(self.rng.randint(1, 4))
            ]
            positions = await self.store.append(events, expected={stream: version}, metadata=META)
            self.versions[stream] = version + len(events)
            self.last = positions[-1]
            self.appended += len(events)
            if pause:
                await asyncio.sleep(pause)
        return self.last


async def read_model(conn: Connection, schema: str) -> tuple[list[tuple[object, ...]], ...]:
    """Every row of a ledger generation, in a fixed order."""
    applied = await conn.fetch(f'SELECT * FROM "{schema}".applied ORDER BY position')
    totals = await conn.fetch(f'SELECT * FROM "{schema}".totals ORDER BY stream_id')
    return [tuple(r) for r in applied], [tuple(r) for r in totals]


async def active_schema(conn: Connection, name: str) -> str:
    schema = await conn.fetchval(
        "SELECT schema_name FROM projection_generations WHERE name = $1 AND state = 'active'",
        name,
    )
    assert schema is not None, f"{name} has no active generation"
    return str(schema)


async def leader_pids(conn: Connection) -> list[int]:
    """Backends holding the leadership lock of a generation (keyed on its schema's name)."""
    from verbinders.store.schema import LOCK_NAMESPACE_PROJECTIONS

    rows = await conn.fetch(
        "SELECT l.pid FROM pg_locks l JOIN projection_generations g"
        "  ON l.objid::bigint = (hashtext(g.schema_name)::bigint & 4294967295)"
        " WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted AND l.classid = $1"
        "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        LOCK_NAMESPACE_PROJECTIONS,
    )
    return [int(r["pid"]) for r in rows]


Connect = Callable[[], Awaitable[asyncpg.Connection]]


def connector(dsn: str, name: str = "verbinders-test") -> Connect:
    """A `connect` callable for `ProjectionRunner`: own connections, recognisable by name."""

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(dsn, server_settings={"application_name": name})

    return connect
