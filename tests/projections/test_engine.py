from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import asyncpg
import msgspec
import pytest

from verbinders.projections.activity import ActivityProjection
from verbinders.projections.engine import ProjectionRunner, replay, wait_for_projection
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.subscription import FeedSignal

if TYPE_CHECKING:
    from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server


async def append_some(store: EventStore, n: int, tenant: str = "haarlem") -> list[int]:
    stream = uuid.uuid4()
    events = [
        NewEvent(
            stream_id=stream,
            stream_type="Thing",
            version=i + 1,
            topic="t:Happened",
            payload=msgspec.json.encode({"i": i}),
        )
        for i in range(n)
    ]
    return await store.append(events, expected={stream: 0}, metadata=Metadata(tenant=tenant))


async def total(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval("SELECT coalesce(sum(events), 0) FROM activity.daily_events")
        )


async def test_runner_feeds_projection_and_readers_can_wait(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    signal = FeedSignal(database, poll_interval=0.2)
    store.local_listeners.append(signal.poke)
    runner = ProjectionRunner(
        store, signal, [ActivityProjection()], lambda: asyncpg.connect(database)
    )
    stop = asyncio.Event()
    async with signal:
        task = asyncio.create_task(runner.run(stop))
        positions = await append_some(store, 30)
        assert await wait_for_projection(pool, "activity", positions[-1], timeout=10)
        assert await total(pool) == 30
        positions = await append_some(store, 5, tenant="zaanstad")
        assert await runner.wait_for("activity", positions[-1], timeout=10)
        assert await total(pool) == 35
        [status] = await runner.status()
        assert status.lag == 0 and status.state == "active"
        stop.set()
        await task


async def test_version_change_rebuilds_beside_and_swaps(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    await append_some(store, 12)
    conn = await asyncpg.connect(database)
    try:
        first = await replay(conn, store, ActivityProjection())
        assert first.state == "active"
        assert await total(pool) == 12

        class ActivityV2(ActivityProjection):
            version = 2

        signal = FeedSignal(None, poll_interval=0.1)
        runner = ProjectionRunner(store, signal, [ActivityV2()], lambda: asyncpg.connect(database))
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        for _ in range(400):  # generous: the machine may be busy
            statuses = await runner.status()  # the old generation serves while v2 builds
            status = statuses[-1]
            if len(statuses) == 1 and status.version == 2 and status.state == "active":
                break
            await asyncio.sleep(0.05)
        assert status.version == 2 and status.schema_name != first.schema_name
        assert await total(pool) == 12
        old = await conn.fetchval(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            first.schema_name,
        )
        assert old == 0
        stop.set()
        await task
    finally:
        await conn.close()


async def test_replay_until_position_builds_history_beside(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    first = await append_some(store, 10)
    await append_some(store, 7)
    conn = await asyncpg.connect(database)
    try:
        await replay(conn, store, ActivityProjection())
        seen: list[tuple[int, int]] = []
        past = await replay(
            conn,
            store,
            ActivityProjection(),
            until_position=first[-1],
            progress=lambda done, goal: seen.append((done, goal)),
        )
        assert past.state == "historical"
        then = await conn.fetchval(f'SELECT sum(events) FROM "{past.schema_name}".daily_events')
        assert then == 10
        assert await total(pool) == 17
        assert seen and seen[-1][0] == first[-1]
    finally:
        await conn.close()
