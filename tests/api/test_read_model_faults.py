"""One event a read model cannot hold stops that read model for that platform only.

Written straight into the store, past the API and the domain's bounds: an organisation whose
founding year the directory's `integer` column cannot hold. The directory records the fault,
holds that platform back and moves on for every other platform; every other read model moves
on; `/health/ready` and `verbinders status` name it; a query of that platform's directory
answers 503 naming it; `verbinders replay directory` stops at it with one line; a replay with
fixed code clears it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from click.testing import CliRunner

from tests.api.conftest import Platform
from verbinders.domain.organisations import Organisation
from verbinders.projections.directory import DirectoryProjection
from verbinders.projections.engine import replay, wait_for_projection
from verbinders.projections.faults import ProjectionFault
from verbinders.runtime import Runtime
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.mapping import topic_of

REGISTERED = topic_of(Organisation.Registered)  # type: ignore[attr-defined]


def registration(name: str, founding_year: int) -> NewEvent:
    payload = {
        "kind": "self-organisation",
        "name": name,
        "kvk_number": None,
        "profile": {"description": "Buurthuis", "founding_year": founding_year},
        "at": datetime(2024, 5, 1, tzinfo=UTC).isoformat(),
        "timestamp": datetime(2024, 5, 1, tzinfo=UTC).isoformat(),
    }
    return NewEvent(
        stream_id=uuid.uuid4(),
        stream_type="Organisation",
        version=1,
        topic=REGISTERED,
        payload=msgspec.json.encode(payload),
    )


async def append(runtime: Runtime, tenant: str, event: NewEvent) -> int:
    [position] = await runtime.store.append(
        [event], expected={event.stream_id: 0}, metadata=Metadata(tenant=tenant, actor="tests")
    )
    return position


async def names(client: httpx.AsyncClient, platform: Platform) -> Any:
    response = await client.get("/organisations?limit=200", headers=platform.auth("coordinator"))
    return response


class FixedDirectory(DirectoryProjection):
    """The code after the fix: a founding year it cannot hold is left out."""

    def registered(self, rows: Any, event: Any) -> None:
        profile = event.payload.get("profile") or {}
        if abs(profile.get("founding_year") or 0) > 2**31 - 1:
            profile["founding_year"] = None
        super().registered(rows, event)


async def test_a_bad_event_holds_back_one_platform_of_one_read_model(
    client: httpx.AsyncClient,
    runtime: Runtime,
    platform: Platform,
    other_platform: Platform,
    database: str,
    pool: asyncpg.Pool,
) -> None:
    bad = await append(runtime, platform.slug, registration("Te Groot", 10**12))
    later_here = await append(runtime, platform.slug, registration("Daarna Hier", 1990))
    elsewhere = await append(runtime, other_platform.slug, registration("Elders", 1990))
    assert await wait_for_projection(pool, "directory", elsewhere, timeout=20)
    assert await wait_for_projection(pool, "activity", elsewhere, timeout=20)

    # Every other platform moves on.
    response = await names(client, other_platform)
    assert response.status_code == 200, response.text
    assert "Elders" in {o["name"] for o in response.json()["items"]}
    # That platform's directory answers 503 naming the fault; its other read models answer.
    response = await names(client, platform)
    assert response.status_code == 503, response.text
    assert f"position {bad}" in response.json()["detail"]
    tokens = await client.get("/tokens", headers=platform.auth("coordinator"))
    assert tokens.status_code == 200, tokens.text
    async with pool.acquire() as conn:
        faults = await conn.fetch("SELECT * FROM projection_faults")
        assert [(f["name"], f["tenant"], f["position"], f["topic"]) for f in faults] == [
            ("directory", platform.slug, bad, REGISTERED)
        ]
        assert "int" in faults[0]["error"].lower()
        # The later event of that platform waits; none of the bad one was written.
        held = await conn.fetchval(
            "SELECT count(*) FROM directory.organisations WHERE name IN ('Daarna Hier', 'Te Groot')"
        )
        assert held == 0
        assert later_here < elsewhere

    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    problem = ready.json()
    assert problem["readiness"] == "degraded"
    [named] = [p for p in problem["problems"] if "directory" in p]
    assert f"position {bad}" in named and platform.slug in named
    [directory] = [p for p in problem["projections"] if p["name"] == "directory"]
    assert directory["faults"][0]["position"] == bad

    # `verbinders status` names it too.
    status = await asyncio.to_thread(
        CliRunner().invoke,
        _cli(),
        ["status", "--max-lag", "1000000"],
        env={"VERBINDERS_DATABASE_URL": database},
    )
    assert status.exit_code == 1, status.output
    assert f"position {bad}" in status.output

    # A replay of the same code stops at the event, with one line and no traceback.
    conn = await asyncpg.connect(database)
    try:
        with pytest.raises(ProjectionFault) as stopped:
            await replay(conn, DirectoryProjection())
        assert f"position {bad}" in str(stopped.value) and "\n" not in str(stopped.value)
        # After the fix, the replay builds a read model without the fault.
        await replay(conn, FixedDirectory())
        assert await conn.fetchval("SELECT count(*) FROM projection_faults") == 0
        found = await conn.fetch(
            "SELECT name, founding_year FROM directory.organisations"
            " WHERE valid_to IS NULL AND name IN ('Daarna Hier', 'Te Groot') ORDER BY name"
        )
        assert [tuple(r) for r in found] == [("Daarna Hier", 1990), ("Te Groot", None)]
    finally:
        await conn.close()


def _cli() -> Any:
    from verbinders.cli import main

    return main
