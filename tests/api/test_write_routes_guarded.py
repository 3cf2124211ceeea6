"""The write routes of organisations, strengths, contacts and the platform, at their edges.

Complements the role matrix in `test_organisations.py`: another organisation's token, unknown
ids, stale `If-Match`, removing contacts, the routes that end something, and `PATCH /platform`
and `PUT /platform/point-of-contact`. Every refusal is also checked to have changed nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import Platform

PROBLEMS = "https://verbinders.nl/problems/"
NOT_OWN = ("municipality", "fund", "auditor", "analyst")
ORGANISATION = {
    "kind": "self-organisation",
    "name": "Stichting Surinaamse Ouderen Haarlem",
    "kvk_number": "40123456",
    "languages": ["nl", "srn"],
    "themes": ["elderly", "care"],
    "districts": ["oost"],
    "description": "Ontmoeting en mantelzorg voor Surinaamse ouderen in Haarlem-Oost.",
}


@dataclass(frozen=True)
class Org:
    """A registered organisation with one strength and one contact (at version 3)."""

    id: str
    own: dict[str, str]
    """Headers of a token acting for this organisation."""
    strength: str
    contact: str


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    body: Any = None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["type"] == PROBLEMS + kind, problem
    assert problem["status"] == status
    return problem


async def make_org(client: httpx.AsyncClient, platform: Platform, **fields: Any) -> Org:
    coordinator = platform.auth("coordinator")
    created = await client.post(
        "/organisations", json={**ORGANISATION, **fields}, headers=coordinator
    )
    assert created.status_code == 201, created.text
    org = created.json()["id"]
    issued = await client.post(
        "/tokens", json={"roles": ["organisation"], "party": org}, headers=coordinator
    )
    assert issued.status_code == 201, issued.text
    strength = await client.post(
        f"/organisations/{org}/strengths",
        json={"kind": "venue", "title": "Zaal in de Oosterkerk", "capacity": 60},
        headers=coordinator,
    )
    assert strength.status_code == 201, strength.text
    contact = await client.post(
        f"/organisations/{org}/contacts",
        json={"name": "Ria Pinas", "role": "secretaris", "email": "ria@ssoh.nl"},
        headers=coordinator,
    )
    assert contact.status_code == 201, contact.text
    return Org(
        id=org,
        own=bearer(issued.json()["token"]),
        strength=strength.json()["id"],
        contact=contact.json()["id"],
    )


@pytest.fixture
async def org(client: httpx.AsyncClient, platform: Platform) -> Org:
    return await make_org(client, platform)


async def snapshot(client: httpx.AsyncClient, platform: Platform, org: str) -> dict[str, Any]:
    """What a refused write must leave as it was: profile, strengths, version, contacts."""
    coordinator = platform.auth("coordinator")
    shown = await client.get(f"/organisations/{org}", headers=coordinator)
    assert shown.status_code == 200, shown.text
    contacts = await client.get(f"/organisations/{org}/contacts", headers=coordinator)
    assert contacts.status_code == 200, contacts.text
    return {
        "organisation": shown.json(),
        "etag": shown.headers["etag"],
        "contacts": contacts.json(),
    }


def writes(org: str, strength: str, contact: str) -> list[Write]:
    """Every write route on an organisation, its strengths and its contacts."""
    base = f"/organisations/{org}"
    return [
        Write("PATCH", base, {"name": "Andere Naam", "active_volunteers": 7}),
        Write("POST", f"{base}/strengths", {"kind": "catering", "title": "Roti en bara"}),
        Write("PATCH", f"{base}/strengths/{strength}", {"capacity": 5}),
        Write("POST", f"{base}/strengths/{strength}/withdraw", {"reason": "verbouwing"}),
        Write("POST", f"{base}/contacts", {"name": "Iemand Anders", "phone": "0231234567"}),
        Write("PATCH", f"{base}/contacts/{contact}", {"role": "voorzitter"}),
        Write("DELETE", f"{base}/contacts/{contact}"),
        Write("POST", f"{base}/contacts/{contact}/forget"),
        Write("POST", f"{base}/dissolve", {"reason": "opgeheven"}),
    ]


async def send(
    client: httpx.AsyncClient, write: Write, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.request(write.method, write.path, json=write.body, headers=headers)


# -- organisations, strengths, contacts -----------------------------------------------------------


async def test_another_organisation_may_change_nothing_of_this_one(
    client: httpx.AsyncClient, platform: Platform, org: Org
) -> None:
    before = await snapshot(client, platform, org.id)
    for write in writes(org.id, org.strength, org.contact):
        response = await send(client, write, bearer(platform.other_org_token))
        problem = assert_problem(response, 403, "forbidden")
        assert problem["organisation"] == org.id, (write, problem)
    assert await snapshot(client, platform, org.id) == before


async def test_unknown_organisations_strengths_and_contacts_are_not_found_problems(
    client: httpx.AsyncClient, platform: Platform, org: Org
) -> None:
    coordinator = platform.auth("coordinator")
    before = await snapshot(client, platform, org.id)
    nobody = str(uuid.uuid4())
    for write in writes(nobody, org.strength, org.contact):
        problem = assert_problem(await send(client, write, coordinator), 404, "not-found")
        assert problem["id"] == nobody, (write, problem)
    base = f"/organisations/{org.id}"
    unknown_parts = [
        Write("PATCH", f"{base}/strengths/{nobody}", {"capacity": 5}),
        Write("POST", f"{base}/strengths/{nobody}/withdraw", {"reason": "weg"}),
        Write("PATCH", f"{base}/contacts/{nobody}", {"role": "voorzitter"}),
        Write("DELETE", f"{base}/contacts/{nobody}"),
        Write("POST", f"{base}/contacts/{nobody}/forget"),
    ]
    for write in unknown_parts:
        for headers in (coordinator, org.own):
            problem = assert_problem(await send(client, write, headers), 404, "not-found")
            assert problem["id"] == nobody, (write, problem)
    assert await snapshot(client, platform, org.id) == before


async def test_a_strength_or_contact_of_another_organisation_is_not_found_here(
    client: httpx.AsyncClient, platform: Platform, org: Org
) -> None:
    other = await make_org(client, platform, name="Buurtvereniging Oost", kvk_number=None)
    before = await snapshot(client, platform, org.id)
    before_other = await snapshot(client, platform, other.id)
    base = f"/organisations/{org.id}"
    for write in (
        Write("PATCH", f"{base}/strengths/{other.strength}", {"capacity": 5}),
        Write("POST", f"{base}/strengths/{other.strength}/withdraw", {"reason": "weg"}),
        Write("PATCH", f"{base}/contacts/{other.contact}", {"role": "voorzitter"}),
        Write("DELETE", f"{base}/contacts/{other.contact}"),
        Write("POST", f"{base}/contacts/{other.contact}/forget"),
    ):
        for headers in (platform.auth("coordinator"), org.own):
            assert_problem(await send(client, write, headers), 404, "not-found")
    assert await snapshot(client, platform, org.id) == before
    assert await snapshot(client, platform, other.id) == before_other


async def test_an_organisation_of_another_platform_is_not_found(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform, org: Org
) -> None:
    before = await snapshot(client, platform, org.id)
    for write in writes(org.id, org.strength, org.contact):
        response = await send(client, write, other_platform.auth("coordinator"))
        assert_problem(response, 404, "not-found")
    assert await snapshot(client, platform, org.id) == before


async def test_a_stale_if_match_changes_nothing_on_any_organisation_route(
    client: httpx.AsyncClient, platform: Platform, org: Org
) -> None:
    before = await snapshot(client, platform, org.id)
    assert before["etag"] == '"3"'
    for write in writes(org.id, org.strength, org.contact):
        for stale in ('"2"', 'W/"1", "2"'):
            for headers in (platform.auth("coordinator"), org.own):
                response = await send(client, write, {**headers, "If-Match": stale})
                problem = assert_problem(response, 412, "precondition-failed")
                assert problem["current_version"] == 3, (write, problem)
    assert await snapshot(client, platform, org.id) == before
    # The current tag (also weak, or among others) lets the write through.
    renamed = await client.patch(
        f"/organisations/{org.id}",
        json={"name": "Andere Naam"},
        headers={**org.own, "If-Match": 'W/"2", W/"3"'},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] == '"4"'
    after = await snapshot(client, platform, org.id)
    assert after["organisation"]["name"] == "Andere Naam"
    assert after["etag"] == '"4"'


async def test_the_coordinator_and_the_organisation_itself_remove_contacts(
    client: httpx.AsyncClient, platform: Platform, org: Org
) -> None:
    coordinator = platform.auth("coordinator")
    second = await client.post(
        f"/organisations/{org.id}/contacts",
        json={"name": "Henk Rozenblad", "email": "henk@ssoh.nl"},
        headers=org.own,
    )
    assert second.status_code == 201, second.text
    first_path = f"/organisations/{org.id}/contacts/{org.contact}"
    second_path = f"/organisations/{org.id}/contacts/{second.json()['id']}"
    before = await snapshot(client, platform, org.id)
    assert len(before["contacts"]) == 2

    anonymous = await client.delete(first_path)
    assert_problem(anonymous, 401, "unauthorized")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for role in NOT_OWN:
        assert_problem(
            await client.delete(first_path, headers=platform.auth(role)), 403, "forbidden"
        )
    # The platform's own organisation token acts for another party; so does `other_org_token`.
    for token in (platform.tokens["organisation"], platform.other_org_token):
        assert_problem(await client.delete(first_path, headers=bearer(token)), 403, "forbidden")
    assert await snapshot(client, platform, org.id) == before

    by_itself = await client.delete(first_path, headers=org.own)
    assert by_itself.status_code == 200, by_itself.text
    assert by_itself.json()["id"] == org.contact
    listed = await client.get(f"/organisations/{org.id}/contacts", headers=coordinator)
    assert [c["name"] for c in listed.json()] == ["Henk Rozenblad"]
    by_coordinator = await client.delete(second_path, headers=coordinator)
    assert by_coordinator.status_code == 200, by_coordinator.text
    for headers in (coordinator, org.own):
        listed = await client.get(f"/organisations/{org.id}/contacts", headers=headers)
        assert listed.status_code == 200
        assert listed.json() == []

    # Gone as a contact: removing or changing again is 404; forgetting a former one still works.
    assert_problem(await client.delete(first_path, headers=coordinator), 404, "not-found")
    changed = await client.patch(first_path, json={"role": "x"}, headers=coordinator)
    assert_problem(changed, 404, "not-found")
    forgotten = await client.post(f"{first_path}/forget", headers=org.own)
    assert forgotten.status_code == 200, forgotten.text
    events = await client.get(f"/events?stream={org.id}", headers=platform.auth("auditor"))
    topics = [e["topic"].rsplit(".", 1)[-1] for e in events.json()["events"]]
    assert topics[-4:] == [
        "contact_added",
        "contact_removed",
        "contact_removed",
        "contact_forgotten",
    ]


async def test_ending_something_needs_a_token_and_the_coordinator_may_do_it(
    client: httpx.AsyncClient, platform: Platform, org: Org
) -> None:
    base = f"/organisations/{org.id}"
    ending = [
        Write("POST", f"{base}/strengths/{org.strength}/withdraw", {"reason": "verbouwing"}),
        Write("POST", f"{base}/contacts/{org.contact}/forget"),
        Write("POST", f"{base}/dissolve", {"reason": "opgeheven"}),
    ]
    before = await snapshot(client, platform, org.id)
    for write in ending:
        assert_problem(await send(client, write), 401, "unauthorized")
        bogus = await send(client, write, {"Authorization": "Bearer vb_nope"})
        assert_problem(bogus, 401, "unauthorized")
    assert await snapshot(client, platform, org.id) == before

    withdraw, forget, dissolve = ending
    withdrawn = await send(client, withdraw, platform.auth("coordinator"))
    assert withdrawn.status_code == 200, withdrawn.text
    again = await send(client, withdraw, platform.auth("coordinator"))
    assert assert_problem(again, 404, "not-found")["state"] == "withdrawn"
    for write in (forget, dissolve):
        done = await send(client, write, platform.auth("coordinator"))
        assert done.status_code == 200, (write, done.text)
    after = await snapshot(client, platform, org.id)
    assert after["organisation"]["strengths"] == []
    assert after["organisation"]["dissolved_at"] is not None
    assert after["contacts"] == []
    assert after["etag"] == '"6"'


# -- the platform ---------------------------------------------------------------------------------


async def read_platform(client: httpx.AsyncClient, platform: Platform) -> tuple[Any, str]:
    shown = await client.get("/platform", headers=platform.auth("analyst"))
    assert shown.status_code == 200, shown.text
    return shown.json(), shown.headers["etag"]


async def test_only_the_coordinator_changes_the_platform(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    before = await read_platform(client, platform)
    body = {"name": "Overgenomen", "districts": [{"code": "overal", "label": "Overal"}]}
    assert_problem(await client.patch("/platform", json=body), 401, "unauthorized")
    for role in ("organisation", *NOT_OWN):
        denied = await client.patch("/platform", json=body, headers=platform.auth(role))
        assert_problem(denied, 403, "forbidden")
    other = await client.patch("/platform", json=body, headers=bearer(platform.other_org_token))
    assert_problem(other, 403, "forbidden")
    assert await read_platform(client, platform) == before


async def test_a_platform_change_shows_in_get_platform_with_a_new_etag(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    (before, tag) = await read_platform(client, platform)
    changed = await client.patch(
        "/platform",
        json={
            "name": "Verbinders Zuid-Kennemerland",
            "city": "Haarlem",
            "themes": [{"code": "sport", "label": "Sport"}, {"code": "care", "label": "Zorg"}],
        },
        headers={**platform.auth("coordinator"), "If-Match": tag},
    )
    assert changed.status_code == 200, changed.text
    (after, new_tag) = await read_platform(client, platform)
    assert new_tag == changed.headers["etag"] != tag
    assert after["name"] == "Verbinders Zuid-Kennemerland"
    assert after["city"] == before["city"]
    assert after["themes"] == [
        {"code": "sport", "label": "Sport"},
        {"code": "care", "label": "Zorg"},
    ]
    assert after["districts"] == before["districts"]


async def test_a_stale_if_match_leaves_the_platform_as_it_was(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    (_, first) = await read_platform(client, platform)
    coordinator = platform.auth("coordinator")
    renamed = await client.patch(
        "/platform", json={"name": "Eerste Wijziging"}, headers={**coordinator, "If-Match": first}
    )
    assert renamed.status_code == 200, renamed.text
    before = await read_platform(client, platform)
    stale = await client.patch(
        "/platform",
        json={"name": "Tweede Wijziging", "districts": [{"code": "overal", "label": "Overal"}]},
        headers={**coordinator, "If-Match": first},
    )
    problem = assert_problem(stale, 412, "precondition-failed")
    assert f'"{problem["current_version"]}"' == before[1]
    assert await read_platform(client, platform) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": 42}, "name"),
        ({"districts": []}, "districts"),
        (
            {"districts": [{"code": "Haarlem Noord", "label": "Haarlem-Noord"}]},
            "districts[0].code",
        ),
        ({"districts": [{"code": "noord", "label": ""}]}, "districts[0].label"),
        ({"themes": [{"code": 5, "label": "Vijf"}]}, "themes[0].code"),
        (
            {"themes": [{"code": "sport", "label": "Sport"}, {"code": "sport", "label": "Ook"}]},
            "themes[1].code",
        ),
        ({"colour": "oranje"}, "colour"),
        # Atomic: the valid new name is not kept when the districts are refused.
        ({"name": "Half Gelukt", "districts": []}, "districts"),
    ],
)
async def test_an_invalid_platform_change_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, platform: Platform, body: dict[str, Any], field: str
) -> None:
    before = await read_platform(client, platform)
    refused = await client.patch("/platform", json=body, headers=platform.auth("coordinator"))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] in (PROBLEMS + "invalid-command", PROBLEMS + "invalid-request")
    assert problem["field"] == field, problem
    assert await read_platform(client, platform) == before


async def test_a_missing_field_inside_a_list_item_is_named_by_its_path(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    before = await read_platform(client, platform)
    refused = await client.patch(
        "/platform", json={"districts": [{"code": "noord"}]}, headers=platform.auth("coordinator")
    )
    problem = assert_problem(refused, 422, "invalid-request")
    assert await read_platform(client, platform) == before
    assert problem["field"].startswith("districts[0]"), problem


@pytest.mark.parametrize("field", ["name", "city"])
async def test_an_empty_platform_name_or_city_is_refused(
    client: httpx.AsyncClient, platform: Platform, field: str
) -> None:
    before = await read_platform(client, platform)
    refused = await client.patch(
        "/platform", json={field: ""}, headers=platform.auth("coordinator")
    )
    assert await read_platform(client, platform) == before
    problem = assert_problem(refused, 422, "invalid-request")  # by the body's schema
    assert (problem["field"], problem["rule"]) == (field, "min-length")


async def test_the_point_of_contact_is_never_an_unknown_dissolved_or_foreign_organisation(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform, org: Org
) -> None:
    coordinator = platform.auth("coordinator")
    chosen = await client.put(
        "/platform/point-of-contact",
        json={"organisation_id": org.id, "reason": "gekozen"},
        headers=coordinator,
    )
    assert chosen.status_code == 200, chosen.text
    dissolved = await make_org(client, platform, name="Opgeheven Stichting", kvk_number=None)
    ended = await client.post(
        f"/organisations/{dissolved.id}/dissolve", json={"reason": "gestopt"}, headers=coordinator
    )
    assert ended.status_code == 200, ended.text
    foreign = await make_org(client, other_platform, name="Zaanse Stichting", kvk_number=None)
    token = await client.post(
        "/tokens", json={"roles": ["analyst"], "label": "geen organisatie"}, headers=coordinator
    )
    before = await read_platform(client, platform)
    assert before[0]["point_of_contact"] == org.id

    def body(organisation_id: str | None) -> dict[str, Any]:
        return {"organisation_id": organisation_id, "reason": "nieuwe keuze"}

    anonymous = await client.put("/platform/point-of-contact", json=body(dissolved.id))
    assert_problem(anonymous, 401, "unauthorized")
    gone = await client.put(
        "/platform/point-of-contact", json=body(dissolved.id), headers=coordinator
    )
    assert assert_problem(gone, 409, "conflict")["state"] == "dissolved"
    for unknown in (str(uuid.uuid4()), foreign.id, token.json()["id"]):
        missing = await client.put(
            "/platform/point-of-contact", json=body(unknown), headers=coordinator
        )
        assert assert_problem(missing, 404, "not-found")["id"] == unknown
    stale = await client.put(
        "/platform/point-of-contact",
        json=body(None),
        headers={**coordinator, "If-Match": '"1"'},
    )
    assert_problem(stale, 412, "precondition-failed")
    invalid = await client.put(
        "/platform/point-of-contact",
        json={"organisation_id": "nope", "reason": "x"},
        headers=coordinator,
    )
    assert_problem(invalid, 422, "invalid-request")
    assert await read_platform(client, platform) == before
    (elsewhere, _) = await read_platform(client, other_platform)
    assert elsewhere["point_of_contact"] is None
