"""`GET /membership` shows each role only what it may read of a membership record: who decided
and why are for the coordinator, auditors, analysts and the organisation itself
(`rights.sees_decision_reasons`), `null` for everyone else."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.domain.access import Role

REASON = "Geen activiteiten in Haarlem"


async def _rejected(client: httpx.AsyncClient, platform: Platform, organisation: str) -> int:
    coordinator = platform.auth("coordinator")
    applied = await client.post(
        f"/organisations/{organisation}/membership/apply",
        json={"motivation": "Wij doen mee"},
        headers=coordinator,
    )
    assert applied.status_code == 200, applied.text
    rejected = await client.post(
        f"/organisations/{organisation}/membership/reject",
        json={"reason": REASON},
        headers=coordinator,
    )
    assert rejected.status_code == 200, rejected.text
    return int(rejected.headers["Verbinders-Position"])


@pytest.mark.parametrize("role", [role.value for role in Role])
async def test_the_register_shows_decisions_only_to_those_who_may_read_them(
    client: httpx.AsyncClient, platform: Platform, role: str
) -> None:
    await _rejected(client, platform, str(platform.party))  # the organisation token's own
    position = await _rejected(client, platform, str(platform.other_party))
    answer = await client.get(f"/membership?wait_for={position}", headers=platform.auth(role))
    assert answer.status_code == 200, answer.text
    entries = {entry["organisation_id"]: entry for entry in answer.json()["items"]}
    own, other = entries[str(platform.party)], entries[str(platform.other_party)]
    assert own["status"] == other["status"] == "rejected"
    tracer = role in ("coordinator", "auditor", "analyst")
    for entry, readable in ((own, tracer or role == "organisation"), (other, tracer)):
        if readable:
            assert entry["reason"] == REASON, (role, entry)
            assert entry["decided_by"], (role, entry)
        else:
            assert entry["reason"] is None, (role, entry)
            assert entry["decided_by"] is None, (role, entry)
