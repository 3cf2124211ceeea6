"""Subscribers wake on LISTEN/NOTIFY and poll as the safety net: a lost notification, a lost
listening connection or a poke that arrives mid-read only ever delays them, by at most about
the poll interval."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import pytest

from tests.projections.ledger import META
from verbinders.config import Settings
from verbinders.database import open_pool
from verbinders.store.events import NewEvent, RecordedEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal, subscribe

pytestmark = pytest.mark.server


def one_event() -> tuple[NewEvent, dict[uuid.UUID, int]]:
    stream = uuid.uuid4()
    event = NewEvent(stream_id=stream, stream_type="Thing", version=1, topic="t:T", payload=b"{}")
    return event, {stream: 0}


async def append_one(store: EventStore) -> int:
    event, expected = one_event()
    [position] = await store.append([event], expected=expected, metadata=META)
    return position


@pytest.fixture
async def other_store(database: str) -> AsyncIterator[EventStore]:
    """A store on a pool of its own, as another process has: its appends do not poke this
    process's signals, so only a NOTIFY (or polling) can tell a subscriber about them."""
    pool = await open_pool(database, Settings(), min_size=1, max_size=2)
    other = EventStore(pool)
    try:
        yield other
    finally:
        await other.close()
        await pool.close()


class Follower:
    """Runs `subscribe` in a task and times each event's arrival."""

    def __init__(self, store: EventStore, signal: FeedSignal) -> None:
        self.store = store
        self.signal = signal
        self.arrived: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Follower:
        after = await self.store.last_position()

        async def follow() -> None:
            async for batch in subscribe(self.store, self.signal, after=after):
                for event in batch:
                    self.arrived.put_nowait((event.position, time.monotonic()))

        self.task = asyncio.create_task(follow())
        await asyncio.sleep(0.05)  # the first read has happened; the follower waits
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        assert not self.task.done(), "the subscription ended"
        self.task.cancel()

    async def delay_of(self, position: int, *, since: float, timeout: float = 10.0) -> float:
        got, at = await asyncio.wait_for(self.arrived.get(), timeout)
        assert got == position
        return at - since


async def listener_pids(pool: asyncpg.Pool) -> list[int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND query LIKE 'LISTEN%'"
        )
    return [int(r["pid"]) for r in rows]


async def wait_for_listener(pool: asyncpg.Pool, not_pid: int | None = None) -> int:
    for _ in range(200):
        pids = [pid for pid in await listener_pids(pool) if pid != not_pid]
        if pids:
            [pid] = pids
            return pid
        await asyncio.sleep(0.025)
    raise AssertionError("no listening connection")


async def test_with_no_notification_at_all_polling_delivers_within_the_poll_interval(
    store: EventStore, other_store: EventStore
) -> None:
    deaf = FeedSignal(None, poll_interval=0.3)  # no listening connection: nothing is heard
    async with Follower(store, deaf) as follower:
        for pause in (0.0, 0.13, 0.29):
            await asyncio.sleep(pause)
            appended = time.monotonic()
            position = await append_one(other_store)
            # The poll interval, and room for a read and an append on two busy cores (the
            # server pass runs beside the embedded one: 0.62 s was seen there).
            assert await follower.delay_of(position, since=appended) < 0.3 + 0.5
    assert deaf.notifications == 0


async def test_a_listener_whose_connection_is_killed_loses_notifications_but_not_events(
    store: EventStore, other_store: EventStore, pool: asyncpg.Pool, database: str
) -> None:
    signal = FeedSignal(database, poll_interval=1.0)
    async with signal, Follower(store, signal) as follower:
        first = await wait_for_listener(pool)
        # With notifications working, appends elsewhere arrive well under the poll interval.
        for _ in range(3):
            appended = time.monotonic()
            position = await append_one(other_store)
            assert await follower.delay_of(position, since=appended) < 0.3
        heard = signal.notifications
        assert heard >= 1

        # The listening connection dies; the NOTIFY of the next append reaches nobody...
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", first)
        appended = time.monotonic()
        position = await append_one(other_store)
        # ...and the subscriber still gets the event, by polling, within about its interval.
        assert await follower.delay_of(position, since=appended) < 1.0 + 0.3

        # The listener reconnects on a new connection, and notifications are heard again.
        second = await wait_for_listener(pool, not_pid=first)
        assert second != first
        await asyncio.sleep(0.05)
        for _ in range(3):
            appended = time.monotonic()
            position = await append_one(other_store)
            assert await follower.delay_of(position, since=appended) < 0.3
        assert signal.notifications > heard


APPEND_IN_ANOTHER_PROCESS = """
import asyncio, sys, time, uuid
from verbinders.config import Settings
from verbinders.database import open_pool
from verbinders.store.eventstore import EventStore
from verbinders.store.events import Metadata, NewEvent

async def main():
    pool = await open_pool(sys.argv[1], Settings(), min_size=1, max_size=2)
    store = EventStore(pool)
    for _ in range(3):
        await asyncio.to_thread(sys.stdin.readline)
        s = uuid.uuid4()
        e = NewEvent(stream_id=s, stream_type="T", version=1, topic="t:T", payload=b"{}")
        [position] = await store.append([e], expected={s: 0}, metadata=Metadata(tenant="x"))
        print(position, time.time(), flush=True)
    await asyncio.sleep(0.1)
    await store.close()
    await pool.close()

asyncio.run(main())
"""


async def test_a_notification_wakes_a_subscriber_for_an_append_in_another_process(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    signal = FeedSignal(database, poll_interval=30.0)  # only a NOTIFY can wake it in time
    async with signal, Follower(store, signal) as follower:
        await wait_for_listener(pool)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            APPEND_IN_ANOTHER_PROCESS,
            database,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            for _ in range(3):
                process.stdin.write(b"go\n")
                await process.stdin.drain()
                position, appended_at = (await process.stdout.readline()).split()
                got, _ = await asyncio.wait_for(follower.arrived.get(), 5)
                assert got == int(position)
                # Wall clock on both sides: the same machine.
                assert time.time() - float(appended_at) < 1.0
        finally:
            process.stdin.close()
            assert await asyncio.wait_for(process.wait(), 10) == 0
    assert signal.notifications >= 3


class AppendsDuringEveryRead(EventStore):
    """A store on which another task's append commits (and pokes) while a read is under way:
    the read has already missed the event, so only the poke can tell the subscriber."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.appended: list[int] = []
        self.reads = 0

    async def read_feed(self, after: int = 0, limit: int = 1000, **kw: Any) -> list[RecordedEvent]:
        batch = await super().read_feed(after, limit, **kw)
        self.reads += 1
        if self.reads <= 2:  # after the first read (nothing yet) and the second (one event)
            self.appended.append(await append_one(self))
        return batch


async def test_a_poke_that_arrives_while_the_subscriber_reads_is_not_lost(
    pool: asyncpg.Pool,
) -> None:
    store = AppendsDuringEveryRead(pool)
    signal = FeedSignal(None, poll_interval=30.0)  # polling would take far too long
    store.local_listeners.append(signal.poke)
    seen: list[Sequence[int]] = []

    async def follow() -> None:
        async for batch in subscribe(store, signal, after=0):
            seen.append([e.position for e in batch])
            if len(seen) == 2:
                return

    try:
        await asyncio.wait_for(follow(), 5.0)
    finally:
        await store.close()
    assert seen == [[store.appended[0]], [store.appended[1]]]


async def test_a_waiter_wakes_on_a_poke_or_after_the_poll_interval() -> None:
    signal = FeedSignal(None, poll_interval=0.05)
    started = time.monotonic()
    assert await signal.wait() is False
    assert 0.04 < time.monotonic() - started < 0.5
    waiters = [asyncio.create_task(signal.wait(timeout=5)) for _ in range(3)]
    await asyncio.sleep(0.01)
    signal.poke()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True, True, True]
