from __future__ import annotations

import uuid

import pytest

from verbinders.errors import StreamConflict
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server

META = Metadata(tenant="haarlem", actor="tester", correlation_id="c-1")


def new(stream: uuid.UUID, version: int, topic: str = "t:Happened", **payload: object) -> NewEvent:
    import msgspec

    return NewEvent(
        stream_id=stream,
        stream_type="Thing",
        version=version,
        topic=topic,
        payload=msgspec.json.encode(payload or {"n": version}),
    )


async def test_appends_and_reads_a_stream(store: EventStore) -> None:
    stream = uuid.uuid4()
    positions = await store.append(
        [new(stream, 1), new(stream, 2)], expected={stream: 0}, metadata=META
    )
    assert len(positions) == 2 and positions[0] < positions[1]
    events = await store.read_stream(stream)
    assert [e.version for e in events] == [1, 2]
    assert events[0].payload == {"n": 1}
    assert events[0].metadata["tenant"] == "haarlem"
    assert events[0].metadata["actor"] == "tester"


async def test_stale_expected_version_fails_whole_append(store: EventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    await store.append([new(a, 1)], expected={a: 0}, metadata=META)
    with pytest.raises(StreamConflict) as caught:
        await store.append([new(b, 1), new(a, 1)], expected={b: 0, a: 0}, metadata=META)
    assert caught.value.stream_id == a
    assert caught.value.expected == 0 and caught.value.actual == 1
    assert await store.read_stream(b) == []
    feed = await store.read_feed(0, 100)
    assert [e.stream_id for e in feed] == [a]
