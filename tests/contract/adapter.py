"""A thin synchronous adapter that holds the store to the `eventsourcing` recorder contracts.

It runs an asyncio loop in a background thread and forwards each call to `EventStore`.

Mapping, and why:
- `StoredEvent.state` is opaque bytes in the library; the store keeps JSON payloads, so the
  adapter stores `{"state": <base64>, "v": <library version>}`.
- The store keeps every stream's versions gapless from 1 and checks an expected version; the
  library only asks that (originator, version) be unique and lets a stream start anywhere
  (its tests start at 0 or 1). The adapter numbers a stream's events 1, 2, ... in the store,
  keeps the library's own version in the payload (`v`), and maps back on reading. A stream's
  offset (library version minus store version) is fixed by its first insert and read back from
  its last stored event; the expected version of an insert is then
  `min(originator_version) - 1 - offset`. Inserting a version that exists conflicts in the
  store and is reported as the library's `IntegrityError`; so is a gap in the library's
  versions, which the library itself would accept but its aggregates never produce and its
  contract tests never insert.
- Notification ids are the store's global positions; tracking records are the store's
  checkpoints (which only move forwards).
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import msgspec
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Notification,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)

from verbinders.config import Settings
from verbinders.database import open_pool
from verbinders.errors import InvalidCommand, StreamConflict
from verbinders.store.events import Metadata, NewEvent, RecordedEvent
from verbinders.store.eventstore import EventStore

T = TypeVar("T")

META = Metadata(tenant="contract", actor="eventsourcing-contract-tests")


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class StoreRecorder(ApplicationRecorder, TrackingRecorder):
    def __init__(self, dsn: str) -> None:
        self.runner = LoopThread()
        self.pool: asyncpg.Pool = self.runner.run(
            open_pool(dsn, Settings(), min_size=1, max_size=12)
        )
        self.store = EventStore(self.pool)

    def close(self) -> None:
        self.runner.run(self.store.close())
        self.runner.run(self.pool.close())
        self.runner.close()

    # -- events ------------------------------------------------------------------------------

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        if not stored_events:
            return None  # type: ignore[return-value]  # the library's contract says None
        return self.runner.run(self._insert(stored_events))

    async def _insert(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        by_stream: dict[UUID, list[StoredEvent]] = defaultdict(list)
        for stored in stored_events:
            by_stream[UUID(str(stored.originator_id))].append(stored)
        expected: dict[UUID, int] = {}
        offsets: dict[UUID, int] = {}
        for stream, events in by_stream.items():
            first = min(e.originator_version for e in events)
            current = await self.store.stream_version(stream)
            if current == 0:
                offsets[stream] = first - 1  # the library's first version becomes version 1
            else:
                [last] = await self.store.read_stream(stream, after_version=current - 1)
                offsets[stream] = last.payload["v"] - last.version
            expected[stream] = first - 1 - offsets[stream]
            if expected[stream] < 0:
                raise IntegrityError(f"version {first} of {stream} already exists")
        new_events = [
            NewEvent(
                stream_id=UUID(str(e.originator_id)),
                stream_type="ContractStream",
                version=e.originator_version - offsets[UUID(str(e.originator_id))],
                topic=e.topic,
                payload=msgspec.json.encode(
                    {"state": base64.b64encode(e.state).decode(), "v": e.originator_version}
                ),
            )
            for e in stored_events
        ]
        try:
            return await self.store.append(new_events, expected=expected, metadata=META)
        except StreamConflict as conflict:  # the version exists (or another writer won)
            raise IntegrityError(str(conflict)) from conflict
        except InvalidCommand as invalid:  # a gap in the library's versions: see above
            raise IntegrityError(str(invalid)) from invalid

    @staticmethod
    def _stored(event: RecordedEvent) -> StoredEvent:
        return StoredEvent(
            originator_id=event.stream_id,
            originator_version=event.payload["v"],
            topic=event.topic,
            state=base64.b64decode(event.payload["state"]),
        )

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        events = [
            self._stored(e)
            for e in self.runner.run(self.store.read_stream(UUID(str(originator_id))))
        ]
        if gt is not None:
            events = [e for e in events if e.originator_version > gt]
        if lte is not None:
            events = [e for e in events if e.originator_version <= lte]
        if desc:
            events.reverse()
        return events[:limit] if limit is not None else events

    # -- notifications -----------------------------------------------------------------------

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[Notification]:
        if start is None:
            after = 0
        else:
            after = start - 1 if inclusive_of_start else start
        events = self.runner.run(
            self.store.read_feed(
                max(after, 0), limit, topics=list(topics) or None, until_position=stop
            )
        )
        return [
            Notification(
                id=e.position,
                originator_id=e.stream_id,
                originator_version=e.payload["v"],
                topic=e.topic,
                state=base64.b64decode(e.payload["state"]),
            )
            for e in events
        ]

    def max_notification_id(self) -> int | None:
        async def query() -> int | None:
            async with self.pool.acquire() as conn:
                value = await conn.fetchval(
                    "SELECT max(position) FROM events WHERE position <= feed_horizon()"
                )
            return None if value is None else int(value)

        return self.runner.run(query())

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return PollingSubscription(self, gt=gt, topics=topics)

    # -- tracking ----------------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        async def insert() -> str:
            async with self.pool.acquire() as conn:
                return await conn.execute(
                    "INSERT INTO checkpoints AS c (name, position) VALUES ($1, $2)"
                    " ON CONFLICT (name) DO UPDATE SET position = excluded.position"
                    " WHERE c.position < excluded.position",
                    tracking.application_name,
                    tracking.notification_id,
                )

        if self.runner.run(insert()) != "INSERT 0 1":
            raise IntegrityError(
                f"{tracking.application_name} has already tracked {tracking.notification_id}"
            )

    def max_tracking_id(self, application_name: str) -> int | None:
        async def query() -> int | None:
            async with self.pool.acquire() as conn:
                value = await conn.fetchval(
                    "SELECT position FROM checkpoints WHERE name = $1", application_name
                )
            return None if value is None else int(value)

        return self.runner.run(query())


class PollingSubscription(Subscription[ApplicationRecorder]):
    """Follows the feed by polling; the store's own subscribers also wake on NOTIFY."""

    def __init__(
        self, recorder: StoreRecorder, gt: int | None = None, topics: Sequence[str] = ()
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._buffer: list[Notification] = []

    def __next__(self) -> Notification:
        while not self._buffer:
            if self._has_been_stopped:
                raise StopIteration
            self._buffer = list(
                self._recorder.select_notifications(
                    start=self._last_notification_id or 0,
                    limit=100,
                    topics=self._topics,
                    inclusive_of_start=False,
                )
            )
            if not self._buffer:
                time.sleep(0.01)
        if self._has_been_stopped:
            raise StopIteration
        notification = self._buffer.pop(0)
        self._last_notification_id = notification.id
        return notification
