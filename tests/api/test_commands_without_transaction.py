"""Commands that write once run without a transaction: one statement, atomic on its own."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.application.access import Authenticator, issue_token
from verbinders.application.context import Actor, CommandContext
from verbinders.runtime import Runtime


async def test_such_a_command_may_save_once_and_has_no_transaction_to_write_through(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    ctx = CommandContext(
        repository=runtime.repository,
        connection=None,
        actor=Actor(tenant=platform.slug, roles=("coordinator",), label="tests"),
    )
    issued = await issue_token(ctx, roles=("analyst",), label="first")
    with pytest.raises(RuntimeError, match="saved already"):
        await issue_token(ctx, roles=("analyst",), label="second")
    with pytest.raises(RuntimeError, match="without a transaction"):
        _ = ctx.transaction
    async with pool.acquire() as conn:
        labels = await conn.fetch(
            "SELECT payload->>'label' AS label FROM events WHERE tenant = $1"
            " AND stream_type = 'AccessToken' AND payload->>'label' IN ('first', 'second')",
            platform.slug,
        )
    assert [row["label"] for row in labels] == ["first"]
    assert ctx.positions == [issued.position]
    actor = await Authenticator(runtime.repository).authenticate(issued.token)
    assert actor.roles == ("analyst",)


async def test_a_token_issued_and_revoked_over_http_works_and_stops_working(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    issued = await client.post(
        "/tokens", json={"roles": ["analyst"]}, headers=platform.auth("coordinator")
    )
    assert issued.status_code == 201
    assert int(issued.headers["Verbinders-Position"]) == issued.json()["position"]
    auth = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert (await client.get("/events", headers=auth)).status_code == 200
    revoked = await client.post(
        f"/tokens/{issued.json()['id']}/revoke",
        json={"reason": "left"},
        headers={**platform.auth("coordinator"), "If-Match": '"1"'},
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.headers["ETag"] == '"2"'
    again = await client.post(
        f"/tokens/{issued.json()['id']}/revoke",
        json={"reason": "left"},
        headers={**platform.auth("coordinator"), "If-Match": '"1"'},
    )
    assert again.status_code == 412
