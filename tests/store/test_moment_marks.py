"""Moment marks (`store/moments.py`): `position_at` answers the same with marks, without them
(the window over the two seconds before the latest time recorded), and as the events say; a
mark is written only once nothing recorded before its boundary can still commit; writing them
again changes nothing."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import datetime, timedelta

import asyncpg

from tests.store.support import META, new_event
from verbinders.store.eventstore import EventStore
from verbinders.store.moments import (
    GRID,
    catch_up_moment_marks,
    run_moment_marks,
    write_moment_marks,
)

WINDOW_SQL = (
    "SELECT coalesce(max(pa.position), 0) FROM events pa WHERE pa.recorded_at <= $1"
    " AND pa.recorded_at >= (SELECT max(pb.recorded_at) FROM events pb"
    " WHERE pb.recorded_at <= $1) - interval '2 seconds'"
)
SETTLE = timedelta(milliseconds=300)  # the writer's margin, short here: appends take ms


async def _history(store: EventStore, rounds: int, per_round: int) -> None:
    """Appends running at once, in rounds a little apart: several buckets of the grid."""

    async def one(n: int) -> None:
        stream = uuid.uuid4()
        events = [new_event(stream, v) for v in range(1, 2 + n % 3)]
        await store.append(events, expected={stream: 0}, metadata=META)

    for r in range(rounds):
        await asyncio.gather(*(one(r * per_round + n) for n in range(per_round)))
        await asyncio.sleep(0.04)


async def _moments(conn: asyncpg.Connection, count: int) -> list[datetime]:
    rows = await conn.fetch("SELECT recorded_at FROM events ORDER BY position")
    times = sorted({r["recorded_at"] for r in rows})
    rng = random.Random(12)
    first, last = times[0], times[-1]
    span = (last - first).total_seconds()
    moments = [first + timedelta(seconds=rng.uniform(-0.2, span + 0.2)) for _ in range(count)]
    moments += rng.sample(times, min(count, len(times)))
    moments += [t - timedelta(microseconds=1) for t in rng.sample(times, min(count, len(times)))]
    return moments


async def _truth(conn: asyncpg.Connection, moment: datetime) -> int:
    value = await conn.fetchval(
        "SELECT coalesce(max(position), 0) FROM events WHERE recorded_at <= $1", moment
    )
    return int(value)


async def test_position_at_with_marks_equals_the_window_and_the_events(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await _history(store, rounds=25, per_round=12)
    async with pool.acquire() as conn:
        moments = await _moments(conn, 150)
        window = [int(await conn.fetchval(WINDOW_SQL, m)) for m in moments]
        truth = [await _truth(conn, m) for m in moments]
        assert window == truth
        without = [await store.position_at(m) for m in moments]  # no marks yet: the window
        assert without == window
        written = await catch_up_moment_marks(conn, span=GRID * 3, settle=SETTLE)
        assert written > 5
        marks = await conn.fetch("SELECT bucket, position FROM feed_moments ORDER BY bucket")
        assert len(marks) == written
        for mark in marks:  # each mark: the highest position recorded before its boundary
            before = await conn.fetchval(
                "SELECT max(position) FROM events WHERE recorded_at < $1", mark["bucket"]
            )
            assert mark["position"] == before
        last = await conn.fetchval("SELECT max(recorded_at) FROM events")
        assert marks[-1]["bucket"] <= last - SETTLE
    assert [await store.position_at(m) for m in moments] == truth
    async with pool.acquire() as conn:  # marks lagging behind the events: the same answers
        await conn.execute(
            "DELETE FROM feed_moments WHERE bucket > $1", marks[len(marks) // 2]["bucket"]
        )
    assert [await store.position_at(m) for m in moments] == truth


async def test_marks_are_written_once_and_again_change_nothing(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        assert await catch_up_moment_marks(conn, settle=SETTLE) == 0  # an empty store
    await _history(store, rounds=8, per_round=4)
    await asyncio.sleep(SETTLE.total_seconds())
    await _history(store, rounds=1, per_round=1)  # a later event: the earlier ones are final
    async with pool.acquire() as conn:
        first = await catch_up_moment_marks(conn, span=GRID, settle=SETTLE)
        before = await conn.fetch("SELECT bucket, position FROM feed_moments ORDER BY bucket")
        assert first == len(before) > 0
        assert await catch_up_moment_marks(conn, settle=SETTLE) == 0
        assert await write_moment_marks(conn, settle=SETTLE) == (0, False)
        # Two writers at once write each mark once, with the same values.
        await conn.execute("DELETE FROM feed_moments WHERE bucket > $1", before[0]["bucket"])
        async with pool.acquire() as other:
            counts = await asyncio.gather(
                catch_up_moment_marks(conn, span=GRID, settle=SETTLE),
                catch_up_moment_marks(other, span=GRID, settle=SETTLE),
            )
        after = await conn.fetch("SELECT bucket, position FROM feed_moments ORDER BY bucket")
        assert [tuple(r) for r in after] == [tuple(r) for r in before]
        assert sum(counts) == len(before) - 1


async def test_no_mark_while_an_append_recorded_before_it_can_still_commit(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await _history(store, rounds=2, per_round=2)
    held = await pool.acquire()
    try:
        transaction = held.transaction()
        await transaction.start()
        stream = uuid.uuid4()
        [position] = await store.append(
            [new_event(stream, 1)], expected={stream: 0}, metadata=META, connection=held
        )
        recorded = await held.fetchval(
            "SELECT recorded_at FROM events WHERE position = $1", position
        )
        # Others append on, well past the settling time, while this one stays open.
        for _ in range(6):
            await _history(store, rounds=1, per_round=3)
            await asyncio.sleep(0.1)
        async with pool.acquire() as conn:
            await catch_up_moment_marks(conn, settle=SETTLE)
            newest = await conn.fetchval("SELECT max(bucket) FROM feed_moments")
            assert newest is None or newest <= recorded
        await transaction.commit()
    finally:
        await pool.release(held)
    async with pool.acquire() as conn:
        await catch_up_moment_marks(conn, settle=SETTLE)
        newest = await conn.fetchval("SELECT max(bucket) FROM feed_moments")
        assert newest > recorded + GRID
        covering = await conn.fetchval(
            "SELECT position FROM feed_moments WHERE bucket > $1 ORDER BY bucket LIMIT 1",
            recorded,
        )
        assert covering >= position
        assert await store.position_at(recorded) == await _truth(conn, recorded)


async def test_the_housekeeping_loop_writes_marks_until_stopped(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    await _history(store, rounds=3, per_round=2)
    stop = asyncio.Event()
    task = asyncio.create_task(run_moment_marks(pool, stop, every=0.05))
    try:
        await asyncio.sleep(3.0)  # past the default settling time (2.5 s) of the first events
        await _history(store, rounds=1, per_round=1)
        async with pool.acquire() as conn:
            for _ in range(100):
                if await conn.fetchval("SELECT count(*) FROM feed_moments"):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("no mark written")
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
