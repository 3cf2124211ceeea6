"""The process's shared stretch of the feed (`projections/feed.py`): one read for all readers."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.projections.test_engine import (
    Elsewhere,
    Seen,
    SeenUnread,
    SeenWithoutEither,
    SeenWithoutMetadata,
    append_other,
    append_some,
    checkpoint_of,
    total,
)
from verbinders.database import init_connection
from verbinders.projections.activity import ActivityProjection
from verbinders.projections.engine import LostLeadership, create_generation, step, try_lead
from verbinders.projections.feed import SharedFeed
from verbinders.projections.runner import ProjectionRunner
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal

pytestmark = pytest.mark.server


async def horizon_of(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT feed_horizon()"))


async def test_the_stretch_serves_every_reader_from_one_read(
    store: EventStore, database: str
) -> None:
    first = await append_some(store, 5)
    await append_other(store)
    conn = await asyncpg.connect(database)
    sent: list[str] = []
    try:
        await init_connection(conn)
        conn.add_query_logger(lambda record: sent.append(record.query))
        feed = SharedFeed()
        start = first[0] - 1
        horizon = await horizon_of(conn)
        await asyncio.sleep(0.05)
        sent.clear()
        everything = await feed.take(conn, start, horizon, 100, topics=None)
        assert everything is not None
        complete, events = everything
        assert complete == horizon and [e.position for e in events][:5] == first
        assert events[0].payload == {"i": 0} and events[0].metadata["tenant"] == "haarlem"
        # Another reader, another part: no statement.
        some = await feed.take(conn, first[1], horizon, 2, topics=["t:Happened"])
        assert some is not None and [e.position for e in some[1]] == first[2:4]
        others = await feed.take(conn, start, horizon, 100, topics=["t:Other"])
        assert others is not None and [e.topic for e in others[1]] == ["t:Other"]
        # As `projection_batch` sends them: without payload or metadata when not asked for.
        bare = await feed.take(conn, start, horizon, 1, topics=None, payload=False, metadata=False)
        assert bare is not None and (bare[1][0].payload, bare[1][0].metadata) == ({}, {})
        unread = await feed.take(conn, start, horizon, 100, topics=None, unread=["t:Happened"])
        assert unread is not None
        assert [(e.payload, e.metadata) for e in unread[1][:5]] == [({}, {})] * 5
        assert unread[1][-1].payload == {"o": 1}
        # A horizon that stepped back: complete up to it only.
        back = await feed.take(conn, start, first[2], 100, topics=None)
        assert back is not None and back[0] == first[2] and len(back[1]) == 3
        await asyncio.sleep(0.05)  # the query logger is called soon after
        assert len(sent) == 1 and feed.reads == 1, sent
        # Behind the stretch: the reader reads its batch itself.
        assert await feed.take(conn, start - 1, horizon, 100, topics=None) is None
        # Moving on: only what is new is read, once.
        later = await append_some(store, 2)
        horizon = await horizon_of(conn)
        await asyncio.sleep(0.05)
        sent.clear()
        news = await feed.take(conn, complete, horizon, 100, topics=None)
        again = await feed.take(conn, complete, horizon, 100, topics=None)
        assert news is not None and [e.position for e in news[1]] == later
        assert again == news and feed.reads == 2
        # Nothing is kept below every reader's checkpoint.
        feed.note("a", later[0])
        await append_some(store, 1)
        assert await feed.take(conn, later[1], await horizon_of(conn), 100, topics=None)
        assert await feed.take(conn, later[0] - 1, horizon, 100, topics=None) is None
    finally:
        await conn.close()


async def test_a_stretch_read_is_joined_and_a_long_one_read_in_parts(
    store: EventStore, database: str
) -> None:
    positions = await append_some(store, 7)
    conns = [await asyncpg.connect(database) for _ in range(3)]
    try:
        for conn in conns:
            await init_connection(conn)
        feed = SharedFeed(read_limit=4)
        horizon = await horizon_of(conns[0])
        start = positions[0] - 1
        feed.note("x", start)
        taken = await asyncio.gather(
            *(feed.take(conn, start, horizon, 100, topics=None) for conn in conns)
        )
        assert feed.reads == 1
        for got in taken:
            assert got is not None and got[0] == positions[3] and len(got[1]) == 4
        rest = await feed.take(conns[0], positions[3], horizon, 100, topics=None)
        assert rest is not None and [e.position for e in rest[1]] == positions[4:]
    finally:
        for conn in conns:
            await conn.close()


async def test_a_batch_from_the_stretch_moves_the_checkpoint_only_from_where_the_leader_left_it(
    store: EventStore, database: str
) -> None:
    await append_some(store, 3)
    conn = await asyncpg.connect(database)
    other = await asyncpg.connect(database)
    try:
        await init_connection(conn)
        feed = SharedFeed()
        generation = await create_generation(conn, ActivityProjection(), state="active")
        assert await try_lead(conn, generation)
        horizon = await horizon_of(conn)
        applied, checkpoint, seen = await step(
            conn, ActivityProjection(), generation, horizon=horizon, feed=feed, checkpoint=0
        )
        assert (applied, checkpoint, seen) == (3, horizon, horizon) and feed.served == 1
        assert await checkpoint_of(conn, generation.schema_name) == horizon
        # Another leader moved it meanwhile: nothing of the batch stays.
        await append_some(store, 2)
        await other.execute(
            "UPDATE checkpoints SET position = position + 1 WHERE name = $1",
            generation.schema_name,
        )
        later = await horizon_of(conn)
        with pytest.raises(LostLeadership, match="moved elsewhere"):
            await step(
                conn,
                ActivityProjection(),
                generation,
                horizon=later,
                feed=feed,
                checkpoint=checkpoint,
            )
        assert not conn.is_in_transaction()
        assert await checkpoint_of(conn, generation.schema_name) == horizon + 1
        # An idle batch from the stretch: the same condition.
        idle = await create_generation(conn, Elsewhere(), state="active")
        assert await try_lead(conn, idle)
        with pytest.raises(LostLeadership, match="moved elsewhere"):
            await step(conn, Elsewhere(), idle, horizon=later, feed=feed, checkpoint=horizon)
        applied, checkpoint, _ = await step(
            conn, Elsewhere(), idle, horizon=later, feed=feed, checkpoint=0
        )
        assert (applied, checkpoint) == (0, later)
        assert await checkpoint_of(conn, idle.schema_name) == later
    finally:
        await other.close()
        await conn.close()


async def test_readers_of_one_runner_share_the_feed_and_each_applies_every_event_once(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    signal = FeedSignal(database, poll_interval=0.2)
    store.local_listeners.append(signal.poke)
    projections = [ActivityProjection(), Seen(), SeenWithoutMetadata(), SeenWithoutEither()]
    for projection in projections[1:]:
        projection.batches.clear()  # type: ignore[attr-defined]
    runner = ProjectionRunner(store, signal, projections, lambda: asyncpg.connect(database))
    stop = asyncio.Event()
    async with signal:
        await runner.prepare()
        task = asyncio.create_task(runner.run(stop))
        last: list[int] = []
        for _ in range(40):
            last = await append_some(store, 2)
            await asyncio.sleep(0.005)
        for projection in projections:
            assert await runner.wait_for(projection.name, last[-1], timeout=10)
        stop.set()
        await task
    assert await total(pool) == 80
    full = [event for batch in Seen.batches for event in batch]
    assert len(full) == 80 and full[0][0] == {"i": 0} and full[0][1]["tenant"] == "haarlem"
    no_metadata = [event for batch in SeenWithoutMetadata.batches for event in batch]
    assert len(no_metadata) == 80 and all(m == {} for _, m in no_metadata)
    neither = [event for batch in SeenWithoutEither.batches for event in batch]
    assert neither == [({}, {})] * 80
    # Most batches came from the shared stretch, read far fewer times than served.
    assert runner.feed.served > runner.feed.reads, (runner.feed.served, runner.feed.reads)
    assert SeenUnread  # (the unread topics: see test_the_stretch_serves_every_reader...)


async def test_idle_checkpoints_move_together_each_on_its_own_condition(database: str) -> None:
    conns = [await asyncpg.connect(database) for _ in range(3)]
    sent: list[str] = []
    try:
        await conns[0].execute(
            "INSERT INTO checkpoints (name, position) VALUES ('a', 5), ('b', 5), ('c', 7)"
        )
        for conn in conns:
            conn.add_query_logger(lambda record: sent.append(record.query))
        feed = SharedFeed()
        moved = await asyncio.gather(
            feed.move(conns[0], "a", 5, 9),
            feed.move(conns[1], "b", 5, 9),
            feed.move(conns[2], "c", 5, 9),  # not where its leader left it
        )
        assert moved == [True, True, False]
        assert feed.move_statements == 1 and feed.moves == 3
        rows = await conns[0].fetch("SELECT name, position FROM checkpoints ORDER BY name")
        assert [tuple(r) for r in rows if r[0] in "abc"] == [("a", 9), ("b", 9), ("c", 7)]
        # The first one's statement fails: the others move their own.
        await conns[0].close()
        moved = await asyncio.gather(
            feed.move(conns[0], "a", 9, 10),
            feed.move(conns[1], "b", 9, 10),
            return_exceptions=True,
        )
        assert isinstance(moved[0], asyncpg.InterfaceError) and moved[1] is True
    finally:
        for conn in conns:
            await conn.close()


async def test_a_reader_at_or_past_the_horizon_reads_nothing(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        feed = SharedFeed()
        assert await feed.take(conn, 10, 8, 100, topics=None) == (8, [])
        assert feed.reads == 0
    finally:
        await conn.close()
