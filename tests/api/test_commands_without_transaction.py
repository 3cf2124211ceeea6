"""Commands that write once run without a transaction: one statement, atomic on its own."""

from __future__ import annotations

import asyncpg
import httpx

from tests.api.conftest import Platform
from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.application.tokens import issue_token
from verbinders.runtime import Runtime


async def test_such_a_command_runs_on_one_connection_without_a_transaction(
    runtime: Runtime, platform: Platform, pool: asyncpg.Pool
) -> None:
    assert issue_token.writes_once
    backends: list[int] = []
    original = runtime.pipeline._at_once

    async def watched(uow, command, args, kwargs):  # type: ignore[no-untyped-def]
        connection = uow._connection
        backends.append(connection.get_server_pid())
        assert not connection.is_in_transaction()
        return await original(uow, command, args, kwargs)

    runtime.pipeline._at_once = watched  # type: ignore[method-assign]
    try:
        issued = await runtime.pipeline.run(
            issue_token, Actor.operator(platform.slug, "tests"), roles=("analyst",), label="first"
        )
    finally:
        del runtime.pipeline._at_once
    assert len(backends) == 1
    async with pool.acquire() as conn:
        position = await conn.fetchval(
            "SELECT position FROM events WHERE stream_id = $1", issued.id
        )
    assert issued.position == position
    assert issued.token is not None
    actor = await Authenticator(runtime.pipeline).authenticate(issued.token)
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
