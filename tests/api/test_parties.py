"""Over HTTP: a token with a party acts for that party's organisation whatever its role, and
a token is issued only for an organisation of the platform, of its role's kind; a retried
issue answers without the secret, which no stored answer holds."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.application.idempotency import RETRY_NOTE


def own_routes(org: uuid.UUID) -> list[tuple[str, str, dict[str, Any]]]:
    base = f"/organisations/{org}"
    return [
        ("PATCH", base, {"description": "Eigen beschrijving"}),
        ("POST", f"{base}/strengths", {"kind": "expertise", "title": "Subsidieadvies"}),
        ("POST", f"{base}/contacts", {"name": "Loket", "email": "loket@voorbeeld.nl"}),
        ("POST", f"{base}/membership/apply", {"motivation": "Wij doen mee"}),
        ("GET", f"{base}/contacts", {}),
        ("GET", f"{base}/membership", {}),
    ]


@pytest.mark.parametrize("role", ["municipality", "fund"])
async def test_municipality_and_fund_tokens_act_on_their_own_organisation_only(
    client: httpx.AsyncClient, platform: Platform, role: str
) -> None:
    own = getattr(platform, role)
    for method, path, body in own_routes(own):
        done = await client.request(method, path, json=body or None, headers=platform.auth(role))
        created = method == "POST" and path.endswith(("strengths", "contacts"))
        assert done.status_code == (201 if created else 200), (path, done.text)
    for method, path, body in own_routes(platform.party):
        refused = await client.request(method, path, json=body or None, headers=platform.auth(role))
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["organisation"] == str(platform.party)


async def test_a_token_is_issued_only_for_an_organisation_of_this_platform(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    coordinator = platform.auth("coordinator")
    for party in (str(uuid.uuid4()), str(other_platform.party)):
        refused = await client.post(
            "/tokens", json={"roles": ["organisation"], "party": party}, headers=coordinator
        )
        assert refused.status_code == 422, refused.text
        assert (refused.json()["field"], refused.json()["rule"]) == ("party", "exists")
        assert party in refused.json()["detail"]
    wrong_kind = await client.post(
        "/tokens", json={"roles": ["fund"], "party": str(platform.party)}, headers=coordinator
    )
    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["rule"] == "kind"


async def test_a_retried_issue_answers_without_the_secret_and_none_is_stored(
    client: httpx.AsyncClient, platform: Platform, pool: asyncpg.Pool
) -> None:
    headers = {**platform.auth("coordinator"), "Idempotency-Key": "once-only"}
    body = {"roles": ["auditor"], "label": "jaarcontrole"}
    first = await client.post("/tokens", json=body, headers=headers)
    retry = await client.post("/tokens", json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    secret = first.json()["token"]
    assert retry.json()["token"] is None
    assert retry.json()["note"] == RETRY_NOTE
    assert retry.json()["id"] == first.json()["id"]
    async with pool.acquire() as conn:
        stored = await conn.fetch("SELECT body, headers FROM idempotency_keys")
    assert stored
    assert all(secret.encode() not in row["body"] for row in stored)
    assert all("vb_" not in str(row["headers"]) for row in stored)
