"""Tokens are authenticated from their own events and listed from a read model."""

from __future__ import annotations

import asyncio
import base64
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.application.tokens import (
    IssuedToken,
    hash_secret,
    issue_token,
    list_tokens,
    revoke_token,
    token_id_of,
)
from verbinders.domain.access import AccessToken
from verbinders.domain.platform import platform_id
from verbinders.errors import Unauthorized, Unavailable
from verbinders.projections.engine import active_generation, try_lead
from verbinders.runtime import Runtime
from verbinders.store.events import Metadata


def coordinator(platform: Platform) -> Actor:
    return Actor.operator(platform.slug, "tests")


async def issue(runtime: Runtime, platform: Platform, **fields: Any) -> IssuedToken:
    issued = await runtime.pipeline.run(issue_token, coordinator(platform), **fields)
    assert issued.token is not None
    return issued


async def revoke(runtime: Runtime, platform: Platform, token_id: uuid.UUID, reason: str) -> None:
    await runtime.pipeline.run(revoke_token, coordinator(platform), token_id, reason=reason)


def with_id(token_id: uuid.UUID) -> str:
    ident = base64.urlsafe_b64encode(token_id.bytes).rstrip(b"=").decode()
    return f"vb_{ident}.{secrets.token_urlsafe(32)}"


async def test_a_secret_names_its_token_and_only_that_token_s_secret_opens_it(
    runtime: Runtime, platform: Platform
) -> None:
    issued = await issue(runtime, platform, roles=("auditor",), label="audit")
    assert token_id_of(issued.token) == issued.id
    authenticator = Authenticator(runtime.pipeline)
    actor = await authenticator.authenticate(issued.token)
    assert (actor.tenant, actor.roles, actor.token_id) == (platform.slug, ("auditor",), issued.id)
    refused = [
        with_id(issued.id),  # the token's id with another random part
        with_id(platform_id(platform.slug)),  # a stream that is no token
        with_id(uuid.uuid4()),  # no such stream
        issued.token[:-1],  # a character short
        "vb_" + issued.token.removeprefix("vb_").replace(".", ""),  # no separator
        "vb_!!!!!!!!!!!!!!!!!!!!!!." + "x" * 43,  # an id that is no base64
        "bearer-something-else",
    ]
    for secret in refused:
        with pytest.raises(Unauthorized):
            await authenticator.authenticate(secret)


async def test_a_revoked_token_stops_working_once_the_cached_answer_is_older_than_its_bound(
    runtime: Runtime, platform: Platform
) -> None:
    issued = await issue(runtime, platform, roles=("analyst",), label="a")
    cached = Authenticator(runtime.pipeline, ttl=0.2)
    fresh = Authenticator(runtime.pipeline, ttl=0)
    await cached.authenticate(issued.token)
    await revoke(runtime, platform, issued.id, "left")
    with pytest.raises(Unauthorized, match="revoked"):
        await fresh.authenticate(issued.token)
    await cached.authenticate(issued.token)  # within the bound: the cached answer
    await asyncio.sleep(0.25)
    with pytest.raises(Unauthorized, match="revoked"):
        await cached.authenticate(issued.token)


async def test_a_token_whose_secret_carries_no_id_is_found_by_its_hash(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    """Secrets issued before they carried their token's id: `vb_` and 43 random characters."""
    old_secret = "vb_" + secrets.token_urlsafe(32)
    token = AccessToken.issue(
        token_id=uuid.uuid4(),
        tenant=platform.slug,
        party=None,
        roles=("analyst",),
        label="from before",
        secret_hash=hash_secret(old_secret),
        expires_at=None,
        issued_by="operator:cli",
        reason="issued",
        now=datetime.now(UTC),
    )
    await runtime.repository.save(token, metadata=Metadata(tenant=platform.slug, actor="tests"))
    authenticator = Authenticator(runtime.pipeline, ttl=0)
    with pytest.raises(Unauthorized):  # not (yet) in the table of id-less secrets
        await authenticator.authenticate(old_secret)
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO legacy_token_secrets (secret_hash, token_id) VALUES ($1, $2)",
            hash_secret(old_secret),
            token.id,
        )
    assert (await authenticator.authenticate(old_secret)).token_id == token.id
    await revoke(runtime, platform, token.id, "rotated")
    with pytest.raises(Unauthorized, match="revoked"):
        await authenticator.authenticate(old_secret)


async def test_the_token_list_is_a_read_model_the_command_line_brings_up_to_date(
    runtime: Runtime, platform: Platform
) -> None:
    """`list_tokens` reads the `tokens` read model; `catch_up` feeds it when no process runs
    the projections (as at the command line)."""
    issued = await issue(runtime, platform, roles=("fund",), label="fund", party=platform.fund)
    await revoke(runtime, platform, issued.id, "the fund left")
    await runtime.runner.catch_up("tokens")
    listed = {t.id: t for t in await list_tokens(runtime.pool, platform.slug)}
    token = listed[issued.id]
    assert (token.roles, token.party, token.label) == (("fund",), platform.fund, "fund")
    assert token.revoked_at is not None
    assert token.revoked_by == "operator:tests"
    assert token.issued_at <= token.revoked_at
    # Every token of the platform (its fixtures' too), and none of another's.
    assert len(listed) == len(platform.tokens) + 2  # + the other organisation's, + this one
    assert all(t.issued_by for t in listed.values())


async def test_catching_up_waits_for_the_process_that_runs_the_projection(
    runtime: Runtime, platform: Platform
) -> None:
    await runtime.runner.catch_up("tokens")
    await issue(runtime, platform, roles=("analyst",), label="later")
    worker = await runtime.connect()
    try:
        async with runtime.pool.acquire() as conn:
            generation = await active_generation(conn, "tokens")
        assert generation is not None
        assert await try_lead(worker, generation)  # another process leads it, and stalls
        with pytest.raises(Unavailable, match="tokens read model"):
            await runtime.runner.catch_up("tokens", timeout=0.2)
    finally:
        await worker.close()
    await runtime.runner.catch_up("tokens", timeout=5)  # the lock went with the worker


async def test_the_list_over_http_can_wait_for_the_token_just_issued(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    issued = await client.post(
        "/tokens", json={"roles": ["analyst"], "label": "new"}, headers=platform.auth("coordinator")
    )
    assert issued.status_code == 201
    position = issued.headers["Verbinders-Position"]
    listed = await client.get(
        f"/tokens?wait_for={position}&timeout=10", headers=platform.auth("coordinator")
    )
    assert listed.status_code == 200, listed.text
    assert issued.json()["id"] in {t["id"] for t in listed.json()}
    assert all("token" not in t and "secret_hash" not in t for t in listed.json())


async def test_requests_that_find_a_token_s_answer_expired_together_share_one_lookup(
    runtime: Runtime, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = await issue(runtime, platform, roles=("analyst",), label="busy")
    authenticator = Authenticator(runtime.pipeline, ttl=60)
    lookups = 0
    lookup = authenticator._lookup

    async def counted(secret: str, digest: str) -> tuple[Actor | None, datetime | None]:
        nonlocal lookups
        lookups += 1
        await asyncio.sleep(0.05)
        return await lookup(secret, digest)

    monkeypatch.setattr(authenticator, "_lookup", counted)
    actors = await asyncio.gather(*(authenticator.authenticate(issued.token) for _ in range(20)))
    assert lookups == 1
    assert {a.token_id for a in actors} == {issued.id}

    async def failing(secret: str, digest: str) -> tuple[Actor | None, datetime | None]:
        nonlocal lookups
        lookups += 1
        await asyncio.sleep(0.05)
        raise OSError("the database went away")

    other = await issue(runtime, platform, roles=("analyst",), label="other")
    monkeypatch.setattr(authenticator, "_lookup", failing)
    results = await asyncio.gather(
        *(authenticator.authenticate(other.token) for _ in range(5)), return_exceptions=True
    )
    assert lookups == 2
    assert all(isinstance(r, OSError) for r in results)
    monkeypatch.setattr(authenticator, "_lookup", lookup)  # a failure is not remembered
    assert (await authenticator.authenticate(other.token)).token_id == other.id
