"""Crashes, dropped notifications and several workers: read models stay exactly right."""

from __future__ import annotations

import asyncio
import random
import signal as signals
import sys
import uuid
from pathlib import Path

import asyncpg
import msgspec
import pytest

from tests.projections.ledger import LedgerProjection
from verbinders.projections.engine import ProjectionRunner, replay, wait_for_projection
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal, subscribe

pytestmark = pytest.mark.server

META = Metadata(tenant="haarlem")
WORKER = Path(__file__).with_name("worker_process.py")


async def append_events(store: EventStore, streams: list[uuid.UUID], n: int) -> int:
    versions = dict.fromkeys(streams, 0)
    for stream in streams:
        versions[stream] = await store.stream_version(stream)
    rng = random.Random(n)
    last = 0
    for _ in range(n):
        stream = rng.choice(streams)
        v = versions[stream]
        batch = [
            NewEvent(
                stream_id=stream,
                stream_type="Thing",
                version=v + i + 1,
                topic="t:Happened",
                payload=msgspec.json.encode({"i": i}),
            )
            for i in range(rng.randint(1, 4))
        ]
        positions = await store.append(batch, expected={stream: v}, metadata=META)
        versions[stream] = v + len(batch)
        last = positions[-1]
    return last


async def read_model(conn: asyncpg.Connection, schema: str) -> tuple[list[tuple], list[tuple]]:
    applied = await conn.fetch(f'SELECT * FROM "{schema}".applied ORDER BY position')
    totals = await conn.fetch(f'SELECT * FROM "{schema}".totals ORDER BY stream_id')
    return [tuple(r) for r in applied], [tuple(r) for r in totals]


async def test_a_worker_killed_mid_batch_ends_equal_to_a_rebuild(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    streams = [uuid.uuid4() for _ in range(5)]
    await append_events(store, streams, 60)
    rng = random.Random(7)
    for _ in range(4):
        worker = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER), database, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert worker.stdout is not None
            await worker.stdout.readline()
            appending = asyncio.create_task(append_events(store, streams, 30))
            await asyncio.sleep(0.3 + rng.random() * 0.5)
            worker.send_signal(signals.SIGKILL)
            await appending
        finally:
            if worker.returncode is None:
                worker.kill()
            await worker.wait()

    # Finish in this process, then compare with a rebuild from scratch.
    last = await append_events(store, streams, 10)
    signal = FeedSignal(None, poll_interval=0.05)
    runner = ProjectionRunner(
        store, signal, [LedgerProjection()], lambda: asyncpg.connect(database), standby_interval=0.1
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    assert await wait_for_projection(pool, "ledger", last, timeout=30)
    stop.set()
    await task

    conn = await asyncpg.connect(database)
    try:
        live_schema = await conn.fetchval(
            "SELECT schema_name FROM projection_generations WHERE name = 'ledger'"
            " AND state = 'active'"
        )
        live = await read_model(conn, live_schema)
        rebuilt_generation = await replay(conn, store, LedgerProjection(), until_position=last)
        rebuilt = await read_model(conn, rebuilt_generation.schema_name)
        total = await conn.fetchval("SELECT count(*) FROM events")
    finally:
        await conn.close()
    assert live == rebuilt
    assert len(live[0]) == total


async def test_a_dropped_notification_only_delays_a_subscriber(
    store: EventStore, database: str
) -> None:
    # No listening connection at all: every notification is lost; polling still delivers.
    deaf = FeedSignal(None, poll_interval=0.3)
    received: asyncio.Queue[int] = asyncio.Queue()

    async def follow(signal: FeedSignal) -> None:
        async for batch in subscribe(store, signal, after=await store.last_position()):
            for e in batch:
                received.put_nowait(e.position)

    following = asyncio.create_task(follow(deaf))
    await asyncio.sleep(0.05)
    other_pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    try:
        from verbinders.database import init_connection

        other = EventStore(other_pool)
        stream = uuid.uuid4()
        event = NewEvent(
            stream_id=stream, stream_type="Thing", version=1, topic="t:T", payload=b"{}"
        )
        async with other_pool.acquire() as conn:
            await init_connection(conn)
        [position] = await other.append([event], expected={stream: 0}, metadata=META)
        assert await asyncio.wait_for(received.get(), 2) == position
    finally:
        following.cancel()
        await other_pool.close()


async def test_notifications_wake_subscribers_of_appends_in_other_processes(
    store: EventStore, database: str
) -> None:
    listening = FeedSignal(database, poll_interval=5.0)
    async with listening:
        await asyncio.sleep(0.2)
        received: asyncio.Queue[int] = asyncio.Queue()

        async def follow() -> None:
            async for batch in subscribe(store, listening, after=await store.last_position()):
                for e in batch:
                    received.put_nowait(e.position)

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.1)
        script = (
            "import asyncio, uuid, sys\n"
            "from verbinders.config import Settings\n"
            "from verbinders.database import open_pool\n"
            "from verbinders.store.eventstore import EventStore\n"
            "from verbinders.store.events import Metadata, NewEvent\n"
            "async def main():\n"
            "    pool = await open_pool(sys.argv[1], Settings(), min_size=1, max_size=2)\n"
            "    store = EventStore(pool)\n"
            "    s = uuid.uuid4()\n"
            "    e = NewEvent(stream_id=s, stream_type='T', version=1, topic='t:T',\n"
            "                 payload=b'{}')\n"
            "    await store.append([e], expected={s: 0}, metadata=Metadata(tenant='x'))\n"
            "    await asyncio.sleep(0.2)\n"
            "    await store.close(); await pool.close()\n"
            "asyncio.run(main())\n"
        )
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script, database)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await asyncio.wait_for(received.get(), 4.0)
            # Well under the 5 s poll interval: the NOTIFY woke the subscriber.
            assert loop.time() - started < 4.0
            assert listening.notifications >= 1
        finally:
            await proc.wait()
            following.cancel()


async def test_the_listener_reconnects_after_its_connection_is_killed(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    listening = FeedSignal(database, poll_interval=0.2)
    async with listening:
        await asyncio.sleep(0.2)
        async with pool.acquire() as conn:
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
            assert killed == 1
        for _ in range(50):
            await asyncio.sleep(0.1)
            async with pool.acquire() as conn:
                back = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            if back:
                break
        assert back == 1


async def test_only_one_of_several_workers_processes_a_projection(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    streams = [uuid.uuid4() for _ in range(4)]
    runners = [
        ProjectionRunner(
            store,
            FeedSignal(None, poll_interval=0.05),
            [LedgerProjection()],
            lambda: asyncpg.connect(database),
            batch_size=20,
            standby_interval=0.1,
        )
        for _ in range(3)
    ]
    stops = [asyncio.Event() for _ in runners]
    tasks = [asyncio.create_task(r.run(s)) for r, s in zip(runners, stops, strict=True)]
    last = await append_events(store, streams, 80)
    assert await wait_for_projection(pool, "ledger", last, timeout=20)
    leaders = [i for i, r in enumerate(runners) if r.leading]
    assert len(leaders) == 1
    # The leader stops; a standby takes over and the model stays exact.
    stops[leaders[0]].set()
    await tasks[leaders[0]]
    last = await append_events(store, streams, 40)
    assert await wait_for_projection(pool, "ledger", last, timeout=20)
    for stop in stops:
        stop.set()
    await asyncio.gather(*tasks)
    async with pool.acquire() as conn:
        applied = await conn.fetchval("SELECT count(*) FROM ledger.applied")
        total = await conn.fetchval("SELECT count(*) FROM events")
    assert applied == total
