"""A moment maps to the last position recorded by then (`EventStore.position_at`), through the
btree on (recorded_at, position) built outside the migrations (`ensure_moment_index`: at
startup on a small store, else concurrently by an operator) or, before it is there, through
the BRIN index: the same answers either way."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from tests.store.support import META, new_event
from verbinders.store.eventstore import EventStore
from verbinders.store.schema import MOMENT_INDEX, ensure_moment_index


async def test_position_at_answers_the_same_with_and_without_the_moment_index(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    positions = []
    for n in range(6):
        stream = uuid.uuid4()
        events = [new_event(stream, v) for v in range(1, 2 + n % 3)]
        positions += await store.append(events, expected={stream: 0}, metadata=META)
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT position, recorded_at FROM events ORDER BY position")
        await conn.execute(f"DROP INDEX IF EXISTS {MOMENT_INDEX}")
    moments = [r["recorded_at"] for r in rows]
    moments += [moments[0] - timedelta(seconds=1), moments[-1] + timedelta(seconds=1)]
    without = [await store.position_at(m) for m in moments]
    async with pool.acquire() as conn:
        # Past `small` events only the operator's concurrent build makes it.
        assert not await ensure_moment_index(conn, small=len(rows))
        assert await ensure_moment_index(conn, concurrently=True)
        assert await ensure_moment_index(conn)  # once is enough
        assert await conn.fetchval(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = $1",
            MOMENT_INDEX,
        )
    assert [await store.position_at(m) for m in moments] == without
    by_moment = {r["recorded_at"]: r["position"] for r in rows}
    assert without[: len(rows)] == [
        max(p for t, p in by_moment.items() if t <= m) for m in moments[: len(rows)]
    ]
    assert without[-2:] == [0, max(positions)]
