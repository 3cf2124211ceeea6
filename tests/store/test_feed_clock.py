"""Recorded times never go back along the feed (`feed_allocate`, store/feed_clock.py), so a
moment's position is one probe of the index on (recorded_at, position): exactly the highest
position recorded at or before the moment, for appends of every kind from many connections at
once, for ties, for a clock stepped back, before the first event and after the last; and on
a store from before migration 4, whose times are out of order, as before for its old events."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import datetime, timedelta

import asyncpg

from tests.conftest import RUN_ID, with_database
from tests.store.support import META, new_event
from verbinders.audit.verify import verify
from verbinders.config import Settings
from verbinders.database import open_pool
from verbinders.store import schema
from verbinders.store.eventstore import EventStore
from verbinders.store.schema import install_schema

US = timedelta(microseconds=1)

FEED_CLOCK_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = 7103"
)


def highest_by(rows: list[asyncpg.Record], moment: datetime) -> int:
    """What `position_at` must answer, by brute force over every event."""
    return max((r["position"] for r in rows if r["recorded_at"] <= moment), default=0)


async def every_event(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return list(await conn.fetch("SELECT position, recorded_at FROM events ORDER BY position"))


async def test_times_follow_positions_for_concurrent_appends_of_every_kind(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """Twelve writers at once, each with its own mix: one event, several events of a stream,
    several streams at once, and appends inside a caller's transaction."""

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(15):
            kind = rng.choice(["one", "many", "streams", "transaction"])
            a, b = uuid.uuid4(), uuid.uuid4()
            if kind == "one":
                await store.append([new_event(a, 1)], expected={a: 0}, metadata=META)
            elif kind == "many":
                events = [new_event(a, v) for v in range(1, rng.randint(2, 40))]
                await store.append(events, expected={a: 0}, metadata=META)
            elif kind == "streams":
                await store.append(
                    [new_event(a, 1), new_event(b, 1), new_event(a, 2)],
                    expected={a: 0, b: 0},
                    metadata=META,
                )
            else:
                async with store.transaction() as conn:
                    await store.append(
                        [new_event(a, 1)], expected={a: 0}, metadata=META, connection=conn
                    )
                    await asyncio.sleep(rng.random() / 100)
                    await store.append(
                        [new_event(b, 1), new_event(b, 2)],
                        expected={b: 0},
                        metadata=META,
                        connection=conn,
                    )

    await asyncio.gather(*(writer(seed) for seed in range(12)))
    rows = await every_event(pool)
    assert len(rows) > 12 * 15
    times = [r["recorded_at"] for r in rows]
    assert times == sorted(times)  # along the positions, never back
    moments = [t + d for t in times[::3] for d in (-US, timedelta(0), US)]
    moments += [times[0] - timedelta(days=1), times[-1] + timedelta(days=1)]
    for moment in moments:
        assert await store.position_at(moment) == highest_by(rows, moment)
    assert await store.position_at(times[0] - US) == 0
    assert await store.position_at(times[-1]) == rows[-1]["position"]
    async with pool.acquire() as conn:
        assert (await verify(conn)).intact  # the hashes cover the times the rows got
        assert await conn.fetchval(FEED_CLOCK_LOCKS) == 0


async def test_a_clock_behind_the_last_time_gives_ties_and_the_last_of_them_wins(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    first = uuid.uuid4()
    [before] = await store.append([new_event(first, 1)], expected={first: 0}, metadata=META)
    ahead = datetime.now().astimezone() + timedelta(hours=1)
    async with pool.acquire() as conn:  # as if the server's clock had been stepped back
        await conn.execute(
            "SELECT setval('feed_clock_seq', (extract(epoch FROM $1::timestamptz)"
            " * 1000000)::bigint)",
            ahead,
        )
    stream = uuid.uuid4()
    tied = await store.append(
        [new_event(stream, 1), new_event(stream, 2)], expected={stream: 0}, metadata=META
    )
    tied += await store.append([new_event(stream, 3)], expected={stream: 2}, metadata=META)
    rows = await every_event(pool)
    assert [r["recorded_at"] for r in rows if r["position"] in tied] == [ahead] * 3
    assert await store.position_at(ahead) == max(tied)
    assert await store.position_at(ahead - US) == before
    assert await store.position_at(ahead + US) == max(tied)


async def test_the_allocation_lock_is_free_as_soon_as_an_append_has_its_positions(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """A caller's transaction keeps its rows and the horizon's lock, never the allocation's:
    another connection appends meanwhile, and the times still follow the positions."""
    mine = uuid.uuid4()
    async with store.transaction() as conn:
        [first] = await store.append(
            [new_event(mine, 1)], expected={mine: 0}, metadata=META, connection=conn
        )
        assert await conn.fetchval(FEED_CLOCK_LOCKS) == 0
        other = uuid.uuid4()
        [second] = await asyncio.wait_for(
            store.append([new_event(other, 1)], expected={other: 0}, metadata=META), 5
        )
        assert second > first
    rows = await every_event(pool)
    assert rows[0]["recorded_at"] <= rows[1]["recorded_at"]


async def test_a_store_from_before_migration_4_answers_its_old_moments_as_before(
    cluster_dsn: str,
) -> None:
    """Old events with times out of order (as concurrent appends left them), then migration
    4, then new appends: old moments answer the highest position recorded by then, as the
    two-second lookup did; new ones by the index alone; the first new time is after every old
    one."""
    name = f"vb_{RUN_ID}_clock_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(cluster_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(cluster_dsn, name)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await install_schema(conn, [("store", schema.MIGRATIONS[:3])])
            base = await conn.fetchval("SELECT clock_timestamp() - interval '1 minute'")
            # Positions 1..40; times that go back by up to 300 ms against the positions.
            offsets = [n * 10_000 - (150_000 if n % 7 == 3 else 0) for n in range(1, 41)]
            offsets[20] = offsets[21]  # a tie
            for offset in offsets:
                await conn.execute(
                    "INSERT INTO events (position, tenant, stream_id, stream_type, version,"
                    " topic, payload, metadata, recorded_at, hash)"
                    " VALUES (nextval('event_position_seq'), 'haarlem', $1, 'Thing', 1,"
                    " 't:T', '{}', '{}', $2, '\\x00')",
                    uuid.uuid4(),
                    base + offset * US,
                )
            await install_schema(conn)
            legacy_until, since = await conn.fetchrow("SELECT legacy_until, since FROM feed_clock")
        finally:
            await conn.close()
        assert legacy_until == 40
        pool = await open_pool(dsn, Settings(), min_size=1, max_size=4)
        store = EventStore(pool)
        try:
            old = await every_event(pool)
            assert [r["recorded_at"] for r in old] != sorted(r["recorded_at"] for r in old)
            assert all(r["recorded_at"] < since for r in old)
            for n in range(5):
                stream = uuid.uuid4()
                events = [new_event(stream, v) for v in range(1, n + 2)]
                await store.append(events, expected={stream: 0}, metadata=META)
            rows = await every_event(pool)
            new = rows[len(old) :]
            assert min(r["recorded_at"] for r in new) >= since
            assert [r["recorded_at"] for r in new] == sorted(r["recorded_at"] for r in new)
            moments = [r["recorded_at"] + d for r in rows for d in (-US, timedelta(0), US)]
            moments += [base - timedelta(days=1), since, since - US, rows[-1]["recorded_at"]]
            for moment in moments:
                assert await store.position_at(moment) == highest_by(rows, moment), moment
        finally:
            await store.close()
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
