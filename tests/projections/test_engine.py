from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, ClassVar

import asyncpg
import msgspec
import pytest

from tests.projections.ledger import Appender, LedgerProjection
from verbinders.database import init_connection
from verbinders.projections.activity import ActivityProjection
from verbinders.projections.engine import (
    LostLeadership,
    Projection,
    analyze_grown_tables,
    create_generation,
    replay,
    step,
    try_lead,
    wait_for_projection,
)
from verbinders.projections.faults import ProjectionFault
from verbinders.projections.runner import ProjectionRunner
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.subscription import FeedSignal

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent
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


async def append_other(store: EventStore) -> list[int]:
    """One event of another topic, `t:Other`, with the payload {"o": 1}."""
    stream = uuid.uuid4()
    other = NewEvent(
        stream_id=stream,
        stream_type="Thing",
        version=1,
        topic="t:Other",
        payload=msgspec.json.encode({"o": 1}),
    )
    return await store.append([other], expected={stream: 0}, metadata=Metadata(tenant="haarlem"))


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
        first = await replay(conn, ActivityProjection())
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
        await replay(conn, ActivityProjection())
        seen: list[tuple[int, int]] = []
        past = await replay(
            conn,
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


class ActivityV2(ActivityProjection):
    """Counts every event twice (so that readers can tell the generations apart), slowly."""

    version = 2

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        await asyncio.sleep(0.01)
        await super().handle_batch(conn, events)
        await super().handle_batch(conn, events)


async def test_readers_keep_reading_the_old_model_while_the_new_version_builds(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    await append_some(store, 40)
    await append_some(store, 20, tenant="zaanstad")
    async with pool.acquire() as conn:
        first = await replay(conn, ActivityProjection())
    errors: list[BaseException] = []
    seen: list[list[tuple[int, bool]]] = [[] for _ in range(3)]
    swapped = asyncio.Event()

    async def read(into: list[tuple[int, bool]]) -> None:
        async with pool.acquire() as conn:
            while True:  # until this reader, too, has seen the new model
                try:
                    row = await conn.fetchrow(
                        "SELECT (SELECT sum(events) FROM activity.daily_events)::int,"
                        " EXISTS (SELECT FROM projection_generations"
                        "         WHERE name = 'activity' AND state = 'building')"
                    )
                except asyncpg.PostgresError as error:  # what readers must never see
                    errors.append(error)
                    return
                assert row is not None
                into.append((row[0], row[1]))
                if row[0] == 120:
                    swapped.set()
                    return
                await asyncio.sleep(0.002)

    readers = [asyncio.create_task(read(into)) for into in seen]
    runner = ProjectionRunner(
        store,
        FeedSignal(None, poll_interval=0.05),
        [ActivityV2()],
        lambda: asyncpg.connect(database),
        batch_size=5,
        standby_interval=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await asyncio.wait_for(swapped.wait(), 20)
        await asyncio.wait_for(asyncio.gather(*readers), 5)
    finally:
        stop.set()
        await task
    assert errors == []
    for observed in seen:
        # Each reader saw the old model, whole, until the swap, then the new one, whole.
        assert set(observed) <= {(60, False), (60, True), (120, False)}
        values = [value for value, _ in observed]
        assert values == sorted(values) and values[-1] == 120
    assert sum(o.count((60, True)) for o in seen) >= 3  # read while v2 was being built
    async with pool.acquire() as conn:
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
                first.schema_name,
            )
            == 0
        )
        [status] = await runner.status()
    assert (status.version, status.state, status.lag) == (2, "active", 0)


async def test_the_checkpoint_never_passes_events_it_did_not_read_when_the_horizon_steps_back(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    """The horizon is not monotonic: an append that read the sequence's last value L, then
    takes its lock on L after others allocated and committed positions above L, pulls the
    horizon back below events that were readable a moment before. Here a connection takes and
    drops such a lock (on a low key) over and over while a runner feeds the ledger: whatever
    the interleaving, the checkpoint must only pass events the projection was given."""
    appender = Appender(store, seed=11)
    last = await appender.append(40)
    stop_flicker = asyncio.Event()

    async def flicker() -> None:
        conn = await asyncpg.connect(database)
        try:
            while not stop_flicker.is_set():
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock_shared(5::bigint)")
                    await asyncio.sleep(0.001)
                await asyncio.sleep(0.001)
        finally:
            await conn.close()

    flickering = asyncio.create_task(flicker())
    runner = ProjectionRunner(
        store,
        FeedSignal(None, poll_interval=0.002),
        [LedgerProjection()],
        lambda: asyncpg.connect(database),
        batch_size=7,
        standby_interval=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        reached = await wait_for_projection(pool, "ledger", last, timeout=20)
    finally:
        stop.set()
        stop_flicker.set()
        await asyncio.gather(task, flickering)
    assert reached
    async with pool.acquire() as conn:
        applied = [r[0] for r in await conn.fetch("SELECT position FROM ledger.applied ORDER BY 1")]
        positions = [r[0] for r in await conn.fetch("SELECT position FROM events ORDER BY 1")]
    assert applied == positions


class Broken(ActivityProjection):
    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        if any(e.version > 3 for e in events):
            raise RuntimeError("a bug in the new code")
        await super().handle_batch(conn, events)


async def test_a_failed_replay_leaves_nothing_behind_and_the_live_model_untouched(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    await append_some(store, 10)
    conn = await asyncpg.connect(database)
    try:
        live = await replay(conn, ActivityProjection())
        with pytest.raises(ProjectionFault, match=r"position 4 .*a bug in the new code"):
            await replay(conn, Broken(), batch_size=2)
        with pytest.raises(ProjectionFault, match=r"position 4 .*a bug in the new code"):
            await replay(conn, Broken(), until_position=8, batch_size=2)
        generations = await conn.fetch("SELECT schema_name, state FROM projection_generations")
        assert [tuple(g) for g in generations] == [(live.schema_name, "active")]
        schemas = await conn.fetch(
            "SELECT schema_name FROM information_schema.schemata"
            " WHERE schema_name LIKE 'proj_activity_%'"
        )
        assert [s[0] for s in schemas] == [live.schema_name]
        assert await conn.fetchval("SELECT count(*) FROM checkpoints") == 1
        # The connection is still good for the next replay.
        again = await replay(conn, ActivityProjection())
        assert again.state == "active"
    finally:
        await conn.close()
    assert await total(pool) == 10


async def test_replay_for_one_tenant_builds_its_history_beside(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    await append_some(store, 6, tenant="haarlem")
    upto = await append_some(store, 4, tenant="zaanstad")
    await append_some(store, 3, tenant="zaanstad")
    conn = await asyncpg.connect(database)
    try:
        await replay(conn, ActivityProjection())
        past = await replay(conn, ActivityProjection(), tenant="zaanstad", until_position=upto[-1])
        assert past.state == "historical"
        assert (past.tenant, past.until_position) == ("zaanstad", upto[-1])
        rows = await conn.fetch(
            f'SELECT tenant, sum(events)::int FROM "{past.schema_name}".daily_events GROUP BY 1'
        )
        assert [tuple(r) for r in rows] == [("zaanstad", 4)]
        assert (
            await conn.fetchval(
                "SELECT position FROM checkpoints WHERE name = $1", past.schema_name
            )
            == upto[-1]
        )
    finally:
        await conn.close()
    assert await total(pool) == 13


async def test_prepare_gives_every_projection_its_read_model_before_it_runs(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    await append_some(store, 3)
    signal = FeedSignal(database, poll_interval=0.2)
    runner = ProjectionRunner(
        store, signal, [ActivityProjection()], lambda: asyncpg.connect(database)
    )
    await runner.prepare()
    await runner.prepare()  # idempotent: still one generation
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM activity.daily_events") == 0
        generations = await conn.fetch(
            "SELECT state FROM projection_generations WHERE name = 'activity'"
        )
    assert [row["state"] for row in generations] == ["active"]
    [status] = await runner.status()
    assert status.lag == 3  # behind, and says so, until it runs


class CountingActivity(ActivityProjection):
    def __init__(self) -> None:
        self.batches = 0

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.batches += 1
        await super().handle_batch(conn, events)


async def test_a_caught_up_projection_takes_a_stream_of_appends_in_paced_batches(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    signal = FeedSignal(database, poll_interval=0.2)
    store.local_listeners.append(signal.poke)
    projection = CountingActivity()
    runner = ProjectionRunner(
        store, signal, [projection], lambda: asyncpg.connect(database), step_interval=0.1
    )
    stop = asyncio.Event()
    async with signal:
        await runner.prepare()
        task = asyncio.create_task(runner.run(stop))
        started = asyncio.get_running_loop().time()
        last: list[int] = []
        appends = 0
        while appends < 60:
            last = await append_some(store, 1)
            appends += 1
            await asyncio.sleep(0.002)
        assert await runner.wait_for("activity", last[-1], timeout=10)
        # The stream lasted this long, however busy the machine (the pacing counts in time,
        # not in appends).
        seconds = asyncio.get_running_loop().time() - started
        stop.set()
        await task
    assert await total(pool) == appends
    # One batch per 0.1 s at most (plus the first, at once, the one that catches up, and one
    # for the pacing grid's rounding), not one per append.
    assert projection.batches <= seconds / 0.1 + 3, (projection.batches, appends, seconds)


class Seen(ActivityProjection):
    """Notes what each batch brought, reading only what its class attributes ask for."""

    name = "seen"
    reads_payload = True
    reads_metadata = True
    batches: ClassVar[list[list[tuple[dict[str, object], dict[str, object]]]]] = []

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.batches.append([(e.payload, e.metadata) for e in events])


class SeenWithoutMetadata(Seen):
    name = "seen_payload"
    reads_metadata = False
    batches: ClassVar[list[list[tuple[dict[str, object], dict[str, object]]]]] = []


class SeenWithoutEither(Seen):
    name = "seen_nothing"
    reads_payload = False
    reads_metadata = False
    batches: ClassVar[list[list[tuple[dict[str, object], dict[str, object]]]]] = []


async def test_a_projection_reads_only_the_parts_of_events_it_asks_for(
    store: EventStore, database: str
) -> None:
    await append_some(store, 3)
    conn = await asyncpg.connect(database)
    try:
        for projection in (Seen(), SeenWithoutMetadata(), SeenWithoutEither()):
            projection.batches.clear()
            await replay(conn, projection)
    finally:
        await conn.close()
    [[full, *_]] = Seen.batches
    assert full[0] == {"i": 0} and full[1]["tenant"] == "haarlem"
    [[no_metadata, *_]] = SeenWithoutMetadata.batches
    assert no_metadata == ({"i": 0}, {})
    [[neither, *_]] = SeenWithoutEither.batches
    assert neither == ({}, {})


class SeenUnread(Seen):
    name = "seen_unread"
    unread_topics = ("t:Happened",)
    batches: ClassVar[list[list[tuple[dict[str, object], dict[str, object]]]]] = []


async def test_unread_topics_come_without_payload_and_metadata(
    store: EventStore, database: str
) -> None:
    await append_some(store, 2)
    await append_other(store)
    conn = await asyncpg.connect(database)
    try:
        SeenUnread.batches.clear()
        await replay(conn, SeenUnread())
    finally:
        await conn.close()
    [[first, second, third]] = SeenUnread.batches
    assert first == ({}, {}) and second == ({}, {})
    assert third[0] == {"o": 1} and third[1]["tenant"] == "haarlem"


class TopicsSeen(Projection):
    """Notes every event it gets, reading two topics of three; `t:B` unread."""

    name = "topics_seen"
    topics = ("t:A", "t:B")
    unread_topics = ("t:B",)
    seen: ClassVar[list[tuple[int, str, object]]] = []

    def ddl(self) -> str:
        return "CREATE TABLE nothing (id integer)"

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.seen.extend((e.position, e.topic, e.payload) for e in events)


async def test_a_rebuild_reads_its_topics_by_index_or_by_feed_with_or_without_read_ahead(
    store: EventStore, database: str
) -> None:
    positions: dict[str, list[int]] = {"t:A": [], "t:B": [], "t:C": []}
    for round_ in range(7):
        for topic, n in (("t:A", 2), ("t:C", 3), ("t:B", 1)):
            stream = uuid.uuid4()
            tenant = "haarlem" if round_ % 2 else "zaanstad"
            events = [
                NewEvent(
                    stream_id=stream,
                    stream_type="Thing",
                    version=i + 1,
                    topic=topic,
                    payload=msgspec.json.encode({"i": i}),
                )
                for i in range(n)
            ]
            found = await store.append(
                events, expected={stream: 0}, metadata=Metadata(tenant=tenant)
            )
            positions[topic].extend(found)
    wanted = sorted(positions["t:A"] + positions["t:B"])
    until = wanted[len(wanted) // 2]
    conn = await asyncpg.connect(database)
    reader = await asyncpg.connect(database)
    try:
        for indexed in (True, False):
            if not indexed:
                await conn.execute("DROP INDEX events_topic_position")
            for ahead in (None, reader):
                for batch_size in (1, 3, 100):
                    TopicsSeen.seen.clear()
                    await replay(conn, TopicsSeen(), batch_size=batch_size, reader=ahead)
                    assert [p for p, _, _ in TopicsSeen.seen] == wanted
                    assert all(
                        payload
                        == (
                            {}
                            if topic == "t:B"
                            else {"i": 0}
                            if p in positions[topic][::2]
                            else {"i": 1}
                        )
                        for p, topic, payload in TopicsSeen.seen
                    )
                    TopicsSeen.seen.clear()
                    await replay(
                        conn,
                        TopicsSeen(),
                        batch_size=batch_size,
                        reader=ahead,
                        until_position=until,
                    )
                    assert [p for p, _, _ in TopicsSeen.seen] == [p for p in wanted if p <= until]
        # The session settings of the connections are back as they were.
        for c in (conn, reader):
            assert await c.fetchval("SELECT current_setting('enable_sort')") == "on"
    finally:
        await reader.close()
        await conn.close()


class DurabilitySeen(Projection):
    """Records the durability its batches commit with."""

    name = "durability_seen"
    settings: ClassVar[list[str]] = []

    def ddl(self) -> str:
        return "CREATE TABLE nothing (id integer)"

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        self.settings.append(await conn.fetchval("SELECT current_setting('synchronous_commit')"))


async def test_read_models_commit_without_waiting_for_the_disk(
    store: EventStore, database: str
) -> None:
    """Projection batches are derived and re-appliable (see "Durability" in the engine)."""
    DurabilitySeen.settings.clear()
    await append_some(store, 2)
    conn = await asyncpg.connect(database)
    try:
        await replay(conn, DurabilitySeen())  # the command line's replay and catch-up
    finally:
        await conn.close()
    assert DurabilitySeen.settings == ["off"]
    runner = ProjectionRunner(
        store,
        FeedSignal(None, poll_interval=0.05),
        [DurabilitySeen()],
        lambda: asyncpg.connect(database),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        [position] = await append_some(store, 1)
        assert await runner.wait_for("durability_seen", position, timeout=10)
    finally:
        stop.set()
        await task
    assert DurabilitySeen.settings[1:] == ["off"]


class Rows(Projection):
    """Writes a row per event; `meddle` runs inside the batch (another leader, say)."""

    name = "rows_seen"
    tables = ("seen",)
    meddle: ClassVar[Callable[[], Awaitable[None]] | None] = None

    def ddl(self) -> str:
        return "CREATE TABLE seen (position bigint PRIMARY KEY)"

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        await conn.executemany("INSERT INTO seen VALUES ($1)", [(e.position,) for e in events])
        meddle = type(self).meddle  # a plain function, not a method
        if meddle is not None:
            await meddle()


async def test_a_leader_whose_checkpoint_moved_meanwhile_keeps_nothing_of_its_batch(
    store: EventStore, database: str
) -> None:
    """The checkpoint moves with the COMMIT, on condition that it is where the leader read it."""
    await append_some(store, 3)
    conn = await asyncpg.connect(database)
    other = await asyncpg.connect(database)
    try:
        await init_connection(conn)
        generation = await create_generation(conn, Rows(), state="active")
        assert await try_lead(conn, generation)

        async def another_leader_moves_it() -> None:
            await other.execute(
                "UPDATE checkpoints SET position = position + 1 WHERE name = $1",
                generation.schema_name,
            )

        Rows.meddle = another_leader_moves_it
        with pytest.raises(LostLeadership, match="moved elsewhere"):
            await step(conn, Rows(), generation)
        assert not conn.is_in_transaction()
        assert await conn.fetchval(f'SELECT count(*) FROM "{generation.schema_name}".seen') == 0
        assert await checkpoint_of(conn, generation.schema_name) == 1
        # Left alone, the next batch applies what the other leader left (from its checkpoint).
        Rows.meddle = None
        applied, checkpoint, horizon = await step(conn, Rows(), generation)
        assert (applied, checkpoint) == (2, horizon)
        seen = await conn.fetch(f'SELECT position FROM "{generation.schema_name}".seen')
        assert len(seen) == 2
        # A dropped generation: no checkpoint, no batch.
        await other.execute("DELETE FROM checkpoints WHERE name = $1", generation.schema_name)
        with pytest.raises(LostLeadership, match="no longer in use"):
            await step(conn, Rows(), generation)
    finally:
        Rows.meddle = None
        await other.close()
        await conn.close()


async def checkpoint_of(conn: asyncpg.Connection, name: str) -> int:
    position = await conn.fetchval("SELECT position FROM checkpoints WHERE name = $1", name)
    return int(position)


class Elsewhere(ActivityProjection):
    """Reads a topic nobody appends here: every batch of this feed is idle for it."""

    name = "elsewhere"
    topics = ("t:Never",)


async def test_an_idle_batch_moves_the_checkpoint_in_the_statement_that_reads_it(
    store: EventStore, database: str
) -> None:
    """Nothing of the projection's topics up to the horizon: one round trip, not two."""
    await append_some(store, 3)
    conn = await asyncpg.connect(database)
    other = await asyncpg.connect(database)
    sent: list[str] = []
    try:
        await init_connection(conn)
        generation = await create_generation(conn, Elsewhere(), state="active")
        assert await try_lead(conn, generation)
        conn.add_query_logger(lambda record: sent.append(record.query))
        applied, checkpoint, horizon = await step(conn, Elsewhere(), generation)
        assert (applied, checkpoint) == (0, horizon) and horizon >= 3
        await asyncio.sleep(0.05)  # the query logger is called soon after
        assert len(sent) == 1 and "projection_batch" in sent[0], sent
        assert await checkpoint_of(conn, generation.schema_name) == horizon
        # With a horizon read before (as the runner shares one): the same, against it.
        await append_some(store, 2)
        sent.clear()
        applied, checkpoint, seen = await step(conn, Elsewhere(), generation, horizon=horizon + 1)
        await asyncio.sleep(0.05)
        assert (applied, checkpoint, seen) == (0, horizon + 1, horizon + 1) and len(sent) == 1
        # The move is conditional on the checkpoint read in the same statement.
        await other.execute(
            "UPDATE checkpoints SET position = 1 WHERE name = $1", generation.schema_name
        )
        assert await step(conn, Elsewhere(), generation, horizon=4) == (0, 4, 4)
    finally:
        await other.close()
        await conn.close()


async def test_the_runner_reads_the_horizon_once_for_its_read_models(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    """Several read models woken by one append share one read of the horizon (pg_locks)."""
    signal = FeedSignal(None, poll_interval=5.0)  # woken by this process's appends only
    store.local_listeners.append(signal.poke)
    projections = [ActivityProjection(), Elsewhere(), Seen()]
    runner = ProjectionRunner(store, signal, projections, lambda: asyncpg.connect(database))
    stop = asyncio.Event()
    async with signal:
        await runner.prepare()
        task = asyncio.create_task(runner.run(stop))
        try:
            first = await append_some(store, 1)
            for projection in projections:
                assert await runner.wait_for(projection.name, first[-1], timeout=10)
            await asyncio.sleep(0.3)
            reads = runner.horizon.reads
            last = await append_some(store, 1)
            for projection in projections:
                assert await runner.wait_for(projection.name, last[-1], timeout=10)
            await asyncio.sleep(0.3)
            # Three read models, one append: fewer reads than readers (usually one).
            assert runner.horizon.reads - reads < len(projections), runner.horizon.reads - reads
        finally:
            stop.set()
            await task


async def without_autovacuum(
    conn: Connection | asyncpg.pool.PoolConnectionProxy, schema: str
) -> None:
    # An autovacuum analyse in between would reset the counts these tests look at: on a busy
    # machine it comes at any moment (the server's `autovacuum_naptime`).
    for table in ("applied", "totals"):
        await conn.execute(f'ALTER TABLE "{schema}".{table} SET (autovacuum_enabled = false)')


async def test_a_read_model_filled_by_live_batches_gets_planner_statistics(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    # Not a replay (which analyses after its bulk load) and not autovacuum (whose analyses
    # set `last_autoanalyze`): the runner analyses the tables that grew, between batches.
    signal = FeedSignal(None, poll_interval=0.05)
    runner = ProjectionRunner(
        store,
        signal,
        [LedgerProjection()],
        lambda: asyncpg.connect(database),
        batch_size=200,
        analyze_interval=0.2,
    )
    stop = asyncio.Event()
    await runner.prepare()
    async with pool.acquire() as conn:
        schema = await conn.fetchval(
            "SELECT schema_name FROM projection_generations"
            " WHERE name = 'ledger' AND state = 'active'"
        )
        await without_autovacuum(conn, schema)
    task = asyncio.create_task(runner.run(stop))
    try:
        positions: list[int] = []
        for _ in range(3):
            positions = await append_some(store, 1000)
        assert await wait_for_projection(pool, "ledger", positions[-1], timeout=20)
        row = None
        for _ in range(200):  # generous: the machine may be busy
            async with pool.acquire() as conn:
                row = await conn.fetchrow(
                    "SELECT s.last_analyze, c.reltuples FROM pg_stat_user_tables s"
                    " JOIN pg_class c ON c.oid = s.relid"
                    " JOIN projection_generations g ON g.schema_name = s.schemaname"
                    " WHERE g.name = 'ledger' AND g.state = 'active' AND s.relname = 'applied'"
                )
            if row is not None and row["last_analyze"] is not None and row["reltuples"] >= 2000:
                # Analysed after most of the growth: what is left unanalysed is less than
                # `ANALYZE_MIN_CHANGES` or `ANALYZE_GROWTH` of the 3000 rows.
                break
            await asyncio.sleep(0.05)
        assert row is not None and row["last_analyze"] is not None, row
        assert row["reltuples"] >= 2000, row
    finally:
        stop.set()
        await task


async def test_an_analyze_that_cannot_run_is_no_failure(store: EventStore, database: str) -> None:
    await append_some(store, 600)
    conn = await asyncpg.connect(database)
    other = await asyncpg.connect(database)
    try:
        await init_connection(conn)
        generation = await create_generation(conn, LedgerProjection(), state="active")
        await without_autovacuum(conn, generation.schema_name)
        await step(conn, LedgerProjection(), generation)
        lock = other.transaction()
        await lock.start()  # as autovacuum analysing the table would
        await other.execute(
            f'LOCK TABLE "{generation.schema_name}".applied IN SHARE UPDATE EXCLUSIVE MODE'
        )
        assert await analyze_grown_tables(conn, generation) == []
        assert not conn.is_in_transaction()
        await lock.rollback()
        # Looked at again next time (`totals`: one row, updated 599 times).
        assert await analyze_grown_tables(conn, generation) == ["applied", "totals"]
        assert await analyze_grown_tables(conn, generation) == []
    finally:
        await other.close()
        await conn.close()
