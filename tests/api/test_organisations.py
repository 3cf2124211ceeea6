"""Organisations over HTTP: register, profile, strengths, contacts, forgetting, directory."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from tests.api.conftest import Platform

SMVS = {
    "kind": "self-organisation",
    "name": "Stichting Marokkaanse Vrouwen Schalkwijk",
    "kvk_number": "41224567",
    "founding_year": 1998,
    "communities": ["Marokkaans-Nederlands"],
    "languages": ["ar", "nl", "zgh"],
    "themes": ["women", "language", "care"],
    "districts": ["schalkwijk"],
    "description": "Taallessen, opvoedondersteuning en ontmoeting voor vrouwen in Schalkwijk.",
    "constituency_size": 400,
    "active_volunteers": 25,
}


async def register(client: httpx.AsyncClient, platform: Platform, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/organisations", json={**SMVS, **body}, headers=platform.auth("coordinator")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def directory(
    client: httpx.AsyncClient, platform: Platform, query: str, position: Any
) -> Any:
    response = await client.get(
        f"/organisations?{query}&wait_for={position}&timeout=10", headers=platform.auth("analyst")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_registers_and_finds_an_organisation(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    created = await register(client, platform)
    shown = await client.get(
        f"/organisations/{created['id']}", headers=platform.auth("municipality")
    )
    assert shown.status_code == 200
    assert shown.headers["etag"] == '"1"'
    assert shown.json()["profile"]["languages"] == ["ar", "nl", "zgh"]
    found = await directory(client, platform, "q=taallessen ontmoeting", created["position"])
    assert [o["name"] for o in found["items"]] == [SMVS["name"]]
    assert (await directory(client, platform, "theme=sport", created["position"]))["total"] == 0
    assert (await directory(client, platform, "district=schalkwijk", created["position"]))[
        "total"
    ] == 1


async def test_names_are_unique_ignoring_case_and_accents(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    await register(client, platform, name="Stichting Çelik", kvk_number=None)
    again = await client.post(
        "/organisations",
        json={**SMVS, "name": "stichting  celik", "kvk_number": None},
        headers=platform.auth("coordinator"),
    )
    assert again.status_code == 409
    assert again.json()["state"] == "taken"
    same_kvk = await client.post(
        "/organisations",
        json={**SMVS, "name": "Another"},
        headers=platform.auth("coordinator"),
    )
    assert same_kvk.status_code == 201
    third = await client.post(
        "/organisations", json={**SMVS, "name": "Third"}, headers=platform.auth("coordinator")
    )
    assert third.status_code == 409


async def test_only_the_organisation_itself_or_the_coordinator_edits_it(
    client: httpx.AsyncClient, platform: Platform, runtime: Any
) -> None:
    from tests.api.conftest import make_platform

    created = await register(client, platform)
    org_id = created["id"]
    # A token acting for this organisation.
    issued = await client.post(
        "/tokens",
        json={"roles": ["organisation"], "party": org_id},
        headers=platform.auth("coordinator"),
    )
    own = {"Authorization": f"Bearer {issued.json()['token']}"}
    ok = await client.patch(f"/organisations/{org_id}", json={"active_volunteers": 30}, headers=own)
    assert ok.status_code == 200, ok.text
    other = await client.patch(
        f"/organisations/{org_id}",
        json={"active_volunteers": 1},
        headers={"Authorization": f"Bearer {platform.other_org_token}"},
    )
    assert other.status_code == 403
    stale = await client.patch(
        f"/organisations/{org_id}",
        json={"description": "x"},
        headers={**own, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    bad = await client.patch(f"/organisations/{org_id}", json={"themes": ["space"]}, headers=own)
    assert bad.status_code == 422
    assert bad.json()["field"] == "themes"
    elsewhere = await make_platform(runtime, "zaanstad")
    hidden = await client.get(f"/organisations/{org_id}", headers=elsewhere.auth("coordinator"))
    assert hidden.status_code == 404


async def test_a_rename_keeps_history_and_frees_the_old_name(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    created = await register(client, platform, kvk_number=None)
    renamed = await client.patch(
        f"/organisations/{created['id']}",
        json={"name": "Vrouwen van Schalkwijk"},
        headers={**platform.auth("coordinator"), "If-Match": '"1"'},
    )
    assert renamed.status_code == 200, renamed.text
    shown = (
        await client.get(f"/organisations/{created['id']}", headers=platform.auth("analyst"))
    ).json()
    assert shown["former_names"] == [SMVS["name"]]
    reused = await register(client, platform, kvk_number=None)
    assert reused["id"] != created["id"]
    found = await directory(client, platform, "q=Vrouwen van Schalkwijk", reused["position"])
    assert found["total"] >= 1


async def test_strengths_answer_who_can_help(client: httpx.AsyncClient, platform: Platform) -> None:
    created = await register(client, platform)
    headers = platform.auth("coordinator")
    venue = await client.post(
        f"/organisations/{created['id']}/strengths",
        json={
            "kind": "venue",
            "title": "Buurthuis De Ontmoeting",
            "description": "Zaal voor 80 mensen met keuken",
            "capacity": 80,
            "districts": ["schalkwijk"],
        },
        headers=headers,
    )
    assert venue.status_code == 201, venue.text
    interpreters = await client.post(
        f"/organisations/{created['id']}/strengths",
        json={
            "kind": "interpreters",
            "title": "Tolken Arabisch en Tamazight",
            "languages": ["ar", "zgh"],
        },
        headers=headers,
    )
    position = interpreters.json()["position"]
    hits = await client.get(
        f"/strengths?q=tolk&wait_for={position}&timeout=10", headers=platform.auth("fund")
    )
    assert [h["strength"]["title"] for h in hits.json()["items"]] == [
        "Tolken Arabisch en Tamazight"
    ]
    by_language = await client.get("/strengths?language=zgh", headers=platform.auth("fund"))
    assert by_language.json()["total"] == 1
    rooms = await client.get("/strengths?kind=venue&district=schalkwijk", headers=headers)
    assert rooms.json()["items"][0]["strength"]["capacity"] == 80
    withdrawn = await client.post(
        f"/organisations/{created['id']}/strengths/{venue.json()['id']}/withdraw",
        json={"reason": "verbouwing"},
        headers=headers,
    )
    position = withdrawn.json()["position"]
    rooms = await client.get(
        f"/strengths?kind=venue&wait_for={position}&timeout=10", headers=headers
    )
    assert rooms.json()["total"] == 0
    with_strengths = await directory(client, platform, "strength=interpreters", position)
    assert with_strengths["total"] == 1


async def test_contacts_are_personal_data_that_can_be_forgotten(
    client: httpx.AsyncClient, platform: Platform, pool: asyncpg.Pool
) -> None:
    created = await register(client, platform)
    org = created["id"]
    headers = platform.auth("coordinator")
    added = await client.post(
        f"/organisations/{org}/contacts",
        json={
            "name": "Fatima El Amrani",
            "role": "voorzitter",
            "email": "fatima@smvs.nl",
            "phone": "+31 6 12345678",
        },
        headers=headers,
    )
    assert added.status_code == 201, added.text
    person = added.json()["id"]
    listed = await client.get(f"/organisations/{org}/contacts", headers=headers)
    assert listed.json()[0]["email"] == "fatima@smvs.nl"
    for role in ("analyst", "auditor", "municipality", "fund"):
        denied = await client.get(f"/organisations/{org}/contacts", headers=platform.auth(role))
        assert denied.status_code == 403, role
    other_org = await client.get(
        f"/organisations/{org}/contacts",
        headers={"Authorization": f"Bearer {platform.other_org_token}"},
    )
    assert other_org.status_code == 403

    forgotten = await client.post(f"/organisations/{org}/contacts/{person}/forget", headers=headers)
    assert forgotten.status_code == 200, forgotten.text
    assert (await client.get(f"/organisations/{org}/contacts", headers=headers)).json() == []
    # The organisation still loads, and its history is intact.
    shown = await client.get(f"/organisations/{org}", headers=headers)
    assert shown.status_code == 200
    events = await client.get(f"/events?stream={org}", headers=platform.auth("auditor"))
    topics = [e["topic"].rsplit(".", 1)[-1] for e in events.json()["events"]]
    assert topics == ["registered", "contact_added", "contact_forgotten"]
    await asyncio.sleep(0)
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND table_type = 'BASE TABLE'"
        )
        for table in tables:
            text = await conn.fetchval(
                f'SELECT string_agg(t::text, \' \') FROM "{table[0]}"."{table[1]}" t'
            )
            for secret in ("Fatima", "fatima@smvs.nl", "12345678"):
                assert secret not in (text or ""), (table, secret)
    again = await client.post(
        f"/organisations/{org}/contacts",
        json={"name": "Fatima El Amrani", "email": "f.elamrani@smvs.nl"},
        headers=headers,
    )
    assert again.status_code == 201  # a new person id: a new key


async def test_dissolution_is_final(client: httpx.AsyncClient, platform: Platform) -> None:
    created = await register(client, platform)
    headers = platform.auth("coordinator")
    done = await client.post(
        f"/organisations/{created['id']}/dissolve", json={"reason": "opgeheven"}, headers=headers
    )
    assert done.status_code == 200
    late = await client.patch(
        f"/organisations/{created['id']}", json={"description": "x"}, headers=headers
    )
    assert late.status_code == 409
    assert late.json()["state"] == "dissolved"
    missing_reason = await client.post(
        f"/organisations/{created['id']}/dissolve", json={}, headers=headers
    )
    assert missing_reason.status_code == 422


async def test_every_organisation_route_admits_exactly_its_roles(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    created = await register(client, platform)
    org = created["id"]
    issued = await client.post(
        "/tokens",
        json={"roles": ["organisation"], "party": org},
        headers=platform.auth("coordinator"),
    )
    tokens = {role: platform.auth(role) for role in platform.tokens}
    tokens["organisation"] = {"Authorization": f"Bearer {issued.json()['token']}"}
    strength = await client.post(
        f"/organisations/{org}/strengths",
        json={"kind": "reach", "title": "Bereik in Schalkwijk"},
        headers=tokens["coordinator"],
    )
    contact = await client.post(
        f"/organisations/{org}/contacts",
        json={"name": "Matrix Test", "email": "matrix@example.nl"},
        headers=tokens["coordinator"],
    )
    sid, pid = strength.json()["id"], contact.json()["id"]
    everyone = tuple(tokens)
    own = ("coordinator", "organisation")
    cases: list[tuple[str, str, Any, tuple[str, ...]]] = [
        ("GET", "/organisations", None, everyone),
        ("GET", f"/organisations/{org}", None, everyone),
        ("GET", "/strengths?q=bereik", None, everyone),
        (
            "POST",
            "/organisations",
            {**SMVS, "name": "Matrix", "kvk_number": None},
            ("coordinator",),
        ),
        ("PATCH", f"/organisations/{org}", {"active_volunteers": 26}, own),
        ("POST", f"/organisations/{org}/strengths", {"kind": "other", "title": "Koken"}, own),
        ("PATCH", f"/organisations/{org}/strengths/{sid}", {"capacity": 3}, own),
        ("GET", f"/organisations/{org}/contacts", None, own),
        ("PATCH", f"/organisations/{org}/contacts/{pid}", {"role": "secretaris"}, own),
        ("POST", f"/organisations/{org}/contacts", {"name": "X Y", "phone": "0231234567"}, own),
    ]
    for method, path, body, allowed in cases:
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        for role, headers in tokens.items():
            response = await client.request(method, path, json=body, headers=headers)
            if role in allowed:
                assert response.status_code < 400, (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
    # Commands that end something, once per allowed role at the end.
    for path, body in (
        (f"/organisations/{org}/strengths/{sid}/withdraw", {"reason": "matrix"}),
        (f"/organisations/{org}/contacts/{pid}/forget", None),
        (f"/organisations/{org}/dissolve", {"reason": "matrix"}),
    ):
        for role in ("municipality", "fund", "auditor", "analyst"):
            denied = await client.post(path, json=body, headers=tokens[role])
            assert denied.status_code == 403, (path, role)
        done = await client.post(path, json=body, headers=tokens["organisation"])
        assert done.status_code == 200, (path, done.text)


async def test_the_coordinator_reassigns_the_point_of_contact_and_vocabularies(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    created = await register(client, platform)
    headers = platform.auth("coordinator")
    assigned = await client.put(
        "/platform/point-of-contact",
        json={"organisation_id": created["id"], "reason": "gekozen in de vergadering"},
        headers=headers,
    )
    assert assigned.status_code == 200, assigned.text
    shown = await client.get("/platform", headers=platform.auth("fund"))
    assert shown.json()["point_of_contact"] == created["id"]
    same = await client.put(
        "/platform/point-of-contact",
        json={"organisation_id": created["id"], "reason": "nog eens"},
        headers=headers,
    )
    assert same.status_code == 409
    for role in ("organisation", "municipality", "fund", "auditor", "analyst"):
        denied = await client.put(
            "/platform/point-of-contact",
            json={"organisation_id": None, "reason": "x"},
            headers=platform.auth(role),
        )
        assert denied.status_code == 403
    changed = await client.patch(
        "/platform",
        json={
            "districts": [
                {"code": "centrum", "label": "Centrum"},
                {"code": "haarlem-noord", "label": "Haarlem-Noord"},
            ]
        },
        headers={**headers, "If-Match": shown.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    refused = await client.patch(
        f"/organisations/{created['id']}", json={"districts": ["oost"]}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "districts"


async def test_the_platform_can_be_read_as_it_stood_before_a_change(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    before = await client.get("/platform", headers=platform.auth("analyst"))
    await asyncio.sleep(0.01)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.01)
    renamed = await client.patch(
        "/platform",
        json={"name": "Verbinders Haarlem e.o."},
        headers={**platform.auth("coordinator"), "If-Match": before.headers["etag"]},
    )
    assert renamed.status_code == 200, renamed.text
    now = await client.get("/platform", headers=platform.auth("analyst"))
    then = await client.get(
        "/platform", params={"as_of": moment.isoformat()}, headers=platform.auth("analyst")
    )
    assert now.json()["name"] == "Verbinders Haarlem e.o."
    assert then.json() == before.json()
    naive = await client.get(
        "/platform",
        params={"as_of": moment.replace(tzinfo=None).isoformat()},
        headers=platform.auth("analyst"),
    )
    assert naive.status_code == 422
    assert "as_of" in naive.text
