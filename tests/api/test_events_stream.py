"""`GET /events/stream`: the store's subscription as server-sent events; a comment line keeps
an idle stream open; a resumed stream starts after `Last-Event-ID`, which must be a position."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.api.conftest import Platform
from tests.api.test_commands import served
from verbinders.api.routes import events
from verbinders.runtime import Runtime


async def test_an_idle_stream_is_kept_open_by_comment_lines_not_empty_events(
    runtime: Runtime, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "KEEP_ALIVE_SECONDS", 0.2)
    async with served(runtime) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        lines: list[str] = []

        async def listen() -> None:
            async with client.stream(
                "GET", "/events/stream", headers=platform.auth("auditor")
            ) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    lines.append(line)
                    if lines.count(": keep-alive") == 2:
                        return

        await asyncio.wait_for(listen(), 10)
    # Only comments and the blank lines that end them: no event a browser would deliver.
    assert [line for line in lines if line] == [": keep-alive", ": keep-alive"]


async def test_a_resumed_stream_starts_after_the_last_event_id(
    runtime: Runtime, platform: Platform
) -> None:
    async with served(runtime) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
        coordinator = platform.auth("coordinator")
        first = await client.post("/tokens", json={"roles": ["analyst"]}, headers=coordinator)
        second = await client.post("/tokens", json={"roles": ["auditor"]}, headers=coordinator)
        received: list[dict[str, object]] = []
        ids: list[str] = []
        headers = {**platform.auth("auditor"), "Last-Event-ID": str(first.json()["position"])}
        async with client.stream("GET", "/events/stream?after=0", headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    ids.append(line[4:])
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    break
    assert received[0]["position"] == second.json()["position"]
    assert ids == [str(second.json()["position"])]


@pytest.mark.parametrize(
    "last_event_id", ["99999999999999999999", "9223372036854775808", "-1", "12abc", "1.5"]
)
async def test_a_last_event_id_that_is_no_position_is_refused_before_streaming(
    client: httpx.AsyncClient, platform: Platform, last_event_id: str
) -> None:
    response = await client.get(
        "/events/stream",
        headers={**platform.auth("analyst"), "Last-Event-ID": last_event_id},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (response.json()["field"], response.json()["rule"]) == ("Last-Event-ID", "range")


async def test_paging_past_the_largest_position_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    for path in ("/events?after=9223372036854775808", "/events/stream?after=9223372036854775808"):
        response = await client.get(path, headers=platform.auth("analyst"))
        assert response.status_code == 422, (path, response.text)
    largest = await client.get(
        "/events?after=9223372036854775807", headers=platform.auth("analyst")
    )
    assert largest.status_code == 200
    assert largest.json()["events"] == []
