"""What a position means (store/schema.py, "What a position means"): positions increase along
the feed in the order appends become readable; one append's positions need not be contiguous;
rollbacks, conflicts, lock timeouts and crash recovery leave gaps; a position is never handed
out twice, and an acknowledged append survives a crash."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.store.cluster import scratch_cluster
from tests.store.support import META, Rollback, new_event
from verbinders.config import Settings
from verbinders.database import connect, init_connection, open_pool
from verbinders.errors import StreamConflict
from verbinders.store.eventstore import EventStore

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


_SLEEPING = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event = 'PgSleep'"
)


async def _until(pool: asyncpg.Pool, query: str, value: int, timeout: float = 10.0) -> None:
    """Until `query` answers `value` or more."""
    for _ in range(int(timeout / 0.01)):
        async with pool.acquire() as conn:
            if await conn.fetchval(query) >= value:
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{query!r} did not reach {value} within {timeout} s")


@pytest.mark.server
async def test_an_appends_positions_need_not_be_contiguous_and_the_feed_keeps_their_order(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """Three events of one stream in one append, paused (by a trigger of this test's own
    database) at its second row: another append, meanwhile, takes the next position. The
    append's own positions are all allocated before its rows are written (each row's hash
    chains to the one before it, computed over the rows in order: `INSERT_MANY`), so the other
    append's lies above them. The feed withholds it until the first one commits, then reads
    all four in position order, each stream in version order."""
    async with pool.acquire() as conn:
        await conn.execute(PAUSE_BEFORE_INSERT)
    a, b = uuid.uuid4(), uuid.uuid4()
    slow = asyncio.create_task(
        store.append(
            [new_event(a, 1), new_event(a, 2, pause=1.5), new_event(a, 3)],
            expected={a: 0},
            metadata=META,
        )
    )
    await _until(pool, _SLEEPING, 1)
    [between] = await store.append([new_event(b, 1)], expected={b: 0}, metadata=META)
    assert await store.read_feed(0, 10) == []  # the first append may still commit below it
    first = await slow
    assert first[0] < first[1] < first[2] < between
    feed = await store.read_feed(0, 10)
    assert [(e.stream_id, e.version) for e in feed] == [(a, 1), (a, 2), (a, 3), (b, 1)]
    assert [e.position for e in feed] == sorted([*first, between])


@pytest.mark.server
async def test_rollbacks_conflicts_and_lock_timeouts_leave_gaps_and_no_position_twice(
    database: str, pool: asyncpg.Pool, settings: Settings
) -> None:
    async def lane_connection() -> asyncpg.Connection:
        return await connect(database, settings)

    store = EventStore(pool, connect=lane_connection, append_connections=2)
    try:
        stream = uuid.uuid4()
        [p1] = await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)

        with pytest.raises(Rollback):  # a rolled-back append
            async with store.transaction() as conn:
                other = uuid.uuid4()
                [rolled_back] = await store.append(
                    [new_event(other, 1)], expected={other: 0}, metadata=META, connection=conn
                )
                raise Rollback
        with pytest.raises(StreamConflict):  # a stale expected version, met on the index
            await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
        [p2] = await store.append([new_event(stream, 2)], expected={stream: 1}, metadata=META)
        # The rollback's position and the one the conflicting append took are skipped.
        assert (rolled_back, p2) == (p1 + 1, p1 + 3)

        # An append that waits on the lane for a rival, past the lane's lock timeout, goes on
        # waiting on the pool; its first attempt's position is skipped too.
        rival = await pool.acquire()
        try:
            await rival.execute("BEGIN")
            [rivals] = await store.append(
                [new_event(stream, 3, rival=True)],
                expected={stream: 2},
                metadata=META,
                connection=rival,
            )
            waiter = asyncio.create_task(
                store.append([new_event(stream, 3)], expected={stream: 2}, metadata=META)
            )
            # Until the waiter's second attempt (on the pool) has taken its position too.
            await _until(pool, "SELECT last_value FROM event_position_seq", rivals + 2)
            await asyncio.sleep(0.05)
            assert not waiter.done()
            await rival.execute("ROLLBACK")
        finally:
            await pool.release(rival)
        [p3] = await waiter
        assert p3 == rivals + 2  # the rival's and the lane attempt's positions are skipped

        feed = await store.read_feed(0, 100)
        assert [e.position for e in feed] == [p1, p2, p3]
        assert [e.version for e in feed] == [1, 2, 3]
    finally:
        await store.close()


async def test_acknowledged_appends_survive_an_immediate_stop_and_no_position_is_reused() -> None:
    """A server that commits asynchronously by default (`synchronous_commit = off` for the
    whole cluster, the WAL writer asleep for 10 s) is stopped as in a crash right after the
    appends were acknowledged: on the product's connections, on connections that take the
    server's default (a lane of them, and a caller's transaction) every acknowledged append
    is there after recovery, and new positions come after them (with a gap of at most the 32
    values PostgreSQL logs the sequence ahead). A plain insert committed last on such a
    connection is lost, as the setting says: the test could fail."""
    async with scratch_cluster(
        {"synchronous_commit": "off", "wal_writer_delay": "10s", "fsync": "on"}
    ) as cluster:
        settings = Settings()
        pool = await open_pool(cluster.dsn, settings, min_size=1, max_size=4)

        async def server_default() -> asyncpg.Connection:
            conn = await asyncpg.connect(cluster.dsn)
            await init_connection(conn)
            return conn

        product = EventStore(
            pool,
            connect=lambda: connect(cluster.dsn, settings),
            append_connections=2,
        )
        lane_of_defaults = EventStore(pool, connect=server_default, append_connections=2)
        plain = await server_default()
        acknowledged: list[int] = []
        try:
            assert await plain.fetchval("SHOW synchronous_commit") == "off"
            await plain.execute("CREATE TABLE control (n integer)")  # flushed by the appends
            for store in (product, lane_of_defaults):
                for _ in range(5):
                    s = uuid.uuid4()
                    acknowledged += await store.append(
                        [new_event(s, 1), new_event(s, 2)], expected={s: 0}, metadata=META
                    )
            async with plain.transaction():
                s = uuid.uuid4()
                acknowledged += await product.append(
                    [new_event(s, 1)], expected={s: 0}, metadata=META, connection=plain
                )
            await plain.execute("INSERT INTO control VALUES (1)")  # committed, not flushed
        finally:
            await product.close()
            await lane_of_defaults.close()
            await pool.close()
            plain.terminate()

        await cluster.restart(mode="immediate")

        conn = await asyncpg.connect(cluster.dsn)
        try:
            await init_connection(conn)
            stored = [r[0] for r in await conn.fetch("SELECT position FROM events ORDER BY 1")]
            assert stored == acknowledged
            assert await conn.fetchval("SELECT count(*) FROM control") == 0  # lost
            store = EventStore(await open_pool(cluster.dsn, settings, min_size=1, max_size=2))
            try:
                s = uuid.uuid4()
                [after] = await store.append([new_event(s, 1)], expected={s: 0}, metadata=META)
                assert acknowledged[-1] < after <= acknowledged[-1] + 33
                feed = await store.read_feed(0, 100)
                assert [e.position for e in feed] == [*acknowledged, after]
            finally:
                await store.close()
                await store.pool.close()
        finally:
            await conn.close()
