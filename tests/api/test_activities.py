"""Activities, partners, hours, overlap cases and the overlap threshold over HTTP: every
route, every role, another platform, problems naming the field or the state."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.domain.overlap_cases import overlap_case_id
from verbinders.runtime import Runtime

PROBLEMS = "https://verbinders.nl/problems/"
NOT_OWN = ("auditor", "analyst")
ROLES = ("coordinator", "organisation", "municipality", "fund", "auditor", "analyst")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def activity(organisation_id: object, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation_id": str(organisation_id),
        "title": "Taalcafé in de bibliotheek",
        "description": "Samen Nederlands oefenen bij een kop koffie, voor nieuwkomers.",
        "themes": ["language", "integration"],
        "target_groups": ["nieuwkomers"],
        "districts": ["schalkwijk"],
        "languages": ["nl"],
        "venue": "Bibliotheek Schalkwijk",
        "schedule": {
            "type": "weekly",
            "weekdays": ["tue"],
            "starts": "19:00:00",
            "ends": "21:00:00",
            "first_day": "2026-03-03",
            "last_day": "2026-06-30",
            "except_on": ["2026-04-28"],
        },
    }
    body.update(changes)
    return body


async def planned(client: httpx.AsyncClient, platform: Platform, **changes: Any) -> str:
    response = await client.post(
        "/activities",
        json=activity(platform.party, **changes),
        headers=platform.auth("organisation"),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_planning_answers_201_with_location_and_every_role_reads_it(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    response = await client.post(
        "/activities", json=activity(platform.party), headers=platform.auth("organisation")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/activities/{body['id']}"
    for role in ROLES:
        shown = await client.get(f"/activities/{body['id']}", headers=platform.auth(role))
        assert shown.status_code == 200, role
    view = shown.json()
    assert view["status"] == "planned"
    assert view["occurrences"] == 17  # 18 Tuesdays, one exception
    assert view["schedule"]["except_on"] == ["2026-04-28"]
    assert shown.headers["etag"] == '"1"'


async def test_who_may_plan(client: httpx.AsyncClient, platform: Platform) -> None:
    for role in NOT_OWN:
        refused = await client.post(
            "/activities", json=activity(platform.party), headers=platform.auth(role)
        )
        assert refused.status_code == 403, role
    for role in ("municipality", "fund"):  # a party token for another organisation
        refused = await client.post(
            "/activities", json=activity(platform.party), headers=platform.auth(role)
        )
        assert refused.status_code == 403, role
    own = await client.post(
        "/activities", json=activity(platform.fund), headers=platform.auth("fund")
    )
    assert own.status_code == 201
    by_coordinator = await client.post(
        "/activities", json=activity(platform.other_party), headers=platform.auth("coordinator")
    )
    assert by_coordinator.status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"themes": ["nope"]}, "themes"),
        ({"languages": ["xx"]}, "languages"),
        ({"title": ""}, "title"),
        (
            {
                "schedule": {
                    "type": "one-off",
                    "starts_at": "2026-03-03T19:00:00+01:00",
                    "ends_at": "2026-03-03T18:00:00+01:00",
                }
            },
            "schedule.ends_at",
        ),
        (
            {
                "schedule": {
                    "type": "weekly",
                    "weekdays": ["tue"],
                    "starts": "19:00:00",
                    "ends": "21:00:00",
                    "first_day": "2026-03-03",
                    "last_day": "2026-06-30",
                    "except_on": ["2026-04-29"],
                }
            },
            "schedule.except_on[0]",
        ),
    ],
)
async def test_bad_details_are_422_naming_the_field(
    client: httpx.AsyncClient, platform: Platform, changes: dict[str, Any], field: str
) -> None:
    response = await client.post(
        "/activities",
        json=activity(platform.party, **changes),
        headers=platform.auth("organisation"),
    )
    assert response.status_code in (400, 422), response.text
    assert field.split("[")[0].split(".")[0] in response.text


async def test_the_organiser_manages_and_the_partner_answers_for_itself(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    activity_id = await planned(client, platform)
    org, other = platform.auth("organisation"), bearer(platform.other_org_token)
    base = f"/activities/{activity_id}"
    partner = f"{base}/partners/{platform.other_party}"
    # Only the organiser (or the coordinator) changes and invites.
    for headers in (other, platform.auth("fund"), platform.auth("analyst")):
        refused = await client.patch(base, json={"title": "Anders"}, headers=headers)
        assert refused.status_code == 403
    updated = await client.patch(
        base, json={"title": "Taalcafé Schalkwijk"}, headers={**org, "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    stale = await client.patch(base, json={"venue": None}, headers={**org, "If-Match": '"1"'})
    assert stale.status_code == 412
    invited = await client.post(
        f"{base}/partners", json={"partner_id": str(platform.other_party)}, headers=org
    )
    assert invited.status_code == 200, invited.text
    again = await client.post(
        f"{base}/partners", json={"partner_id": str(platform.other_party)}, headers=org
    )
    assert again.status_code == 409 and again.json()["state"] == "invited"
    contribution = {"role": "docent", "pledged_hours": 40.5, "resources": ["lokaal"]}
    by_organiser = await client.post(
        f"{partner}/accept", json={"contribution": contribution}, headers=org
    )
    assert by_organiser.status_code == 403
    accepted = await client.post(
        f"{partner}/accept", json={"contribution": contribution}, headers=other
    )
    assert accepted.status_code == 200, accepted.text
    changed = await client.put(
        f"{partner}/contribution", json={**contribution, "pledged_hours": 20}, headers=other
    )
    assert changed.status_code == 200
    withdrawn = await client.post(f"{partner}/withdraw", json={"reason": "ziek"}, headers=other)
    assert withdrawn.status_code == 200
    declined = await client.post(f"{partner}/decline", json={}, headers=other)
    assert declined.status_code == 409 and declined.json()["state"] == "withdrawn"
    assert (await client.post(f"{base}/start", headers=other)).status_code == 403
    assert (await client.post(f"{base}/start", headers=org)).status_code == 200
    again = await client.post(f"{base}/start", headers=org)
    assert again.status_code == 409 and again.json()["state"] == "running"
    completed = await client.post(
        f"{base}/complete", json={"actual_participants": 14, "result": "Goed bezocht"}, headers=org
    )
    assert completed.status_code == 200
    cancelled = await client.post(f"{base}/cancel", json={"reason": "x"}, headers=org)
    assert cancelled.status_code == 409 and cancelled.json()["state"] == "completed"
    shown = (await client.get(base, headers=org)).json()
    assert shown["status"] == "completed" and shown["actual_participants"] == 14
    assert shown["partners"][0]["partnership"]["status"] == "withdrawn"


async def test_cancel_needs_a_reason_and_unknown_fields_are_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    activity_id = await planned(client, platform)
    org = platform.auth("organisation")
    missing = await client.post(f"/activities/{activity_id}/cancel", json={}, headers=org)
    assert missing.status_code in (400, 422)
    unknown = await client.patch(f"/activities/{activity_id}", json={"colour": "red"}, headers=org)
    assert unknown.status_code in (400, 422)
    ok = await client.post(
        f"/activities/{activity_id}/cancel", json={"reason": "geen ruimte"}, headers=org
    )
    assert ok.status_code == 200


async def test_another_platform_reaches_nothing(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    activity_id = await planned(client, platform)
    stranger = other_platform.auth("coordinator")
    assert (await client.get(f"/activities/{activity_id}", headers=stranger)).status_code == 404
    started = await client.post(f"/activities/{activity_id}/start", headers=stranger)
    assert started.status_code == 404
    foreign = await client.post("/activities", json=activity(platform.party), headers=stranger)
    assert foreign.status_code == 422


async def test_hours_over_http(client: httpx.AsyncClient, platform: Platform) -> None:
    org = platform.auth("organisation")
    entry = {
        "organisation_id": str(platform.party),
        "day": "2026-03-03",
        "hours": 6,
        "volunteers": 3,
    }
    for role in NOT_OWN:
        assert (
            await client.post("/hours", json=entry, headers=platform.auth(role))
        ).status_code == 403
    assert (
        await client.post("/hours", json=entry, headers=platform.auth("fund"))
    ).status_code == 403
    logged = await client.post("/hours", json=entry, headers={**org, "Idempotency-Key": "h-1"})
    assert logged.status_code == 201, logged.text
    entry_id = logged.json()["id"]
    assert logged.headers["location"] == f"/hours/{entry_id}"
    retried = await client.post("/hours", json=entry, headers={**org, "Idempotency-Key": "h-1"})
    assert retried.json()["id"] == entry_id
    quarter = await client.post("/hours", json={**entry, "hours": 1.1}, headers=org)
    assert quarter.status_code in (400, 422)
    corrected = await client.post(
        f"/hours/{entry_id}/corrections", json={"reason": "vier", "volunteers": 4}, headers=org
    )
    assert corrected.status_code == 200, corrected.text
    shown = await client.get(f"/hours/{entry_id}", headers=org)
    assert shown.json()["figure"]["volunteers"] == 4 and shown.json()["revision"] == 1
    for headers in (bearer(platform.other_org_token), platform.auth("analyst")):
        assert (await client.get(f"/hours/{entry_id}", headers=headers)).status_code == 403
    assert (
        await client.get(f"/hours/{entry_id}", headers=platform.auth("coordinator"))
    ).status_code == 200
    retracted = await client.post(
        f"/hours/{entry_id}/retract",
        json={"reason": "dubbel"},
        headers=platform.auth("coordinator"),
    )
    assert retracted.status_code == 200
    again = await client.post(f"/hours/{entry_id}/retract", json={"reason": "x"}, headers=org)
    assert again.status_code == 409 and again.json()["state"] == "retracted"


async def test_overlap_check_case_answers_and_threshold(
    client: httpx.AsyncClient, runtime: Runtime, platform: Platform
) -> None:
    first = await planned(client, platform)
    other = bearer(platform.other_org_token)
    draft = activity(platform.other_party, title="Taallessen voor nieuwkomers")
    for role in NOT_OWN:
        refused = await client.post(
            "/activities/overlap-check", json=draft, headers=platform.auth(role)
        )
        assert refused.status_code == 403
    await runtime.runner.catch_up("overlap_candidates")
    checked = await client.post("/activities/overlap-check", json=draft, headers=other)
    assert checked.status_code == 200, checked.text
    [likely] = checked.json()["overlaps"]
    assert likely["activity_id"] == first and likely["opens_a_case"]
    assert "language" in likely["explanation"]["aim"]["themes"]
    assert likely["explanation"]["summary"].startswith("score")
    # Planning it opens the case (the policy, once the index has it).
    second = (await client.post("/activities", json=draft, headers=other)).json()["id"]
    case_id = overlap_case_id(
        "haarlem", __import__("uuid").UUID(first), __import__("uuid").UUID(second)
    )
    for _ in range(200):
        shown = await client.get(f"/overlap-cases/{case_id}", headers=platform.auth("coordinator"))
        if shown.status_code == 200:
            break
        await __import__("asyncio").sleep(0.05)
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "open"
    assert (await client.get(f"/overlap-cases/{case_id}", headers=other)).status_code == 200
    for role in ("fund", "municipality"):
        refused = await client.get(f"/overlap-cases/{case_id}", headers=platform.auth(role))
        assert refused.status_code == 403, role
    join = {"type": "join-forces", "host_activity_id": first}
    not_theirs = await client.post(
        f"/overlap-cases/{case_id}/answers",
        json={"organisation_id": str(platform.party), "answer": join},
        headers=other,
    )
    assert not_theirs.status_code == 403
    for org, headers in (
        (platform.party, platform.auth("organisation")),
        (platform.other_party, other),
    ):
        answered = await client.post(
            f"/overlap-cases/{case_id}/answers",
            json={"organisation_id": str(org), "answer": join},
            headers=headers,
        )
        assert answered.status_code == 200, answered.text
    ended = (await client.get(f"/overlap-cases/{case_id}", headers=other)).json()
    assert (ended["status"], ended["outcome"]) == ("resolved", "joined-forces")
    host = (await client.get(f"/activities/{first}", headers=other)).json()
    assert host["partners"][0]["organisation_id"] == str(platform.other_party)
    # The threshold: everyone reads it, the coordinator sets it.
    shown = await client.get("/platform/overlap-threshold", headers=platform.auth("analyst"))
    assert shown.json() == {"threshold": 0.35, "default": True, "changed_at": None, "version": 0}
    body = {"threshold": 0.5, "reason": "minder meldingen"}
    for role in ROLES[1:]:
        refused = await client.put(
            "/platform/overlap-threshold", json=body, headers=platform.auth(role)
        )
        assert refused.status_code == 403, role
    out_of_range = await client.put(
        "/platform/overlap-threshold",
        json={**body, "threshold": 2},
        headers=platform.auth("coordinator"),
    )
    assert out_of_range.status_code in (400, 422)
    set_ = await client.put(
        "/platform/overlap-threshold", json=body, headers=platform.auth("coordinator")
    )
    assert set_.status_code == 200, set_.text
    shown = await client.get("/platform/overlap-threshold", headers=platform.auth("fund"))
    assert shown.json()["threshold"] == 0.5 and not shown.json()["default"]
