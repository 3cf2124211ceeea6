"""The store under torture: racing writers, slow and failing transactions, a tailing reader."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import defaultdict
from typing import Any

import asyncpg
import pytest

from tests.store.support import META, TOPIC, Rollback, new_event
from verbinders.database import init_connection
from verbinders.errors import StreamConflict
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server


@pytest.mark.parametrize("existing_events", [0, 1])
async def test_fifty_racing_appends_at_one_expected_version_let_exactly_one_win(
    store: EventStore, pool: asyncpg.Pool, existing_events: int
) -> None:
    stream = uuid.uuid4()
    if existing_events:
        await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    racers = 50
    start = asyncio.Barrier(racers)

    async def attempt(i: int) -> int | StreamConflict:
        async with pool.acquire() as conn:  # every racer on a connection of its own
            await start.wait()
            try:
                [position] = await store.append(
                    [new_event(stream, existing_events + 1, racer=i)],
                    expected={stream: existing_events},
                    metadata=META,
                    connection=conn,
                )
            except StreamConflict as conflict:
                return conflict
            return position

    results = await asyncio.gather(*(attempt(i) for i in range(racers)))
    wins = [(i, r) for i, r in enumerate(results) if isinstance(r, int)]
    conflicts = [r for r in results if isinstance(r, StreamConflict)]
    assert len(wins) == 1
    assert len(conflicts) == racers - 1
    for conflict in conflicts:
        assert conflict.stream_id == stream
        assert conflict.expected == existing_events
        assert conflict.actual == existing_events + 1
        assert str(stream) in str(conflict)
    events = await store.read_stream(stream)
    assert [e.version for e in events] == list(range(1, existing_events + 2))
    [(winner, position)] = wins
    assert events[-1].payload == {"racer": winner}
    assert events[-1].position == position


PAUSE_BEFORE_INSERT = """
CREATE FUNCTION test_pause() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.payload ? 'pause' THEN
        PERFORM pg_sleep((NEW.payload ->> 'pause')::float);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_pause BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION test_pause();
"""


async def test_appends_naming_the_same_streams_in_opposite_orders_do_not_deadlock(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """Atomic appends to streams (a, b) and (b, a) at once: one wins, the other conflicts.

    A trigger (in this test's own database) pauses the first append between its two rows, so
    that the second append starts inside that window every time instead of by luck.
    """
    async with pool.acquire() as conn:
        await conn.execute(PAUSE_BEFORE_INSERT)
    a, b = uuid.uuid4(), uuid.uuid4()

    async def first() -> list[int]:
        return await store.append(
            [new_event(a, 1, writer=1), new_event(b, 1, writer=1, pause=0.3)],
            expected={a: 0, b: 0},
            metadata=META,
        )

    async def second() -> list[int]:
        await asyncio.sleep(0.1)  # while the first append pauses after inserting a
        return await store.append(
            [new_event(b, 1, writer=2), new_event(a, 1, writer=2)],
            expected={b: 0, a: 0},
            metadata=META,
        )

    # PostgreSQL breaks a deadlock after deadlock_timeout (1 s) by failing one side.
    results = await asyncio.wait_for(
        asyncio.gather(first(), second(), return_exceptions=True), timeout=0.9
    )
    assert isinstance(results[0], list) and len(results[0]) == 2
    assert isinstance(results[1], StreamConflict)
    assert results[1].actual == 1
    for stream in (a, b):
        assert [e.payload["writer"] for e in await store.read_stream(stream)] == [1]


async def test_tailing_reader_sees_exactly_the_committed_events_once_in_stream_order(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    writers, attempts = 8, 40
    shared = [uuid.uuid4() for _ in range(3)]
    committed: list[tuple[int, uuid.UUID, int, dict[str, Any]]] = []
    outcomes: dict[str, int] = defaultdict(int)
    writing = True

    async def writer(n: int) -> None:
        rng = random.Random(1_000 + n)
        own = uuid.uuid4()
        async with pool.acquire() as conn:  # each writer on a connection of its own
            for i in range(attempts):
                choice = rng.random()
                if choice < 0.3:
                    streams = [own]
                elif choice < 0.7:
                    streams = [rng.choice(shared)]
                else:  # an atomic append to two streams, in any order
                    streams = rng.sample([own, *shared], 2)
                try:
                    async with conn.transaction():
                        await asyncio.sleep(rng.uniform(0, 0.003))
                        expected = {
                            s: await conn.fetchval(
                                "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1",
                                s,
                            )
                            for s in streams
                        }
                        rows = [
                            (s, expected[s] + k, {"writer": n, "attempt": i, "k": k})
                            for s in streams
                            for k in range(1, rng.choice((1, 1, 2)) + 1)
                        ]
                        positions = await store.append(
                            [new_event(s, v, writer=n, attempt=i, k=p["k"]) for s, v, p in rows],
                            expected=expected,
                            metadata=META,
                            connection=conn,
                        )
                        await asyncio.sleep(rng.uniform(0, 0.004))
                        if rng.random() < 0.2:
                            raise Rollback
                except Rollback:
                    outcomes["rolled back"] += 1
                    continue
                except StreamConflict:
                    outcomes["conflict"] += 1
                    continue
                outcomes["committed"] += 1
                committed.extend(
                    (position, *row) for position, row in zip(positions, rows, strict=True)
                )

    seen: list[tuple[int, uuid.UUID, int, dict[str, Any]]] = []
    reads_while_writing = 0

    async def reader() -> None:
        nonlocal reads_while_writing
        rng = random.Random(7)
        last = 0
        while True:
            finished = not writing  # read before the check: then an empty read is the end
            batch = await store.read_feed(after=last, limit=rng.randint(1, 10))
            seen.extend((e.position, e.stream_id, e.version, e.payload) for e in batch)
            if batch:
                last = batch[-1].position
                reads_while_writing += not finished
            elif finished:
                return
            else:
                await asyncio.sleep(0.001)

    reading = asyncio.create_task(reader())
    try:
        await asyncio.gather(*(writer(n) for n in range(writers)))
    finally:
        writing = False
    await asyncio.wait_for(reading, 30)

    assert outcomes["rolled back"] > 0 and outcomes["committed"] > 100
    assert reads_while_writing > 10  # the reader really tailed the writers
    positions = [p for p, _, _, _ in seen]
    assert all(a < b for a, b in itertools.pairwise(positions))
    assert seen == sorted(committed, key=lambda row: row[0])
    by_stream: dict[uuid.UUID, list[int]] = defaultdict(list)
    for _, stream, version, _ in seen:
        by_stream[stream].append(version)
    for versions in by_stream.values():
        assert versions == list(range(1, len(versions) + 1))
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == len(seen)


@pytest.mark.parametrize("ending", ["commit", "rollback"])
async def test_a_commit_behind_an_open_append_is_withheld_until_that_append_ends(
    store: EventStore, pool: asyncpg.Pool, ending: str
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    slow = await pool.acquire()
    try:
        transaction = slow.transaction()
        await transaction.start()
        [low] = await store.append(
            [new_event(a, 1)], expected={a: 0}, metadata=META, connection=slow
        )
        [high] = await store.append([new_event(b, 1)], expected={b: 0}, metadata=META)
        assert high > low
        assert len(await store.read_stream(b)) == 1  # B has committed...
        # ...but A, at a lower position, may still commit: nothing after A is readable yet.
        assert await store.read_feed(0, 10) == []
        assert await store.read_feed(0, 10, tenant="haarlem", topics=[TOPIC]) == []
        assert await store.last_position() < low
        status = await store.feed_status()
        assert status.horizon < low
        assert status.allocated == high
        assert status.held_by_pid == slow.get_server_pid()
        assert status.held_since is not None
        if ending == "commit":
            await transaction.commit()
        else:
            await transaction.rollback()
    finally:
        await pool.release(slow)
    feed = await store.read_feed(0, 10)
    assert [e.position for e in feed] == ([low, high] if ending == "commit" else [high])
    status = await store.feed_status()
    assert (status.horizon, status.held_by_pid) == (high, None)


async def test_a_rolled_back_gap_does_not_stall_the_feed(store: EventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    [first] = await store.append([new_event(b, 1)], expected={b: 0}, metadata=META)
    with pytest.raises(Rollback):
        async with store.transaction() as conn:
            await store.append([new_event(a, 1)], expected={a: 0}, metadata=META, connection=conn)
            raise Rollback
    [after_gap] = await store.append([new_event(b, 2)], expected={b: 1}, metadata=META)
    assert after_gap > first + 1  # the rolled-back append left a hole in the positions
    feed = await store.read_feed(first, 10)
    assert [e.position for e in feed] == [after_gap]
    assert await store.read_stream(a) == []


async def test_an_open_transaction_that_only_reads_does_not_hold_the_feed_back(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = uuid.uuid4()
    async with pool.acquire() as report, report.transaction():
        await report.fetchval("SELECT count(*) FROM events")
        [position] = await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
        assert [e.position for e in await store.read_feed(0, 10)] == [position]
        assert (await store.feed_status()).held_by_pid is None


async def test_a_stalled_writer_is_ended_by_the_idle_in_transaction_timeout(
    database: str, store: EventStore
) -> None:
    stalled = await asyncpg.connect(
        database, server_settings={"idle_in_transaction_session_timeout": "300"}
    )
    try:
        await init_connection(stalled)
        a, b = uuid.uuid4(), uuid.uuid4()
        transaction = stalled.transaction()
        await transaction.start()
        await store.append([new_event(a, 1)], expected={a: 0}, metadata=META, connection=stalled)
        [position] = await store.append([new_event(b, 1)], expected={b: 0}, metadata=META)
        assert await store.read_feed(0, 10) == []
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await store.read_feed(0, 10):
                break
        assert [e.position for e in await store.read_feed(0, 10)] == [position]
        assert await store.read_stream(a) == []
    finally:
        await stalled.close()
