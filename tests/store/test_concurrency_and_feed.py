"""The store under torture: racing writers, slow and failing transactions, a tailing reader."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict

import asyncpg
import msgspec
import pytest

from verbinders.errors import StreamConflict
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server

META = Metadata(tenant="haarlem", actor="tester")


def event(stream: uuid.UUID, version: int, **payload: object) -> NewEvent:
    return NewEvent(
        stream_id=stream,
        stream_type="Thing",
        version=version,
        topic="tests:Thing.Happened",
        payload=msgspec.json.encode(payload or {"v": version}),
    )


async def test_fifty_racing_appends_at_one_version_let_exactly_one_win(store: EventStore) -> None:
    stream = uuid.uuid4()
    await store.append([event(stream, 1)], expected={stream: 0}, metadata=META)

    async def attempt(i: int) -> int | StreamConflict:
        try:
            [position] = await store.append(
                [event(stream, 2, writer=i)], expected={stream: 1}, metadata=META
            )
        except StreamConflict as conflict:
            return conflict
        return position

    results = await asyncio.gather(*(attempt(i) for i in range(50)))
    wins = [r for r in results if isinstance(r, int)]
    conflicts = [r for r in results if isinstance(r, StreamConflict)]
    assert len(wins) == 1
    assert len(conflicts) == 49
    for conflict in conflicts:
        assert conflict.stream_id == stream
        assert conflict.expected == 1
        assert conflict.actual == 2
    versions = [e.version for e in await store.read_stream(stream)]
    assert versions == [1, 2]


class Rollback(Exception):
    pass


async def test_tailing_reader_sees_every_committed_event_once_in_stream_order(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    rng = random.Random(20191201)
    shared = [uuid.uuid4() for _ in range(3)]
    committed: dict[uuid.UUID, list[int]] = defaultdict(list)
    lock = asyncio.Lock()
    writers_done = asyncio.Event()

    async def writer(n: int) -> None:
        own = uuid.uuid4()
        for i in range(40):
            stream = own if rng.random() < 0.5 else rng.choice(shared)
            async with lock:
                version = len(committed[stream])
            try:
                async with store.transaction() as conn:
                    await asyncio.sleep(rng.random() * 0.004)
                    await store.append(
                        [event(stream, version + 1, writer=n, i=i)],
                        expected={stream: version},
                        metadata=META,
                        connection=conn,
                    )
                    await asyncio.sleep(rng.random() * 0.006)
                    if rng.random() < 0.2:
                        raise Rollback
                    # Record under the lock right at commit: versions per stream stay exact.
                    await lock.acquire()
                try:
                    committed[stream].append(version + 1)
                finally:
                    lock.release()
            except (Rollback, StreamConflict):
                continue

    seen: list[tuple[int, uuid.UUID, int]] = []

    async def reader() -> None:
        last = 0
        while True:
            finished = writers_done.is_set()
            batch = await store.read_feed(last, 7)
            for e in batch:
                seen.append((e.position, e.stream_id, e.version))
            if batch:
                last = batch[-1].position
            elif finished:
                return  # every writer had finished before this read, which came up empty
            else:
                await asyncio.sleep(0.001)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(n) for n in range(8)))
    writers_done.set()
    await asyncio.wait_for(reading, 30)

    positions = [p for p, _, _ in seen]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    by_stream: dict[uuid.UUID, list[int]] = defaultdict(list)
    for _, stream, version in seen:
        by_stream[stream].append(version)
    assert by_stream == {s: v for s, v in committed.items() if v}
    for versions in by_stream.values():
        assert versions == list(range(1, len(versions) + 1))
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == len(seen)


async def test_an_open_append_holds_back_later_commits_until_it_ends(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    slow = await pool.acquire()
    try:
        tx = slow.transaction()
        await tx.start()
        [low] = await store.append([event(a, 1)], expected={a: 0}, metadata=META, connection=slow)
        [high] = await store.append([event(b, 1)], expected={b: 0}, metadata=META)
        assert high > low
        # B committed, but A (lower position) may still commit: B must not be readable yet.
        assert await store.read_feed(0, 10) == []
        status = await store.feed_status()
        assert status.horizon < low
        assert status.held_by_pid == slow.get_server_pid()
        assert status.held_since is not None
        await tx.commit()
    finally:
        await pool.release(slow)
    assert [e.position for e in await store.read_feed(0, 10)] == [low, high]


async def test_a_rolled_back_gap_does_not_stall_the_feed(store: EventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(Rollback):
        async with store.transaction() as conn:
            await store.append([event(a, 1)], expected={a: 0}, metadata=META, connection=conn)
            raise Rollback
    [position] = await store.append([event(b, 1)], expected={b: 0}, metadata=META)
    feed = await store.read_feed(0, 10)
    assert [e.position for e in feed] == [position]
    assert await store.read_stream(a) == []


async def test_a_stalled_writer_is_ended_by_the_idle_in_transaction_timeout(
    database: str, store: EventStore
) -> None:
    stalled = await asyncpg.connect(
        database, server_settings={"idle_in_transaction_session_timeout": "300"}
    )
    from verbinders.database import init_connection

    await init_connection(stalled)
    a, b = uuid.uuid4(), uuid.uuid4()
    tx = stalled.transaction()
    await tx.start()
    await store.append([event(a, 1)], expected={a: 0}, metadata=META, connection=stalled)
    [position] = await store.append([event(b, 1)], expected={b: 0}, metadata=META)
    assert await store.read_feed(0, 10) == []
    for _ in range(100):
        await asyncio.sleep(0.05)
        if await store.read_feed(0, 10):
            break
    assert [e.position for e in await store.read_feed(0, 10)] == [position]
    assert await store.read_stream(a) == []
    await stalled.close()
