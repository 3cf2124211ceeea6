"""The activities read model over HTTP: the lists of activities and overlap cases, the hours
report, the overlap cases' metrics and the collaboration network; JSON, CSV, GraphML; live
and as of a moment; who reads what."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import httpx

from tests.activities.support import plan, taalcafe
from tests.api.conftest import Platform
from verbinders.application import activities as service
from verbinders.application import hours
from verbinders.application import overlap_cases as cases
from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.domain.activity_details import Contribution
from verbinders.domain.hours import HoursFigure
from verbinders.domain.overlap_cases import JoinForces, overlap_case_id
from verbinders.runtime import Runtime

READERS = ("coordinator", "analyst", "auditor", "municipality", "fund")


async def actors(runtime: Runtime, platform: Platform) -> dict[str, Actor]:
    authenticate = Authenticator(runtime.pipeline).authenticate
    found = {role: await authenticate(token) for role, token in platform.tokens.items()}
    found["other"] = await authenticate(platform.other_org_token)
    return found


async def story(runtime: Runtime, platform: Platform) -> dict[str, object]:
    """A collaboration of all three kinds, an overlap case that joined forces, hours logged
    and corrected."""
    a = await actors(runtime, platform)
    run = runtime.pipeline.run
    first = await plan(runtime, a["organisation"], platform.party)
    for partner, actor in (
        (platform.other_party, a["other"]),
        (platform.municipality, a["municipality"]),
    ):
        await run(service.invite_partner, a["organisation"], first, partner)
        await run(
            service.accept_invitation,
            actor,
            first,
            partner,
            Contribution(role="mee", pledged_hours=10),
        )
    second = await plan(
        runtime, a["other"], platform.other_party, taalcafe("Taallessen voor nieuwkomers")
    )
    for _ in range(100):
        async with runtime.pool.acquire() as conn:
            if await conn.fetchval(
                "SELECT count(*) FROM events WHERE topic LIKE '%OverlapCase.Opened'"
            ):
                break
        await asyncio.sleep(0.05)
    case_id = overlap_case_id("haarlem", first, second)
    # Join forces in the second: the first's organiser is invited there, and accepts.
    join = JoinForces(host_activity_id=second)
    await run(cases.answer_overlap_case, a["organisation"], case_id, platform.party, join)
    await run(cases.answer_overlap_case, a["other"], case_id, platform.other_party, join)
    await run(
        service.accept_invitation,
        a["organisation"],
        second,
        platform.party,
        Contribution(role="gastvrouw"),
    )
    logged = await run(
        hours.log_hours,
        a["organisation"],
        organisation_id=platform.party,
        figure=HoursFigure(day=date(2026, 3, 3), hours=10, volunteers=4, activity_id=first),
    )
    await run(
        hours.log_hours,
        a["other"],
        organisation_id=platform.other_party,
        figure=HoursFigure(day=date(2026, 3, 10), hours=6, volunteers=2),
    )
    before = datetime.now(UTC)
    await asyncio.sleep(0.01)
    corrected = await run(
        hours.correct_hours, a["organisation"], uuid.UUID(logged.id), reason="telfout", hours=12
    )
    return {
        "first": first,
        "second": second,
        "case": case_id,
        "before": before,
        "position": corrected.position,
    }


async def test_reports_lists_and_their_readers(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    told = await story(runtime, platform)
    wait = f"wait_for={told['position']}"
    coordinator = platform.auth("coordinator")
    report = await client.get(f"/reports/hours?year=2026&{wait}", headers=coordinator)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["total_hours"] == 18 and body["entries"] == 2 and body["organisations"] == 2
    assert {line["key"]: line["hours"] for line in body["by_kind"]} == {
        "self-organisation": 12,
        "formal-organisation": 6,
    }
    assert {line["key"]: line["hours"] for line in body["by_theme"]}["language"] == 12
    assert {line["key"]: line["hours"] for line in body["by_district"]}["schalkwijk"] == 12
    # As of a moment before the correction: the figure known then.
    earlier = await client.get(
        "/reports/hours",
        params={"year": 2026, "as_of": told["before"].isoformat()},
        headers=coordinator,
    )
    assert earlier.json()["total_hours"] == 16
    csv = await client.get(
        "/reports/hours?year=2026&table=kinds", headers={**coordinator, "Accept": "text/csv"}
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[:2] == [
        "year,key,name,hours,volunteers,entries",
        "2026,(platform),,18.0,,2",
    ]
    for role in READERS:
        for path in (
            "/reports/hours?year=2026",
            "/reports/overlap-cases",
            "/reports/collaborations?year=2026",
        ):
            assert (await client.get(path, headers=platform.auth(role))).status_code == 200, (
                role,
                path,
            )
    assert (
        await client.get("/reports/hours?year=2026", headers=platform.auth("organisation"))
    ).status_code == 403

    metrics = (await client.get("/reports/overlap-cases", headers=coordinator)).json()
    [year] = metrics["years"]
    assert (year["opened"], year["resolved"], year["outcomes"], year["collaborations_born"]) == (
        1,
        1,
        {"joined-forces": 1},
        1,
    )
    assert (
        await client.get("/reports/overlap-cases", headers={**coordinator, "Accept": "text/csv"})
    ).text.startswith("year,opened")

    net = (await client.get("/reports/collaborations?year=2026", headers=coordinator)).json()
    assert net["collaborations"] == 2 and net["pairs"] == 3 and net["new_pairs"] == 3
    assert net["share_self_and_formal"] == 1.0 and net["share_trinity"] == 0.5
    assert (await client.get("/reports/collaborations?year=2027", headers=coordinator)).json()[
        "pairs"
    ] == 0
    graph = await client.get(
        "/reports/collaborations?year=2026",
        headers={**coordinator, "Accept": "application/graphml+xml"},
    )
    root = ET.fromstring(graph.content)
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    assert len(root.findall(f"{ns}graph/{ns}node")) == 3
    assert len(root.findall(f"{ns}graph/{ns}edge")) == 3
    pairs = await client.get(
        "/reports/collaborations?year=2026", headers={**coordinator, "Accept": "text/csv"}
    )
    assert len(pairs.text.splitlines()) == 4

    listed = (
        await client.get("/activities?collaboration=true", headers=platform.auth("analyst"))
    ).json()
    assert listed["total"] == 2
    mine = (
        await client.get(
            f"/activities?organisation_id={platform.municipality}", headers=coordinator
        )
    ).json()
    assert [a["id"] for a in mine["items"]] == [str(told["first"])]
    by_theme = (await client.get("/activities?theme=sport", headers=coordinator)).json()
    assert by_theme["total"] == 0

    all_cases = (await client.get("/overlap-cases", headers=coordinator)).json()
    assert [c["id"] for c in all_cases["items"]] == [str(told["case"])]
    own = (await client.get("/overlap-cases", headers=platform.auth("organisation"))).json()
    assert own["total"] == 1 and own["items"][0]["outcome"] == "joined-forces"
    none = (await client.get("/overlap-cases", headers=platform.auth("fund"))).json()
    assert none["total"] == 0
    peeking = await client.get(
        f"/overlap-cases?organisation_id={platform.party}", headers=platform.auth("fund")
    )
    assert peeking.status_code == 403
    for role in ("analyst", "auditor"):
        assert (await client.get("/overlap-cases", headers=platform.auth(role))).status_code == 403
