"""A keyed command's transaction in four round trips: BEGIN with the claim, the read, the
append, the stored answer with COMMIT. The key and the answer travel as SQL literals there:
whatever they hold, they come back as sent."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import asyncpg
import asyncpg.connection
import msgspec
import pytest

from tests.platforms import Platform
from verbinders.application.context import Actor, CommandResult
from verbinders.application.idempotency import Answer, Idempotency, sql_text
from verbinders.application.organisations import register_organisation, update_organisation
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.profile import ProfileChanges
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import InvalidCommand
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


async def test_a_keyed_command_on_cached_aggregates_takes_three_round_trips(
    runtime: Runtime, platform: Platform, statements: Counter[str]
) -> None:
    actor = Actor.operator(platform.slug, "tests")
    registered = await runtime.pipeline.run(
        register_organisation, actor, kind=OrganisationKind.SELF_ORGANISATION, name="Telclub"
    )
    # Load it once unkeyed: the platform's vocabulary and the organisation are then held.
    await runtime.pipeline.run(
        update_organisation, actor, uuid.UUID(registered.id), ProfileChanges(description="a")
    )
    statements.clear()
    request = CommandRequest(actor=actor, idempotency=Idempotency(key="tel", fingerprint="f"))
    await runtime.pipeline.run(
        update_organisation, request, uuid.UUID(registered.id), ProfileChanges(description="b")
    )
    sent = {k: v for k, v in statements.items() if not k.startswith("SELECT pg_notify")}
    # BEGIN and the claim; the append, which checks the cached platform's version; the
    # answer and COMMIT. No read: the cache holds both aggregates.
    assert sum(sent.values()) == 3, sent
    assert sent["BEGIN; SET"] == 1
    assert sent["UPDATE idempotency_keys"] == 1
    # Without the cache: the read comes back, and with it four round trips.
    cache = runtime.repository.cache
    assert cache is not None
    cache.clear()
    statements.clear()
    request = CommandRequest(actor=actor, idempotency=Idempotency(key="tel-2", fingerprint="f"))
    await runtime.pipeline.run(
        update_organisation, request, uuid.UUID(registered.id), ProfileChanges(description="c")
    )
    sent = {k: v for k, v in statements.items() if not k.startswith("SELECT pg_notify")}
    assert sum(sent.values()) == 4, sent


def test_a_key_with_a_nul_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="NUL"):
        sql_text("a\x00b")
    assert sql_text("it's \\") == "E'it''s \\\\'"
