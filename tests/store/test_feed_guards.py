"""What the feed's correctness rests on is pinned or refused, never assumed.

Isolation: every connection the product opens pins READ COMMITTED; a reader in any other
isolation is refused (VB010), so a REPEATABLE READ snapshot can no longer skip events.
Sequence: a position sequence with a cache (or another increment, or cycling) is refused at
start, in every read and named in the status (VB011). Standby: reading the feed there is
refused (VB012). Durability: appends commit with synchronous_commit on, whatever the server's,
database's or session's default.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.store.support import META, TOPIC, Rollback, new_event
from verbinders.config import Settings
from verbinders.database import (
    PINNED_SETTINGS,
    check_feed_setup,
    connect,
    init_connection,
    open_database,
    open_pool,
)
from verbinders.errors import FeedRefused
from verbinders.store.events import Companion
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal

pytestmark = pytest.mark.server


@pytest.fixture
async def admin(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection (none of the product's settings) to the test's own database."""
    conn = await asyncpg.connect(database)
    await init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()


async def test_every_connection_the_product_opens_pins_read_committed_and_durable_commits(
    database: str, admin: asyncpg.Connection, settings: Settings
) -> None:
    """Even in a database whose defaults say otherwise (this test's own)."""
    name = await admin.fetchval("SELECT current_database()")
    await admin.execute(
        f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'repeatable read'"
    )
    await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    plain = await asyncpg.connect(database)
    try:
        assert await plain.fetchval("SHOW default_transaction_isolation") == "repeatable read"
        assert await plain.fetchval("SHOW synchronous_commit") == "off"
    finally:
        await plain.close()

    pool = await open_pool(database, settings, min_size=1, max_size=2)
    own = await connect(database, settings)  # the append lane's and the workers' connections
    try:
        async with pool.acquire() as pooled:
            for conn in (pooled, own):
                assert await conn.fetchval("SHOW default_transaction_isolation") == (
                    "read committed"
                )
                assert await conn.fetchval("SHOW synchronous_commit") == "on"
                assert await conn.fetchval("SHOW application_name") == "verbinders"
        # The feed's listener opens a connection of its own, with the same settings.
        async with FeedSignal(database):
            listening: list[asyncpg.Record] = []
            for _ in range(100):
                listening = await admin.fetch(
                    "SELECT application_name FROM pg_stat_activity"
                    " WHERE datname = $1 AND query LIKE 'LISTEN%'",
                    name,
                )
                if listening:
                    break
                await asyncio.sleep(0.05)
            assert [row["application_name"] for row in listening] == ["verbinders"]
        assert PINNED_SETTINGS["default_transaction_isolation"] == "read committed"
    finally:
        await own.close()
        await pool.close()


@pytest.mark.parametrize("isolation", ["repeatable_read", "serializable"])
async def test_a_reader_in_another_isolation_is_refused_naming_it(
    store: EventStore, pool: asyncpg.Pool, isolation: str
) -> None:
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    async with pool.acquire() as conn, conn.transaction(isolation=isolation):  # type: ignore[arg-type]
        with pytest.raises(FeedRefused) as refused:
            await store.read_feed(0, 10, connection=conn)
    level = isolation.replace("_", " ").upper()
    assert str(refused.value).startswith(
        f"the event feed is read in READ COMMITTED only, not in {level}"
    )
    assert refused.value.details == {"reason": "isolation"}
    async with pool.acquire() as conn, conn.transaction(isolation=isolation):  # type: ignore[arg-type]
        # The projection engine's batch and a bare horizon are refused alike (SQLSTATE VB010).
        await conn.execute("INSERT INTO checkpoints (name, position) VALUES ('guarded', 0)")
        with pytest.raises(asyncpg.PostgresError) as error:
            await conn.fetch(
                "SELECT * FROM projection_batch('guarded', 10, NULL, NULL, NULL, true, true)"
            )
        assert error.value.sqlstate == "VB010"
    async with pool.acquire() as conn, conn.transaction(isolation=isolation):  # type: ignore[arg-type]
        with pytest.raises(asyncpg.PostgresError) as error:
            await conn.fetchval("SELECT feed_horizon()")
        assert error.value.sqlstate == "VB010"
    async with pool.acquire() as conn, conn.transaction(isolation=isolation):  # type: ignore[arg-type]
        status = await conn.fetchrow("SELECT horizon, unsafe FROM feed_status()")
        assert status is not None
        assert status["unsafe"].startswith("the event feed is read in READ COMMITTED only")
    # Outside such a transaction the same connection reads.
    assert [e.version for e in await store.read_feed(0, 10)] == [1]


async def test_a_database_defaulting_to_repeatable_read_loses_no_events(
    database: str, admin: asyncpg.Connection, settings: Settings
) -> None:
    """Writers with transactions of random length (some rolled back) and a tailing reader,
    all on the product's connections, in a database whose default is REPEATABLE READ: the
    reader gets every committed event once, in order. A connection that takes the database's
    default is refused instead of skipping events."""
    name = await admin.fetchval("SELECT current_database()")
    await admin.execute(
        f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'repeatable read'"
    )
    plain = await asyncpg.connect(database)
    try:
        with pytest.raises(asyncpg.PostgresError) as error:
            await plain.fetch("SELECT * FROM read_feed(0, 10, NULL, NULL, NULL)")
        assert error.value.sqlstate == "VB010"
    finally:
        await plain.close()

    pool = await open_pool(database, settings, min_size=1, max_size=12)

    async def lane_connection() -> asyncpg.Connection:
        return await connect(database, settings)

    store = EventStore(pool, connect=lane_connection, append_connections=4)
    committed: list[int] = []
    writing = True

    async def writer(n: int) -> None:
        rng = random.Random(n)
        for i in range(40):
            stream = uuid.uuid4()
            try:
                async with store.transaction() as conn:
                    [position] = await store.append(
                        [new_event(stream, 1, writer=n, i=i)],
                        expected={stream: 0},
                        metadata=META,
                        connection=conn,
                    )
                    await asyncio.sleep(rng.uniform(0, 0.01))
                    if rng.random() < 0.15:
                        raise Rollback
            except Rollback:
                continue
            committed.append(position)
            if rng.random() < 0.5:  # and some single-statement appends on the lane
                other = uuid.uuid4()
                committed.extend(
                    await store.append([new_event(other, 1)], expected={other: 0}, metadata=META)
                )

    seen: list[int] = []

    async def reader() -> None:
        last = 0
        while True:
            finished = not writing
            batch = await store.read_feed(last, 7)
            seen.extend(e.position for e in batch)
            if batch:
                last = batch[-1].position
            elif finished:
                return
            else:
                await asyncio.sleep(0.001)

    try:
        reading = asyncio.create_task(reader())
        try:
            await asyncio.gather(*(writer(n) for n in range(6)))
        finally:
            writing = False
        await asyncio.wait_for(reading, 30)
    finally:
        await store.close()
        await pool.close()
    assert len(committed) > 100
    assert seen == sorted(committed)


@pytest.mark.parametrize(
    ("change", "described"),
    [
        ("CACHE 20", "INCREMENT 1, CACHE 20, NO CYCLE"),
        ("INCREMENT 2", "INCREMENT 2, CACHE 1, NO CYCLE"),
        ("CYCLE", "INCREMENT 1, CACHE 1, CYCLE"),
    ],
)
async def test_a_position_sequence_set_up_otherwise_is_refused_at_start_in_reads_and_status(
    store: EventStore,
    admin: asyncpg.Connection,
    database: str,
    change: str,
    described: str,
) -> None:
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    await admin.execute(f"ALTER SEQUENCE event_position_seq {change}")
    fix = "ALTER SEQUENCE event_position_seq INCREMENT 1 CACHE 1 NO CYCLE"

    with pytest.raises(FeedRefused) as refused:
        await store.read_feed(0, 10)
    assert str(refused.value).startswith(f"event_position_seq has {described}; the event feed")
    assert fix in str(refused.value)
    assert refused.value.details == {"reason": "sequence"}
    with pytest.raises(FeedRefused):
        await store.last_position()
    status = await store.feed_status()
    assert status.unsafe is not None and described in status.unsafe and fix in status.unsafe
    with pytest.raises(FeedRefused) as at_start:
        async with open_database(Settings(database_url=database), min_size=1, max_size=1):
            pass
    assert fix in str(at_start.value)

    await admin.execute(f"ALTER SEQUENCE {fix.removeprefix('ALTER SEQUENCE ')}")
    assert [e.version for e in await store.read_feed(0, 10)] == [1]
    assert (await store.feed_status()).unsafe is None


STANDBY = """
CREATE SCHEMA standby_simulation;
CREATE FUNCTION standby_simulation.pg_is_in_recovery() RETURNS boolean
    LANGUAGE sql AS 'SELECT true';
"""


async def test_reading_the_feed_on_a_standby_is_refused(
    store: EventStore, admin: asyncpg.Connection, database: str
) -> None:
    """No standby can run here: the guard's own call of `pg_is_in_recovery()` is answered
    `true` by a function found first on the reader's search path (the real one stays in
    pg_catalog, searched after it), so the real `feed_horizon()`, `read_feed()`,
    `feed_status()` and the start-up check see a standby."""
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    await admin.execute(STANDBY)
    reader = await asyncpg.connect(
        database, server_settings={"search_path": "standby_simulation, pg_catalog, public"}
    )
    try:
        await init_connection(reader)
        assert await reader.fetchval("SELECT pg_is_in_recovery()") is True
        with pytest.raises(FeedRefused) as refused:
            await store.read_feed(0, 10, connection=reader)
        assert str(refused.value).startswith(
            "the event feed is read on the primary only, and this server is a standby"
        )
        assert refused.value.details == {"reason": "standby"}
        unsafe = await reader.fetchval("SELECT unsafe FROM feed_status()")
        assert unsafe.startswith("the event feed is read on the primary only")
        with pytest.raises(FeedRefused):
            await check_feed_setup(reader, before_schema=True)
        with pytest.raises(FeedRefused):
            await check_feed_setup(reader)
    finally:
        await reader.close()
    # The primary's readers are not affected.
    assert [e.version for e in await store.read_feed(0, 10)] == [1]


PROBE = Companion(
    sql="INSERT INTO commit_probe (setting) SELECT current_setting('synchronous_commit')"
    " WHERE EXISTS (SELECT FROM appended)",
    args=(),
)


async def test_appends_commit_durably_whatever_the_defaults(
    database: str, admin: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    """In a database defaulting to synchronous_commit off, on connections that take that
    default (none of the product's settings) or set `off` themselves as the projections' do,
    each append's transaction commits with `on`; the connection's own setting is left as it
    was. Seen from inside the append's own statement (a companion write records it) and,
    in a caller's transaction, by the transaction after the append."""
    name = await admin.fetchval("SELECT current_database()")
    await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    await admin.execute("CREATE TABLE commit_probe (setting text NOT NULL)")

    async def lazy_connection() -> asyncpg.Connection:
        conn = await asyncpg.connect(database)  # the database's default: off
        await init_connection(conn)
        return conn

    store = EventStore(pool, connect=lazy_connection, append_connections=2)
    own = await lazy_connection()
    try:
        assert await own.fetchval("SHOW synchronous_commit") == "off"
        for kind in ("one", "many"):  # on the lane, outside any transaction
            stream = uuid.uuid4()
            events = [new_event(stream, 1)]
            if kind == "many":
                events.append(new_event(stream, 2))
            await store.append(events, expected={stream: 0}, metadata=META, also=PROBE)
        a, b = uuid.uuid4(), uuid.uuid4()  # several streams (append_events)
        await store.append(
            [new_event(a, 1), new_event(b, 1)], expected={a: 0, b: 0}, metadata=META, also=PROBE
        )
        await own.execute("SET synchronous_commit = off")  # as a projection worker's session
        async with own.transaction():
            stream = uuid.uuid4()
            await store.append(
                [new_event(stream, 1)], expected={stream: 0}, metadata=META, connection=own
            )
            assert await own.fetchval("SHOW synchronous_commit") == "on"
        assert await own.fetchval("SHOW synchronous_commit") == "off"  # the session's again
        async with own.transaction():
            a, b = uuid.uuid4(), uuid.uuid4()
            await store.append(
                [new_event(a, 1), new_event(b, 1)],
                expected={a: 0, b: 0},
                metadata=META,
                connection=own,
            )
            assert await own.fetchval("SHOW synchronous_commit") == "on"
        probes = await admin.fetch("SELECT setting FROM commit_probe")
        assert [p["setting"] for p in probes] == ["on", "on", "on"]  # one, many, streams
    finally:
        await own.close()
        await store.close()


async def test_feed_status_reads_the_setup_as_sound_on_the_products_connections(
    store: EventStore,
) -> None:
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1, topic=TOPIC)], expected={stream: 0}, metadata=META)
    status = await store.feed_status()
    assert (status.unsafe, status.holders, status.withheld) == (None, 0, 0)
