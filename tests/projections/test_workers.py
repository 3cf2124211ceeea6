"""Several workers over the same projections: one leads each projection, the others stand by
and take over when it stops or loses its connection; version changes, replays and failing
projections do not make two of them work at once or stop the runner."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

import asyncpg
import pytest

from tests.projections.ledger import (
    Appender,
    LedgerProjection,
    Overlap,
    active_schema,
    connector,
    leader_pids,
    read_model,
)
from verbinders.projections.engine import (
    LostLeadership,
    replay,
    wait_for_projection,
)
from verbinders.projections.runner import ProjectionRunner
from verbinders.store.subscription import FeedSignal

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.projections.engine import Projection
    from verbinders.store.events import RecordedEvent
    from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server


class Workers:
    """Several `ProjectionRunner`s in this process, each with its own connections and signal,
    as separate worker processes would have."""

    def __init__(
        self,
        store: EventStore,
        database: str,
        projections: Sequence[Projection],
        count: int,
        *,
        batch_size: int = 20,
        standby_interval: float = 0.05,
    ) -> None:
        self.runners = [
            ProjectionRunner(
                store,
                FeedSignal(None, poll_interval=0.05),
                projections,
                connector(database, f"worker-{i}"),
                batch_size=batch_size,
                standby_interval=standby_interval,
            )
            for i in range(count)
        ]
        self.stops = [asyncio.Event() for _ in self.runners]
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Workers:
        self.tasks = [
            asyncio.create_task(r.run(s)) for r, s in zip(self.runners, self.stops, strict=True)
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for stop in self.stops:
            stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), 10)

    def leaders(self, name: str) -> list[int]:
        return [i for i, r in enumerate(self.runners) if name in r.leading]

    def alive(self) -> bool:
        return not any(t.done() for t in self.tasks)


async def assert_ledger_exact(pool: asyncpg.Pool, appender: Appender) -> None:
    async with pool.acquire() as conn:
        applied, totals = await read_model(conn, await active_schema(conn, "ledger"))
        positions = [r[0] for r in await conn.fetch("SELECT position FROM events ORDER BY 1")]
    assert [row[0] for row in applied] == positions
    assert {row[0]: row[2] for row in totals} == {s: v for s, v in appender.versions.items() if v}


async def test_one_of_three_workers_leads_and_a_standby_takes_over(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    overlap = Overlap()
    appender = Appender(store, streams=4, seed=3)
    async with Workers(store, database, [LedgerProjection(0.001, overlap)], 3) as workers:
        leaders_seen: set[int] = set()
        several: list[list[int]] = []

        async def sample() -> None:
            while True:
                leading = workers.leaders("ledger")
                if len(leading) > 1:
                    several.append(leading)
                leaders_seen.update(leading)
                await asyncio.sleep(0.005)

        sampling = asyncio.create_task(sample())
        try:
            last = await appender.append(60, pause=0.002)
            assert await wait_for_projection(pool, "ledger", last, timeout=20)
            [first] = workers.leaders("ledger")
            async with pool.acquire() as conn:
                [first_pid] = await leader_pids(conn)

            # The leader is stopped (as on SIGTERM): a standby takes over.
            workers.stops[first].set()
            await asyncio.wait_for(workers.tasks[first], 5)
            last = await appender.append(40, pause=0.002)
            assert await wait_for_projection(pool, "ledger", last, timeout=20)
            [second] = workers.leaders("ledger")
            assert second != first

            # The next leader's connection is terminated: the lock goes with it, and a worker
            # (another, or the same one on a new connection) carries on. (Until it next
            # touches its connection, the old leader still believes it leads: stop sampling.)
            sampling.cancel()
            async with pool.acquire() as conn:
                [second_pid] = await leader_pids(conn)
                assert second_pid != first_pid
                assert await conn.fetchval("SELECT pg_terminate_backend($1)", second_pid)
            last = await appender.append(40, pause=0.002)
            assert await wait_for_projection(pool, "ledger", last, timeout=20)
            async with pool.acquire() as conn:
                [third_pid] = await leader_pids(conn)
            assert third_pid not in (first_pid, second_pid)
            assert len(workers.leaders("ledger")) == 1
            assert not workers.tasks[3 - first - second].done()
            assert not workers.tasks[second].done()
        finally:
            sampling.cancel()
    assert several == []
    assert overlap.most == 1 and overlap.batches >= 3
    assert len(leaders_seen) >= 2
    await assert_ledger_exact(pool, appender)


class LedgerV2(LedgerProjection):
    version = 2


async def test_workers_starting_together_on_a_new_version_build_one_generation(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    appender = Appender(store, seed=4)
    await appender.append(50)
    async with pool.acquire() as conn:
        first = await replay(conn, LedgerProjection())
    overlap = Overlap()
    async with Workers(store, database, [LedgerV2(0.0005, overlap)], 3) as workers:
        for _ in range(400):
            async with pool.acquire() as conn:
                schema = await active_schema(conn, "ledger")
            if schema != first.schema_name:
                break
            await asyncio.sleep(0.025)
        last = await appender.append(10)
        assert await wait_for_projection(pool, "ledger", last, timeout=20)
        assert workers.alive()
        async with pool.acquire() as conn:
            generations = await conn.fetch(
                "SELECT generation, version, state FROM projection_generations"
                " WHERE name = 'ledger' ORDER BY generation"
            )
            schemas = await conn.fetch(
                "SELECT schema_name FROM information_schema.schemata"
                " WHERE schema_name LIKE 'proj_ledger_%'"
            )
    assert [tuple(g) for g in generations] == [(1, 1, "retired"), (2, 2, "active")]
    assert [s[0] for s in schemas] == ["proj_ledger_2"]
    assert overlap.most == 1
    await assert_ledger_exact(pool, appender)


async def test_an_outdated_worker_stands_by_instead_of_rebuilding_its_old_version(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    appender = Appender(store, seed=5)
    await appender.append(10)
    async with pool.acquire() as conn:
        current = await replay(conn, LedgerV2())
    # During a rolling deploy a worker still running the old code meets the new version.
    async with Workers(store, database, [LedgerProjection()], 1) as workers:
        await asyncio.sleep(0.4)
        assert workers.leaders("ledger") == []
        assert workers.alive()
    async with pool.acquire() as conn:
        # Nor does a replay with the old code swap its version in over the new one.
        with pytest.raises(LostLeadership, match="version 2 of ledger is active"):
            await replay(conn, LedgerProjection())
        assert await active_schema(conn, "ledger") == current.schema_name
        assert await conn.fetchval("SELECT count(*) FROM projection_generations") == 1
        assert await conn.fetchval("SELECT count(*) FROM checkpoints") == 1


async def test_a_replay_swapping_the_model_under_running_workers_does_not_stop_them(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    appender = Appender(store, seed=6)
    # The workers look for swaps only every second: their next batch meets the swap first.
    async with Workers(
        store, database, [LedgerProjection(0.001)], 2, batch_size=5, standby_interval=1.0
    ) as workers:
        last = await appender.append(20)
        assert await wait_for_projection(pool, "ledger", last, timeout=20)
        conn = await asyncpg.connect(database)
        try:
            # While the leader idles: its next batch finds its generation gone.
            rebuilt = await replay(conn, LedgerProjection())
            last = await appender.append(5)
            assert await wait_for_projection(pool, "ledger", last, timeout=20)
            assert workers.alive()
            assert await active_schema(conn, "ledger") == rebuilt.schema_name

            # While the leader is busy: the swap drops the tables under its batch.
            appending = asyncio.create_task(appender.append(30, pause=0.005))
            for _ in range(2):
                rebuilt = await replay(conn, LedgerProjection())
                assert await active_schema(conn, "ledger") == rebuilt.schema_name
            await appending
        finally:
            await conn.close()
        # The last replay may have read everything already: append more, which only a worker
        # can apply.
        last = await appender.append(5)
        assert await wait_for_projection(pool, "ledger", last, timeout=20)
        assert workers.alive()
        # A worker that led a swapped generation learns it at its next step (here, the
        # append above), which may come just after the new leader has applied it.
        deadline = asyncio.get_running_loop().time() + 10
        while len(workers.leaders("ledger")) != 1:
            assert asyncio.get_running_loop().time() < deadline, workers.leaders("ledger")
            await asyncio.sleep(0.05)
    await assert_ledger_exact(pool, appender)


class Flaky(LedgerProjection):
    """Fails on its first attempts (a bug, a poison event) before it succeeds."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("flaky projection fails")
        await super().handle_batch(conn, events)


async def test_a_failing_projection_is_retried_and_does_not_stop_the_others(
    store: EventStore, database: str, pool: asyncpg.Pool
) -> None:
    appender = Appender(store, seed=8)
    flaky = Flaky(failures=3)
    async with Workers(store, database, [LedgerProjection(), flaky], 1) as workers:
        last = await appender.append(10)
        assert await wait_for_projection(pool, "ledger", last, timeout=10)
        assert await wait_for_projection(pool, "flaky", last, timeout=10)
        assert flaky.failures == 0
        assert workers.alive()
    await assert_ledger_exact(pool, appender)
