"""Every route against every role; tenants; tokens; errors as problem documents."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.domain.access import Role

ALL = [r.value for r in Role]


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str
    answers: dict[str, int]
    """What each admitted role gets (every other role: 403)."""
    body: Any = None


def cases(platform: Platform, revocable: str) -> list[RouteCase]:
    """The role matrix of the platform's, access and feed routes (the other routes have
    theirs beside their tests)."""
    feed_readers = dict.fromkeys(("coordinator", "analyst", "auditor"), 200)
    return [
        RouteCase("GET", "/me", dict.fromkeys(ALL, 200)),
        RouteCase("GET", "/platform", dict.fromkeys(ALL, 200)),
        RouteCase("GET", "/tokens", {"coordinator": 200}),
        RouteCase("POST", "/tokens", {"coordinator": 201}, {"roles": ["analyst"], "label": "x"}),
        RouteCase(
            "POST", f"/tokens/{revocable}/revoke", {"coordinator": 200}, {"reason": "matrix test"}
        ),
        RouteCase("GET", "/events", feed_readers),
        RouteCase("GET", "/reports/activity", feed_readers),
    ]


async def test_every_route_admits_exactly_its_roles(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    created = await client.post(
        "/tokens",
        json={"roles": ["analyst"], "label": "to revoke"},
        headers=platform.auth("coordinator"),
    )
    revocable = created.json()["id"]
    for case in cases(platform, revocable):
        anonymous = await client.request(case.method, case.path, json=case.body)
        assert anonymous.status_code == 401, (case, anonymous.text)
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        bogus = await client.request(
            case.method, case.path, json=case.body, headers={"Authorization": "Bearer vb_nope"}
        )
        assert bogus.status_code == 401, case
        for role in ALL:
            response = await client.request(
                case.method, case.path, json=case.body, headers=platform.auth(role)
            )
            expected = case.answers.get(role, 403)
            assert response.status_code == expected, (case, role, response.text)
            if expected == 403:
                assert response.json()["type"].endswith("/forbidden")


async def test_the_live_feed_admits_only_the_coordinator_analysts_and_auditors(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    assert (await client.get("/events/stream")).status_code == 401
    for role in ALL:
        if role not in ("coordinator", "analyst", "auditor"):
            response = await client.get("/events/stream", headers=platform.auth(role))
            assert response.status_code == 403, role


async def test_no_token_reads_or_touches_another_platform(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    mine = await client.get("/events", headers=platform.auth("analyst"))
    theirs = await client.get("/events", headers=other_platform.auth("analyst"))
    assert {e["tenant"] for e in mine.json()["events"]} == {"haarlem"}
    assert {e["tenant"] for e in theirs.json()["events"]} == {"zaanstad"}
    last = max(e["position"] for e in mine.json()["events"])
    haarlem_token = (
        await client.get(f"/tokens?wait_for={last}", headers=platform.auth("coordinator"))
    ).json()[0]
    attempt = await client.post(
        f"/tokens/{haarlem_token['id']}/revoke",
        json={"reason": "not yours"},
        headers=other_platform.auth("coordinator"),
    )
    assert attempt.status_code == 404
    platform_seen = await client.get("/platform", headers=other_platform.auth("analyst"))
    assert platform_seen.json()["slug"] == "zaanstad"


async def test_issued_tokens_work_at_once_and_revoked_ones_stop(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    issued = await client.post(
        "/tokens",
        json={"roles": ["auditor"], "label": "audit 2026", "reason": "yearly audit"},
        headers=platform.auth("coordinator"),
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert issued.headers["location"] == f"/tokens/{body['id']}"
    assert int(issued.headers["verbinders-position"]) == body["position"]
    auditor = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.get("/me", headers=auditor)).json()["roles"] == ["auditor"]
    listed = (await client.get("/tokens", headers=platform.auth("coordinator"))).json()
    assert body["token"] not in str(listed)
    revoked = await client.post(
        f"/tokens/{body['id']}/revoke",
        json={"reason": "audit done"},
        headers=platform.auth("coordinator"),
    )
    assert revoked.status_code == 200, revoked.text
    await asyncio.sleep(1.1)  # the authenticator caches for at most a second
    assert (await client.get("/me", headers=auditor)).status_code == 401
    again = await client.post(
        f"/tokens/{body['id']}/revoke",
        json={"reason": "twice"},
        headers=platform.auth("coordinator"),
    )
    assert again.status_code == 409
    assert again.json()["state"] == "revoked"
    # Granting and revoking are events with who and why, for auditors.
    events = await client.get(f"/events?stream={body['id']}", headers=platform.auth("auditor"))
    topics = [e["topic"].rsplit(".", 1)[-1] for e in events.json()["events"]]
    assert topics == ["issued", "revoked"]
    revocation = events.json()["events"][1]
    assert revocation["metadata"]["reason"] == "audit done"
    assert revocation["metadata"]["roles"] == ["coordinator"]
    assert revocation["metadata"]["correlation_id"]


async def test_expired_tokens_are_refused(client: httpx.AsyncClient, platform: Platform) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1)
    issued = await client.post(
        "/tokens",
        json={"roles": ["analyst"], "label": "brief", "expires_at": soon.isoformat()},
        headers=platform.auth("coordinator"),
    )
    token = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert (await client.get("/me", headers=token)).status_code == 200
    await asyncio.sleep(1.2)
    refused = await client.get("/me", headers=token)
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"roles": ["analyst"], "colour": "red"}, "colour", "unknown-field"),
        ({"label": "no roles"}, "roles", "required"),
        ({"roles": "analyst"}, "roles", "type"),
        ({"roles": ["wizard"]}, "roles[0]", "enum"),
        ({"roles": ["organisation"]}, "party", "required"),
    ],
)
async def test_invalid_commands_name_the_field_and_rule(
    client: httpx.AsyncClient, platform: Platform, body: dict[str, Any], field: str, rule: str
) -> None:
    response = await client.post("/tokens", json=body, headers=platform.auth("coordinator"))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["field"] == field
    assert problem["rule"] == rule
    assert problem["type"].startswith("https://verbinders.nl/problems/")


async def test_unknown_routes_and_methods_are_problems(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    missing = await client.get("/nowhere", headers=platform.auth("coordinator"))
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/not-found")
    wrong = await client.delete("/tokens", headers=platform.auth("coordinator"))
    assert wrong.status_code == 405
    unknown_token = await client.post(
        f"/tokens/{uuid.uuid4()}/revoke", json={"reason": "x"}, headers=platform.auth("coordinator")
    )
    assert unknown_token.status_code == 404


async def test_oversized_bodies_are_refused(client: httpx.AsyncClient, platform: Platform) -> None:
    response = await client.post(
        "/tokens",
        json={"roles": ["analyst"], "label": "x" * 100_000},
        headers=platform.auth("coordinator"),
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
