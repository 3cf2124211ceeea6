"""Loading aggregates reads their streams in one prepared statement (`READ_STREAMS`), which
PostgreSQL plans once and reuses (a generic plan), instead of planning it anew on every call
(see the notes under `READ_STREAMS` in store/eventstore.py)."""

from __future__ import annotations

import uuid

import asyncpg

from tests.store.support import META, new_event
from verbinders.store.eventstore import READ_STREAMS, EventStore


async def test_the_read_of_a_command_s_streams_keeps_a_generic_plan(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(pool)
    streams = [uuid.uuid4() for _ in range(3)]
    for stream in streams:
        for version in (1, 2):
            await store.append(
                [new_event(stream, version)], expected={stream: version - 1}, metadata=META
            )
    async with pool.acquire() as conn:
        statement = await conn.prepare(READ_STREAMS)
        for call in range(12):
            wanted = streams[: call % 3 + 1]
            rows = await statement.fetch(wanted, META.tenant, True, [0] * len(wanted))
            assert [(r["stream_id"], r["version"]) for r in rows] == [
                (stream, version) for stream in sorted(wanted) for version in (1, 2)
            ]
        plans = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            READ_STREAMS,
        )
    assert plans is not None
    assert plans["generic_plans"] >= 6, dict(plans)
