"""A keyed command that writes once: its claim and answer in its append's statement (one
round trip on cached aggregates, two with the read). A replay, a duplicate or a refusal runs
the claim-first way: BEGIN with the claim, the read, the append, the stored answer with
COMMIT, where the key and the answer travel as SQL literals. Either way, whatever they hold,
they come back as sent."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import asyncpg
import asyncpg.connection
import msgspec
import pytest

from tests.platforms import Platform
from verbinders.application.commands import command
from verbinders.application.context import Actor, CommandResult
from verbinders.application.idempotency import (
    POSITION_MARK,
    Answer,
    AnswerTemplate,
    Idempotency,
    sql_text,
)
from verbinders.application.organisations import register_organisation, update_organisation
from verbinders.application.pipeline import principal_of
from verbinders.application.unit_of_work import CommandRequest, UnitOfWork
from verbinders.domain.profile import ProfileChanges
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Conflict, InvalidCommand
from verbinders.runtime import Runtime

KEYS = [
    "plain-1",
    "it's",
    "back\\slash\\'quote",
    "E'); DROP TABLE events; --",
    "$$ dollar $tag$ \\x00-not-a-nul",
    "ünïcødé ✓ 日本",
    "new\nline\ttab",
]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every statement sent on any connection, by its first words (a count of round trips)."""
    counted: Counter[str] = Counter()
    for name in ("fetch", "fetchval", "fetchrow", "execute", "executemany"):
        original = getattr(asyncpg.connection.Connection, name)

        def counting(
            self: Any, query: str, *args: Any, _original: Any = original, **kw: Any
        ) -> Any:
            counted[" ".join(query.split()[:2])] += 1
            return _original(self, query, *args, **kw)

        monkeypatch.setattr(asyncpg.connection.Connection, name, counting)
    return counted


def presenter(result: Any) -> Answer:
    return Answer(
        body=msgspec.json.encode(result),
        status=200,
        headers={"X-Quote": 'it\'s \\ "quoted"', "ETag": f'"{result.version}"'},
    )


@pytest.mark.parametrize("key", KEYS)
async def test_any_key_is_claimed_and_replayed_with_its_answer_as_stored(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool, key: str
) -> None:
    actor = Actor.operator(platform.slug, "tests")
    org = uuid.UUID(
        (
            await runtime.pipeline.run(
                register_organisation,
                actor,
                kind=OrganisationKind.SELF_ORGANISATION,
                name=f"Sleutelclub {uuid.uuid4().hex[:6]}",
            )
        ).id
    )
    request = CommandRequest(
        actor=actor, idempotency=Idempotency(key=key, fingerprint="f'1\\"), present=presenter
    )
    changes = ProfileChanges(description="één keer")
    first = await runtime.pipeline.execute(update_organisation, request, org, changes)
    again = await runtime.pipeline.execute(update_organisation, request, org, changes)
    assert not first.replayed and again.replayed
    assert again.answer == first.answer
    assert isinstance(again.result, CommandResult) and again.result.version == first.result.version
    async with pool.acquire() as conn:
        stored = await conn.fetchrow(
            "SELECT key, fingerprint, headers FROM idempotency_keys WHERE key = $1", key
        )
        count = await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1 AND topic LIKE '%ProfileUpdated'",
            org,
        )
    assert stored["fingerprint"] == "f'1\\"
    assert dict(stored["headers"])["X-Quote"] == 'it\'s \\ "quoted"'
    assert count == 1


async def test_a_keyed_command_on_cached_aggregates_takes_one_round_trip(
    runtime: Runtime, platform: Platform, statements: Counter[str], pool: asyncpg.Pool
) -> None:
    actor = Actor.operator(platform.slug, "tests")
    registered = await runtime.pipeline.run(
        register_organisation, actor, kind=OrganisationKind.SELF_ORGANISATION, name="Telclub"
    )
    org = uuid.UUID(registered.id)
    # Load it once unkeyed: the platform's vocabulary and the organisation are then held.
    await runtime.pipeline.run(update_organisation, actor, org, ProfileChanges(description="a"))
    statements.clear()
    request = CommandRequest(
        actor=actor, idempotency=Idempotency(key="tel", fingerprint="f"), present=presenter
    )
    first = await runtime.pipeline.execute(
        update_organisation, request, org, ProfileChanges(description="b")
    )
    sent = {k: v for k, v in statements.items() if not k.startswith("SELECT pg_notify")}
    # The append, which checks the cached platform's version and claims the key with its
    # answer. No read: the cache holds both aggregates; no BEGIN, no COMMIT.
    assert sum(sent.values()) == 1, sent
    assert sent["WITH horizon"] == 1
    # The answer stored is the one given, position and all.
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT status, body, headers, fingerprint FROM idempotency_keys WHERE key = 'tel'"
        )
    assert row["fingerprint"] == "f" and row["status"] == 200
    assert bytes(row["body"]) == first.answer.body
    assert dict(row["headers"]) == first.answer.headers
    assert isinstance(first.result, CommandResult) and first.result.position == first.position > 0
    assert msgspec.json.decode(first.answer.body)["position"] == first.position
    # A replay answers what was stored, through the claim-first way, writing nothing.
    statements.clear()
    again = await runtime.pipeline.execute(
        update_organisation, request, org, ProfileChanges(description="b")
    )
    assert again.replayed and again.answer == first.answer
    assert "UPDATE idempotency_keys" not in statements
    # Without the cache: the read comes back, and with it two round trips.
    cache = runtime.repository.cache
    assert cache is not None
    cache.clear()
    statements.clear()
    request = CommandRequest(actor=actor, idempotency=Idempotency(key="tel-2", fingerprint="f"))
    await runtime.pipeline.run(update_organisation, request, org, ProfileChanges(description="c"))
    sent = {k: v for k, v in statements.items() if not k.startswith("SELECT pg_notify")}
    assert sum(sent.values()) == 2, sent


def test_a_key_with_a_nul_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="NUL"):
        sql_text("a\x00b")
    assert sql_text("it's \\") == "E'it''s \\\\'"


async def _warm_organisation(runtime: Runtime, actor: Actor, name: str) -> uuid.UUID:
    """A new organisation, updated once unkeyed: it and its platform are then cached."""
    registered = await runtime.pipeline.run(
        register_organisation, actor, kind=OrganisationKind.SELF_ORGANISATION, name=name
    )
    org = uuid.UUID(registered.id)
    await runtime.pipeline.run(update_organisation, actor, org, ProfileChanges(description="0"))
    return org


async def _updates_of(pool: asyncpg.Pool, org: uuid.UUID) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM events WHERE stream_id = $1 AND topic LIKE '%ProfileUpdated'",
                org,
            )
        )


async def test_a_replay_answers_what_was_stored_even_where_the_command_now_refuses(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    actor = Actor.operator(platform.slug, "tests")
    org = await _warm_organisation(runtime, actor, "Weigerclub")
    runs = 0

    @command(writes_once=True)
    async def once(uow: UnitOfWork, text: str) -> CommandResult:
        nonlocal runs
        runs += 1
        if runs > 1:  # the state has moved on: run again, the command would refuse
            raise Conflict("described already", state="described")
        return await update_organisation(uow, org, ProfileChanges(description=text))

    request = CommandRequest(
        actor=actor, idempotency=Idempotency(key="once", fingerprint="f"), present=presenter
    )
    first = await runtime.pipeline.execute(once, request, "een")
    again = await runtime.pipeline.execute(once, request, "een")
    assert not first.replayed and again.replayed and again.answer == first.answer
    assert await _updates_of(pool, org) == 2  # "0", then "een" once
    # A command that refuses under a key nobody claimed: its own answer, and the key stays free.
    fresh = CommandRequest(actor=actor, idempotency=Idempotency(key="fresh", fingerprint="f"))
    with pytest.raises(Conflict):
        await runtime.pipeline.execute(once, fresh, "twee")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'fresh'") == 0


async def test_concurrent_requests_with_one_key_run_once_and_answer_alike(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    actor = Actor.operator(platform.slug, "tests")
    org = await _warm_organisation(runtime, actor, "Tweelingclub")
    request = CommandRequest(
        actor=actor, idempotency=Idempotency(key="twin", fingerprint="f"), present=presenter
    )
    outcomes = await asyncio.gather(
        *(
            runtime.pipeline.execute(
                update_organisation, request, org, ProfileChanges(description="tweeling")
            )
            for _ in range(4)
        )
    )
    assert [o.replayed for o in outcomes].count(False) == 1
    assert all(o.answer == outcomes[0].answer for o in outcomes)
    assert await _updates_of(pool, org) == 2
    # Each creating new streams (no stream in common but the name's claim): once as well.
    key = CommandRequest(actor=actor, idempotency=Idempotency(key="new-twin", fingerprint="g"))
    registered = await asyncio.gather(
        *(
            runtime.pipeline.execute(
                register_organisation,
                key,
                kind=OrganisationKind.SELF_ORGANISATION,
                name="Nieuwe Tweeling",
            )
            for _ in range(3)
        )
    )
    assert len({o.result.id for o in registered}) == 1
    assert [o.replayed for o in registered].count(False) == 1


async def test_a_keyed_command_waits_for_a_claim_in_flight_and_runs_if_it_rolls_back(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    actor = Actor.operator(platform.slug, "tests")
    org = await _warm_organisation(runtime, actor, "Wachtclub")
    request = CommandRequest(actor=actor, idempotency=Idempotency(key="held", fingerprint="f"))
    async with pool.acquire() as rival:
        transaction = rival.transaction()
        await transaction.start()
        await rival.execute(
            "INSERT INTO idempotency_keys (tenant, principal, key, fingerprint)"
            " VALUES ($1, $2, 'held', 'f')",
            platform.slug,
            principal_of(actor),
        )
        running = asyncio.ensure_future(
            runtime.pipeline.execute(
                update_organisation, request, org, ProfileChanges(description="na")
            )
        )
        await asyncio.sleep(0.5)
        assert not running.done()  # it waits for the claim in flight
        assert await _updates_of(pool, org) == 1
        await transaction.rollback()
    outcome = await asyncio.wait_for(running, 10)
    assert not outcome.replayed
    assert await _updates_of(pool, org) == 2


def test_an_answer_s_template_puts_the_position_in_its_one_place() -> None:
    mark = str(POSITION_MARK)
    answer = Answer(
        body=f'{{"id":"x","position":{mark}}}'.encode(),
        status=201,
        headers={"Verbinders-Position": mark, "X-Request-ID": "r"},
    )
    template = AnswerTemplate.of(answer, has_position=True)
    assert template is not None
    assert template.fill(42) == Answer(
        body=b'{"id":"x","position":42}',
        status=201,
        headers={"Verbinders-Position": "42", "X-Request-ID": "r"},
    )
    # The mark in a value of the request's: no template (the claim-first way then).
    twice = Answer(body=f'{{"d":"{mark}","position":{mark}}}'.encode())
    assert AnswerTemplate.of(twice, has_position=True) is None
    assert AnswerTemplate.of(Answer(body=mark.encode()), has_position=False) is None
    echoed = Answer(body=b"{}", headers={"X-Request-ID": f"a{mark}"})
    assert AnswerTemplate.of(echoed, has_position=True) is None
    plain = AnswerTemplate.of(Answer(body=b'{"ok":true}'), has_position=False)
    assert plain is not None and plain.fill(7).body == b'{"ok":true}'


async def test_a_keyed_command_behind_a_claim_held_too_long_is_told_it_is_in_progress(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    actor = Actor.operator(platform.slug, "tests")
    org = await _warm_organisation(runtime, actor, "Geduldclub")
    request = CommandRequest(actor=actor, idempotency=Idempotency(key="slow", fingerprint="f"))
    async with pool.acquire() as rival, rival.transaction():
        await rival.execute(
            "INSERT INTO idempotency_keys (tenant, principal, key, fingerprint)"
            " VALUES ($1, $2, 'slow', 'f')",
            platform.slug,
            principal_of(actor),
        )
        with pytest.raises(Conflict) as busy:
            await runtime.pipeline.execute(
                update_organisation, request, org, ProfileChanges(description="te laat")
            )
        assert busy.value.details["state"] == "in-progress"
        assert await _updates_of(pool, org) == 1  # nothing written
