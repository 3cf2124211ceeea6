"""A thin synchronous adapter that holds the store to the `eventsourcing` recorder contracts.

It runs an asyncio loop in a background thread and forwards each call to the store's own
paths, as the product uses them:
- appends: `EventStore.append` on a store with its append lane (a single stream: the
  one-statement append; several streams: `append_events`); a conflict becomes the library's
  `IntegrityError`;
- stream reads: `EventStore.read_stream` with its version bounds;
- notifications: `EventStore.read_feed` (the feed's horizon, topics, `until_position`) and
  `EventStore.last_position`; notification ids are the store's positions;
- subscriptions: the store's `subscribe()` woken by a `FeedSignal` (LISTEN/NOTIFY and local
  pokes), as subscribers in the product are;
- tracking records: checkpoints, read through `projection_batch()` and moved through
  `move_checkpoint()`, the functions the projection engine uses.

What the adapter itself must map, and why:
- `StoredEvent.state` is opaque bytes in the library; the store keeps JSON payloads, so the
  adapter stores `{"state": <base64>, "v": <library version>}`.
- The store numbers every stream's versions 1, 2, ... and checks an expected version; the
  library lets a stream start at 0 or 1 (its tests use both). The adapter shifts a stream that
  starts at 0 by one (its first event's payload says where it started), so the store's own
  version check and unique index referee the library's inserts.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Coroutine, Sequence
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
from verbinders.database import connect, open_pool
from verbinders.errors import InvalidCommand, StreamConflict
from verbinders.store.events import Metadata, NewEvent, RecordedEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal, subscribe

T = TypeVar("T")

META = Metadata(tenant="contract", actor="eventsourcing-contract-tests")
SETTINGS = Settings()


class LoopThread:
    def __init__(self) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.submit(coroutine).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class StoreRecorder(ApplicationRecorder, TrackingRecorder):
    def __init__(self, dsn: str) -> None:
        self.runner = LoopThread()
        self.pool: asyncpg.Pool = self.runner.run(open_pool(dsn, SETTINGS, min_size=1, max_size=12))

        async def lane_connection() -> asyncpg.Connection:
            return await connect(dsn, SETTINGS)

        self.store = EventStore(self.pool, connect=lane_connection, append_connections=8)
        self.signal = FeedSignal(dsn, poll_interval=0.2)
        self.store.local_listeners.append(self.signal.poke)
        self.runner.run(self.signal.start())

    def close(self) -> None:
        self.runner.run(self.signal.stop())
        self.runner.run(self.store.close())
        self.runner.run(self.pool.close())
        self.runner.close()

    # -- events ------------------------------------------------------------------------------

    async def _shift(self, stream: UUID, first_version: int) -> int:
        """Library version minus store version for `stream` (0 or 1; see the module's notes)."""
        first = await self.store.read_stream(stream, to_version=1)
        start = first[0].payload["v"] if first else first_version
        return 1 if start == 0 else 0

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        if not stored_events:
            return None  # type: ignore[return-value]  # the library's contract says None
        return self.runner.run(self._insert(stored_events))

    async def _insert(self, stored_events: Sequence[StoredEvent]) -> list[int]:
        by_stream: dict[UUID, list[int]] = defaultdict(list)
        for stored in stored_events:
            by_stream[UUID(str(stored.originator_id))].append(stored.originator_version)
        shift = {s: await self._shift(s, min(v)) for s, v in by_stream.items()}
        expected = {s: min(v) + shift[s] - 1 for s, v in by_stream.items()}
        if any(version < 0 for version in expected.values()):
            raise IntegrityError("a version below the stream's first one")
        new_events = [
            NewEvent(
                stream_id=UUID(str(e.originator_id)),
                stream_type="ContractStream",
                version=e.originator_version + shift[UUID(str(e.originator_id))],
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
        except InvalidCommand as invalid:  # versions that do not follow each other
            raise IntegrityError(str(invalid)) from invalid

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        async def select() -> list[RecordedEvent]:
            stream = UUID(str(originator_id))
            shift = await self._shift(stream, 1)
            return await self.store.read_stream(
                stream,
                after_version=max(0, gt + shift) if gt is not None else 0,
                to_version=lte + shift if lte is not None else None,
            )

        events = [_stored(e) for e in self.runner.run(select())]
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
        after = 0 if start is None else (start - 1 if inclusive_of_start else start)
        events = self.runner.run(
            self.store.read_feed(
                max(after, 0), limit, topics=list(topics) or None, until_position=stop
            )
        )
        return [_notification(e) for e in events]

    def max_notification_id(self) -> int | None:
        return self.runner.run(self.store.last_position(tenant=META.tenant)) or None

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return StoreSubscription(self, gt=gt, topics=topics)

    # -- tracking ----------------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        async def insert() -> None:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO checkpoints (name, position) VALUES ($1, 0)"
                    " ON CONFLICT DO NOTHING",
                    tracking.application_name,
                )
                current = await _checkpoint(conn, tracking.application_name)
                if current is None or tracking.notification_id <= current:
                    raise IntegrityError(
                        f"{tracking.application_name} has already tracked {current}"
                    )
                try:
                    await conn.execute(
                        "SELECT move_checkpoint($1, $2, $3)",
                        tracking.application_name,
                        current,
                        tracking.notification_id,
                    )
                except asyncpg.PostgresError as error:  # VB001: another tracker moved it
                    raise IntegrityError(str(error)) from error

        self.runner.run(insert())

    def max_tracking_id(self, application_name: str) -> int | None:
        async def query() -> int | None:
            async with self.pool.acquire() as conn:
                return await _checkpoint(conn, application_name)

        return self.runner.run(query())


async def _checkpoint(conn: Any, name: str) -> int | None:
    """The checkpoint of `name` as the projection engine reads it (`projection_batch`)."""
    value = await conn.fetchval(
        "SELECT ev_checkpoint FROM projection_batch($1, 0, NULL, NULL, NULL, false, false)", name
    )
    return None if value is None else int(value)


def _stored(event: RecordedEvent) -> StoredEvent:
    return StoredEvent(
        originator_id=event.stream_id,
        originator_version=event.payload["v"],
        topic=event.topic,
        state=base64.b64decode(event.payload["state"]),
    )


def _notification(event: RecordedEvent) -> Notification:
    return Notification(
        id=event.position,
        originator_id=event.stream_id,
        originator_version=event.payload["v"],
        topic=event.topic,
        state=base64.b64decode(event.payload["state"]),
    )


class StoreSubscription(Subscription[ApplicationRecorder]):
    """The store's `subscribe()` (woken by the recorder's `FeedSignal`), iterated from a
    synchronous caller: each batch is awaited on the recorder's loop, in short waits so that
    `stop()` from the iterating thread ends the iteration."""

    def __init__(
        self, recorder: StoreRecorder, gt: int | None = None, topics: Sequence[str] = ()
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._store_recorder = recorder
        self._batches: AsyncIterator[list[RecordedEvent]] = subscribe(
            recorder.store, recorder.signal, after=gt or 0, topics=list(topics) or None
        )
        self._buffer: deque[Notification] = deque()
        self._pending: concurrent.futures.Future[list[RecordedEvent]] | None = None

    def __next__(self) -> Notification:
        while not self._buffer:
            if self._has_been_stopped:
                raise StopIteration
            if self._pending is None:
                self._pending = self._store_recorder.runner.submit(_next_batch(self._batches))
            try:
                batch = self._pending.result(timeout=0.05)
            except concurrent.futures.TimeoutError:
                continue
            self._pending = None
            self._buffer.extend(_notification(e) for e in batch)
        if self._has_been_stopped:
            raise StopIteration
        notification = self._buffer.popleft()
        self._last_notification_id = notification.id
        return notification

    def stop(self) -> None:
        super().stop()
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._store_recorder.runner.submit(_close(self._batches))


async def _next_batch(batches: AsyncIterator[list[RecordedEvent]]) -> list[RecordedEvent]:
    return await anext(batches)


async def _close(batches: AsyncIterator[list[RecordedEvent]]) -> None:
    """End the store's subscription (once a cancelled read has unwound)."""
    for _ in range(100):
        try:
            await batches.aclose()  # type: ignore[attr-defined]
            return
        except RuntimeError:  # still running: the cancelled read has not unwound yet
            await asyncio.sleep(0.01)
