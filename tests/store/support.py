"""Small helpers shared by the store's tests."""

from __future__ import annotations

import uuid

import msgspec

from verbinders.store.events import Metadata, NewEvent

META = Metadata(tenant="haarlem", actor="tester", correlation_id="c-1")
TOPIC = "tests:Thing.Happened"


def new_event(
    stream: uuid.UUID, version: int, *, topic: str = TOPIC, **payload: object
) -> NewEvent:
    """An event of a `Thing` stream; its payload defaults to `{"n": version}`."""
    return NewEvent(
        stream_id=stream,
        stream_type="Thing",
        version=version,
        topic=topic,
        payload=msgspec.json.encode(payload or {"n": version}),
    )


class Rollback(Exception):
    """Raised inside a transaction to roll it back on purpose."""
