"""Funding over HTTP: every route against every role, the life of a joint application through
the API, what each party sees, another platform, the trail, the reports (JSON and CSV, `as_of`)
and the 360Giving export validated against the standard's published schema."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.api.conftest import Platform
from tests.funding_support import verify_offline
from verbinders.domain.access import Role
from verbinders.runtime import Runtime

ALL = [r.value for r in Role]
STANDARD = Path(__file__).resolve().parents[3] / "shared" / "standards" / "360giving"
CRITERIA = [{"id": "reach", "label": "Bereik"}, {"id": "cooperation", "label": "Samenwerking"}]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def person(client: httpx.AsyncClient, platform: Platform, name: str) -> tuple[str, str]:
    """A fund token for one of the fund's people: (bearer secret, person id)."""
    issued = await ok(
        await client.post(
            "/tokens",
            json={"roles": ["fund"], "label": name, "party": str(platform.fund)},
            headers=platform.auth("coordinator"),
        ),
        201,
    )
    return issued["token"], f"token:{issued['id']}"


def funding_routes(client: httpx.AsyncClient) -> list[tuple[str, str, set[str]]]:
    app: Any = client._transport.app  # type: ignore[attr-defined]
    found = []
    for route in app.routes:
        if not route.path.startswith("/funding"):
            continue
        for method, handler in route.route_handler_map.items():
            if method in ("HEAD", "OPTIONS"):
                continue
            handler = handler[0] if isinstance(handler, tuple) else handler
            found.append((method, route.path, set(handler.opt["roles"])))
    return found


async def test_every_funding_route_refuses_the_roles_it_does_not_admit(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    routes = funding_routes(client)
    assert len(routes) >= 25
    for method, template, admitted in routes:
        path = re.sub(r"\{[^}:]+:uuid\}", str(uuid.uuid4()), template)
        path = re.sub(r"\{[^}:]+:int\}", "1", path)
        assert (await client.request(method, path, json={})).status_code == 401, path
        for role in ALL:
            if role in admitted:
                continue
            response = await client.request(method, path, json={}, headers=platform.auth(role))
            assert response.status_code == 403, (method, path, role, response.text)
            assert response.json()["type"].endswith("/forbidden")


async def test_a_joint_application_through_the_api_and_what_each_party_sees(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform, runtime: Runtime
) -> None:
    fund, org, partner = (
        platform.auth("fund"),
        platform.auth("organisation"),
        bearer(platform.other_org_token),
    )
    anna, anna_id = await person(client, platform, "Anna")
    bram, bram_id = await person(client, platform, "Bram")
    created = await ok(
        await client.post(
            "/funding/funds",
            json={"name": "Fonds Samen", "funder": str(platform.fund)},
            headers=fund,
        ),
        201,
    )
    # The municipality's token acts for the municipality, not for this fund.
    refused = await client.post(
        "/funding/funds",
        json={"name": "X", "funder": str(platform.fund)},
        headers=platform.auth("municipality"),
    )
    assert refused.status_code == 403
    deadline = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    opened = await ok(
        await client.post(
            f"/funding/funds/{created['id']}/rounds",
            json={
                "title": "Ronde",
                "budget": "5000.00",
                "criteria": CRITERIA,
                "deadline": deadline,
                "themes": ["welfare"],
                "objection_days": 14,
            },
            headers=fund,
        ),
        201,
    )
    round_id = opened["id"]
    # Amounts are strings with cents: a JSON number is refused, naming the field.
    number = await client.post(
        f"/funding/rounds/{round_id}/applications",
        json={
            "applicant": str(platform.party),
            "title": "T",
            "summary": "S",
            "budget_lines": [{"description": "x", "amount": 12.5}],
        },
        headers=org,
    )
    assert number.status_code == 422 and "amount" in number.text
    drafted = await ok(
        await client.post(
            f"/funding/rounds/{round_id}/applications",
            json={
                "applicant": str(platform.party),
                "title": "Samen koken",
                "summary": "Koken met buren.",
                "co_applicants": [str(platform.other_party)],
                "budget_lines": [
                    {"description": "huur", "amount": "1200.00"},
                    {"description": "eten", "amount": "800.50"},
                ],
            },
            headers=org,
        ),
        201,
    )
    app = drafted["id"]
    base = f"/funding/applications/{app}"
    submit = await client.post(f"{base}/submit", headers=org)
    assert submit.status_code == 409 and "confirmed" in submit.json()["detail"]
    # The partner cannot edit; the applicant cannot confirm for the partner.
    assert (await client.patch(base, json={"title": "Mijn"}, headers=partner)).status_code == 403
    assert (
        await client.post(
            f"{base}/confirm", json={"organisation_id": str(platform.other_party)}, headers=org
        )
    ).status_code == 403
    await ok(
        await client.post(
            f"{base}/confirm", json={"organisation_id": str(platform.other_party)}, headers=partner
        )
    )
    await ok(await client.post(f"{base}/submit", headers=org))
    for who in (anna_id, bram_id):
        await ok(
            await client.post(
                f"{base}/reviewers", json={"reviewer": who, "name": "R"}, headers=fund
            )
        )
    await ok(
        await client.post(f"{base}/conflicts", json={"reason": "Bestuurslid"}, headers=bearer(bram))
    )
    conflicted = await client.post(
        f"{base}/reviews",
        json={"scores": {"reach": 8, "cooperation": 8}, "recommendation": "grant"},
        headers=bearer(bram),
    )
    assert conflicted.status_code == 403 and "conflict" in conflicted.text
    await ok(
        await client.post(
            f"{base}/reviews",
            json={
                "scores": {"reach": 8, "cooperation": 7},
                "recommendation": "grant",
                "comment": "Goed",
            },
            headers=bearer(anna),
        )
    )
    too_few = await client.post(
        f"{base}/decisions", json={"amount": "1500.00", "rationale": "Goed"}, headers=fund
    )
    assert too_few.status_code == 409 and "reviews" in too_few.json()["detail"]
    carl, carl_id = await person(client, platform, "Carl")
    await ok(
        await client.post(
            f"{base}/reviewers", json={"reviewer": carl_id, "name": "C"}, headers=fund
        )
    )
    await ok(
        await client.post(
            f"{base}/reviews",
            json={"scores": {"reach": 6, "cooperation": 9}, "recommendation": "partial"},
            headers=bearer(carl),
        )
    )
    decided = await ok(
        await client.post(
            f"{base}/decisions",
            json={
                "amount": "1500.00",
                "rationale": "Goed, minder huur.",
                "conditions": ["Verslag in juni"],
            },
            headers=bearer(anna),
        )
    )
    # The applicant sees its application without reviews; the fund and auditors with them.
    own = await ok(await client.get(base, headers=org))
    assert own["reviews"] is None and own["granted"] == "1500.00" and own["requested"] == "2000.50"
    seen = await ok(await client.get(base, headers=platform.auth("auditor")))
    assert set(seen["reviews"]) == {anna_id, carl_id} and bram_id in seen["conflicts"]
    assert (await client.get(base, headers=platform.auth("analyst"))).status_code == 403
    assert (await client.get(base, headers=platform.auth("municipality"))).status_code == 403
    assert (await client.get(base, headers=other_platform.auth("coordinator"))).status_code == 404
    assert (
        await client.post(
            f"{base}/payments", json={"amount": "1.00"}, headers=other_platform.auth("coordinator")
        )
    ).status_code == 404
    # Object, reconsider; pay; a report overdue blocks payment; settle.
    await ok(await client.post(f"{base}/objections", json={"reason": "Huur is nodig"}, headers=org))
    await ok(
        await client.post(
            f"{base}/decisions",
            json={"amount": "2000.50", "rationale": "Na bezwaar."},
            headers=bearer(anna),
        )
    )
    await ok(await client.post(f"{base}/payments", json={"amount": "1000.00"}, headers=fund))
    over = await client.post(f"{base}/payments", json={"amount": "1000.51"}, headers=fund)
    assert over.status_code == 409 and over.json()["remaining"] == "1000.50"
    due = (date.today() - timedelta(days=1)).isoformat()
    await ok(await client.post(f"{base}/reports", json={"due": due}, headers=fund))
    blocked = await client.post(f"{base}/payments", json={"amount": "100.00"}, headers=fund)
    assert blocked.status_code == 409 and blocked.json()["state"] == "report-overdue"
    # The report timer may record a reminder on the same stream meanwhile: a 409 on its
    # version, which a client answers by sending the command again.
    for _ in range(5):
        sent = await client.post(
            f"{base}/reports/1",
            json={
                "spent": "950.00",
                "results": "Twaalf avonden",
                "documents": [{"name": "bon.pdf", "sha256": "ab" * 32}],
            },
            headers=org,
        )
        if sent.status_code != 409 or "concurrency" not in sent.json()["type"]:
            break
    assert sent.status_code == 200, sent.text
    paid = await ok(await client.post(f"{base}/payments", json={"amount": "100.00"}, headers=fund))
    await ok(
        await client.post(
            f"{base}/settle", json={"reclaim": "150.00", "reason": "Over"}, headers=fund
        )
    )
    assert decided["data"] == {"decision": 1}

    # The trail: auditors and the coordinator; every event with its position and hash.
    assert (await client.get(f"{base}/trail", headers=org)).status_code == 403
    trail = await ok(await client.get(f"{base}/trail", headers=platform.auth("auditor")))
    assert [e["position"] for e in trail] == sorted(e["position"] for e in trail)
    assert {e["stream_type"] for e in trail} >= {"Fund", "FundingRound", "FundingApplication"}
    assert all(len(e["hash"]) == 64 for e in trail)

    # The read model: the list, what each decider knew, the reports, as of a moment.
    wait = f"wait_for={paid['position']}"
    listed = await ok(await client.get(f"/funding/applications?{wait}", headers=partner))
    assert [i["id"] for i in listed["items"]] == [app]
    mine = await ok(await client.get(f"/funding/applications?{wait}", headers=org))
    assert mine["total"] == 1
    others = await ok(
        await client.get(f"/funding/applications?{wait}", headers=platform.auth("municipality"))
    )
    assert others["total"] == 0
    knew = await ok(await client.get(f"{base}/as-decided?{wait}", headers=platform.auth("auditor")))
    assert [d["amount"] for d in knew] == ["1500.00", "2000.50"]
    assert knew[0]["application"]["state"] == "submitted"
    assert knew[0]["application"]["reviews"] == 2 and knew[0]["application"]["granted"] == "0.00"
    assert knew[1]["application"]["state"] == "objected" and knew[1]["replaces"] == 1
    assert (await client.get(f"{base}/as-decided", headers=org)).status_code == 403


async def giving_validator() -> jsonschema.protocols.Validator:
    package = json.loads((STANDARD / "360-giving-package-schema.json").read_text())
    grant = json.loads((STANDARD / "360-giving-schema.json").read_text())
    ref = package["properties"]["grants"]["items"]["$ref"]
    # The schemas name their dialect as http://json-schema.org/draft/2020-12/schema.
    resource = Resource(contents=grant, specification=DRAFT202012)
    registry = Registry().with_resources([(ref, resource), (grant["$id"], resource)])
    cls = jsonschema.Draft202012Validator
    return cls(package, registry=registry, format_checker=cls.FORMAT_CHECKER)


async def test_reports_and_the_360giving_export(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    from tests.funding_support import fund_people, funding, reviewed, submitted
    from verbinders.application import funding as fund_side
    from verbinders.application.authentication import Authenticator

    authenticator = Authenticator(runtime.pipeline)
    fund = await authenticator.authenticate(platform.tokens["fund"])
    applicant = await authenticator.authenticate(platform.tokens["organisation"])
    reviewers = await fund_people(runtime, platform, ["R1", "R2"])
    f = await funding(runtime, fund, platform, budget="10000.00")
    granted = await submitted(runtime, applicant, f.round_id, amounts=("1000.00", "0.10"))
    refused = await submitted(runtime, applicant, f.round_id, amounts=("500.00",), title="Nee")
    for app_id in (granted, refused):
        await reviewed(runtime, fund, reviewers, app_id)
    run = runtime.pipeline.run
    first = await run(fund_side.decide, fund, granted, amount="1000.10", rationale="Goed.")
    before_payment = datetime.now(UTC)
    await run(fund_side.decide, fund, refused, amount="0.00", rationale="Buiten de regeling.")
    paid = await run(fund_side.pay, fund, granted, amount="400.05")
    wait = f"wait_for={paid.position}"
    analyst = platform.auth("analyst")

    years = await ok(await client.get(f"/funding/reports/years?{wait}", headers=analyst))
    assert len(years) == 1
    row = years[0]
    assert (row["applications"], row["decided"], row["granted_count"]) == (2, 2, 1)
    assert (row["requested"], row["granted"]) == ("1500.10", "1000.10")
    assert row["applicant_kind"] == "self-organisation"
    as_csv = await client.get(
        f"/funding/reports/years?{wait}", headers={**analyst, "Accept": "text/csv"}
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert parsed[0]["granted"] == "1000.10"
    joint = await ok(await client.get(f"/funding/reports/joint?{wait}", headers=analyst))
    assert joint == [
        {
            "joint": False,
            "applications": 2,
            "decided": 2,
            "granted_count": 1,
            "success_rate": "0.5000",
            "requested": "1500.10",
            "granted": "1000.10",
        }
    ]
    decisions = await ok(await client.get(f"/funding/reports/decisions?{wait}", headers=analyst))
    assert (decisions[0]["paid"], decisions[0]["granted"]) == ("400.05", "1000.10")
    assert (
        await client.get("/funding/reports/joint", headers=platform.auth("fund"))
    ).status_code == 403

    # As of a moment: before the second decision and the payment.
    earlier = await ok(
        await client.get(
            "/funding/reports/decisions",
            params={"as_of": before_payment.isoformat(), "wait_for": paid.position},
            headers=analyst,
        )
    )
    assert (earlier[0]["decided"], earlier[0]["paid"]) == (1, "0.00")
    assert first.position > 0

    package = await ok(await client.get(f"/funding/reports/360giving?{wait}", headers=analyst))
    validator = await giving_validator()
    errors = sorted(validator.iter_errors(package), key=str)
    assert not errors, errors[0]
    (grant,) = package["grants"]
    assert grant["amountAwarded"] == 1000.1 and grant["currency"] == "EUR"
    raw = (await client.get(f"/funding/reports/360giving?{wait}", headers=analyst)).text
    assert '"amountAwarded":1000.10' in raw  # written from the exact decimal
    assert grant["disbursementTransaction"][0]["value"] == 400.05
    broken = {**package, "grants": [{**grant, "amountAwarded": "1000.10"}]}
    assert list(validator.iter_errors(broken))


async def test_an_exported_trail_of_the_api_verifies_offline(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime, tmp_path: Path
) -> None:
    from tests.funding_support import funding, submitted
    from verbinders.application.authentication import Authenticator
    from verbinders.application.funding_trail import application_trail

    authenticator = Authenticator(runtime.pipeline)
    fund = await authenticator.authenticate(platform.tokens["fund"])
    applicant = await authenticator.authenticate(platform.tokens["organisation"])
    f = await funding(runtime, fund, platform)
    app_id = await submitted(runtime, applicant, f.round_id)
    async with runtime.pool.acquire() as conn:
        exported = await application_trail(conn, app_id, tenant="haarlem")
    shown = await ok(
        await client.get(
            f"/funding/applications/{app_id}/trail", headers=platform.auth("coordinator")
        )
    )
    assert [e["hash"] for e in shown] == [e["hash"] for e in exported["events"]]
    path = tmp_path / "trail.json"
    path.write_text(json.dumps(exported))
    result = verify_offline(path)
    assert result.returncode == 0, result.stdout
