"""A stalled feed is bounded and loud; appends to other streams keep flowing around a rival."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.store.support import META, new_event
from verbinders.config import Settings
from verbinders.database import connect
from verbinders.errors import StreamConflict
from verbinders.store.eventstore import EventStore
from verbinders.store.health import feed_problems, lag_behind
from verbinders.store.watchdog import AppendWatchdog

pytestmark = pytest.mark.server


@pytest.fixture
async def holder(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the product (its settings), whose transaction the test leaves open."""
    conn = await connect(database, Settings(append_transaction_timeout_s=3600))
    try:
        yield conn
    finally:
        conn.terminate()


async def _append_and_hold(store: EventStore, conn: asyncpg.Connection) -> int:
    await conn.execute("BEGIN")
    stream = uuid.uuid4()
    [position] = await store.append(
        [new_event(stream, 1)], expected={stream: 0}, metadata=META, connection=conn
    )
    return position


async def test_the_status_reports_who_holds_the_feed_for_how_long_and_the_real_lag(
    store: EventStore, holder: asyncpg.Connection
) -> None:
    held = await _append_and_hold(store, holder)
    later = []
    for _ in range(3):
        stream = uuid.uuid4()
        later += await store.append([new_event(stream, 1)], expected={stream: 0}, metadata=META)
    await asyncio.sleep(0.4)
    status = await store.feed_status()
    assert status.held and status.holders == 1
    assert status.horizon < held < later[0]
    assert (status.allocated, status.withheld) == (later[-1], later[-1] - status.horizon)
    assert status.held_by_pid == holder.get_server_pid()
    assert (status.held_by_application, status.held_by_state) == (
        "verbinders",
        "idle in transaction",
    )
    assert status.held_for_s is not None and status.held_for_s >= 0.4
    assert (status.holder() or "").startswith(f"backend {holder.get_server_pid()} (verbinders, ")
    # A reader caught up with the (held-back) horizon is behind by everything withheld.
    assert lag_behind(status, status.horizon) == status.withheld == 4
    problems = feed_problems(
        status, {"projection activity": status.horizon}, max_lag=2, max_held_s=0.2
    )
    assert problems == [
        f"the event feed is held at position {status.horizon} (4 later positions withheld) for"
        f" more than 0.2 s by {status.holder()}",
        f"projection activity is 4 positions behind the feed (at {status.horizon}, allocated"
        f" {later[-1]}; more than 2)",
    ]
    assert (
        feed_problems(status, {"projection activity": status.horizon}, max_lag=4, max_held_s=60)
        == []
    )


async def test_the_server_bounds_an_append_transaction_from_its_first_append_or_says_it_cannot(
    database: str, store: EventStore
) -> None:
    """PostgreSQL 17 and newer end a transaction that goes on (here: busy in a statement,
    which idle_in_transaction_session_timeout does not cover) longer than
    VERBINDERS_APPEND_TRANSACTION_TIMEOUT_S after its first append. Older servers have no
    such setting (the watchdog's test below covers them)."""
    conn = await connect(database, Settings(append_transaction_timeout_s=1.0))
    try:
        version = int(await conn.fetchval("SHOW server_version_num"))
        if version < 170000:
            with pytest.raises(asyncpg.UndefinedObjectError, match="transaction_timeout"):
                await conn.fetchval("SHOW transaction_timeout")
            return
        await conn.execute("BEGIN")
        await conn.execute("SELECT pg_sleep(1.2)")  # before the first append: not counted
        stream = uuid.uuid4()
        await store.append(
            [new_event(stream, 1)], expected={stream: 0}, metadata=META, connection=conn
        )
        started = time.monotonic()
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await conn.execute("SELECT pg_sleep(5)")
        assert 0.6 < time.monotonic() - started < 4.0
        assert conn.is_closed()
    finally:
        conn.terminate()
    assert await store.read_stream(stream) == []
    assert (await store.feed_status()).holders == 0


async def test_the_watchdog_ends_a_transaction_that_holds_the_feed_longer_than_the_bound(
    store: EventStore, pool: asyncpg.Pool, holder: asyncpg.Connection
) -> None:
    """On every server (the connection's own bound is an hour here, so only the watchdog
    acts): a transaction busy in a statement after its append is ended once it has held the
    feed for the bound; the feed moves on; a shorter one is left alone."""
    watchdog = AppendWatchdog(pool, 0.6, interval=0.05)
    short = await pool.acquire()
    try:
        await _append_and_hold(store, short)
        await asyncio.sleep(0.2)
        await short.execute("COMMIT")
    finally:
        await pool.release(short)
    watchdog.start()
    try:
        await _append_and_hold(store, holder)
        other = uuid.uuid4()
        [after] = await store.append([new_event(other, 1)], expected={other: 0}, metadata=META)
        started = time.monotonic()
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await holder.execute("SELECT pg_sleep(10)")
        assert 0.3 < time.monotonic() - started < 5.0
        for _ in range(100):  # its answer to pg_terminate_backend may come after ours
            if watchdog.terminated:
                break
            await asyncio.sleep(0.01)
        assert watchdog.terminated == [holder.get_server_pid()]
        assert [e.position for e in await store.read_feed(0, 10)][-1] == after
    finally:
        await watchdog.stop()


async def test_an_append_waiting_on_an_uncommitted_rival_leaves_the_lane_to_other_streams(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    """24 appends to a stream whose next version an open transaction has written (more than
    the lane's connections) wait for it without holding the lane: an append to another
    stream takes milliseconds meanwhile. When the rival commits, each waiter conflicts."""
    hot = uuid.uuid4()
    rival = await pool.acquire()
    try:
        await rival.execute("BEGIN")
        await store.append([new_event(hot, 1)], expected={hot: 0}, metadata=META, connection=rival)

        async def wait_on_rival(i: int) -> int | StreamConflict:
            try:
                [position] = await store.append(
                    [new_event(hot, 1, waiter=i)], expected={hot: 0}, metadata=META
                )
            except StreamConflict as conflict:
                return conflict
            return position

        waiting = [asyncio.create_task(wait_on_rival(i)) for i in range(24)]
        await asyncio.sleep(0.5)  # past the lane's lock timeout: the waiters moved off it
        took = []
        for _ in range(5):
            other = uuid.uuid4()
            started = time.monotonic()
            await store.append([new_event(other, 1)], expected={other: 0}, metadata=META)
            took.append(time.monotonic() - started)
        assert max(took) < 0.5, took
        assert not any(task.done() for task in waiting)
        await rival.execute("COMMIT")
    finally:
        await pool.release(rival)
    results = await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert all(isinstance(r, StreamConflict) for r in results), results
    assert {(r.expected, r.actual) for r in results if isinstance(r, StreamConflict)} == {(0, 1)}
    assert [e.version for e in await store.read_stream(hot)] == [1]
