"""A transaction left open elsewhere cannot stall subscribers unnoticed: its append holds the
feed's horizon, `feed_status()` and `verbinders status` name the backend and since when, and
the pool's idle-in-transaction timeout (a setting) ends it, after which the feed moves on."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest
from click.testing import CliRunner

from tests.projections.ledger import META
from verbinders.cli import main
from verbinders.config import Settings
from verbinders.projections.activity import ActivityProjection
from verbinders.projections.engine import wait_for_projection
from verbinders.projections.runner import ProjectionRunner
from verbinders.store.events import NewEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal, subscribe

pytestmark = pytest.mark.server

TIMEOUT = 0.8


@pytest.fixture
def settings() -> Settings:
    """The pool's connections end a transaction left idle for longer than `TIMEOUT`."""
    return Settings(snapshot_every=0, idle_in_transaction_timeout_s=TIMEOUT)


def event() -> tuple[NewEvent, dict[uuid.UUID, int]]:
    stream = uuid.uuid4()
    return NewEvent(stream_id=stream, stream_type="Thing", version=1, topic="t:T", payload=b"{}"), {
        stream: 0
    }


async def test_an_append_left_open_holds_the_feed_is_named_and_is_ended_by_the_timeout(
    store: EventStore,
    pool: asyncpg.Pool,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signal = FeedSignal(database, poll_interval=0.1)
    store.local_listeners.append(signal.poke)
    received: list[int] = []
    runner = ProjectionRunner(
        store, signal, [ActivityProjection()], lambda: asyncpg.connect(database)
    )
    stop = asyncio.Event()

    async def follow() -> None:
        async for batch in subscribe(store, signal):
            received.extend(e.position for e in batch)

    async with signal:
        following = asyncio.create_task(follow())
        running = asyncio.create_task(runner.run(stop))
        stalled = await pool.acquire()
        try:
            assert await stalled.fetchval("SHOW idle_in_transaction_session_timeout") == "800ms"
            transaction = stalled.transaction()
            await transaction.start()
            opened = await stalled.fetchval("SELECT now()")
            held, expected = event()
            [held_position] = await store.append(
                [held], expected=expected, metadata=META, connection=stalled
            )
            idle_from = time.monotonic()
            # ...and the code that opened it forgets about it. Others append and commit.
            later = [
                (await store.append([e], expected=x, metadata=META))[0]
                for e, x in (event(), event())
            ]
            status = await store.feed_status()
            assert status.held_by_pid == stalled.get_server_pid()
            assert status.held_since == opened
            assert status.horizon < held_position < later[0]
            assert status.allocated == later[-1]

            # The operator's view names the culprit too.
            monkeypatch.setenv("VERBINDERS_DATABASE_URL", database)
            result = await asyncio.to_thread(CliRunner().invoke, main, ["status"])
            assert result.exit_code == 0, result.output
            assert f"held at position {status.horizon} by backend {stalled.get_server_pid()}" in (
                result.stdout
            )

            await asyncio.sleep(0.2)
            assert received == []  # the committed events wait behind the open append

            # The server ends the idle transaction; the feed moves on by itself.
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.05)
            waited = time.monotonic() - idle_from
            assert received == later
            assert TIMEOUT - 0.1 < waited < TIMEOUT + 2.0
            assert await wait_for_projection(pool, "activity", later[-1], timeout=5)
            status = await store.feed_status()
            assert (status.held_by_pid, status.horizon) == (None, later[-1])
        finally:
            await pool.release(stalled)
            stop.set()
            await running
            following.cancel()
    assert await store.read_stream(held.stream_id) == []
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT sum(events) FROM activity.daily_events") == 2
