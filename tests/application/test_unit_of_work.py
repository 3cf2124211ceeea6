"""The unit of work every command runs in: one connection, one atomic append at the end,
the expected version, the idempotency claim, metadata, snapshots, and a bounded wait."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import msgspec
import pytest

from tests.platforms import Platform
from verbinders.application.commands import command
from verbinders.application.context import Actor, CommandResult
from verbinders.application.idempotency import RETRY_NOTE, Idempotency, forget_old_keys
from verbinders.application.organisations import register_organisation, update_organisation
from verbinders.application.pipeline import Pipeline
from verbinders.application.tokens import issue_token, revoke_token
from verbinders.application.unit_of_work import CommandRequest, UnitOfWork
from verbinders.domain.organisations import Organisation
from verbinders.domain.profile import ProfileChanges
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import InvalidCommand, PreconditionFailed, StreamConflict, Unavailable
from verbinders.runtime import Runtime
from verbinders.store.repository import Repository


def operator(platform: Platform) -> Actor:
    return Actor.operator(platform.slug, "tests")


async def events_of(pool: asyncpg.Pool, tenant: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT position, stream_id, stream_type, metadata, recorded_at FROM events"
                " WHERE tenant = $1 ORDER BY position",
                tenant,
            )
        )


async def test_every_event_of_a_command_goes_out_in_one_append_at_its_end(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    before = len(await events_of(pool, platform.slug))
    request = CommandRequest(actor=operator(platform), correlation_id="one-append")
    registered = await runtime.pipeline.run(
        register_organisation,
        request,
        kind=OrganisationKind.FORMAL_ORGANISATION,
        name="Stichting Eén Append",
        kvk_number="12345678",
    )
    appended = (await events_of(pool, platform.slug))[before:]
    # The organisation and the claims of its name and KvK number: three streams, one append.
    assert sorted(e["stream_type"] for e in appended) == [
        "Organisation",
        "UniqueIndex",
        "UniqueIndex",
    ]
    assert len({e["recorded_at"] for e in appended}) == 1
    assert len({str(dict(e["metadata"])) for e in appended}) == 1
    assert appended[-1]["position"] == registered.position


async def test_a_command_that_fails_after_changing_aggregates_writes_nothing(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    @command(writes_once=True)
    async def register_then_fail(uow: UnitOfWork) -> None:
        await register_organisation(uow, kind=OrganisationKind.SELF_ORGANISATION, name="Halverwege")
        await update_organisation(uow, platform.party, ProfileChanges(description="ook niet"))
        raise InvalidCommand("changed my mind", field="name", rule="test")

    before = await events_of(pool, platform.slug)
    with pytest.raises(InvalidCommand, match="changed my mind"):
        await runtime.pipeline.run(register_then_fail, operator(platform))
    assert await events_of(pool, platform.slug) == before


async def test_the_expected_version_is_checked_when_the_target_is_loaded(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    issued = await runtime.pipeline.run(
        issue_token, operator(platform), roles=("analyst",), label="if-match"
    )
    before = await events_of(pool, platform.slug)
    stale = CommandRequest(actor=operator(platform), expected_version=frozenset({2, 7}))
    with pytest.raises(PreconditionFailed) as refused:
        await runtime.pipeline.run(revoke_token, stale, issued.id, reason="stale")
    assert refused.value.details == {"current_version": 1}
    nothing_matches = CommandRequest(actor=operator(platform), expected_version=frozenset())
    with pytest.raises(PreconditionFailed):
        await runtime.pipeline.run(revoke_token, nothing_matches, issued.id, reason="never")
    assert await events_of(pool, platform.slug) == before
    current = CommandRequest(actor=operator(platform), expected_version=frozenset({1}))
    revoked = await runtime.pipeline.run(revoke_token, current, issued.id, reason="current")
    assert revoked.version == 2


async def test_metadata_names_the_actor_correlation_causation_key_and_reason(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    actor = Actor(tenant=platform.slug, roles=("coordinator",), token_id=uuid.uuid4())
    issued = await runtime.pipeline.run(
        issue_token, operator(platform), roles=("analyst",), label="traced"
    )
    request = CommandRequest(
        actor=actor,
        correlation_id="corr-1",
        causation_id="42",
        idempotency=Idempotency(key="revoke-traced", fingerprint="f"),
    )
    await runtime.pipeline.run(revoke_token, request, issued.id, reason="onderzoek afgerond")
    [revocation] = [e for e in await events_of(pool, platform.slug) if e["stream_id"] == issued.id][
        1:
    ]
    assert dict(revocation["metadata"]) == {
        "tenant": platform.slug,
        "actor": f"token:{actor.token_id}",
        "roles": ["coordinator"],
        "token_id": str(actor.token_id),
        "correlation_id": "corr-1",
        "causation_id": "42",
        "idempotency_key": "revoke-traced",
        "reason": "onderzoek afgerond",
    }


async def test_a_command_has_one_moment_the_request_s_clock_when_it_loads_history(
    runtime: Runtime, platform: Platform
) -> None:
    moments: list[datetime] = []

    @command(writes_once=True)
    async def look(uow: UnitOfWork) -> None:
        moments.extend([uow.now(), uow.now()])

    then = datetime(2021, 3, 1, 12, tzinfo=UTC)
    await runtime.pipeline.run(look, CommandRequest(actor=operator(platform), clock=then))
    await runtime.pipeline.run(look, operator(platform))
    assert moments[:2] == [then, then]
    assert moments[2] == moments[3] > then


async def test_a_command_that_writes_once_needs_a_transaction_only_for_its_key(
    runtime: Runtime, platform: Platform
) -> None:
    @command(writes_once=True)
    async def in_transaction(uow: UnitOfWork) -> bool:
        try:
            return uow.connection.is_in_transaction()
        except RuntimeError:
            return False

    assert await runtime.pipeline.run(in_transaction, operator(platform)) is False
    keyed = CommandRequest(
        actor=operator(platform), idempotency=Idempotency(key="k", fingerprint="f")
    )
    assert await runtime.pipeline.run(in_transaction, keyed) is True


async def test_a_key_replays_the_first_answer_and_keeps_no_secret(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    key = Idempotency(key="issue-once", fingerprint="POST /tokens analyst")
    request = CommandRequest(actor=operator(platform), idempotency=key)
    first = await runtime.pipeline.execute(
        issue_token, request, roles=("analyst",), label="eenmalig"
    )
    assert first.result.token is not None and not first.replayed
    before = await events_of(pool, platform.slug)
    again = await runtime.pipeline.execute(
        issue_token, request, roles=("analyst",), label="eenmalig"
    )
    assert again.replayed
    assert again.result == msgspec.structs.replace(first.result, token=None, note=RETRY_NOTE)
    assert again.position == first.position
    assert await events_of(pool, platform.slug) == before
    async with pool.acquire() as conn:
        stored = await conn.fetchval("SELECT body FROM idempotency_keys WHERE key = 'issue-once'")
    assert b"vb_" not in stored
    assert first.result.token.encode() not in stored
    other = CommandRequest(
        actor=operator(platform), idempotency=Idempotency(key="issue-once", fingerprint="other")
    )
    with pytest.raises(InvalidCommand) as reused:
        await runtime.pipeline.run(issue_token, other, roles=("auditor",), label="anders")
    assert reused.value.rule == "reused-for-another-request"


async def test_a_command_that_failed_leaves_its_key_free_for_a_retry(
    runtime: Runtime, platform: Platform
) -> None:
    request = CommandRequest(
        actor=operator(platform), idempotency=Idempotency(key="retry", fingerprint="f")
    )
    with pytest.raises(InvalidCommand):
        await runtime.pipeline.run(issue_token, request, roles=(), label="no roles")
    issued = await runtime.pipeline.run(issue_token, request, roles=("analyst",), label="ok")
    assert issued.token is not None


async def test_keys_are_forgotten_after_a_day_but_a_policy_s_claims_are_kept(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    for key, permanent in (("kept", True), ("forgotten", False)):
        request = CommandRequest(
            actor=operator(platform),
            idempotency=Idempotency(key=key, fingerprint="f", permanent=permanent),
        )
        await runtime.pipeline.run(issue_token, request, roles=("analyst",), label=key)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '2 days'")
    assert await forget_old_keys(pool) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT array_agg(key) FROM idempotency_keys") == ["kept"]


async def test_racing_transactional_commands_one_wins_the_other_names_the_version(
    runtime: Runtime, platform: Platform
) -> None:
    loaded = asyncio.Barrier(2)
    # Both read the organisation from the store (one taking it from the cache unread would,
    # on losing, run again: see test_aggregate_cache.py).
    cache = runtime.repository.cache
    assert cache is not None
    cache.clear()

    @command()
    async def describe(uow: UnitOfWork, text: str) -> CommandResult:
        organisation = await uow.target(Organisation, platform.party)
        await loaded.wait()  # both have read version 1 before either appends
        organisation.update_profile(
            ProfileChanges(description=text), vocabulary=_vocabulary(), at=uow.now()
        )
        return CommandResult.of(organisation)

    results = await asyncio.gather(
        runtime.pipeline.run(describe, operator(platform), "eerste"),
        runtime.pipeline.run(describe, operator(platform), "tweede"),
        return_exceptions=True,
    )
    [won] = [r for r in results if isinstance(r, CommandResult)]
    [lost] = [r for r in results if isinstance(r, StreamConflict)]
    assert won.version == 2
    assert (lost.expected, lost.actual) == (1, 2)


def _vocabulary() -> object:
    from verbinders.domain.vocabulary import DEFAULT_DISTRICTS, DEFAULT_THEMES, Vocabulary

    return Vocabulary(districts=DEFAULT_DISTRICTS, themes=DEFAULT_THEMES)


async def test_a_snapshot_found_due_is_saved_after_the_command_on_its_connection(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    repository = Repository(runtime.store, runtime.keyring, snapshot_every=3)
    pipeline = Pipeline(repository)
    for n in range(4):
        await pipeline.run(
            update_organisation,
            operator(platform),
            platform.party,
            ProfileChanges(active_volunteers=n),
        )
    async with pool.acquire() as conn:
        versions = await conn.fetch(
            "SELECT version FROM snapshots WHERE stream_id = $1 ORDER BY version", platform.party
        )
    # Loaded with 3 events to replay (versions 1-3), then again from that snapshot.
    assert [r["version"] for r in versions] == [3]


async def test_a_command_waits_a_bounded_time_for_a_connection_then_is_unavailable(
    runtime: Runtime, platform: Platform, database: str
) -> None:
    from verbinders.config import Settings
    from verbinders.database import open_pool

    small = await open_pool(database, Settings(), min_size=1, max_size=1)
    try:
        store = type(runtime.store)(small)
        pipeline = Pipeline(Repository(store, runtime.keyring), wait=0.2)
        async with small.acquire():  # the only connection is taken
            with pytest.raises(Unavailable) as busy:
                await pipeline.run(issue_token, operator(platform), roles=("analyst",), label="x")
        assert busy.value.details["retry_after"] == 1
        issued = await pipeline.run(issue_token, operator(platform), roles=("analyst",), label="x")
        assert issued.position > 0
        await store.close()
    finally:
        await small.close()
