"""The feed's horizon counts the store's own locks only, one per transaction, including those
of prepared transactions and of the code from before the reserved key space (an upgrade)."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import RUN_ID, with_database
from tests.store.cluster import scratch_cluster
from tests.store.support import META, Rollback, new_event
from verbinders.audit.verify import verify
from verbinders.config import Settings
from verbinders.database import init_connection, open_pool
from verbinders.errors import StreamConflict
from verbinders.store import schema
from verbinders.store.eventstore import EventStore
from verbinders.store.schema import HORIZON_CTE, install_schema
from verbinders.store.watchdog import AppendWatchdog

RESERVED_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1"
    " AND pid = $1 AND classid::bigint >= 1073741824 AND classid::bigint < 2147483648"
)


async def horizon_ms(conn: asyncpg.Connection, n: int = 15) -> float:
    """Median time of `feed_horizon()` (ms) measured in the server."""
    times = []
    for _ in range(n):
        times.append(
            await conn.fetchval(
                "SELECT extract(epoch FROM clock_timestamp() - t) * 1000"
                " FROM (SELECT clock_timestamp() AS t, feed_horizon()) x"
            )
        )
    return float(statistics.median(times))


@pytest.fixture
async def plain_store(pool: asyncpg.Pool) -> AsyncIterator[EventStore]:
    store = EventStore(pool)
    try:
        yield store
    finally:
        await store.close()


@pytest.mark.server
async def test_advisory_locks_of_other_applications_neither_pin_nor_hide_the_feed(
    store: EventStore, database: str
) -> None:
    """A session lock on key 5, a shared lock on a negative key, a transaction's shared lock
    below the reserved space and a two-key lock, all held by another application while the
    store appends: readers see every append, and the status names no holder."""
    other = await asyncpg.connect(database, server_settings={"application_name": "reporting"})
    try:
        await other.execute("SELECT pg_advisory_lock(5), pg_advisory_lock_shared(7)")
        await other.execute("BEGIN")
        await other.execute(
            "SELECT pg_advisory_xact_lock_shared(-1), pg_advisory_xact_lock_shared(3),"
            " pg_advisory_xact_lock(42, 42)"
        )
        positions = []
        for _ in range(3):
            stream = uuid.uuid4()
            positions += await store.append(
                [new_event(stream, 1)], expected={stream: 0}, metadata=META
            )
        assert [e.position for e in await store.read_feed(0, 10)] == positions
        status = await store.feed_status()
        assert (status.horizon, status.withheld, status.holders) == (positions[-1], 0, 0)
        assert status.holder() is None
    finally:
        await other.close()


@pytest.mark.server
async def test_a_transaction_takes_one_horizon_lock_however_many_it_appends(
    plain_store: EventStore, pool: asyncpg.Pool
) -> None:
    """15,500 appends in one transaction (one stream version after version, and a few
    multi-stream appends): one lock in the reserved space, `feed_horizon()` as fast as with
    none, and the whole transaction readable once it commits."""
    store = plain_store
    async with pool.acquire() as observer:
        idle = await horizon_ms(observer)
        stream = uuid.uuid4()
        positions: list[int] = []
        async with store.transaction() as conn:
            pid = conn.get_server_pid()
            # 15,500 round trips take longer than the default bound of 10 s on a busy machine.
            await conn.execute("SET LOCAL verbinders.append_timeout = '120s'")
            for version in range(1, 15_501):
                positions += await store.append(
                    [new_event(stream, version)],
                    expected={stream: version - 1},
                    metadata=META,
                    connection=conn,
                )
                if version % 5_000 == 0:
                    a, b = uuid.uuid4(), uuid.uuid4()
                    positions += await store.append(
                        [new_event(a, 1), new_event(b, 1)],
                        expected={a: 0, b: 0},
                        metadata=META,
                        connection=conn,
                    )
            assert await observer.fetchval(RESERVED_LOCKS, pid) == 1
            held = await horizon_ms(observer)
            assert await observer.fetchval("SELECT feed_horizon()") < positions[0]
        assert len(positions) == 15_506
        assert held < max(5.0, 3 * idle), (idle, held)
        assert await store.last_position() == positions[-1]
        read = [e.position for batch in [x async for x in store.iter_feed()] for e in batch]
        assert read == positions


@pytest.mark.server
async def test_an_append_undone_by_a_savepoint_leaves_the_next_one_to_take_the_lock(
    plain_store: EventStore, pool: asyncpg.Pool
) -> None:
    """The lock and the note that it is held go together: a savepoint rolled back releases
    both, so the transaction's next append takes the lock again and still holds the feed."""
    store = plain_store
    async with store.transaction() as conn:
        undone = uuid.uuid4()
        with pytest.raises(Rollback):
            async with conn.transaction():
                await store.append(
                    [new_event(undone, 1)], expected={undone: 0}, metadata=META, connection=conn
                )
                raise Rollback
        assert await conn.fetchval(RESERVED_LOCKS, conn.get_server_pid()) == 0
        kept = uuid.uuid4()
        [mine] = await store.append(
            [new_event(kept, 1)], expected={kept: 0}, metadata=META, connection=conn
        )
        assert await conn.fetchval(RESERVED_LOCKS, conn.get_server_pid()) == 1
        later = uuid.uuid4()
        [theirs] = await store.append([new_event(later, 1)], expected={later: 0}, metadata=META)
        assert theirs > mine
        assert await store.read_feed(0, 10) == []  # `mine` may still commit: nothing after it
    assert [e.position for e in await store.read_feed(0, 10)] == [mine, theirs]


PRE_CHAIN_INSERT_ONE = """INSERT INTO events (position, tenant, stream_id, stream_type,
                    version, topic, payload, metadata, recorded_at)
SELECT nextval('event_position_seq'), $1, $2, $3, $4::integer + 1, $5, $6, $7, h.recorded_at
  FROM horizon h
 WHERE $4::integer = 0 OR EXISTS (SELECT FROM events WHERE stream_id = $2 AND version = $4)
RETURNING position"""
"""The single-stream insert before the store's migration 3 (the hash chain)."""
OLD_APPEND_ONE = f"""WITH horizon AS MATERIALIZED (
    SELECT pg_advisory_xact_lock_shared(CASE WHEN is_called THEN last_value ELSE 0 END),
           clock_timestamp() AS recorded_at
      FROM event_position_seq
)
{PRE_CHAIN_INSERT_ONE}"""
"""A single-stream append as the code before the store's migration 2 sends it."""
V2_APPEND_ONE = f"WITH {HORIZON_CTE}\n{PRE_CHAIN_INSERT_ONE}"
"""A single-stream append as the code of migration 2 (before the chain) sends it."""


@pytest.mark.server
async def test_appends_of_processes_still_running_the_code_before_the_upgrade_hold_the_feed(
    cluster_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rolling upgrade: a process of the old code has an append in flight (its lock below
    the reserved space) while a new process migrates the database and appends. New readers
    wait for the old append, and see both once it commits. The same lock taken by another
    application is not counted."""
    name = f"vb_{RUN_ID}_upgrade_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(cluster_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(cluster_dsn, name)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            before = [("store", schema.MIGRATIONS[:1])]
            assert (await install_schema(conn, before))["store"] == 1
        finally:
            await conn.close()

        old = await asyncpg.connect(dsn, server_settings={"application_name": "verbinders"})
        stranger = await asyncpg.connect(dsn, server_settings={"application_name": "psql"})
        pool = await open_pool(dsn, Settings(), min_size=1, max_size=4)
        try:
            await init_connection(old)
            await old.execute("BEGIN")
            stream = uuid.uuid4()
            [old_position] = [
                row[0]
                for row in await old.fetch(
                    OLD_APPEND_ONE, "t", stream, "Thing", 0, "t:T", b"{}", b"{}"
                )
            ]
            async with pool.acquire() as conn:  # while the old append is open
                assert (await install_schema(conn, [("store", schema.MIGRATIONS[:2])]))[
                    "store"
                ] == 2
            await stranger.execute("BEGIN")
            await stranger.execute("SELECT pg_advisory_xact_lock_shared(1)")

            store = EventStore(pool)
            new_stream = uuid.uuid4()
            async with pool.acquire() as conn:
                new_position = await conn.fetchval(
                    V2_APPEND_ONE, "t", new_stream, "Thing", 0, "t:T", b"{}", b"{}"
                )
            assert new_position > old_position
            assert await store.read_feed(0, 10) == []
            status = await store.feed_status()
            assert status.held_by_pid == old.get_server_pid()
            assert status.held_by_application == "verbinders"
            assert status.holders == 1  # the stranger's lock is not one of the feed's

            await old.execute("COMMIT")
            assert [e.position for e in await store.read_feed(0, 10)] == [
                old_position,
                new_position,
            ]
            # Then the chain's migration: what both wrote is chained, and appends go on.
            async with pool.acquire() as conn:
                assert (await install_schema(conn))["store"] == len(schema.MIGRATIONS)
            await store.append([new_event(new_stream, 2)], expected={new_stream: 1}, metadata=META)
            async with pool.acquire() as conn:
                assert (await verify(conn)).intact
            await store.close()
        finally:
            await pool.close()
            await old.close()
            await stranger.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _prepare_append(store: EventStore, conn: asyncpg.Connection, gid: str) -> int:
    await conn.execute("BEGIN")
    stream = uuid.uuid4()
    [position] = await store.append(
        [new_event(stream, 1)], expected={stream: 0}, metadata=META, connection=conn
    )
    await conn.execute(f"PREPARE TRANSACTION '{gid}'")
    return position


async def _a_prepared_append_holds_the_feed(dsn: str, ending: str) -> None:
    pool = await open_pool(dsn, Settings(), min_size=1, max_size=4)
    store = EventStore(pool)
    conn = await asyncpg.connect(dsn)
    gid = f"vb-test-{uuid.uuid4().hex[:6]}"
    try:
        await init_connection(conn)
        prepared = await _prepare_append(store, conn, gid)
        await conn.close()  # the prepared transaction outlives its session
        later = uuid.uuid4()
        [after] = await store.append([new_event(later, 1)], expected={later: 0}, metadata=META)
        assert await store.read_feed(0, 10) == []
        status = await store.feed_status()
        assert status.held
        assert (status.held_by_pid, status.held_by_gid, status.holders) == (None, gid, 1)
        assert status.held_since is not None and status.held_for_s is not None
        assert f"prepared transaction {gid!r}" in (status.holder() or "")
        # The watchdog does not end another coordinator's prepared transaction.
        watchdog = AppendWatchdog(pool, 0.0)
        assert await watchdog.check() == []
        async with pool.acquire() as admin:
            await admin.execute(f"{ending} PREPARED '{gid}'")
        expected = [prepared, after] if ending == "COMMIT" else [after]
        assert [e.position for e in await store.read_feed(0, 10)] == expected
        assert (await store.feed_status()).holders == 0
    finally:
        await store.close()
        await pool.close()


@pytest.mark.parametrize("ending", ["COMMIT", "ROLLBACK"])
async def test_a_prepared_append_holds_the_feed_is_named_by_its_gid_and_ends_with_it(
    ending: str,
) -> None:
    async with scratch_cluster({"max_prepared_transactions": "4"}) as cluster:
        await _a_prepared_append_holds_the_feed(cluster.dsn, ending)


@pytest.mark.server
async def test_a_prepared_append_on_the_test_server_holds_the_feed_or_cannot_be_prepared(
    database: str, store: EventStore, pool: asyncpg.Pool
) -> None:
    """What the server allows decides: with prepared transactions enabled the behaviour
    above; with them disabled (the PostgreSQL 15 server here), the server refuses to prepare
    the append, which then leaves nothing behind."""
    async with pool.acquire() as conn:
        allowed = int(await conn.fetchval("SHOW max_prepared_transactions"))
    if allowed > 0:
        await _a_prepared_append_holds_the_feed(database, "COMMIT")
        return
    conn = await asyncpg.connect(database)
    try:
        await init_connection(conn)
        with pytest.raises(
            asyncpg.ObjectNotInPrerequisiteStateError, match="prepared transactions are disabled"
        ):
            await _prepare_append(store, conn, "vb-refused")
        await conn.execute("ROLLBACK")
    finally:
        await conn.close()
    assert (await store.feed_status()).holders == 0
    assert await store.read_feed(0, 10) == []


@pytest.mark.server
async def test_multi_stream_appends_racing_in_opposite_orders_conflict_and_never_deadlock(
    store: EventStore,
) -> None:
    """Many pairs of atomic appends naming the same two streams in opposite orders, all at
    once: each pair has one winner and one `StreamConflict`, never a deadlock (which would
    also take `deadlock_timeout`, 1 s, to break)."""
    pairs = 25

    async def append(a: uuid.UUID, b: uuid.UUID, writer: int) -> list[int] | StreamConflict:
        try:
            return await store.append(
                [new_event(a, 1, writer=writer), new_event(b, 1, writer=writer)],
                expected={a: 0, b: 0},
                metadata=META,
            )
        except StreamConflict as conflict:
            return conflict

    streams = [(uuid.uuid4(), uuid.uuid4()) for _ in range(pairs)]
    started = time.monotonic()
    results = await asyncio.gather(
        *(append(a, b, 1) for a, b in streams), *(append(b, a, 2) for a, b in streams)
    )
    elapsed = time.monotonic() - started
    for i, (a, b) in enumerate(streams):
        first, second = results[i], results[pairs + i]
        outcomes = sorted(type(r).__name__ for r in (first, second))
        assert outcomes == ["StreamConflict", "list"], (first, second)
        winner = 1 if isinstance(first, list) else 2
        for stream in (a, b):
            assert [e.payload["writer"] for e in await store.read_stream(stream)] == [winner]
    assert elapsed < 5.0


@pytest.mark.server
async def test_transactions_appending_to_two_streams_in_opposite_orders_end_in_a_conflict(
    plain_store: EventStore, pool: asyncpg.Pool
) -> None:
    """What the store cannot order: two callers' transactions that each append to one stream,
    then to the other's. PostgreSQL breaks the deadlock after deadlock_timeout by failing one
    transaction; the store reports it as the `StreamConflict` it is, and the other commits.
    (The command pipeline appends once per command, in one statement, to avoid this.)"""
    store = plain_store
    a, b = uuid.uuid4(), uuid.uuid4()
    both_appended_once = asyncio.Barrier(2)

    async def caller(first: uuid.UUID, second: uuid.UUID, writer: int) -> str:
        try:
            async with store.transaction() as conn:
                await store.append(
                    [new_event(first, 1, writer=writer)],
                    expected={first: 0},
                    metadata=META,
                    connection=conn,
                )
                await both_appended_once.wait()
                await store.append(
                    [new_event(second, 1, writer=writer)],
                    expected={second: 0},
                    metadata=META,
                    connection=conn,
                )
        except StreamConflict:
            return "conflict"
        return "committed"

    outcomes = await asyncio.gather(caller(a, b, 1), caller(b, a, 2))
    assert sorted(outcomes) == ["committed", "conflict"]
    winner = 1 if outcomes[0] == "committed" else 2
    for stream in (a, b):
        assert [e.payload["writer"] for e in await store.read_stream(stream)] == [winner]
