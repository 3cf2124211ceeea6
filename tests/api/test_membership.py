"""Membership over HTTP: every route against every role, every rule, the register and growth."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.api.conftest import Platform
from tests.projections.test_membership_projection import (
    SELF,
    History,
    hand_made_history,
    utc,
)
from verbinders.domain.access import Role
from verbinders.domain.meetings import Meeting, MeetingMode
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.runtime import Runtime
from verbinders.store.events import Metadata

ALL = [r.value for r in Role]
GROWTH = ("coordinator", "analyst", "auditor", "municipality", "fund")


def history(runtime: Runtime, platform: Platform) -> History:
    return History(runtime.repository, runtime.store, platform.slug)


async def with_organisations(runtime: Runtime, platform: Platform) -> History:
    """The two organisations the test tokens act for: `party` (a self-organisation with an
    `organisation` token) and `other_party`."""
    h = history(runtime, platform)
    h.ids["own"], h.ids["other"] = platform.party, platform.other_party  # registered already
    return h


def _metadata(platform: Platform) -> Metadata:
    return Metadata(tenant=platform.slug, actor="tests")


def own_token(platform: Platform) -> dict[str, str]:
    return platform.auth("organisation")


def other_org(platform: Platform) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.other_org_token}"}


def path(organisation_id: Any, action: str = "") -> str:
    return f"/organisations/{organisation_id}/membership" + (f"/{action}" if action else "")


async def post(
    client: httpx.AsyncClient,
    organisation_id: Any,
    action: str,
    headers: dict[str, str],
    **body: Any,
) -> httpx.Response:
    return await client.post(path(organisation_id, action), json=body, headers=headers)


async def show(
    client: httpx.AsyncClient, platform: Platform, organisation_id: Any, query: str = ""
) -> dict[str, Any]:
    response = await client.get(path(organisation_id) + query, headers=platform.auth("analyst"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    return body


async def count_events(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM events"))


# -- the role matrix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str
    answers: dict[str, int]
    """What each admitted role gets, in the order of `ALL` (every other role: 403)."""
    body: Any = None


def cases(platform: Platform) -> list[RouteCase]:
    """Every membership route, in an order in which each decision is one the membership of
    the organisation the tokens act for can take; the organisation's own token comes after
    the coordinator's, so its commands meet the state the coordinator's left (409)."""
    own = platform.party
    decision = {"reason": "matrix test"}
    ok, late = 200, 409
    both = {"coordinator": ok, "organisation": late}
    return [
        RouteCase("POST", path(own, "apply"), both, {"motivation": "m"}),
        RouteCase("POST", path(own, "withdraw"), both, {}),
        RouteCase("POST", path(own, "apply"), both, {"motivation": "opnieuw"}),
        RouteCase("POST", path(own, "admit"), {"coordinator": ok}, decision),
        RouteCase("POST", path(own, "suspend"), {"coordinator": ok}, decision),
        RouteCase("POST", path(own, "reinstate"), {"coordinator": ok}, decision),
        RouteCase("POST", path(own, "leave"), both, {}),
        RouteCase("POST", path(own, "apply"), both, {"motivation": "weer"}),
        RouteCase("POST", path(own, "reject"), {"coordinator": ok}, decision),
        RouteCase(
            "GET",
            path(own),
            dict.fromkeys(("coordinator", "organisation", "auditor", "analyst"), ok),
        ),
        RouteCase("GET", "/membership?wait_for=1&timeout=10", dict.fromkeys(ALL, ok)),
        RouteCase(
            "GET", "/reports/membership-growth?wait_for=1&timeout=10", dict.fromkeys(GROWTH, ok)
        ),
    ]


async def test_every_membership_route_admits_exactly_its_roles(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    await with_organisations(runtime, platform)
    for case in cases(platform):
        anonymous = await client.request(case.method, case.path, json=case.body)
        assert anonymous.status_code == 401, (case, anonymous.text)
        assert anonymous.headers["content-type"].startswith("application/problem+json")
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
            if expected == 409:
                assert response.json()["state"] in ("applied", "withdrawn", "left", "member")


async def test_an_organisation_acts_only_on_its_own_membership(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    await with_organisations(runtime, platform)
    before = await count_events(pool)
    for action, body in [
        ("apply", {"motivation": "wij willen ook"}),
        ("withdraw", {}),
        ("leave", {}),
        ("admit", {"reason": "zelf besloten"}),
        ("suspend", {"reason": "zelf besloten"}),
    ]:
        response = await post(client, platform.party, action, other_org(platform), **body)
        assert response.status_code == 403, (action, response.text)
    assert await count_events(pool) == before
    # The other organisation does apply for itself.
    own = await post(client, platform.other_party, "apply", other_org(platform), motivation="samen")
    assert own.status_code == 200, own.text


# -- the lifecycle -------------------------------------------------------------------------------


async def test_the_whole_lifecycle_with_who_decided_and_why(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    await with_organisations(runtime, platform)
    org = platform.party
    never = await show(client, platform, org)
    assert (never["status"], never["version"], never["history"]) == ("none", 0, [])

    applied = await post(
        client, org, "apply", own_token(platform), motivation="  Wij verbinden vrouwen.  "
    )
    assert applied.status_code == 200, applied.text
    assert applied.headers["etag"] == '"1"'
    assert applied.json()["data"]["status"] == "applied"
    assert int(applied.headers["verbinders-position"]) == applied.json()["position"]

    coordinator = platform.auth("coordinator")
    meeting = uuid.uuid4()
    async with runtime.store.transaction() as conn:
        await runtime.repository.save(
            Meeting.schedule(
                meeting_id=meeting,
                tenant=platform.slug,
                title="Algemene ledenvergadering",
                starts_at=datetime.now(UTC) - timedelta(hours=3),
                ends_at=datetime.now(UTC) - timedelta(hours=1),
                mode=MeetingMode.ONLINE,
                online_link="https://meet.example.nl/alv",
                at=datetime.now(UTC) - timedelta(days=2),
            ),
            metadata=_metadata(platform),
            connection=conn,
        )
    admitted = await post(
        client,
        org,
        "admit",
        coordinator,
        reason="Past bij de platformdoelen",
        meeting_id=str(meeting),
    )
    assert admitted.status_code == 200, admitted.text
    suspended = await post(client, org, "suspend", coordinator, reason="Geen jaarverslag")
    assert suspended.status_code == 200, suspended.text
    state = await show(client, platform, org)
    assert (state["status"], state["is_member"]) == ("suspended", True)
    assert state["member_since"] == state["periods"][0]["since"]
    assert state["suspensions"][0]["until"] is None

    reinstated = await post(client, org, "reinstate", coordinator, reason="Jaarverslag binnen")
    assert reinstated.status_code == 200
    left = await post(client, org, "leave", own_token(platform), reason="We stoppen ermee")
    assert left.status_code == 200
    state = await show(client, platform, org)
    assert (state["status"], state["is_member"], state["member_since"]) == ("left", False, None)
    assert state["periods"][0]["until"] is not None
    assert state["suspensions"][0]["until"] is not None

    assert (await post(client, org, "apply", coordinator, motivation="Weer mee")).status_code == 200
    rejected = await post(client, org, "reject", coordinator, reason="Eerst een jaar wachten")
    assert rejected.status_code == 200
    assert (
        await post(client, org, "apply", own_token(platform), motivation="Nu wel")
    ).status_code == 200
    withdrawn = await post(client, org, "withdraw", own_token(platform), reason="Toch niet")
    assert withdrawn.status_code == 200
    assert withdrawn.headers["etag"] == '"9"'

    state = await show(client, platform, org)
    assert state["status"] == "withdrawn"
    assert state["motivation"] == "Nu wel"
    assert state["first_admitted_at"] == state["periods"][0]["since"]
    steps = [(s["event"], s["status"]) for s in state["history"]]
    assert steps == [
        ("Applied", "applied"),
        ("Admitted", "member"),
        ("Suspended", "suspended"),
        ("Reinstated", "member"),
        ("Left", "left"),
        ("Reapplied", "applied"),
        ("Rejected", "rejected"),
        ("Reapplied", "applied"),
        ("ApplicationWithdrawn", "withdrawn"),
    ]
    history_ = state["history"]
    me = (await client.get("/me", headers=coordinator)).json()
    coordinator_name = f"token:{me['token_id']}"  # a platform-wide token: no party
    assert history_[0]["by"] == str(org)
    assert history_[0]["motivation"] == "Wij verbinden vrouwen."
    assert history_[1]["reason"] == "Past bij de platformdoelen"
    assert history_[1]["meeting_id"] == str(meeting)
    assert history_[1]["by"] == coordinator_name
    assert history_[4]["by"] == str(org) and history_[4]["reason"] == "We stoppen ermee"
    assert history_[5]["by"] == coordinator_name  # the coordinator applied on its behalf
    # The events carry the reason in their metadata too, for auditors.
    events = await client.get(
        f"/events?stream={applied.json()['id']}", headers=platform.auth("auditor")
    )
    decision = events.json()["events"][1]
    assert decision["metadata"]["reason"] == "Past bij de platformdoelen"
    assert decision["payload"]["decided_by"] == history_[1]["by"]


@pytest.mark.parametrize(
    ("steps", "action", "body", "state"),
    [
        ([], "admit", {"reason": "r"}, "none"),
        ([], "withdraw", {}, "none"),
        ([], "leave", {}, "none"),
        (["apply"], "apply", {"motivation": "nog eens"}, "applied"),
        (["apply"], "suspend", {"reason": "r"}, "applied"),
        (["apply"], "reinstate", {"reason": "r"}, "applied"),
        (["apply"], "leave", {}, "applied"),
        (["apply", "admit"], "admit", {"reason": "r"}, "member"),
        (["apply", "admit"], "reinstate", {"reason": "r"}, "member"),
        (["apply", "admit"], "withdraw", {}, "member"),
        (["apply", "admit"], "apply", {"motivation": "m"}, "member"),
        (["apply", "admit", "suspend"], "suspend", {"reason": "r"}, "suspended"),
        (["apply", "reject"], "admit", {"reason": "r"}, "rejected"),
        (["apply", "admit", "leave"], "suspend", {"reason": "r"}, "left"),
    ],
)
async def test_invalid_transitions_are_409_naming_the_current_state(
    client: httpx.AsyncClient,
    platform: Platform,
    runtime: Runtime,
    pool: asyncpg.Pool,
    steps: list[str],
    action: str,
    body: dict[str, Any],
    state: str,
) -> None:
    await with_organisations(runtime, platform)
    coordinator = platform.auth("coordinator")
    for step in steps:
        payload = {"motivation": "m"} if step == "apply" else {"reason": "r"}
        done = await post(client, platform.party, step, coordinator, **payload)
        assert done.status_code == 200, (step, done.text)
    before = await count_events(pool)
    refused = await post(client, platform.party, action, coordinator, **body)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["state"] == state
    assert state in problem["detail"]
    assert problem["type"].endswith("/conflict")
    assert await count_events(pool) == before


async def test_unknown_organisations_are_404_also_across_platforms(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform, runtime: Runtime
) -> None:
    await with_organisations(runtime, platform)
    nobody = uuid.uuid4()
    coordinator = platform.auth("coordinator")
    assert (await client.get(path(nobody), headers=coordinator)).status_code == 404
    assert (await post(client, nobody, "apply", coordinator, motivation="m")).status_code == 404
    assert (await post(client, nobody, "admit", coordinator, reason="r")).status_code == 404
    applied = await post(client, platform.party, "apply", own_token(platform), motivation="m")
    assert applied.status_code == 200
    # Haarlem's organisation does not exist for Zaanstad's coordinator.
    theirs = other_platform.auth("coordinator")
    assert (await client.get(path(platform.party), headers=theirs)).status_code == 404
    assert (await post(client, platform.party, "admit", theirs, reason="r")).status_code == 404
    register = await client.get(
        f"/membership?wait_for={applied.json()['position']}&timeout=10", headers=theirs
    )
    assert register.json()["total"] == 0


async def test_a_stale_if_match_changes_nothing(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    await with_organisations(runtime, platform)
    org, coordinator = platform.party, platform.auth("coordinator")
    stale_first = await post(
        client, org, "apply", {**own_token(platform), "If-Match": '"1"'}, motivation="m"
    )
    assert stale_first.status_code == 412
    assert stale_first.json()["current_version"] == 0
    first = await post(
        client, org, "apply", {**own_token(platform), "If-Match": '"0"'}, motivation="m"
    )
    assert first.status_code == 200, first.text
    before = await count_events(pool)
    stale = await post(client, org, "admit", {**coordinator, "If-Match": '"0"'}, reason="r")
    assert stale.status_code == 412
    assert await count_events(pool) == before
    fresh = await post(
        client, org, "admit", {**coordinator, "If-Match": first.headers["etag"]}, reason="r"
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"2"'


async def test_a_retried_decision_is_recorded_once(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime, pool: asyncpg.Pool
) -> None:
    await with_organisations(runtime, platform)
    await post(client, platform.party, "apply", own_token(platform), motivation="m")
    headers = {**platform.auth("coordinator"), "Idempotency-Key": "admit-de-verbinding"}
    first = await post(client, platform.party, "admit", headers, reason="welkom")
    events = await count_events(pool)
    again = await post(client, platform.party, "admit", headers, reason="welkom")
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert await count_events(pool) == events


@pytest.mark.parametrize(
    ("action", "body", "field", "rule"),
    [
        ("apply", {}, "motivation", "required"),
        ("apply", {"motivation": "   "}, "motivation", "required"),
        ("apply", {"motivation": "x" * 4001}, "motivation", "max-length"),
        ("apply", {"motivation": "m", "colour": "red"}, "colour", "unknown-field"),
        ("apply", {"motivation": 42}, "motivation", "type"),
        ("admit", {}, "reason", "required"),
        ("admit", {"reason": " "}, "reason", "required"),
        ("admit", {"reason": "r", "meeting_id": "not-a-uuid"}, "meeting_id", None),
        ("admit", {"reason": "r", "meeting_id": str(uuid.UUID(int=7))}, "meeting_id", "exists"),
        ("leave", {"reason": "x" * 2001}, "reason", "max-length"),
    ],
)
async def test_invalid_commands_name_the_field_and_rule(
    client: httpx.AsyncClient,
    platform: Platform,
    runtime: Runtime,
    action: str,
    body: dict[str, Any],
    field: str,
    rule: str | None,
) -> None:
    await with_organisations(runtime, platform)
    coordinator = platform.auth("coordinator")
    if action != "apply":
        await post(client, platform.party, "apply", coordinator, motivation="m")
    if action == "leave":
        await post(client, platform.party, "admit", coordinator, reason="r")
    response = await post(client, platform.party, action, coordinator, **body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field
    if rule is not None:
        assert problem["rule"] == rule


async def test_decisions_at_a_cancelled_meeting_are_refused(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    await with_organisations(runtime, platform)
    meeting = Meeting.schedule(
        meeting_id=uuid.uuid4(),
        tenant=platform.slug,
        title="Bijeenkomst",
        starts_at=datetime.now(UTC) + timedelta(days=7),
        ends_at=datetime.now(UTC) + timedelta(days=7, hours=2),
        mode=MeetingMode.ONLINE,
        online_link="https://meet.example.nl/b",
        at=datetime.now(UTC),
    )
    meeting.cancel(reason="storm", decided_by="tests", at=datetime.now(UTC))
    await runtime.repository.save(meeting, metadata=_metadata(platform))
    coordinator = platform.auth("coordinator")
    await post(client, platform.party, "apply", coordinator, motivation="m")
    refused = await post(
        client, platform.party, "admit", coordinator, reason="r", meeting_id=str(meeting.id)
    )
    assert refused.status_code == 422
    assert (refused.json()["field"], refused.json()["rule"]) == ("meeting_id", "cancelled")


async def test_dissolving_closes_the_membership_and_the_organisation_cannot_come_back(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    """The `organisation_dissolved` policy closes the membership (see also
    tests/policies); what stays possible after a dissolution is tested in tests/application."""
    await with_organisations(runtime, platform)
    coordinator = platform.auth("coordinator")
    await post(client, platform.party, "apply", coordinator, motivation="m")
    await post(client, platform.party, "admit", coordinator, reason="r")
    await post(client, platform.other_party, "apply", coordinator, motivation="m")
    for org_id in (platform.party, platform.other_party):
        dissolved = await client.post(
            f"/organisations/{org_id}/dissolve", json={"reason": "opgeheven"}, headers=coordinator
        )
        assert dissolved.status_code == 200, dissolved.text
    await runtime.policies.catch_up(timeout=10)
    member, applicant = (
        await show(client, platform, platform.party),
        await show(client, platform, platform.other_party),
    )
    assert (member["status"], applicant["status"]) == ("left", "withdrawn")
    for record in (member, applicant):
        closed = record["history"][-1]
        assert closed["reason"] == "organisation dissolved: opgeheven"
        assert closed["by"] == "policy:organisation_dissolved"
    refused = await post(client, platform.other_party, "admit", coordinator, reason="r")
    assert refused.status_code == 409
    assert refused.json()["state"] == "dissolved"
    again = await post(client, platform.other_party, "apply", coordinator, motivation="m")
    assert again.status_code == 409 and again.json()["state"] == "dissolved"


# -- the register and growth ---------------------------------------------------------------------


async def register(
    client: httpx.AsyncClient, platform: Platform, query: str, position: int, role: str = "fund"
) -> dict[str, Any]:
    response = await client.get(
        f"/membership?{query}&wait_for={position}&timeout=10", headers=platform.auth(role)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_register_filters_pages_and_answers_as_things_stood(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    end = await hand_made_history(history(runtime, platform), platform=False)
    everyone = await register(client, platform, "limit=200", end)
    assert everyone["total"] == 8
    assert [e["name"] for e in everyone["items"]][:2] == ["Organisation A", "Organisation B"]
    members = await register(client, platform, "status=member&status=suspended", end)
    assert members["total"] == 6
    selves = await register(client, platform, "status=member&kind=self-organisation", end)
    assert {e["name"] for e in selves["items"]} == {f"Organisation {k}" for k in "ABFG"}
    page = await register(client, platform, "limit=3&offset=3", end)
    assert [e["name"] for e in page["items"]] == [f"Organisation {k}" for k in "DEF"]
    assert (page["total"], page["limit"], page["offset"]) == (8, 3, 3)
    then = await register(
        client, platform, "effective_at=2020-03-25T12:00:00%2B01:00", end, "analyst"
    )
    assert {e["name"][-1]: e["status"] for e in then["items"]} == {
        "A": "member",
        "B": "member",
        "C": "rejected",
        "D": "member",
        "F": "member",
    }
    for bad, field in [
        ("status=sleeping", "status"),
        ("kind=club", "kind"),
        ("limit=0", "limit"),
        ("as_of=2021-03-01T00:00:00", "as_of"),
        ("effective_at=2021-03-01T00:00:00", "effective_at"),
        ("as_of=yesterday", "as_of"),
    ]:
        response = await client.get(f"/membership?{bad}", headers=platform.auth("analyst"))
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["field"] == field, (bad, response.json())


async def test_growth_over_http_on_a_hand_made_history(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    end = await hand_made_history(history(runtime, platform), platform=False)
    response = await client.get(
        f"/reports/membership-growth?wait_for={end}&timeout=10",
        headers=platform.auth("municipality"),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["started_on"] == "2019-12-01"
    assert report["time_zone"] == "Europe/Amsterdam"
    months = {m["month"][:7]: m for m in report["months"]}
    assert report["months"][0]["month"] == "2019-12-01"
    assert [months[m]["members"] for m in ("2019-12", "2020-01", "2020-02", "2021-02")] == [
        2,
        3,
        4,
        7,
    ]
    assert [months[m]["members"] for m in ("2021-06", "2022-03", "2023-03", "2023-04")] == [
        6,
        7,
        7,
        6,
    ]
    assert months["2021-05"]["suspended"] == 1
    assert months["2021-02"]["by_kind"] == {
        "self-organisation": 4,
        "formal-organisation": 1,
        "municipality": 1,
        "fund": 1,
    }
    years = {y["year"]: (y["joins"], y["leaves"]) for y in report["years"]}
    assert [years[y] for y in range(2019, 2024)] == [(2, 0), (3, 0), (2, 1), (1, 0), (0, 1)]
    assert report["years"][2]["leaves_by_kind"]["self-organisation"] == 1

    then = await client.get(
        "/reports/membership-growth?effective_at=2021-07-01T00:00:00%2B02:00",
        headers=platform.auth("analyst"),
    )
    assert then.status_code == 200, then.text
    past = then.json()
    assert past["months"][-1]["month"] == "2021-07-01"
    assert past["months"][-1]["members"] == 6
    assert [(y["year"], y["joins"], y["leaves"]) for y in past["years"]] == [
        (2019, 2, 0),
        (2020, 3, 0),
        (2021, 2, 1),
    ]
    naive = await client.get(
        "/reports/membership-growth?as_of=2021-07-01T00:00:00", headers=platform.auth("analyst")
    )
    assert naive.status_code == 422 and naive.json()["field"] == "as_of"


async def test_as_of_answers_with_what_was_recorded_by_then(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    """`as_of` is what had been recorded by then; `effective_at` when things took effect."""
    h = history(runtime, platform)
    await h.organisation("A", SELF)
    await h.organisation("B", OrganisationKind.FUND)
    await h.apply("A", utc(2020, 1, 1))
    await h.decide("A", "admit", utc(2020, 2, 1))
    await asyncio.sleep(0.05)
    known = datetime.now(UTC)
    await asyncio.sleep(0.05)
    # Recorded later, but effective in 2020: a correction of the register.
    await h.apply("B", utc(2020, 1, 10))
    end = await h.decide("B", "admit", utc(2020, 3, 1))

    stamp = known.isoformat().replace("+", "%2B")
    now = await register(client, platform, "status=member", end)
    assert now["total"] == 2
    then = await register(client, platform, f"status=member&as_of={stamp}", end)
    assert [e["name"] for e in then["items"]] == ["Organisation A"]
    both = await register(
        client, platform, f"as_of={stamp}&effective_at=2020-01-15T00:00:00Z", end, "auditor"
    )
    assert [(e["name"], e["status"]) for e in both["items"]] == [("Organisation A", "applied")]

    report = await client.get(
        f"/reports/membership-growth?as_of={stamp}", headers=platform.auth("auditor")
    )
    months = {m["month"][:7]: m["members"] for m in report.json()["months"]}
    assert months["2020-03"] == 1
    report = await client.get("/reports/membership-growth", headers=platform.auth("auditor"))
    months = {m["month"][:7]: m["members"] for m in report.json()["months"]}
    assert months["2020-03"] == 2

    b = h.ids["B"]
    assert (await show(client, platform, b))["status"] == "member"
    assert (await show(client, platform, b, f"?as_of={stamp}"))["status"] == "none"
    earlier = await show(client, platform, b, "?effective_at=2020-02-01T00:00:00Z")
    assert (earlier["status"], earlier["version"], len(earlier["history"])) == ("applied", 1, 1)


async def test_an_organisation_reads_only_its_own_membership_record(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    """The record holds the reasons of decisions: the organisation itself reads it, not
    another one (nor the municipality or a fund, as the role matrix shows)."""
    await with_organisations(runtime, platform)
    own = await client.get(path(platform.party), headers=platform.auth("organisation"))
    assert own.status_code == 200, own.text
    other = await client.get(
        path(platform.other_party),
        headers={"Authorization": f"Bearer {platform.other_org_token}"},
    )
    assert other.status_code == 200, other.text
    denied = await client.get(path(platform.other_party), headers=platform.auth("organisation"))
    assert denied.status_code == 403
    assert denied.json()["type"].endswith("/forbidden")
