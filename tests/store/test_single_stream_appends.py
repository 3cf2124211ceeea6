"""Single-stream appends: one statement, no stream lock, the unique index as the referee.

The store's `store` fixture runs every test here twice: on the store's append lane (its own
connections, as the runtime builds it) and through the pool.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import msgspec
import pytest

from tests.store.support import META, new_event
from verbinders.database import init_connection
from verbinders.errors import StreamConflict
from verbinders.store.events import Companion, NewEvent
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server

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


async def test_racing_appends_without_a_connection_let_exactly_one_win(
    store: EventStore,
) -> None:
    """40 appends at one expected version, each on whatever connection the store picks."""
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)

    async def attempt(i: int) -> int | StreamConflict:
        try:
            [position] = await store.append(
                [new_event(stream, 2, racer=i)], expected={stream: 1}, metadata=META
            )
        except StreamConflict as conflict:
            return conflict
        return position

    results = await asyncio.gather(*(attempt(i) for i in range(40)))
    wins = [r for r in results if isinstance(r, int)]
    conflicts = [r for r in results if isinstance(r, StreamConflict)]
    assert len(wins) == 1
    assert len(conflicts) == 39
    assert {(c.expected, c.actual) for c in conflicts} == {(1, 2)}
    assert [e.version for e in await store.read_stream(stream)] == [1, 2]


async def test_an_expected_version_ahead_of_the_stream_is_a_conflict_naming_the_actual_one(
    store: EventStore,
) -> None:
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    for events, expected in (([new_event(stream, 6)], 5), ([new_event(stream, 4)], 3)):
        with pytest.raises(StreamConflict) as raised:
            await store.append(events, expected={stream: expected}, metadata=META)
        assert (raised.value.stream_id, raised.value.expected, raised.value.actual) == (
            stream,
            expected,
            1,
        )
    with pytest.raises(StreamConflict) as raised:
        await store.append(
            [new_event(stream, 6), new_event(stream, 7)], expected={stream: 5}, metadata=META
        )
    assert raised.value.actual == 1
    assert [e.version for e in await store.read_stream(stream)] == [1]


async def test_a_new_stream_that_already_exists_is_a_conflict(store: EventStore) -> None:
    stream = uuid.uuid4()
    await store.append(
        [new_event(stream, 1), new_event(stream, 2)], expected={stream: 0}, metadata=META
    )
    with pytest.raises(StreamConflict) as raised:
        await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    assert (raised.value.expected, raised.value.actual) == (0, 2)


async def test_several_events_of_one_stream_take_ascending_positions_and_one_time(
    store: EventStore,
) -> None:
    stream = uuid.uuid4()
    await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    positions = await store.append(
        [new_event(stream, v) for v in range(2, 12)], expected={stream: 1}, metadata=META
    )
    assert positions == sorted(positions)
    events = await store.read_stream(stream)
    assert [e.version for e in events] == list(range(1, 12))
    assert [e.position for e in events[1:]] == positions
    assert [e.payload for e in events[1:]] == [{"n": v} for v in range(2, 12)]
    assert len({e.recorded_at for e in events[1:]}) == 1
    assert events[0].recorded_at < events[1].recorded_at


async def test_a_single_stream_append_and_a_multi_stream_append_on_the_same_stream(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """The multi-stream append locks its streams, the single-stream one does not: they meet on
    the unique index. The multi-stream append pauses between its rows, the single-stream
    append comes in meanwhile; whichever order they end in, exactly one wins, and the loser
    gets a `StreamConflict` with the winner's version."""
    async with pool.acquire() as conn:
        await conn.execute(PAUSE_BEFORE_INSERT)
    a, b = uuid.uuid4(), uuid.uuid4()

    async def multi() -> list[int]:
        return await store.append(
            [new_event(a, 1, pause=0.3), new_event(b, 1)], expected={a: 0, b: 0}, metadata=META
        )

    async def single() -> list[int]:
        await asyncio.sleep(0.1)
        return await store.append([new_event(b, 1, single=True)], expected={b: 0}, metadata=META)

    first, second = await asyncio.wait_for(
        asyncio.gather(multi(), single(), return_exceptions=True), timeout=5
    )
    # The single append commits while the multi-stream one pauses; the latter then meets its
    # row on the unique index and fails whole.
    assert isinstance(second, list)
    assert isinstance(first, StreamConflict)
    assert (first.stream_id, first.expected, first.actual) == (b, 0, 1)
    assert await store.read_stream(a) == []
    [event] = await store.read_stream(b)
    assert event.payload == {"single": True}


async def test_a_single_stream_append_waits_for_an_open_rival_and_loses_if_it_commits(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = uuid.uuid4()
    async with pool.acquire() as rival, rival.transaction():
        await store.append(
            [new_event(stream, 1, rival=True)],
            expected={stream: 0},
            metadata=META,
            connection=rival,
        )
        waiting = asyncio.create_task(
            store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
        )
        await asyncio.sleep(0.2)
        assert not waiting.done()  # waits on the unique index for the rival's outcome
    with pytest.raises(StreamConflict) as raised:
        await waiting
    assert raised.value.actual == 1
    [event] = await store.read_stream(stream)
    assert event.payload == {"rival": True}


async def test_a_single_stream_append_waits_for_an_open_rival_and_wins_if_it_rolls_back(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = uuid.uuid4()
    async with pool.acquire() as rival:
        transaction = rival.transaction()
        await transaction.start()
        await store.append(
            [new_event(stream, 1, rival=True)],
            expected={stream: 0},
            metadata=META,
            connection=rival,
        )
        waiting = asyncio.create_task(
            store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
        )
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await transaction.rollback()
    [position] = await waiting
    [event] = await store.read_stream(stream)
    assert (event.position, event.payload) == (position, {"n": 1})


async def test_the_lane_replaces_a_connection_the_server_ended(
    database: str, pool: asyncpg.Pool
) -> None:
    connections: list[asyncpg.Connection] = []

    async def connect() -> asyncpg.Connection:
        conn = await asyncpg.connect(database)
        await init_connection(conn)
        connections.append(conn)
        return conn

    store = EventStore(pool, connect=connect, append_connections=2)
    stream = uuid.uuid4()
    try:
        await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
        assert len(connections) == 1
        async with pool.acquire() as admin:
            await admin.execute("SELECT pg_terminate_backend($1)", connections[0].get_server_pid())
        await asyncio.sleep(0.1)
        with pytest.raises((asyncpg.InterfaceError, asyncpg.PostgresError, OSError)):
            await store.append([new_event(stream, 2)], expected={stream: 1}, metadata=META)
        # The broken connection was dropped; the next append opens a new one.
        await store.append([new_event(stream, 2)], expected={stream: 1}, metadata=META)
        assert len(connections) == 2
        assert [e.version for e in await store.read_stream(stream)] == [1, 2]
    finally:
        await store.close()
    assert all(conn.is_closed() for conn in connections)


SIDE_TABLE = "CREATE TABLE side (n integer PRIMARY KEY)"
SIDE_INSERT = "INSERT INTO side (n) SELECT $1 WHERE EXISTS (SELECT FROM appended)"


@pytest.mark.parametrize("shape", ["one event", "several events", "several streams"])
async def test_a_companion_write_commits_with_its_append_and_only_with_it(
    store: EventStore, pool: asyncpg.Pool, shape: str
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(SIDE_TABLE)
    stream, other = uuid.uuid4(), uuid.uuid4()

    def batch(version: int) -> tuple[list[NewEvent], dict[uuid.UUID, int]]:
        if shape == "one event":
            return [new_event(stream, version)], {stream: version - 1}
        if shape == "several events":
            return [new_event(stream, version), new_event(stream, version + 1)], {
                stream: version - 1
            }
        return [new_event(stream, version), new_event(other, version)], {
            stream: version - 1,
            other: version - 1,
        }

    events, expected = batch(1)
    positions = await store.append(
        events, expected=expected, metadata=META, also=Companion(SIDE_INSERT, (1,))
    )
    assert positions == sorted(positions) and len(positions) == len(events)
    assert [e.position for e in await store.read_stream(stream)] == [
        p for p, e in zip(positions, events, strict=True) if e.stream_id == stream
    ]
    events, expected = batch(1)  # stale: the streams are past version 1
    with pytest.raises(StreamConflict):
        await store.append(
            events, expected=expected, metadata=META, also=Companion(SIDE_INSERT, (2,))
        )
    ahead = {key: value + 5 for key, value in expected.items()}
    ahead_events = [
        msgspec.structs.replace(e, version=e.version + 5) for e in events
    ]  # ahead of the streams: inserts nothing
    with pytest.raises(StreamConflict):
        await store.append(
            ahead_events, expected=ahead, metadata=META, also=Companion(SIDE_INSERT, (3,))
        )
    async with pool.acquire() as conn:
        assert await conn.fetch("SELECT n FROM side") == [(1,)]


async def test_a_companion_write_must_depend_on_the_append(store: EventStore) -> None:
    stream = uuid.uuid4()
    with pytest.raises(ValueError, match="appended"):
        await store.append(
            [new_event(stream, 1)],
            expected={stream: 0},
            metadata=META,
            also=Companion("INSERT INTO side (n) VALUES ($1)", (1,)),
        )
    assert await store.read_stream(stream) == []
