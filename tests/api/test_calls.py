"""Calls over HTTP: every route, the roles each admits, another platform, bad input, the
race for a need, the picture, the reports in JSON and CSV, the board page and its ticket."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from tests.api.conftest import Platform
from tests.api.test_commands import served
from verbinders.application import membership as membership_service
from verbinders.application.context import Actor
from verbinders.runtime import Runtime
from verbinders.workers import prepare_workers, run_workers

RESPOND_BY = (datetime.now(UTC) + timedelta(days=1)).isoformat()
CALL = {
    "kind": "calamity",
    "title": "Wateroverlast Schalkwijk",
    "message": "De Molenwijk staat onder water.",
    "respond_by": RESPOND_BY,
    "urgency": "critical",
    "districts": ["schalkwijk"],
    "needs": [
        {
            "id": "catering",
            "kind": "catering",
            "description": "Maaltijden",
            "quantity": 100,
            "district": "schalkwijk",
        },
        {"kind": "languages", "description": "Tolken", "quantity": 2, "language": "ar"},
    ],
}


async def admitted(runtime: Runtime, platform: Platform, organisation: uuid.UUID) -> None:
    operator = Actor.operator(platform.slug, "tests")
    await runtime.pipeline.run(membership_service.apply, operator, organisation, motivation="ja")
    await runtime.pipeline.run(membership_service.admit, operator, organisation, reason="ja")


async def issued(client: httpx.AsyncClient, platform: Platform, role: str = "coordinator") -> str:
    response = await client.post("/calls", json=CALL, headers=platform.auth(role))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_issuing_answers_201_with_location_and_the_number_addressed(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    response = await client.post("/calls", json=CALL, headers=platform.auth("municipality"))
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/calls/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["data"]["addressees"] == 1
    shown = await client.get(f"/calls/{body['id']}", headers=platform.auth("coordinator"))
    assert [n["need"]["id"] for n in shown.json()["needs"]] == ["catering", "need-2"]


async def test_who_may_issue_read_and_answer(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    for role in ("organisation", "fund", "analyst", "auditor"):
        refused = await client.post("/calls", json=CALL, headers=platform.auth(role))
        assert refused.status_code == 403, role
    call_id = await issued(client, platform)
    addressed = await client.get(f"/calls/{call_id}", headers=platform.auth("organisation"))
    assert addressed.status_code == 200
    assert addressed.json()["addressed_to_you"] is True
    not_addressed = await client.get(f"/calls/{call_id}", headers=platform.auth("fund"))
    assert not_addressed.status_code == 403
    for role in ("analyst", "auditor"):
        assert (
            await client.get(f"/calls/{call_id}", headers=platform.auth(role))
        ).status_code == 403
    listed = await client.get("/calls", headers=platform.auth("organisation"))
    assert listed.status_code == 200  # the read model may lag: wait for the call's position
    assert addressed.json()["version"] == 1
    async with runtime.pool.acquire() as conn:
        position = await conn.fetchval(
            "SELECT max(position) FROM events WHERE stream_id = $1", uuid.UUID(call_id)
        )
    own = await client.get(f"/calls?wait_for={position}", headers=platform.auth("organisation"))
    assert own.status_code == 200
    assert [c["id"] for c in own.json()["items"]] == [call_id]
    none = await client.get("/calls", headers=platform.auth("fund"))
    assert none.json()["items"] == []
    responses = await client.get(
        f"/calls/{call_id}/responses", headers=platform.auth("organisation")
    )
    assert responses.status_code == 403


async def test_an_organisation_answers_for_itself_and_revises_with_if_match(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    await admitted(runtime, platform, platform.other_party)
    call_id = await issued(client, platform)
    org = platform.auth("organisation")
    ack = await client.post(
        f"/calls/{call_id}/acknowledge", json={"organisation_id": str(platform.party)}, headers=org
    )
    assert ack.status_code == 200
    url = f"/calls/{call_id}/responses/{platform.party}"
    answer = {
        "available": True,
        "volunteers": 4,
        "languages": ["ar"],
        "districts": ["schalkwijk"],
        "offers": [{"kind": "catering", "quantity": 40}],
    }
    first = await client.put(url, json=answer, headers=org)
    assert first.status_code == 200
    stale = await client.put(
        url, json={**answer, "volunteers": 6}, headers={**org, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    revised = await client.put(
        url, json={**answer, "volunteers": 6}, headers={**org, "If-Match": first.headers["etag"]}
    )
    assert revised.status_code == 200
    shown = await client.get(url, headers=org)
    assert (shown.json()["revision"], shown.json()["response"]["volunteers"]) == (2, 6)
    other = await client.put(
        f"/calls/{call_id}/responses/{platform.other_party}", json=answer, headers=org
    )
    assert other.status_code == 403
    bad = await client.put(url, json={**answer, "volunteers": -1}, headers=org)
    assert bad.status_code == 422
    assert bad.json()["field"] == "volunteers"
    unknown = await client.put(url, json={**answer, "sneaky": 1}, headers=org)
    assert unknown.status_code == 422


async def test_racing_claims_over_http_one_wins_the_other_gets_409_naming_it(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    await admitted(runtime, platform, platform.other_party)
    call_id = await issued(client, platform)
    claims = await asyncio.gather(
        client.post(
            f"/calls/{call_id}/needs/catering/claim",
            json={"organisation_id": str(platform.party)},
            headers=platform.auth("organisation"),
        ),
        client.post(
            f"/calls/{call_id}/needs/catering/claim",
            json={"organisation_id": str(platform.other_party)},
            headers={"Authorization": f"Bearer {platform.other_org_token}"},
        ),
    )
    statuses = sorted(c.status_code for c in claims)
    assert statuses == [200, 409]
    winner = platform.party if claims[0].status_code == 200 else platform.other_party
    loser = next(c for c in claims if c.status_code == 409)
    assert loser.json()["claimed_by"] == str(winner)
    assert str(winner) in loser.json()["detail"]
    released = await client.post(
        f"/calls/{call_id}/needs/catering/release",
        json={"organisation_id": str(winner), "reason": "toch niet"},
        headers=platform.auth("coordinator"),
    )
    assert released.status_code == 200
    missing = await client.post(
        f"/calls/{call_id}/needs/helikopter/claim",
        json={"organisation_id": str(platform.party)},
        headers=platform.auth("organisation"),
    )
    assert missing.status_code == 404


async def test_update_close_and_add_an_addressee(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    call_id = await issued(client, platform, "municipality")
    municipality = platform.auth("municipality")
    changed = await client.patch(
        f"/calls/{call_id}",
        json={"title": "Hoogwater"},
        headers={**municipality, "If-Match": '"1"'},
    )
    assert changed.status_code == 200
    added = await client.post(
        f"/calls/{call_id}/addressees",
        json={"organisation_id": str(platform.fund), "reason": "het fonds helpt mee"},
        headers=municipality,
    )
    assert added.status_code == 200
    assert (await client.get(f"/calls/{call_id}", headers=platform.auth("fund"))).status_code == 200
    closed = await client.post(
        f"/calls/{call_id}/close", json={"reason": "water weg"}, headers=municipality
    )
    assert closed.status_code == 200
    again = await client.post(
        f"/calls/{call_id}/close", json={"reason": "nog eens"}, headers=municipality
    )
    assert again.status_code == 409
    late = await client.put(
        f"/calls/{call_id}/responses/{platform.party}",
        json={"available": False},
        headers=platform.auth("organisation"),
    )
    assert late.status_code == 409


async def test_another_platforms_call_is_not_found(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform, other_platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    call_id = await issued(client, platform)
    stranger = other_platform.auth("coordinator")
    for method, url, body in [
        ("GET", f"/calls/{call_id}", None),
        ("GET", f"/calls/{call_id}/picture", None),
        ("GET", f"/calls/{call_id}/picture/stream", None),
        ("POST", f"/calls/{call_id}/close", {"reason": "x"}),
        ("POST", f"/calls/{call_id}/board-tickets", None),
    ]:
        response = await client.request(method, url, json=body, headers=stranger)
        assert response.status_code == 404, url


async def test_the_picture_and_the_reports_count_the_responses(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    await admitted(runtime, platform, platform.other_party)
    call_id = await issued(client, platform)
    answered = await client.put(
        f"/calls/{call_id}/responses/{platform.party}",
        json={
            "available": True,
            "volunteers": 5,
            "languages": ["ar"],
            "districts": ["schalkwijk"],
            "offers": [{"kind": "catering", "quantity": 40}],
        },
        headers=platform.auth("organisation"),
    )
    position = answered.json()["position"]
    picture = (
        await client.get(
            f"/calls/{call_id}/picture?wait_for={position}", headers=platform.auth("coordinator")
        )
    ).json()
    assert (picture["addressed"], picture["acknowledged"], picture["responded"]) == (2, 1, 1)
    assert picture["reached"] == 0  # no SMTP server here: the notices wait in the outbox
    district = {t["key"]: t for t in picture["by_district"]}
    assert (district["schalkwijk"]["needed"], district["schalkwijk"]["offered"]) == (100, 5)
    language = {t["key"]: t for t in picture["by_language"]}
    assert (language["ar"]["needed"], language["ar"]["offered"]) == (2, 5)
    kinds = {t["key"]: t for t in picture["by_kind"]}
    assert (kinds["catering"]["needed"], kinds["catering"]["offered"]) == (100, 40)

    report = (
        await client.get(f"/reports/calls/{call_id}", headers=platform.auth("analyst"))
    ).json()
    assert (report["addressed"], report["responded"], report["share_in_time"]) == (2, 1, 0.5)
    assert report["first_response_after_s"] >= 0
    as_csv = await client.get(
        f"/reports/calls/{call_id}", headers={**platform.auth("analyst"), "Accept": "text/csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["need_kind"] for r in rows} == {"catering", "languages", "volunteers"}
    year = datetime.now(UTC).year
    yearly = (
        await client.get(f"/reports/calls?year={year}", headers=platform.auth("analyst"))
    ).json()
    assert yearly["calls_by_kind"] == [{"kind": "calamity", "calls": 1}]
    kinds_of_org = {r["key"]: r for r in yearly["by_organisation_kind"]}
    assert kinds_of_org["self-organisation"]["rate"] == 1.0
    assert kinds_of_org["formal-organisation"]["rate"] == 0.0
    table = await client.get(
        f"/reports/calls?year={year}&table=organisations",
        headers={**platform.auth("analyst"), "Accept": "text/csv"},
    )
    assert len(list(csv.DictReader(io.StringIO(table.text)))) == 2
    assert (
        await client.get(f"/reports/calls?year={year}", headers=platform.auth("organisation"))
    ).status_code == 403


async def test_readiness_says_mail_waits_without_an_smtp_server(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    await admitted(runtime, platform, platform.party)
    await issued(client, platform)
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["mail"]["smtp"] == "not configured"
    assert body["mail"]["unexpanded"] == 1
    assert "no SMTP server is configured" in body["notes"][0]


async def test_the_board_page_and_its_ticketed_stream(runtime: Runtime, platform: Platform) -> None:
    await admitted(runtime, platform, platform.party)
    await prepare_workers(runtime)
    stop = asyncio.Event()
    workers = asyncio.create_task(run_workers(runtime, stop))
    try:
        async with served(runtime) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:
            call_id = await issued(client, platform)
            page = await client.get(f"/board/calls/{call_id}")
            assert page.status_code == 200
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "connect-src 'self'" in csp
            assert '<script src="/board/board.js"></script>' in page.text
            assert "http" not in page.text.split("<body>")[1]  # nothing from another site
            assert (await client.get("/board/board.js")).text.count("EventSource") == 1
            assert (
                await client.get(f"/calls/{call_id}/picture/stream?ticket=vbt_nope")
            ).status_code == 401
            ticket = await client.post(
                f"/calls/{call_id}/board-tickets", headers=platform.auth("coordinator")
            )
            assert ticket.status_code == 201
            body = ticket.json()
            assert body["board"] == f"/board/calls/{call_id}#ticket={body['ticket']}"
            other_call = await issued(client, platform)
            wrong = await client.get(f"/calls/{other_call}/picture/stream?ticket={body['ticket']}")
            assert wrong.status_code == 401
            async with client.stream(
                "GET", f"/calls/{call_id}/picture/stream?ticket={body['ticket']}"
            ) as stream:
                assert stream.status_code == 200
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        assert json.loads(line[6:])["addressed"] == 1
                        break
    finally:
        stop.set()
        await workers
