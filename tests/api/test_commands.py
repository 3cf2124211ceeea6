"""Safe retries, optimistic concurrency, write limits, read-your-writes and the live feed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import asyncpg
import httpx
import uvicorn

from tests.api.conftest import Platform
from verbinders.api.app import app_state, create_app
from verbinders.application.idempotency import RETRY_NOTE
from verbinders.config import Settings
from verbinders.runtime import Runtime


async def count_events(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM events"))


async def test_a_retry_with_the_same_key_replays_the_first_answer(
    client: httpx.AsyncClient, platform: Platform, pool: asyncpg.Pool
) -> None:
    headers = {**platform.auth("coordinator"), "Idempotency-Key": "issue-auditor-1"}
    body = {"roles": ["auditor"], "label": "auditor 2026"}
    first = await client.post("/tokens", json=body, headers=headers)
    assert first.status_code == 201
    events = await count_events(pool)
    retry = await client.post("/tokens", json=body, headers=headers)
    assert retry.status_code == 201
    # The same answer, less the secret, which was shown once (see docs/api.md).
    assert first.json()["token"].startswith("vb_")
    assert retry.json() == {**first.json(), "token": None, "note": RETRY_NOTE}
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotency-replayed"] == "true"
    assert retry.headers["verbinders-position"] == first.headers["verbinders-position"]
    assert await count_events(pool) == events

    other = await client.post("/tokens", json={**body, "label": "something else"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["rule"] == "reused-for-another-request"
    assert await count_events(pool) == events


async def test_concurrent_duplicates_execute_once(
    client: httpx.AsyncClient, platform: Platform, pool: asyncpg.Pool
) -> None:
    headers = {**platform.auth("coordinator"), "Idempotency-Key": "burst"}
    body = {"roles": ["analyst"], "label": "burst"}
    before = await count_events(pool)
    answers = await asyncio.gather(
        *(client.post("/tokens", json=body, headers=headers) for _ in range(8))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await count_events(pool) == before + 1


async def test_a_failed_command_can_be_retried_with_its_key(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    headers = {**platform.auth("coordinator"), "Idempotency-Key": "fix-and-retry"}
    bad = await client.post("/tokens", json={"roles": ["organisation"]}, headers=headers)
    assert bad.status_code == 422
    good = await client.post("/tokens", json={"roles": ["analyst"]}, headers=headers)
    assert good.status_code == 201


async def test_a_stale_if_match_changes_nothing(
    client: httpx.AsyncClient, platform: Platform, pool: asyncpg.Pool
) -> None:
    issued = (
        await client.post(
            "/tokens", json={"roles": ["analyst"]}, headers=platform.auth("coordinator")
        )
    ).json()
    before = await count_events(pool)
    stale = await client.post(
        f"/tokens/{issued['id']}/revoke",
        json={"reason": "stale"},
        headers={**platform.auth("coordinator"), "If-Match": '"7"'},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1
    assert await count_events(pool) == before
    fresh = await client.post(
        f"/tokens/{issued['id']}/revoke",
        json={"reason": "fresh"},
        headers={**platform.auth("coordinator"), "If-Match": '"1"'},
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"2"'


async def test_writes_are_limited_per_token(runtime: Runtime, platform: Platform) -> None:
    settings = Settings(write_rate_per_minute=3)
    await runtime.runner.prepare()
    app = create_app(settings, runtime=runtime)
    app.state.verbinders = app_state(runtime, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answers = [
            await client.post(
                "/tokens", json={"roles": ["analyst"]}, headers=platform.auth("coordinator")
            )
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        # Reads are not limited.
        assert (
            await client.get("/tokens", headers=platform.auth("coordinator"))
        ).status_code == 200


async def test_a_reader_can_wait_for_its_own_writes(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    issued = await client.post(
        "/tokens", json={"roles": ["analyst"]}, headers=platform.auth("coordinator")
    )
    position = issued.headers["verbinders-position"]
    report = await client.get(
        f"/reports/activity?wait_for={position}&timeout=10", headers=platform.auth("analyst")
    )
    assert report.status_code == 200, report.text
    assert sum(r["events"] for r in report.json() if r["stream_type"] == "AccessToken") >= 8
    too_far = await client.get(
        "/reports/activity?wait_for=999999&timeout=0.2", headers=platform.auth("analyst")
    )
    assert too_far.status_code == 503
    assert too_far.headers["retry-after"] == "1"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[str]:
    """The app on a real socket (streaming responses need one)."""
    settings = Settings()
    app = create_app(settings, runtime=runtime)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        await task


async def test_the_live_feed_streams_new_events(runtime: Runtime, platform: Platform) -> None:
    async with served(runtime) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        received: list[dict[str, object]] = []

        async def listen() -> None:
            async with client.stream(
                "GET", "/events/stream?after=0", headers=platform.auth("analyst")
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        received.append(json.loads(line[5:]))
                        if any(
                            e["stream_type"] == "AccessToken" and e["version"] == 2
                            for e in received
                        ):
                            return

        listening = asyncio.create_task(listen())
        issued = await client.post(
            "/tokens", json={"roles": ["analyst"]}, headers=platform.auth("coordinator")
        )
        await client.post(
            f"/tokens/{issued.json()['id']}/revoke",
            json={"reason": "stream test"},
            headers=platform.auth("coordinator"),
        )
        await asyncio.wait_for(listening, 10)
        assert {e["tenant"] for e in received} == {"haarlem"}
        positions = [e["position"] for e in received]
        assert positions == sorted(positions)


async def test_idempotency_keys_are_forgotten_after_a_day(
    client: httpx.AsyncClient, platform: Platform, pool: asyncpg.Pool
) -> None:
    from verbinders.application.idempotency import forget_old_keys

    headers = {**platform.auth("coordinator"), "Idempotency-Key": "old"}
    await client.post("/tokens", json={"roles": ["analyst"]}, headers=headers)
    assert await forget_old_keys(pool) == 0
    async with pool.acquire() as conn:
        await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    assert await forget_old_keys(pool) == 1
