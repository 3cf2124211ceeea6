"""An append that also requires streams it does not write to be unchanged (`unchanged`): the
aggregate cache lets a command use aggregates without reading them, and the append is then
where their versions are checked (see step 6 in application/unit_of_work.py).

The `store` fixture runs every test on the store's append lane and through the pool.
"""

from __future__ import annotations

import uuid

import pytest

from tests.store.support import META, new_event
from verbinders.errors import StaleRead, StreamConflict
from verbinders.store.events import Companion
from verbinders.store.eventstore import EventStore


async def two_streams(store: EventStore) -> tuple[uuid.UUID, uuid.UUID]:
    written, used = uuid.uuid4(), uuid.uuid4()
    await store.append([new_event(written, 1)], expected={written: 0}, metadata=META)
    for version in (1, 2):
        await store.append([new_event(used, version)], expected={used: version - 1}, metadata=META)
    return written, used


async def test_an_append_passes_while_the_used_stream_is_at_its_version(
    store: EventStore,
) -> None:
    written, used = await two_streams(store)
    [position] = await store.append(
        [new_event(written, 2)], expected={written: 1}, metadata=META, unchanged={used: 2}
    )
    assert position > 0
    assert [e.version for e in await store.read_stream(written)] == [1, 2]


async def test_an_append_is_refused_when_a_used_stream_moved_on(store: EventStore) -> None:
    written, used = await two_streams(store)
    with pytest.raises(StaleRead) as refused:
        await store.append(
            [new_event(written, 2)], expected={written: 1}, metadata=META, unchanged={used: 1}
        )
    assert (refused.value.stream_id, refused.value.expected, refused.value.actual) == (used, 1, 2)
    assert isinstance(refused.value, StreamConflict)  # a conflict, to every caller
    assert [e.version for e in await store.read_stream(written)] == [1]  # nothing written


async def test_a_stale_written_stream_is_still_its_own_conflict(store: EventStore) -> None:
    written, used = await two_streams(store)
    with pytest.raises(StreamConflict) as refused:
        await store.append(
            [new_event(written, 1)], expected={written: 0}, metadata=META, unchanged={used: 2}
        )
    assert not isinstance(refused.value, StaleRead)
    assert refused.value.stream_id == written


@pytest.mark.parametrize("shape", ["several events", "several streams", "companion"])
async def test_appends_of_several_events_or_streams_or_with_a_companion_are_checked(
    store: EventStore, shape: str
) -> None:
    written, used = await two_streams(store)
    other = uuid.uuid4()
    events = [new_event(written, 2)]
    expected = {written: 1}
    also = None
    if shape == "several events":
        events.append(new_event(written, 3))
    elif shape == "several streams":
        events.append(new_event(other, 1))
        expected[other] = 0
    else:
        async with store.pool.acquire() as conn:
            await conn.execute("CREATE TABLE beside (position bigint)")
        also = Companion("INSERT INTO beside SELECT position FROM appended", ())
    with pytest.raises(StaleRead):
        await store.append(events, expected=expected, metadata=META, unchanged={used: 1}, also=also)
    assert [e.version for e in await store.read_stream(written)] == [1]
    positions = await store.append(
        events, expected=expected, metadata=META, unchanged={used: 2}, also=also
    )
    assert len(positions) == len(events)


async def test_an_append_in_a_transaction_checks_them_too(store: EventStore) -> None:
    written, used = await two_streams(store)
    async with store.transaction() as conn:
        with pytest.raises(StaleRead):
            await store.append(
                [new_event(written, 2)],
                expected={written: 1},
                metadata=META,
                connection=conn,
                unchanged={used: 0},
            )
        await store.append(
            [new_event(written, 2)],
            expected={written: 1},
            metadata=META,
            connection=conn,
            unchanged={used: 2},
        )
    assert [e.version for e in await store.read_stream(written)] == [1, 2]
    await store.check_unchanged({used: 2, written: 2})
    with pytest.raises(StaleRead):
        await store.check_unchanged({used: 2, written: 1})


async def test_one_event_with_a_companion_is_checked_in_its_own_statement(
    store: EventStore,
) -> None:
    written, used = await two_streams(store)
    async with store.pool.acquire() as conn:
        await conn.execute("CREATE TABLE beside_one (position bigint)")
    also = Companion("INSERT INTO beside_one SELECT position FROM appended", ())
    with pytest.raises(StaleRead):
        await store.append(
            [new_event(written, 2)],
            expected={written: 1},
            metadata=META,
            unchanged={used: 1},
            also=also,
        )
    [position] = await store.append(
        [new_event(written, 2)],
        expected={written: 1},
        metadata=META,
        unchanged={used: 2},
        also=also,
    )
    async with store.pool.acquire() as conn:
        assert await conn.fetchval("SELECT array_agg(position) FROM beside_one") == [position]
