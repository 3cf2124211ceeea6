"""Commands under a burst larger than the pool: every one answers, none holds a connection
while it waits for another, and a burst past what the pool can serve in time gets 503."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import httpx
import pytest

from tests.api.conftest import Platform, make_platform
from verbinders.api.app import app_state, create_app
from verbinders.config import Settings
from verbinders.database import Database, open_pool
from verbinders.runtime import Runtime, runtime_on

POOL = 4
BURST = 4 * POOL
ORGANISATION = {
    "kind": "self-organisation",
    "languages": ["nl", "ar"],
    "themes": ["women"],
    "districts": ["schalkwijk"],
}


@pytest.fixture
def load_settings(api_settings: Settings) -> Settings:
    # Snapshots every few events, so that commands load their organisations from snapshots;
    # a short idle-in-transaction bound, so that a command stuck waiting fails fast.
    return replace(
        api_settings,
        snapshot_every=3,
        pool_max_size=POOL,
        idle_in_transaction_timeout_s=3.0,
        pool_wait_s=1.0,
    )


@pytest.fixture
async def small(database: str, load_settings: Settings) -> AsyncIterator[Runtime]:
    pool = await open_pool(database, load_settings, min_size=POOL, max_size=POOL)
    try:
        async with runtime_on(
            load_settings, Database(pool=pool, dsn=database, embedded=False)
        ) as runtime:
            yield runtime
    finally:
        await pool.close()


@pytest.fixture
async def small_client(small: Runtime, load_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load_settings, runtime=small)
    app.state.verbinders = app_state(small, load_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", timeout=60
    ) as client:
        yield client


async def organisations_with_history(
    client: httpx.AsyncClient, platform: Platform, count: int
) -> list[str]:
    """Organisations with a contact person (personal data) and enough events to be loaded
    from a snapshot."""
    coordinator = platform.auth("coordinator")
    ids = []
    for n in range(count):
        created = await client.post(
            "/organisations",
            json={**ORGANISATION, "name": f"Vereniging {n} {uuid.uuid4().hex[:6]}"},
            headers=coordinator,
        )
        assert created.status_code == 201, created.text
        org = created.json()["id"]
        added = await client.post(
            f"/organisations/{org}/contacts",
            json={"name": f"Persoon {n}", "email": f"p{n}@voorbeeld.nl"},
            headers=coordinator,
        )
        assert added.status_code == 201, added.text
        for volunteers in range(4):
            changed = await client.patch(
                f"/organisations/{org}", json={"active_volunteers": volunteers}, headers=coordinator
            )
            assert changed.status_code == 200, changed.text
        # Loaded once more, so that its snapshot is taken.
        shown = await client.get(f"/organisations/{org}", headers=coordinator)
        assert shown.status_code == 200, shown.text
        ids.append(org)
    return ids


async def test_transactional_commands_past_the_pool_size_all_succeed_within_seconds(
    small: Runtime, small_client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    platform = await make_platform(small, "haarlem")
    ids = await organisations_with_history(small_client, platform, BURST)
    async with pool.acquire() as conn:
        snapshots = await conn.fetchval(
            "SELECT count(DISTINCT stream_id) FROM snapshots WHERE stream_id = any($1::uuid[])",
            [uuid.UUID(i) for i in ids],
        )
    assert snapshots == BURST
    coordinator = platform.auth("coordinator")

    async def update(org: str) -> httpx.Response:
        return await small_client.patch(
            f"/organisations/{org}",
            json={"description": "Samen sterker", "active_volunteers": 12},
            headers={**coordinator, "Idempotency-Key": f"burst-{org}"},
        )

    started = time.monotonic()
    answers = await asyncio.gather(*(update(org) for org in ids))
    elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * BURST, [a.text for a in answers]
    assert elapsed < 10, elapsed
    for org in ids:
        shown = await small_client.get(f"/organisations/{org}", headers=coordinator)
        assert shown.json()["profile"]["active_volunteers"] == 12
        contacts = await small_client.get(f"/organisations/{org}/contacts", headers=coordinator)
        assert len(contacts.json()) == 1


async def test_a_burst_past_what_the_pool_can_hold_waits_then_gets_503_with_retry_after(
    small: Runtime, small_client: httpx.AsyncClient
) -> None:
    platform = await make_platform(small, "haarlem")
    [org] = await organisations_with_history(small_client, platform, 1)
    coordinator = platform.auth("coordinator")
    held = [await small.pool.acquire() for _ in range(POOL)]  # the pool is exhausted
    try:
        for headers in ({}, {"Idempotency-Key": "held"}):
            started = time.monotonic()
            refused = await small_client.patch(
                f"/organisations/{org}",
                json={"active_volunteers": 99},
                headers={**coordinator, **headers},
            )
            waited = time.monotonic() - started
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.json()["type"].endswith("/unavailable")
            assert 0.9 <= waited < 5, waited
    finally:
        for conn in held:
            await small.pool.release(conn)
    # Once connections are free again, the same command goes through.
    done = await small_client.patch(
        f"/organisations/{org}",
        json={"active_volunteers": 99},
        headers={**coordinator, "Idempotency-Key": "held"},
    )
    assert done.status_code == 200, done.text
