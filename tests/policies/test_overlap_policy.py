"""The `overlap_detection` policy opens one case per overlapping pair of activities of
different organisations, exactly once: with two workers, after a worker is killed mid-batch,
when every read model is replayed, and when both activities of a pair change at once."""

from __future__ import annotations

import asyncio
import signal as signals
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import date
from itertools import combinations
from pathlib import Path

import asyncpg
import pytest

from tests.activities.support import taalcafe, tuesdays
from verbinders import registry
from verbinders.application.activities import cancel_activity, plan_activity
from verbinders.application.context import Actor
from verbinders.application.organisations import register_organisation
from verbinders.application.overlap_cases import open_overlap_case
from verbinders.application.overlap_search import candidates_of
from verbinders.application.platforms import create_platform
from verbinders.application.unit_of_work import CommandRequest
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.domain.overlap_cases import overlap_case_id
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Conflict
from verbinders.policies.overlap_detection import OverlapDetection
from verbinders.policies.runner import PolicyRunner
from verbinders.projections.engine import replay
from verbinders.runtime import Runtime, runtime_on
from verbinders.store.eventstore import row_to_event

pytestmark = pytest.mark.server

TENANT = "haarlem"
POLICY = "policy:overlap_detection"
WORKER = Path(__file__).with_name("worker_process.py")
OPERATOR = Actor.operator(TENANT, "tests")


@pytest.fixture
async def runtime(database: str, pool: asyncpg.Pool) -> AsyncIterator[Runtime]:
    database_ = Database(pool=pool, dsn=database, embedded=False)
    async with runtime_on(Settings(snapshot_every=0), database_) as runtime:
        await runtime.pipeline.run(
            create_platform,
            OPERATOR,
            name="Haarlemse Verbinders",
            city="Haarlem",
            started_on=date(2019, 12, 1),
        )
        yield runtime


async def look_alikes(runtime: Runtime, count: int) -> dict[uuid.UUID, uuid.UUID]:
    """`count` organisations, each planning one Tuesday-evening language café in Schalkwijk:
    every pair overlaps. Returns activity -> organisation."""
    planned = {}
    for n in range(count):
        registered = await runtime.pipeline.run(
            register_organisation,
            OPERATOR,
            kind=OrganisationKind.SELF_ORGANISATION
            if n % 2
            else OrganisationKind.FORMAL_ORGANISATION,
            name=f"Taalhuis {n} {uuid.uuid4().hex[:6]}",
        )
        org = uuid.UUID(registered.id)
        result = await runtime.pipeline.run(
            plan_activity,
            OPERATOR,
            organisation_id=org,
            details=taalcafe(f"Taalcafé {n}"),
            schedule=tuesdays(),
        )
        planned[uuid.UUID(result.id)] = org
    await runtime.runner.catch_up("overlap_candidates")
    return planned


def every_pair(planned: dict[uuid.UUID, uuid.UUID]) -> list[uuid.UUID]:
    return sorted(overlap_case_id(TENANT, a, b) for a, b in combinations(planned, 2))


async def opened(pool: asyncpg.Pool) -> list[uuid.UUID]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT stream_id FROM events WHERE topic LIKE '%OverlapCase.Opened' ORDER BY 1"
        )
    return [r["stream_id"] for r in rows]


async def test_every_overlapping_pair_gets_one_case_as_the_policys_decision(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    planned = await look_alikes(runtime, 5)
    await runtime.policies.catch_up()
    assert await opened(pool) == every_pair(planned)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT metadata->>'actor' AS actor, metadata->>'causation_id' AS causation"
            " FROM events WHERE topic LIKE '%OverlapCase.Opened'"
        )
        pairs = await conn.fetchval("SELECT count(*) FROM overlap_case_pairs")
    assert {r["actor"] for r in rows} == {POLICY}
    assert all(r["causation"] for r in rows)
    assert pairs == 2 * len(every_pair(planned))
    status = {s.name: s for s in await runtime.policies.status()}["overlap_detection"]
    assert status.lag == 0


async def test_two_workers_open_each_case_once(runtime: Runtime, pool: asyncpg.Pool) -> None:
    planned = await look_alikes(runtime, 6)
    first, second = (
        PolicyRunner(
            runtime.pipeline,
            runtime.signal,
            [OverlapDetection()],
            runtime.connect,
            batch_size=2,
            standby_interval=0.05,
        )
        for _ in range(2)
    )
    stop = asyncio.Event()
    workers = [asyncio.create_task(r.run(stop)) for r in (first, second)]
    try:
        for _ in range(400):
            if len(await opened(pool)) == len(every_pair(planned)):
                break
            await asyncio.sleep(0.05)
        assert len(first.leading | second.leading) == 1
    finally:
        stop.set()
        await asyncio.gather(*workers)
    # A leader that lost its lock without noticing reacts to an event another already took.
    conn = await runtime.connect()
    other = await runtime.connect()
    try:
        rows = await conn.fetch(
            "SELECT * FROM events WHERE topic LIKE '%Activity.Planned' ORDER BY position"
        )
        for row in rows[:3]:
            event = row_to_event(row)
            await asyncio.gather(
                first.react(conn, OverlapDetection(), event),
                second.react(other, OverlapDetection(), event),
            )
    finally:
        await conn.close()
        await other.close()
    assert await opened(pool) == every_pair(planned)


async def test_a_worker_killed_mid_batch_leaves_each_case_opened_once(
    runtime: Runtime, pool: asyncpg.Pool, database: str
) -> None:
    planned = await look_alikes(runtime, 10)
    total = len(every_pair(planned))
    worker = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), database, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert worker.stdout is not None
        assert await asyncio.wait_for(worker.stdout.readline(), 30) == b"ready\n"
        for _ in range(4000):
            if len(await opened(pool)) >= 3:
                break
            await asyncio.sleep(0.005)
        worker.send_signal(signals.SIGKILL)
        assert await worker.wait() == -signals.SIGKILL
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    assert 3 <= len(await opened(pool)) < total
    await runtime.policies.catch_up()
    assert await opened(pool) == every_pair(planned)


async def test_replaying_every_read_model_opens_nothing_again(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    planned = await look_alikes(runtime, 4)
    await runtime.policies.catch_up()
    before = await opened(pool)
    conn = await runtime.connect()
    try:
        for projection in registry.projections():
            await replay(conn, projection)
    finally:
        await conn.close()
    await runtime.runner.catch_up("overlap_candidates")
    await runtime.policies.catch_up()
    assert await opened(pool) == before == every_pair(planned)
    # The rebuilt index finds the same candidates.
    async with runtime.connection() as conn:
        found = await candidates_of(conn, TENANT, next(iter(planned)))
    assert found is not None and len(found[0]) == 3


async def test_both_activities_of_a_pair_changing_at_once_open_one_case(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    planned = await look_alikes(runtime, 2)
    a, b = planned
    async with runtime.connection() as conn:
        found = await candidates_of(conn, TENANT, a)
    assert found is not None
    [candidate], threshold = found
    policy = Actor(tenant=TENANT, roles=("coordinator",), policy="overlap_detection")

    async def open_from(activity: uuid.UUID, other: uuid.UUID, key: str) -> object:
        from verbinders.application.idempotency import Idempotency

        request = CommandRequest(
            actor=policy,
            idempotency=Idempotency(key=key, fingerprint=open_overlap_case.name, permanent=True),
        )
        try:
            return await runtime.pipeline.execute(
                open_overlap_case,
                request,
                activity,
                other,
                explanation=candidate.explanation,
                threshold=threshold,
            )
        except Conflict as error:  # the store's version check: already open
            return error

    await asyncio.gather(open_from(a, b, f"{POLICY}:1:0"), open_from(b, a, f"{POLICY}:2:0"))
    assert await opened(pool) == every_pair(planned)
    # A cancelled activity's cases close; its pair never opens again.
    await runtime.pipeline.run(cancel_activity, OPERATOR, b, reason="dubbel")
    await runtime.runner.catch_up("overlap_candidates")
    await runtime.policies.catch_up()
    assert await opened(pool) == every_pair(planned)
    async with pool.acquire() as conn:
        closed = await conn.fetchval(
            "SELECT count(*) FROM events WHERE topic LIKE '%OverlapCase.Closed'"
        )
    assert closed == 1


async def test_a_worker_told_to_stop_while_waiting_for_the_index_stops_at_once_and_loses_nothing(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    planned = await look_alikes(runtime, 2)
    # A third look-alike the candidate index has not seen: the policy waits for it (up to
    # 10 s) when it reaches that event.
    org = (
        await runtime.pipeline.run(
            register_organisation,
            OPERATOR,
            kind=OrganisationKind.SELF_ORGANISATION,
            name=f"Taalhuis laat {uuid.uuid4().hex[:6]}",
        )
    ).id
    late = await runtime.pipeline.run(
        plan_activity,
        OPERATOR,
        organisation_id=uuid.UUID(org),
        details=taalcafe("Taalcafé laat"),
        schedule=tuesdays(),
    )
    planned[uuid.UUID(late.id)] = uuid.UUID(org)
    runner = PolicyRunner(
        runtime.pipeline, runtime.signal, [OverlapDetection()], runtime.connect, batch_size=1
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(runner.run(stop))
    for _ in range(200):
        if len(await opened(pool)) == 1:  # the first pair; then it waits for the index
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    stop.set()
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(worker, 5)
    assert asyncio.get_running_loop().time() - started < 3
    # What the stopped step had not committed is issued by the next run, once.
    await runtime.runner.catch_up("overlap_candidates")
    await runtime.policies.catch_up()
    assert await opened(pool) == every_pair(planned)
