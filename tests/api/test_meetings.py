"""Meetings over HTTP: scheduling, attendance, decisions, minutes, lists, report, as_of, rights."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.conftest import Platform
from verbinders.application.context import Actor
from verbinders.application.meetings import schedule_meeting
from verbinders.application.membership import admit, apply, leave
from verbinders.application.organisations import register_organisation
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.access import Role
from verbinders.domain.meetings import MeetingMode
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Conflict
from verbinders.runtime import Runtime

ALL = [r.value for r in Role]
NOW = datetime.now(UTC).replace(microsecond=0)
WAIT = {"timeout": "10"}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def plan(starts: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Platformbijeenkomst",
        "starts_at": iso(starts),
        "ends_at": iso(starts + timedelta(hours=2)),
        "mode": "in-person",
        "venue": "Buurthuis De Ringvaart, Schalkwijk",
        "agenda": [{"title": "Opening"}, {"title": "Rondvraag", "description": "Wat verder?"}],
        **extra,
    }


async def schedule(
    client: httpx.AsyncClient, platform: Platform, starts: datetime, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/meetings", json=plan(starts, **extra), headers=platform.auth("coordinator")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def show(
    client: httpx.AsyncClient, platform: Platform, meeting_id: str, position: int, **params: Any
) -> httpx.Response:
    response = await client.get(
        f"/meetings/{meeting_id}",
        params={"wait_for": position, **WAIT, **params},
        headers=platform.auth("analyst"),
    )
    return response


async def command(
    client: httpx.AsyncClient,
    platform: Platform,
    meeting_id: str,
    action: str,
    body: Any,
    role: str = "coordinator",
    **headers: str,
) -> httpx.Response:
    return await client.post(
        f"/meetings/{meeting_id}/{action}", json=body, headers={**platform.auth(role), **headers}
    )


async def organisation(
    runtime: Runtime,
    tenant: str,
    name: str,
    *,
    organisation_id: uuid.UUID | None = None,
    member_since: datetime | None = None,
    left_at: datetime | None = None,
) -> uuid.UUID:
    """Register an organisation (unless it is one of the platform's already) and its
    membership periods, through the pipeline."""
    operator = Actor.operator(tenant, "tests")
    if organisation_id is None or not await runtime.store.stream_version(organisation_id):
        registered = await runtime.pipeline.run(
            register_organisation,
            operator,
            kind=OrganisationKind.SELF_ORGANISATION,
            name=name,
            organisation_id=organisation_id,
        )
        organisation_id = uuid.UUID(registered.id)
    org = organisation_id
    if member_since is not None:
        joined = CommandRequest(actor=operator, clock=member_since - timedelta(days=30))
        await runtime.pipeline.run(apply, joined, org, motivation="Wij willen meedoen")
        admitted = CommandRequest(actor=operator, clock=member_since)
        await runtime.pipeline.run(admit, admitted, org, reason="past the intake")
        if left_at is not None:
            gone = CommandRequest(actor=operator, clock=left_at)
            await runtime.pipeline.run(leave, gone, org, reason="gestopt")
    return org


# -- scheduling and the meeting itself ------------------------------------------------------------


async def test_schedules_and_shows_a_meeting(client: httpx.AsyncClient, platform: Platform) -> None:
    created = await schedule(client, platform, NOW + timedelta(days=7))
    shown = await show(client, platform, created["id"], created["position"])
    assert shown.status_code == 200, shown.text
    assert shown.headers["etag"] == '"1"'
    body = shown.json()
    assert body["state"] == "upcoming"
    assert body["held"] is False
    assert body["mode"] == "in-person"
    assert [item["title"] for item in body["agenda"]] == ["Opening", "Rondvraag"]
    assert datetime.fromisoformat(body["starts_at"]) == NOW + timedelta(days=7)
    assert body["scheduled_by"].startswith("token:")
    online = await schedule(
        client,
        platform,
        NOW - timedelta(days=400),
        mode="online",
        venue=None,
        online_link="https://zoom.us/j/123456",
    )
    seen = (await show(client, platform, online["id"], online["position"])).json()
    assert seen["state"] == "ended"
    assert seen["online_link"] == "https://zoom.us/j/123456"


async def test_a_retried_schedule_records_one_meeting(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    headers = {**platform.auth("coordinator"), "Idempotency-Key": "meeting-2026-01"}
    body = plan(NOW + timedelta(days=3))
    first = await client.post("/meetings", json=body, headers=headers)
    again = await client.post("/meetings", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    listed = await client.get(
        "/meetings",
        params={"wait_for": first.json()["position"], **WAIT},
        headers=platform.auth("coordinator"),
    )
    assert listed.json()["total"] == 1


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"title": None}, "title", "required"),
        ({"title": 12}, "title", "type"),
        ({"title": "   "}, "title", "required"),
        ({"colour": "red"}, "colour", "unknown-field"),
        ({"mode": "telepathic"}, "mode", None),
        ({"ends_at": iso(NOW)}, "ends_at", "after-start"),
        ({"ends_at": iso(NOW + timedelta(hours=30))}, "ends_at", "max-duration"),
        ({"starts_at": "2026-03-01T19:00:00"}, "starts_at", "timezone"),
        ({"venue": None}, "venue", "required"),
        ({"mode": "online"}, "venue", "not-allowed"),
        ({"mode": "hybrid"}, "online_link", "required"),
        ({"online_link": "https://meet.example.nl/x"}, "online_link", "not-allowed"),
        # refused by the request's schema (its pattern and lengths) before the domain's rules
        ({"mode": "hybrid", "online_link": "zoom please"}, "online_link", "format"),
        ({"agenda": [{"title": ""}]}, "agenda[0].title", "min-length"),
        ({"agenda": [{"title": "x", "minutes": 5}]}, "agenda[0].minutes", "unknown-field"),
    ],
)
async def test_invalid_meetings_name_the_field_and_rule(
    client: httpx.AsyncClient, platform: Platform, change: dict[str, Any], field: str, rule: Any
) -> None:
    body = {**plan(NOW + timedelta(hours=1)), **change}
    body = {k: v for k, v in body.items() if not (k == "title" and v is None)}
    response = await client.post("/meetings", json=body, headers=platform.auth("coordinator"))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field
    if rule is not None:
        assert problem["rule"] == rule


async def test_reschedule_agenda_and_cancel_an_upcoming_meeting(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    org = await organisation(runtime, platform.slug, "Stichting Ghanese Gemeenschap")
    meeting = await schedule(client, platform, NOW + timedelta(days=10))
    mid = meeting["id"]
    notice = await command(
        client,
        platform,
        mid,
        "attendance",
        {"organisation_id": str(org), "status": "absent-with-notice"},
    )
    assert notice.status_code == 200, notice.text
    stale = await command(
        client,
        platform,
        mid,
        "reschedule",
        {
            "starts_at": iso(NOW + timedelta(days=11)),
            "ends_at": iso(NOW + timedelta(days=11, hours=2)),
        },
        **{"If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    moved = await command(
        client,
        platform,
        mid,
        "reschedule",
        {
            "starts_at": iso(NOW + timedelta(days=11)),
            "ends_at": iso(NOW + timedelta(days=11, hours=2)),
            "mode": "hybrid",
            "online_link": "https://meet.example.nl/platform",
            "reason": "De zaal was niet vrij",
        },
        **{"If-Match": '"2"'},
    )
    assert moved.status_code == 200, moved.text
    assert moved.headers["etag"] == '"3"'
    agenda = await command(
        client, platform, mid, "agenda", {"agenda": [{"title": "Kennismaking nieuwe leden"}]}
    )
    assert agenda.status_code == 200
    unchanged = await command(
        client, platform, mid, "agenda", {"agenda": [{"title": "Kennismaking nieuwe leden"}]}
    )
    assert unchanged.json()["version"] == agenda.json()["version"]
    body = (await show(client, platform, mid, agenda.json()["position"])).json()
    assert body["attendance"] == []  # the notice no longer applies to the new date
    assert body["mode"] == "hybrid" and body["reschedules"] == 1
    assert [a["title"] for a in body["agenda"]] == ["Kennismaking nieuwe leden"]

    no_reason = await command(client, platform, mid, "cancel", {})
    assert no_reason.status_code == 422
    assert no_reason.json()["field"] == "reason"
    blank = await command(client, platform, mid, "cancel", {"reason": "  "})
    assert blank.status_code == 422
    cancelled = await command(client, platform, mid, "cancel", {"reason": "Te weinig aanmeldingen"})
    assert cancelled.status_code == 200, cancelled.text
    body = (await show(client, platform, mid, cancelled.json()["position"])).json()
    assert body["state"] == "cancelled"
    assert body["cancel_reason"] == "Te weinig aanmeldingen"
    assert body["cancelled_by"].startswith("token:")
    for action, payload in (
        ("cancel", {"reason": "again"}),
        ("reschedule", {"mode": "online", "venue": None}),
        ("agenda", {"agenda": []}),
        ("attendance", {"organisation_id": str(org), "status": "absent-with-notice"}),
    ):
        refused = await command(client, platform, mid, action, payload)
        assert refused.status_code == 409, (action, refused.text)
        assert refused.json()["state"] == "cancelled"


async def test_a_held_meeting_records_attendance_decisions_and_minutes(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    first = await organisation(runtime, platform.slug, "Vrouwen van Schalkwijk")
    second = await organisation(runtime, platform.slug, "Turkse Ouderen Haarlem")
    meeting = await schedule(client, platform, NOW - timedelta(days=2))
    mid = meeting["id"]
    present = await command(
        client,
        platform,
        mid,
        "attendance",
        {"organisation_id": str(first), "status": "present", "people": 3},
    )
    assert present.status_code == 200, present.text
    absent = await command(
        client,
        platform,
        mid,
        "attendance",
        {"organisation_id": str(second), "status": "absent-without-notice"},
    )
    assert absent.status_code == 200
    for payload, field in (
        ({"organisation_id": str(first), "status": "present"}, "people"),
        ({"organisation_id": str(first), "status": "present", "people": 0}, "people"),
        ({"organisation_id": str(second), "status": "absent-with-notice", "people": 2}, "people"),
        ({"organisation_id": str(first), "status": "late"}, "status"),
        ({"organisation_id": str(uuid.uuid4()), "status": "present", "people": 1}, None),
    ):
        invalid = await command(client, platform, mid, "attendance", payload)
        assert invalid.status_code == 422, (payload, invalid.text)
        assert invalid.json()["field"] == (field or "organisation_id")

    decided = await command(
        client,
        platform,
        mid,
        "decisions",
        {
            "text": "Gezamenlijke Suikerfeest-viering in de Philharmonie",
            "reason": "Drie organisaties deden los van elkaar hetzelfde",
            "votes": {"in_favour": 9, "against": 1, "abstained": 2},
        },
    )
    assert decided.status_code == 201, decided.text
    decision_id = decided.json()["data"]["decision_id"]
    for payload, field in (
        ({"text": "Zonder grond"}, "reason"),
        ({"text": "Zonder grond", "reason": " "}, "reason"),
        ({"text": " ", "reason": "r"}, "text"),
        ({"text": "t", "reason": "r", "votes": {}}, "votes"),
        ({"text": "t", "reason": "r", "votes": {"against": -1}}, "votes.against"),
    ):
        invalid = await command(client, platform, mid, "decisions", payload)
        assert invalid.status_code == 422, (payload, invalid.text)
        assert invalid.json()["field"] == field, payload

    for action, payload in (
        ("cancel", {"reason": "te laat"}),
        ("reschedule", {"starts_at": iso(NOW + timedelta(days=1))}),
    ):
        held = await command(client, platform, mid, action, payload)
        assert held.status_code == 409, held.text
        assert held.json()["state"] == "held"

    published = await command(
        client, platform, mid, "minutes", {"minutes": "Aanwezig: 12 mensen. Besluit: ..."}
    )
    assert published.status_code == 200, published.text
    body = (await show(client, platform, mid, published.json()["position"])).json()
    assert body["state"] == "minutes-published"
    assert body["held"] is True
    assert body["organisations_present"] == 1 and body["people_present"] == 3
    assert {(a["organisation_name"], a["status"], a["people"]) for a in body["attendance"]} == {
        ("Vrouwen van Schalkwijk", "present", 3),
        ("Turkse Ouderen Haarlem", "absent-without-notice", None),
    }
    [decision] = body["decisions"]
    assert decision["id"] == decision_id
    assert decision["votes"] == {"in_favour": 9, "against": 1, "abstained": 2}
    assert decision["grounds"] == "Drie organisaties deden los van elkaar hetzelfde"
    assert decision["recorded_by"].startswith("token:")
    assert body["minutes"].startswith("Aanwezig")
    # Published minutes close the record.
    for action, payload in (
        ("attendance", {"organisation_id": str(second), "status": "present", "people": 1}),
        ("decisions", {"text": "Nog iets", "reason": "vergeten"}),
        ("minutes", {"minutes": "Nieuwe versie"}),
        ("agenda", {"agenda": []}),
    ):
        closed = await command(client, platform, mid, action, payload)
        assert closed.status_code == 409, (action, closed.text)
        assert closed.json()["state"] == "minutes-published"


async def test_the_meeting_must_have_started_for_presence_decisions_and_minutes(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    org = await organisation(runtime, platform.slug, "Surinaamse Vereniging Kennemerland")
    meeting = await schedule(client, platform, NOW + timedelta(days=1))
    for action, payload in (
        ("attendance", {"organisation_id": str(org), "status": "present", "people": 2}),
        ("decisions", {"text": "Vooruitlopen", "reason": "kan niet"}),
        ("minutes", {"minutes": "Nog niet"}),
    ):
        early = await command(client, platform, meeting["id"], action, payload)
        assert early.status_code == 409, (action, early.text)
        assert early.json()["state"] == "upcoming"


async def test_organisations_record_only_their_own_attendance(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    own = await organisation(
        runtime, platform.slug, "Eritrese Gemeenschap", organisation_id=platform.party
    )
    other = await organisation(
        runtime, platform.slug, "Poolse Stichting", organisation_id=platform.other_party
    )
    meeting = await schedule(client, platform, NOW - timedelta(hours=1))
    mine = await command(
        client,
        platform,
        meeting["id"],
        "attendance",
        {"organisation_id": str(own), "status": "present", "people": 4},
        role="organisation",
    )
    assert mine.status_code == 200, mine.text
    theirs = await command(
        client,
        platform,
        meeting["id"],
        "attendance",
        {"organisation_id": str(other), "status": "present", "people": 1},
        role="organisation",
    )
    assert theirs.status_code == 403
    by_other = await client.post(
        f"/meetings/{meeting['id']}/attendance",
        json={"organisation_id": str(own), "status": "absent-without-notice"},
        headers={"Authorization": f"Bearer {platform.other_org_token}"},
    )
    assert by_other.status_code == 403
    for role in ("municipality", "fund", "auditor", "analyst"):
        denied = await command(
            client,
            platform,
            meeting["id"],
            "attendance",
            {"organisation_id": str(own), "status": "present", "people": 1},
            role=role,
        )
        assert denied.status_code == 403, role
    body = (await show(client, platform, meeting["id"], mine.json()["position"])).json()
    [entry] = body["attendance"]
    assert entry["organisation_id"] == str(own) and entry["people"] == 4
    assert entry["recorded_by"] == str(platform.party)


async def test_unknown_and_foreign_meetings_are_not_found(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    missing = str(uuid.uuid4())
    assert (await show(client, platform, missing, 1)).status_code == 404
    for action, payload in (
        ("reschedule", {"reason": "x"}),
        ("agenda", {"agenda": []}),
        ("cancel", {"reason": "x"}),
        ("decisions", {"text": "x", "reason": "y"}),
        ("minutes", {"minutes": "x"}),
    ):
        response = await command(client, platform, missing, action, payload)
        assert response.status_code == 404, (action, response.text)
        assert response.json()["type"].endswith("/not-found")
    theirs = await schedule(client, other_platform, NOW + timedelta(days=2))
    assert (await show(client, platform, theirs["id"], theirs["position"])).status_code == 404
    attempt = await command(client, platform, theirs["id"], "cancel", {"reason": "niet van jou"})
    assert attempt.status_code == 404
    mine = await client.get(
        "/meetings",
        params={"wait_for": theirs["position"], **WAIT},
        headers=platform.auth("analyst"),
    )
    assert mine.json()["total"] == 0


# -- lists, the report and history ----------------------------------------------------------------


async def test_lists_upcoming_and_past_meetings_paged(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    past = [await schedule(client, platform, NOW - timedelta(days=d)) for d in (30, 20, 10)]
    upcoming = [await schedule(client, platform, NOW + timedelta(days=d)) for d in (20, 5)]
    off = await schedule(client, platform, NOW + timedelta(days=8))
    cancelled = await command(client, platform, off["id"], "cancel", {"reason": "zomer"})
    position = cancelled.json()["position"]

    async def page(**params: Any) -> Any:
        response = await client.get(
            "/meetings",
            params={"wait_for": position, **WAIT, **params},
            headers=platform.auth("fund"),
        )
        assert response.status_code == 200, response.text
        return response.json()

    coming = await page(when="upcoming")
    assert [m["id"] for m in coming["items"]] == [upcoming[1]["id"], off["id"], upcoming[0]["id"]]
    assert [m["state"] for m in coming["items"]] == ["upcoming", "cancelled", "upcoming"]
    assert [m["id"] for m in (await page(when="upcoming", include_cancelled="false"))["items"]] == [
        upcoming[1]["id"],
        upcoming[0]["id"],
    ]
    gone = await page(when="past", limit=2)
    assert gone["total"] == 3
    assert [m["id"] for m in gone["items"]] == [past[2]["id"], past[1]["id"]]
    rest = await page(when="past", limit=2, offset=2)
    assert [m["id"] for m in rest["items"]] == [past[0]["id"]]
    everything = await page()
    assert everything["total"] == 6
    assert everything["items"][0]["id"] == past[0]["id"]
    for params in ({"when": "soon"}, {"limit": 0}, {"limit": 201}, {"offset": -1}):
        bad = await client.get("/meetings", params=params, headers=platform.auth("fund"))
        assert bad.status_code == 422, params


async def test_the_attendance_rate_counts_meetings_held_since_each_could_attend(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    day = NOW - timedelta(days=100)
    early = await organisation(
        runtime, platform.slug, "Antilliaanse Vereniging", member_since=day - timedelta(days=365)
    )
    late = await organisation(
        runtime, platform.slug, "Bulgaarse Huis", member_since=day + timedelta(days=15)
    )
    gone = await organisation(
        runtime,
        platform.slug,
        "Chinese Stichting",
        member_since=day - timedelta(days=365),
        left_at=day + timedelta(days=5),
    )
    guest = await organisation(runtime, platform.slug, "Dansgroep (geen lid)")
    m1, m2, m3, m4, m5 = [
        (await schedule(client, platform, day + timedelta(days=d)))["id"]
        for d in (0, 20, 40, 60, 80)
    ]
    upcoming = (await schedule(client, platform, NOW + timedelta(days=3)))["id"]

    async def attend(meeting: str, org: uuid.UUID, status: str, people: int | None = None) -> int:
        body: dict[str, Any] = {"organisation_id": str(org), "status": status}
        if people is not None:
            body["people"] = people
        response = await command(client, platform, meeting, "attendance", body)
        assert response.status_code == 200, response.text
        return int(response.json()["position"])

    await attend(m1, early, "present", 2)
    await attend(m1, gone, "present", 1)
    await attend(m2, early, "present", 1)
    await attend(m2, late, "absent-with-notice")
    await attend(m2, guest, "present", 5)
    await attend(m3, early, "absent-without-notice")
    await attend(m3, late, "present", 3)
    await attend(upcoming, late, "absent-with-notice")
    cancelled = await command(client, platform, m4, "cancel", {"reason": "storm"})
    assert cancelled.status_code == 200
    # m5 ended with nothing recorded: not known to be held, so it counts for nobody.
    last = await command(client, platform, m5, "agenda", {"agenda": [{"title": "Nagekomen"}]})
    position = last.json()["position"]

    async def report(**params: Any) -> dict[str, Any]:
        response = await client.get(
            "/reports/attendance",
            params={"wait_for": position, **WAIT, **params},
            headers=platform.auth("municipality"),
        )
        assert response.status_code == 200, response.text
        return {row["name"]: row for row in response.json()}

    rows = await report()
    assert set(rows) == {"Antilliaanse Vereniging", "Bulgaarse Huis", "Chinese Stichting"}
    a, b, c = rows["Antilliaanse Vereniging"], rows["Bulgaarse Huis"], rows["Chinese Stichting"]
    assert (a["meetings_held"], a["attended"], a["absent_without_notice"]) == (3, 2, 1)
    assert a["rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert (b["meetings_held"], b["attended"], b["absent_with_notice"], b["rate"]) == (2, 1, 1, 0.5)
    assert (c["meetings_held"], c["attended"], c["rate"]) == (1, 1, 1.0)
    assert a["organisation_id"] == str(early) and a["kind"] == "self-organisation"

    window = await report(since=(day + timedelta(days=10)).date().isoformat())
    assert window["Antilliaanse Vereniging"]["meetings_held"] == 2
    assert window["Chinese Stichting"]["meetings_held"] == 0
    assert window["Chinese Stichting"]["rate"] is None
    only_first = await report(until=day.date().isoformat())
    assert only_first["Antilliaanse Vereniging"]["meetings_held"] == 1
    backwards = await client.get(
        "/reports/attendance",
        params={"since": "2021-02-01", "until": "2021-01-01"},
        headers=platform.auth("analyst"),
    )
    assert backwards.status_code == 422
    assert backwards.json()["field"] == "since"


async def event_time(client: httpx.AsyncClient, platform: Platform, stream: str) -> list[str]:
    response = await client.get(
        "/events", params={"stream": stream}, headers=platform.auth("auditor")
    )
    return [e["recorded_at"] for e in response.json()["events"]]


async def test_answers_as_the_platform_stood_at_a_past_moment(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    org = await organisation(
        runtime, platform.slug, "Stichting Ouderen", member_since=NOW - timedelta(days=60)
    )
    held = await schedule(client, platform, NOW - timedelta(days=7))
    await command(
        client,
        platform,
        held["id"],
        "attendance",
        {"organisation_id": str(org), "status": "absent-without-notice"},
    )
    soon = await schedule(client, platform, NOW + timedelta(days=7))
    [scheduled_at] = await event_time(client, platform, soon["id"])
    corrected = await command(
        client,
        platform,
        held["id"],
        "attendance",
        {"organisation_id": str(org), "status": "present", "people": 2},
    )
    assert corrected.status_code == 200
    moved = await command(
        client,
        platform,
        soon["id"],
        "reschedule",
        {
            "starts_at": iso(NOW + timedelta(days=9)),
            "ends_at": iso(NOW + timedelta(days=9, hours=1)),
        },
    )
    cancelled = await command(client, platform, soon["id"], "cancel", {"reason": "geen zaal"})
    position = cancelled.json()["position"]
    assert moved.status_code == 200

    now_view = (await show(client, platform, soon["id"], position)).json()
    assert now_view["state"] == "cancelled"
    then = await show(client, platform, soon["id"], position, as_of=scheduled_at)
    assert then.status_code == 200, then.text
    assert then.headers["etag"] == '"1"'
    assert then.json()["state"] == "upcoming"
    assert datetime.fromisoformat(then.json()["starts_at"]) == NOW + timedelta(days=7)
    before = datetime.fromisoformat(scheduled_at.replace("Z", "+00:00")) - timedelta(seconds=1)
    too_early = await show(client, platform, soon["id"], position, as_of=iso(before))
    assert too_early.status_code == 404

    listed = await client.get(
        "/meetings",
        params={"as_of": scheduled_at, "when": "upcoming"},
        headers=platform.auth("analyst"),
    )
    assert [m["state"] for m in listed.json()["items"]] == ["upcoming"]
    assert listed.json()["at"].startswith(scheduled_at[:19])

    async def rate(**params: Any) -> Any:
        response = await client.get(
            "/reports/attendance",
            params={"wait_for": position, **WAIT, **params},
            headers=platform.auth("auditor"),
        )
        assert response.status_code == 200, response.text
        [row] = response.json()
        return row["attended"], row["absent_without_notice"]

    assert await rate() == (1, 0)
    assert await rate(as_of=scheduled_at) == (0, 1)
    naive = await client.get(
        "/meetings", params={"as_of": "2021-03-01T00:00:00"}, headers=platform.auth("analyst")
    )
    assert naive.status_code == 422
    assert naive.json()["field"] == "as_of"


# -- rights -------------------------------------------------------------------------------------


async def test_every_meeting_route_admits_exactly_its_roles(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    own = await organisation(
        runtime, platform.slug, "Matrix Vereniging", organisation_id=platform.party
    )
    coming = (await schedule(client, platform, NOW + timedelta(days=4)))["id"]
    to_cancel = (await schedule(client, platform, NOW + timedelta(days=5)))["id"]
    scheduled = await schedule(client, platform, NOW - timedelta(days=1))
    held, ready = scheduled["id"], f"wait_for={scheduled['position']}&timeout=10"
    readers = tuple(ALL)
    reports = ("coordinator", "analyst", "auditor", "municipality", "fund")
    cases: list[tuple[str, str, Any, tuple[str, ...]]] = [
        ("GET", f"/meetings?{ready}", None, readers),
        ("GET", f"/meetings?when=past&{ready}", None, readers),
        ("GET", f"/meetings/{coming}?{ready}", None, readers),
        ("GET", f"/reports/attendance?{ready}", None, reports),
        ("POST", "/meetings", plan(NOW + timedelta(days=30)), ("coordinator",)),
        ("POST", f"/meetings/{coming}/reschedule", {"reason": "zelfde"}, ("coordinator",)),
        ("POST", f"/meetings/{coming}/agenda", {"agenda": [{"title": "A"}]}, ("coordinator",)),
        (
            "POST",
            f"/meetings/{held}/attendance",
            {"organisation_id": str(own), "status": "present", "people": 2},
            ("coordinator", "organisation"),
        ),
        (
            "POST",
            f"/meetings/{held}/decisions",
            {"text": "Matrixbesluit", "reason": "test"},
            ("coordinator",),
        ),
    ]
    # Commands that end something: denied for every other role first, done once at the end.
    final: list[tuple[str, str, Any, tuple[str, ...]]] = [
        ("POST", f"/meetings/{to_cancel}/cancel", {"reason": "matrix"}, ("coordinator",)),
        ("POST", f"/meetings/{held}/minutes", {"minutes": "Verslag"}, ("coordinator",)),
    ]
    for method, path, body, allowed in cases + final:
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        bogus = await client.request(
            method, path, json=body, headers={"Authorization": "Bearer vb_nope"}
        )
        assert bogus.status_code == 401, (method, path)
        for role in ALL:
            if (method, path, body, allowed) in final and role in allowed:
                continue
            response = await client.request(method, path, json=body, headers=platform.auth(role))
            if role in allowed:
                assert response.status_code < 400, (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)
                assert response.json()["type"].endswith("/forbidden")
    for method, path, body, _ in final:
        done = await client.request(method, path, json=body, headers=platform.auth("coordinator"))
        assert done.status_code == 200, (path, done.text)


async def test_scheduling_a_meeting_id_twice_is_a_conflict(
    runtime: Runtime, platform: Platform
) -> None:
    meeting_id = uuid.uuid4()
    meeting = {
        "title": "Dubbel",
        "starts_at": NOW + timedelta(days=1),
        "ends_at": NOW + timedelta(days=1, hours=1),
        "mode": MeetingMode.ONLINE,
        "online_link": "https://meet.example.nl/dubbel",
        "meeting_id": meeting_id,
    }
    operator = Actor.operator(platform.slug, "tests")
    await runtime.pipeline.run(schedule_meeting, operator, **meeting)
    with pytest.raises(Conflict) as raised:
        await runtime.pipeline.run(schedule_meeting, operator, **meeting)
    assert raised.value.details["state"] == "exists"


async def test_racing_changes_to_one_meeting_each_land_whole_or_get_409(
    client: httpx.AsyncClient, platform: Platform, runtime: Runtime
) -> None:
    """Meeting commands run without a transaction (one statement each): of 12 agenda changes
    sent at once from the same version, every one that is answered 200 is in the history,
    the rest get 409 naming the conflict, and the meeting's versions stay gapless."""
    meeting = await schedule(client, platform, NOW + timedelta(days=20))
    mid = meeting["id"]
    answers = await asyncio.gather(
        *(
            command(client, platform, mid, "agenda", {"agenda": [{"title": f"Punt {i}"}]})
            for i in range(12)
        )
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {200, 409}, [a.text for a in answers]
    assert statuses.count(200) >= 1
    for answer in answers:
        if answer.status_code == 409:
            problem = answer.json()
            assert problem["type"].endswith("/concurrency-conflict"), answer.text
            assert problem["stream_id"] == mid
            assert problem["actual_version"] > problem["expected_version"]
    events = await runtime.store.read_stream(uuid.UUID(mid))
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert len(events) == 1 + statuses.count(200)
