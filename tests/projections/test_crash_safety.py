"""A projection worker killed mid-batch (the process, with SIGKILL) loses and repeats nothing."""

from __future__ import annotations

import asyncio
import random
import signal as signals
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.projections.ledger import (
    Appender,
    LedgerProjection,
    active_schema,
    connector,
    read_model,
)
from tests.projections.worker_process import APPLICATION_NAME
from verbinders.projections.engine import replay, wait_for_projection
from verbinders.projections.runner import ProjectionRunner
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal

pytestmark = pytest.mark.server

WORKER = Path(__file__).with_name("worker_process.py")


async def wait_until_inside_a_batch(pool: asyncpg.Pool, timeout: float = 10.0) -> int:
    """The worker's backend once it is inside a batch's transaction that has written rows."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with pool.acquire() as conn:
            pid = await conn.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
                " AND datname = current_database() AND backend_xid IS NOT NULL"
                " AND (query LIKE '%INTO applied%' OR query LIKE '%INTO totals%')",
                APPLICATION_NAME,
            )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.002)
    raise AssertionError("the worker never got inside a batch")


async def wait_until_committed_past(pool: asyncpg.Pool, position: int, timeout: float = 30) -> None:
    """Until the worker has committed a batch that moves its checkpoint past `position`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with pool.acquire() as conn:
            reached = await conn.fetchval(
                "SELECT c.position FROM projection_generations g"
                " JOIN checkpoints c ON c.name = g.schema_name"
                " WHERE g.name = 'ledger' AND g.state = 'active'"
            )
        if reached is not None and reached > position:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the worker never committed a batch past position {position}")


async def assert_rows_match_checkpoint(pool: asyncpg.Pool) -> int:
    """Rows and checkpoint committed together: exactly the events up to the checkpoint."""
    async with pool.acquire() as conn:
        schema = await active_schema(conn, "ledger")
        checkpoint = await conn.fetchval("SELECT position FROM checkpoints WHERE name = $1", schema)
        applied = [r[0] for r in await conn.fetch(f'SELECT position FROM "{schema}".applied')]
        rows = await conn.fetch("SELECT position FROM events WHERE position <= $1", checkpoint)
        wanted = [r[0] for r in rows]
    assert sorted(applied) == sorted(wanted)
    return int(checkpoint)


async def test_a_worker_killed_mid_batch_again_and_again_ends_equal_to_a_rebuild(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    appender = Appender(store, streams=5, seed=1)
    await appender.append(40)
    rng = random.Random(7)
    checkpoints = []
    for _ in range(4):
        worker = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER), database, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert worker.stdout is not None
            assert await asyncio.wait_for(worker.stdout.readline(), 30) == b"ready\n"
            appending = asyncio.create_task(appender.append(25, pause=0.01))
            await asyncio.sleep(rng.uniform(0.05, 0.4))
            # Each life gets a batch through (a slow machine may take longer than the random
            # pause for that), then is killed at a moment when its batch has written rows but
            # not committed them.
            await wait_until_committed_past(pool, checkpoints[-1] if checkpoints else 0)
            await wait_until_inside_a_batch(pool)
            worker.send_signal(signals.SIGKILL)
            assert await worker.wait() == -signals.SIGKILL
            await appending
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
        checkpoints.append(await assert_rows_match_checkpoint(pool))
    assert checkpoints == sorted(set(checkpoints)) and checkpoints[0] > 0

    # Finish in this process, then compare with a rebuild from scratch.
    last = await appender.append(10)
    runner = ProjectionRunner(
        store,
        FeedSignal(None, poll_interval=0.05),
        [LedgerProjection()],
        connector(database),
        standby_interval=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        assert await wait_for_projection(pool, "ledger", last, timeout=30)
    finally:
        stop.set()
        await task

    conn = await asyncpg.connect(database)
    try:
        live = await read_model(conn, await active_schema(conn, "ledger"))
        rebuilt = await replay(conn, LedgerProjection(), until_position=last)
        assert rebuilt.state == "historical"
        assert live == await read_model(conn, rebuilt.schema_name)
        positions = [r[0] for r in await conn.fetch("SELECT position FROM events ORDER BY 1")]
    finally:
        await conn.close()
    applied, totals = live
    assert [row[0] for row in applied] == positions  # every event once, none twice
    assert len(positions) == appender.appended
    assert {row[0]: row[2] for row in totals} == {s: v for s, v in appender.versions.items() if v}
