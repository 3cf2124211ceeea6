"""The `organisation_dissolved` policy: when an organisation is dissolved its membership
closes and its tokens are revoked, as the policy's decisions, each command exactly once:
with two workers, after a worker is killed mid-batch, and when every read model is replayed."""

from __future__ import annotations

import asyncio
import signal as signals
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from verbinders import registry
from verbinders.application import membership
from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.application.membership_record import membership_of
from verbinders.application.organisations import dissolve_organisation, register_organisation
from verbinders.application.platforms import create_platform
from verbinders.application.tokens import issue_token, revoke_token
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Unauthorized
from verbinders.policies.dissolution import OrganisationDissolved
from verbinders.policies.runner import PolicyRunner, PolicyStatus
from verbinders.projections.engine import replay
from verbinders.runtime import Runtime, runtime_on
from verbinders.store.eventstore import row_to_event

pytestmark = pytest.mark.server

TENANT = "haarlem"
POLICY = "policy:organisation_dissolved"
WORKER = Path(__file__).with_name("worker_process.py")


@pytest.fixture
async def runtime(database: str, pool: asyncpg.Pool) -> AsyncIterator[Runtime]:
    database_ = Database(pool=pool, dsn=database, embedded=False)
    async with runtime_on(Settings(snapshot_every=0), database_) as runtime:
        await runtime.pipeline.run(
            create_platform,
            Actor.operator(TENANT, "tests"),
            name="Haarlemse Verbinders",
            city="Haarlem",
            started_on=date(2019, 12, 1),
        )
        yield runtime


async def dissolution_status(runtime: Runtime) -> list[PolicyStatus]:
    """This policy's status (the product runs others beside it)."""
    return [s for s in await runtime.policies.status() if s.name == "organisation_dissolved"]


@dataclass
class Member:
    id: uuid.UUID
    tokens: list[uuid.UUID]
    secrets: list[str]


async def members(runtime: Runtime, count: int, tokens: int = 2) -> list[Member]:
    """Organisations admitted as members, each with `tokens` tokens of its own."""
    operator = Actor.operator(TENANT, "tests")
    made = []
    for n in range(count):
        registered = await runtime.pipeline.run(
            register_organisation,
            operator,
            kind=OrganisationKind.SELF_ORGANISATION,
            name=f"Vereniging {n} {uuid.uuid4().hex[:6]}",
        )
        org = uuid.UUID(registered.id)
        await runtime.pipeline.run(membership.apply, operator, org, motivation="samen")
        await runtime.pipeline.run(membership.admit, operator, org, reason="welkom")
        issued = [
            await runtime.pipeline.run(
                issue_token, operator, roles=("organisation",), label=f"t{t}", party=org
            )
            for t in range(tokens)
        ]
        made.append(
            Member(org, [t.id for t in issued], [t.token for t in issued if t.token is not None])
        )
    return made


async def dissolve(runtime: Runtime, member: Member, reason: str = "opgeheven") -> int:
    """Dissolve the member; returns the position of its `Dissolved` event."""
    await runtime.pipeline.run(
        dissolve_organisation, Actor.operator(TENANT, "tests"), member.id, reason=reason
    )
    async with runtime.pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT position FROM events WHERE stream_id = $1 AND topic LIKE '%.Dissolved'",
                member.id,
            )
        )


async def decisions(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every event the policy appended: stream, kind, and what caused it."""
    async with pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT stream_id, stream_type, split_part(topic, '.', -1) AS kind,"
                " metadata->>'causation_id' AS causation, metadata->>'idempotency_key' AS key,"
                " payload, position FROM events WHERE metadata->>'actor' = $1 ORDER BY position",
                POLICY,
            )
        )


async def claims(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM idempotency_keys WHERE principal = $1 AND permanent", POLICY
            )
        )


def assert_each_once(
    found: list[asyncpg.Record], dissolved: dict[uuid.UUID, int], all_: list[Member]
) -> None:
    """One `Left` per dissolved member, one `Revoked` per token it had, nothing else."""
    by_member = {m.id: m for m in all_}
    expected = sorted(
        [("Membership", "Left", dissolved[org]) for org in dissolved]
        + [
            ("AccessToken", "Revoked", dissolved[org])
            for org in dissolved
            for _ in by_member[org].tokens
        ]
    )
    got = sorted((r["stream_type"], r["kind"], int(r["causation"])) for r in found)
    assert got == expected
    revoked = [r["stream_id"] for r in found if r["kind"] == "Revoked"]
    assert len(revoked) == len(set(revoked))
    assert sorted(revoked) == sorted(t for org in dissolved for t in by_member[org].tokens)


async def test_a_dissolution_closes_the_membership_and_revokes_the_tokens_as_the_policy(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    [member, bystander] = await members(runtime, 2, tokens=3)
    # One token was revoked by hand before: no decision for it.
    await runtime.pipeline.run(
        revoke_token, Actor.operator(TENANT, "tests"), member.tokens[0], reason="kwijt"
    )
    position = await dissolve(runtime, member, reason="fusie met de buren")
    await runtime.policies.catch_up()
    found = await decisions(pool)
    assert sorted((r["stream_type"], r["kind"]) for r in found) == [
        ("AccessToken", "Revoked"),
        ("AccessToken", "Revoked"),
        ("Membership", "Left"),
    ]
    assert {r["causation"] for r in found} == {str(position)}
    # Its n-th command's key: the membership first, then the tokens still open at the time.
    assert {r["key"] for r in found} == {f"{POLICY}:{position}:{n}" for n in (0, 1, 2)}
    reason = "organisation dissolved: fusie met de buren"
    assert {r["payload"]["reason"] for r in found} == {reason}
    assert {r["payload"].get("revoked_by") for r in found if r["kind"] == "Revoked"} == {POLICY}
    record = await membership_of(runtime, Actor.operator(TENANT), member.id)
    assert (record.status, record.history[-1].by, record.history[-1].reason) == (
        "left",
        POLICY,
        reason,
    )
    authenticator = Authenticator(runtime.pipeline, ttl=0)
    for secret in member.secrets:
        with pytest.raises(Unauthorized):
            await authenticator.authenticate(secret)
    assert (await authenticator.authenticate(bystander.secrets[0])).party == bystander.id
    # The policy's lag, as /health/ready and `verbinders status` show it.
    [status] = await dissolution_status(runtime)
    assert (status.name, status.lag, status.refused) == ("organisation_dissolved", 0, 0)
    assert await claims(pool) == 3


async def test_two_workers_issue_each_command_once(runtime: Runtime, pool: asyncpg.Pool) -> None:
    everyone = await members(runtime, 6)
    first, second = (
        PolicyRunner(
            runtime.pipeline,
            runtime.signal,
            [OrganisationDissolved()],
            runtime.connect,
            batch_size=2,
            standby_interval=0.05,
        )
        for _ in range(2)
    )
    stop = asyncio.Event()
    workers = [asyncio.create_task(r.run(stop)) for r in (first, second)]
    try:
        dissolved = {}
        for member in everyone:
            dissolved[member.id] = await dissolve(runtime, member)
        for _ in range(200):
            if len(await decisions(pool)) == 6 * 3:
                break
            await asyncio.sleep(0.05)
        assert len(first.leading | second.leading) == 1  # one leads, the other stands by
    finally:
        stop.set()
        await asyncio.gather(*workers)
    # A leader that lost its lock without noticing reacts to an event another already took:
    # the claims make its commands answers, not repeats.
    conn = await runtime.connect()
    try:
        rows = await conn.fetch(
            "SELECT * FROM events WHERE topic LIKE '%Organisation.Dissolved' ORDER BY position"
        )
        event = row_to_event(rows[0])
        await asyncio.gather(
            first.react(conn, OrganisationDissolved(), event),
            second.react(await runtime.connect(), OrganisationDissolved(), event),
        )
    finally:
        await conn.close()
    assert_each_once(await decisions(pool), dissolved, everyone)
    assert await claims(pool) == 6 * 3


async def test_a_worker_killed_mid_batch_leaves_every_command_issued_once(
    runtime: Runtime, pool: asyncpg.Pool, database: str
) -> None:
    everyone = await members(runtime, 12, tokens=3)
    dissolved = {m.id: await dissolve(runtime, m) for m in everyone}
    total = 12 * 4
    worker = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), database, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert worker.stdout is not None
        assert await asyncio.wait_for(worker.stdout.readline(), 30) == b"ready\n"
        for _ in range(2000):  # until it is inside its first batch of 20 events
            if len(await decisions(pool)) >= 3:
                break
            await asyncio.sleep(0.005)
        worker.send_signal(signals.SIGKILL)
        assert await worker.wait() == -signals.SIGKILL
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    issued = len(await decisions(pool))
    [status] = await dissolution_status(runtime)
    assert 3 <= issued < total
    assert status.position < max(dissolved.values())  # killed before its checkpoint moved
    await runtime.policies.catch_up()
    assert_each_once(await decisions(pool), dissolved, everyone)
    assert await claims(pool) == total


async def test_replaying_every_read_model_issues_nothing_again(
    runtime: Runtime, pool: asyncpg.Pool
) -> None:
    everyone = await members(runtime, 3)
    dissolved = {m.id: await dissolve(runtime, m) for m in everyone}
    await runtime.policies.catch_up()
    before, [status] = await decisions(pool), await dissolution_status(runtime)
    conn = await runtime.connect()
    try:
        for projection in registry.projections():
            await replay(conn, projection)
    finally:
        await conn.close()
    await runtime.policies.catch_up()
    assert await decisions(pool) == before
    assert (await runtime.policies.status())[0].position >= status.position
    assert_each_once(before, dissolved, everyone)
