"""`/health/ready` is loud about a stalled or unreadable feed: 503, a problem document naming
each cause, and each projection's lag counted from the last allocated position."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.config import Settings
from verbinders.runtime import Runtime
from verbinders.store.events import Metadata, NewEvent

META = Metadata(tenant="haarlem", actor="tests")


@pytest.fixture
def api_settings() -> Settings:
    return Settings(snapshot_every=0, ready_max_held_s=0.3, ready_max_lag=2)


def event() -> tuple[list[NewEvent], dict[uuid.UUID, int]]:
    stream = uuid.uuid4()
    new = NewEvent(stream_id=stream, stream_type="Thing", version=1, topic="t:T", payload=b"{}")
    return [new], {stream: 0}


async def ready_within(client: httpx.AsyncClient, seconds: float) -> httpx.Response:
    for _ in range(int(seconds / 0.05)):
        response = await client.get("/health/ready")
        if response.status_code == 200:
            return response
        await asyncio.sleep(0.05)
    return response


async def test_ready_degrades_naming_the_holder_and_the_lag_while_a_transaction_holds_the_feed(
    client: httpx.AsyncClient, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    first = await ready_within(client, 5)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "ready"
    assert first.json()["feed"]["holders"] == 0

    store = runtime.store
    held = await pool.acquire()
    try:
        await held.execute("BEGIN")
        events, expected = event()
        await store.append(events, expected=expected, metadata=META, connection=held)
        for _ in range(3):
            events, expected = event()
            await store.append(events, expected=expected, metadata=META)
        await asyncio.sleep(0.5)
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert (body["type"], body["title"], body["status"], body["readiness"]) == (
            "https://verbinders.nl/problems/not-ready",
            "Not ready",
            503,
            "degraded",
        )
        feed = body["feed"]
        assert feed["held_by_pid"] == held.get_server_pid()
        assert feed["withheld"] == 4 and body["held_back"] is True
        problems = body["problems"]
        assert problems[0].startswith(
            f"the event feed is held at position {feed['horizon']} (4 later positions withheld)"
            f" for more than 0.3 s by backend {held.get_server_pid()} (verbinders, "
        )
        behind = [p for p in problems[1:] if p.startswith("projection ")]
        assert behind and all("4 positions behind the feed" in p for p in behind)
        assert body["detail"] == "; ".join(problems)
        activity = next(p for p in body["projections"] if p["name"] == "activity")
        assert activity["lag"] == feed["allocated"] - activity["position"] == 4
        await held.execute("COMMIT")
    finally:
        await pool.release(held)
    after = await ready_within(client, 10)
    assert after.status_code == 200, after.text
    assert all(p["lag"] == 0 for p in after.json()["projections"])


async def test_ready_and_the_feed_refuse_loudly_when_the_feed_cannot_be_read(
    client: httpx.AsyncClient, pool: asyncpg.Pool, platform: Platform
) -> None:
    async with pool.acquire() as conn:
        await conn.execute("ALTER SEQUENCE event_position_seq CACHE 10")
    response = await client.get("/health/ready")
    assert response.status_code == 503
    [problem] = response.json()["problems"]
    assert problem.startswith(
        "the event feed cannot be read: event_position_seq has INCREMENT 1, CACHE 10, NO CYCLE"
    )
    events = await client.get("/events", headers=platform.auth("coordinator"))
    assert events.status_code == 503
    body = events.json()
    assert (body["type"], body["reason"]) == (
        "https://verbinders.nl/problems/feed-refused",
        "sequence",
    )
    assert "ALTER SEQUENCE event_position_seq INCREMENT 1 CACHE 1 NO CYCLE" in body["detail"]
    async with pool.acquire() as conn:
        await conn.execute("ALTER SEQUENCE event_position_seq CACHE 1")
    assert (await ready_within(client, 10)).status_code == 200
