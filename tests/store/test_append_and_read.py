"""Appending and reading: atomic appends, conflicts, the append-only table, streams and feed."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.store.support import META, TOPIC, Rollback, new_event
from verbinders.errors import InvalidCommand, StreamConflict
from verbinders.store.events import Metadata
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server


async def test_appends_and_reads_a_stream(store: EventStore) -> None:
    stream = uuid.uuid4()
    positions = await store.append(
        [new_event(stream, 1), new_event(stream, 2)], expected={stream: 0}, metadata=META
    )
    assert len(positions) == 2 and positions[0] < positions[1]
    events = await store.read_stream(stream)
    assert [e.version for e in events] == [1, 2]
    assert [e.position for e in events] == positions
    assert events[0].payload == {"n": 1}
    assert events[0].stream_type == "Thing" and events[0].topic == TOPIC
    assert await store.stream_version(stream) == 2


async def test_every_event_carries_the_metadata_of_its_append(store: EventStore) -> None:
    stream = uuid.uuid4()
    metadata = Metadata(
        tenant="zaanstad",
        actor="org-42",
        roles=("organisation",),
        correlation_id="corr-1",
        causation_id="cause-1",
        idempotency_key="idem-1",
    )
    await store.append(
        [new_event(stream, 1), new_event(stream, 2)], expected={stream: 0}, metadata=metadata
    )
    for recorded in await store.read_stream(stream):
        assert recorded.tenant == "zaanstad"
        assert recorded.metadata == {
            "tenant": "zaanstad",
            "actor": "org-42",
            "roles": ["organisation"],
            "correlation_id": "corr-1",
            "causation_id": "cause-1",
            "idempotency_key": "idem-1",
        }


async def test_appends_events_of_several_streams_in_one_atomic_append(store: EventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    await store.append([new_event(b, 1)], expected={b: 0}, metadata=META)
    batch = [new_event(a, 1), new_event(b, 2), new_event(a, 2)]
    positions = await store.append(batch, expected={a: 0, b: 1}, metadata=META)
    assert positions == sorted(positions)
    feed = await store.read_feed(0, 10)
    assert [(e.stream_id, e.version) for e in feed] == [(b, 1), (a, 1), (b, 2), (a, 2)]
    assert [e.position for e in feed[1:]] == positions
    # One append, one moment: a reader as of any time sees all of it or none of it.
    assert len({e.recorded_at for e in feed[1:]}) == 1


async def test_a_stale_expected_version_fails_the_whole_append_and_leaves_nothing_visible(
    store: EventStore,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    [first] = await store.append([new_event(a, 1)], expected={a: 0}, metadata=META)
    with pytest.raises(StreamConflict) as caught:
        await store.append(
            [new_event(b, 1), new_event(a, 1), new_event(b, 2)],
            expected={b: 0, a: 0},
            metadata=META,
        )
    conflict = caught.value
    assert (conflict.stream_id, conflict.expected, conflict.actual) == (a, 0, 1)
    assert str(a) in str(conflict) and "version 1" in str(conflict)
    assert conflict.details == {"stream_id": str(a), "expected_version": 0, "actual_version": 1}
    assert await store.read_stream(b) == []
    assert [e.position for e in await store.read_feed(0, 100)] == [first]
    # The failed append holds nothing back: the next one is readable at once.
    [later] = await store.append([new_event(b, 1)], expected={b: 0}, metadata=META)
    assert [e.position for e in await store.read_feed(0, 100)] == [first, later]


async def test_a_conflict_inside_a_transaction_undoes_its_earlier_appends(
    store: EventStore,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    await store.append([new_event(a, 1)], expected={a: 0}, metadata=META)
    with pytest.raises(StreamConflict):
        async with store.transaction() as conn:
            await store.append([new_event(b, 1)], expected={b: 0}, metadata=META, connection=conn)
            await store.append([new_event(a, 1)], expected={a: 0}, metadata=META, connection=conn)
    assert await store.read_stream(b) == []
    assert [e.stream_id for e in await store.read_feed(0, 10)] == [a]


async def test_refuses_a_batch_whose_versions_do_not_follow_the_expected_ones(
    store: EventStore,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(InvalidCommand) as gap:
        await store.append([new_event(a, 1), new_event(a, 3)], expected={a: 0}, metadata=META)
    assert gap.value.field == "version"
    with pytest.raises(InvalidCommand) as missing:
        await store.append([new_event(a, 1), new_event(b, 1)], expected={a: 0}, metadata=META)
    assert missing.value.field == "expected"
    assert await store.read_feed(0, 10) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET payload = '{\"n\": 99}'",
        "UPDATE events SET tenant = 'elsewhere' WHERE version = 2",
        "DELETE FROM events",
        "DELETE FROM events WHERE version = 1",
        "TRUNCATE events",
    ],
)
async def test_events_can_never_be_changed_or_removed(
    store: EventStore, pool: asyncpg.Pool, statement: str
) -> None:
    stream = uuid.uuid4()
    await store.append(
        [new_event(stream, 1), new_event(stream, 2)], expected={stream: 0}, metadata=META
    )
    before = await store.read_stream(stream)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.PostgresError, match="append-only") as refused:
            await conn.execute(statement)
    assert refused.value.sqlstate == "VB403"
    assert await store.read_stream(stream) == before


async def test_reads_a_stream_after_and_up_to_a_version(store: EventStore) -> None:
    stream = uuid.uuid4()
    await store.append(
        [new_event(stream, v) for v in range(1, 6)], expected={stream: 0}, metadata=META
    )
    assert [e.version for e in await store.read_stream(stream, to_version=3)] == [1, 2, 3]
    assert [e.version for e in await store.read_stream(stream, after_version=3)] == [4, 5]
    window = await store.read_stream(stream, after_version=1, to_version=4)
    assert [e.version for e in window] == [2, 3, 4]
    assert await store.read_stream(stream, to_version=0) == []
    assert await store.read_stream(uuid.uuid4()) == []


async def test_reads_a_stream_as_it_stood_at_a_moment(store: EventStore) -> None:
    stream = uuid.uuid4()
    for version in (1, 2, 3):
        await store.append(
            [new_event(stream, version)], expected={stream: version - 1}, metadata=META
        )
        await asyncio.sleep(0.005)
    events = await store.read_stream(stream)
    for recorded in events:
        as_of = await store.read_stream(stream, as_of=recorded.recorded_at)
        assert [e.version for e in as_of] == list(range(1, recorded.version + 1))
    assert await store.read_stream(stream, as_of=events[0].recorded_at.replace(year=2000)) == []


async def test_a_stream_as_of_a_moment_never_shows_a_version_without_its_predecessors(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """An append whose transaction began before its predecessor's is still recorded after it."""
    stream = uuid.uuid4()
    early = await pool.acquire()
    try:
        async with early.transaction():
            await early.execute("SELECT 1")  # the transaction (and its now()) has begun
            await asyncio.sleep(0.02)
            await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
            await store.append(
                [new_event(stream, 2)], expected={stream: 1}, metadata=META, connection=early
            )
    finally:
        await pool.release(early)
    events = await store.read_stream(stream)
    assert [e.version for e in events] == [1, 2]
    assert events[0].recorded_at <= events[1].recorded_at
    for recorded in events:
        as_of = await store.read_stream(stream, as_of=recorded.recorded_at)
        assert [e.version for e in as_of] == list(range(1, recorded.version + 1))


async def test_reads_a_stream_only_within_its_tenant(store: EventStore) -> None:
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    assert len(await store.read_stream(stream, tenant="haarlem")) == 1
    assert await store.read_stream(stream, tenant="zaanstad") == []


async def test_reads_the_feed_after_a_position_filtered_by_tenant_topics_and_until(
    store: EventStore,
) -> None:
    zaanstad = Metadata(tenant="zaanstad")
    rows: list[tuple[int, str, str]] = []
    for i in range(12):
        stream = uuid.uuid4()
        tenant_meta = META if i % 2 == 0 else zaanstad
        topic = ("tests:Founded", "tests:Joined", "tests:Left")[i % 3]
        [position] = await store.append(
            [new_event(stream, 1, topic=topic)], expected={stream: 0}, metadata=tenant_meta
        )
        rows.append((position, tenant_meta.tenant, topic))

    def positions(tenant: str | None = None, topics: set[str] | None = None) -> list[int]:
        return [
            p
            for p, t, topic in rows
            if (tenant is None or t == tenant) and (topics is None or topic in topics)
        ]

    everything = await store.read_feed(0, 100)
    assert [e.position for e in everything] == positions()
    assert [e.position for e in await store.read_feed(0, 5)] == positions()[:5]
    after = rows[4][0]
    assert [e.position for e in await store.read_feed(after, 100)] == positions()[5:]

    by_tenant = await store.read_feed(0, 100, tenant="zaanstad")
    assert [e.position for e in by_tenant] == positions(tenant="zaanstad")
    assert {e.tenant for e in by_tenant} == {"zaanstad"}

    joined_or_left = await store.read_feed(0, 100, topics=["tests:Joined", "tests:Left"])
    assert [e.position for e in joined_or_left] == positions(topics={"tests:Joined", "tests:Left"})
    both = await store.read_feed(0, 100, tenant="haarlem", topics=["tests:Founded"])
    assert [e.position for e in both] == positions(tenant="haarlem", topics={"tests:Founded"})
    assert await store.read_feed(0, 100, topics=["tests:Unknown"]) == []
    assert await store.read_feed(0, 100, tenant="amsterdam") == []

    until = rows[6][0]
    assert [e.position for e in await store.read_feed(0, 100, until_position=until)] == [
        p for p in positions() if p <= until
    ]
    filtered_until = await store.read_feed(
        0, 100, tenant="haarlem", topics=["tests:Founded", "tests:Left"], until_position=until
    )
    assert [e.position for e in filtered_until] == [
        p for p in positions(tenant="haarlem", topics={"tests:Founded", "tests:Left"}) if p <= until
    ]
    assert await store.last_position() == rows[-1][0]
    assert await store.last_position(tenant="zaanstad") == positions(tenant="zaanstad")[-1]


async def test_iterates_the_feed_in_batches(store: EventStore) -> None:
    streams = [uuid.uuid4() for _ in range(10)]
    positions = []
    for i, stream in enumerate(streams):
        topic = "tests:Even" if i % 2 == 0 else "tests:Odd"
        positions += await store.append(
            [new_event(stream, 1, topic=topic)], expected={stream: 0}, metadata=META
        )

    batches = [batch async for batch in store.iter_feed(batch_size=3)]
    assert [len(batch) for batch in batches] == [3, 3, 3, 1]
    assert [e.position for batch in batches for e in batch] == positions

    after_two = [e.position async for batch in store.iter_feed(positions[1]) for e in batch]
    assert after_two == positions[2:]

    even = [batch async for batch in store.iter_feed(batch_size=2, topics=["tests:Even"])]
    assert [len(batch) for batch in even] == [2, 2, 1]
    assert [e.position for batch in even for e in batch] == positions[0::2]

    until = [
        e.position
        async for b in store.iter_feed(batch_size=4, until_position=positions[5])
        for e in b
    ]
    assert until == positions[:6]


async def test_iterates_the_feed_up_to_a_moment(store: EventStore) -> None:
    early = [uuid.uuid4() for _ in range(5)]
    for stream in early:
        await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    [last_early] = await store.read_stream(early[-1])
    await asyncio.sleep(0.01)
    for stream in early[:3]:
        await store.append([new_event(stream, 2)], expected={stream: 1}, metadata=META)

    seen = [
        (e.stream_id, e.version)
        async for batch in store.iter_feed(batch_size=2, until_time=last_early.recorded_at)
        for e in batch
    ]
    assert seen == [(stream, 1) for stream in early]
    everything = [e async for batch in store.iter_feed(batch_size=2) for e in batch]
    assert len(everything) == 8


async def test_feed_status_shows_a_clear_horizon_when_no_append_is_in_flight(
    store: EventStore,
) -> None:
    status = await store.feed_status()
    assert (status.horizon, status.allocated, status.held_by_pid) == (0, 0, None)
    stream = uuid.uuid4()
    positions = await store.append(
        [new_event(stream, 1), new_event(stream, 2)], expected={stream: 0}, metadata=META
    )
    with pytest.raises(Rollback):
        async with store.transaction() as conn:
            await store.append(
                [new_event(stream, 3)], expected={stream: 2}, metadata=META, connection=conn
            )
            raise Rollback
    status = await store.feed_status()
    assert status.held_by_pid is None and status.held_since is None
    assert status.allocated == positions[-1] + 1  # the rolled-back append used a position
    assert status.horizon == status.allocated
