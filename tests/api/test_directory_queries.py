"""The directory read model over HTTP: every filter of `GET /organisations` and `GET /strengths`,
their combinations, sorting and paging, `as_of`, refused parameters, and platforms kept apart."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.api.conftest import Platform, make_platform
from verbinders.runtime import Runtime

TIMEOUT = 10


@pytest.fixture
async def platform(runtime: Runtime) -> Platform:
    """A platform with only the organisations each test registers (its tokens act for none)."""
    return await make_platform(runtime, "haarlem", parties=False)


@pytest.fixture
async def other_platform(runtime: Runtime) -> Platform:
    return await make_platform(runtime, "zaanstad", parties=False)


BASE = {"kind": "self-organisation", "description": "", "languages": ["nl"]}

ORGANISATIONS: dict[str, dict[str, Any]] = {
    "vrouwen": {
        "kind": "self-organisation",
        "name": "Stichting Marokkaanse Vrouwen Schalkwijk",
        "themes": ["women", "language"],
        "districts": ["schalkwijk"],
        "languages": ["ar", "nl", "zgh"],
        "description": "Taallessen en ontmoeting in de wijk.",
    },
    "vaders": {
        "kind": "self-organisation",
        "name": "Buurtvaders Oost",
        "themes": ["youth", "safety"],
        "districts": ["oost"],
        "languages": ["nl", "tr"],
        "description": "Vaders lopen 's avonds door de buurt en praten met jongeren.",
    },
    "welzijn": {
        "kind": "formal-organisation",
        "name": "Welzijn Haarlem",
        "themes": ["welfare", "care", "elderly"],
        "districts": ["centrum", "schalkwijk"],
        "languages": ["nl", "en"],
        "description": "Maatschappelijk werk en advies voor ouderen.",
    },
    "fonds": {
        "kind": "fund",
        "name": "Fonds Armoedebestrijding",
        "themes": ["poverty"],
        "districts": [],
        "languages": ["nl"],
        "description": "Subsidies voor projecten tegen armoede.",
    },
    "gemeente": {
        "kind": "municipality",
        "name": "Gemeente Haarlem",
        "themes": ["participation", "welfare"],
        "districts": ["centrum", "noord", "oost", "schalkwijk", "zuid-west"],
        "languages": ["nl", "en"],
        "description": "Team participatie en wijkgericht werken.",
    },
    "kook": {
        "kind": "self-organisation",
        "name": "de Kookgroep",  # lower case first: sorting ignores case
        "themes": ["culture", "women"],
        "districts": ["noord"],
        "languages": ["tr", "nl"],
        "description": "Samen koken en eten met vrouwen uit Noord.",
    },
}
"""Registered in this order (so this is the order of `sort=registered`)."""

BY_NAME = ["vaders", "kook", "fonds", "gemeente", "vrouwen", "welzijn"]

ELSEWHERE = {
    "kind": "self-organisation",
    "name": "Stichting Marokkaanse Vrouwen Zaanstad",
    "themes": ["women", "language", "welfare", "poverty", "culture"],
    "districts": ["schalkwijk", "centrum", "noord", "oost"],
    "languages": ["ar", "nl", "zgh", "tr", "en"],
    "description": "Taallessen, koken en ontmoeting voor vrouwen: een vergaderzaal in Centrum.",
}
"""Another platform's organisation that every query of the tests below would match."""


@dataclass
class Seeded:
    ids: dict[str, str] = field(default_factory=dict)
    strengths: dict[str, str] = field(default_factory=dict)
    position: int = 0

    def key_of(self, organisation_id: str) -> str:
        return {v: k for k, v in self.ids.items()}[organisation_id]


async def command(
    client: httpx.AsyncClient,
    seeded: Seeded,
    method: str,
    path: str,
    platform: Platform,
    body: Any,
    status: int = 200,
) -> dict[str, Any]:
    response = await client.request(method, path, json=body, headers=platform.auth("coordinator"))
    assert response.status_code == status, response.text
    result = dict(response.json())
    assert int(response.headers["verbinders-position"]) == result["position"]
    seeded.position = max(seeded.position, result["position"])
    return result


async def register(
    client: httpx.AsyncClient, platform: Platform, seeded: Seeded, key: str, body: dict[str, Any]
) -> str:
    created = await command(client, seeded, "POST", "/organisations", platform, body, 201)
    seeded.ids[key] = created["id"]
    return str(created["id"])


async def add_strength(
    client: httpx.AsyncClient,
    platform: Platform,
    seeded: Seeded,
    key: str,
    organisation: str,
    body: dict[str, Any],
) -> str:
    path = f"/organisations/{seeded.ids[organisation]}/strengths"
    added = await command(client, seeded, "POST", path, platform, body, 201)
    seeded.strengths[key] = added["id"]
    return str(added["id"])


async def membership(
    client: httpx.AsyncClient, platform: Platform, seeded: Seeded, key: str, *decisions: str
) -> None:
    path = f"/organisations/{seeded.ids[key]}/membership"
    await command(client, seeded, "POST", f"{path}/apply", platform, {"motivation": "meedoen"})
    for decision in decisions:
        await command(client, seeded, "POST", f"{path}/{decision}", platform, {"reason": "ALV"})


async def seed(client: httpx.AsyncClient, platform: Platform, other: Platform) -> Seeded:
    """Six organisations of every kind with strengths and memberships, and one elsewhere."""
    seeded = Seeded()
    for key, body in ORGANISATIONS.items():
        await register(client, platform, seeded, key, body)
    await membership(client, platform, seeded, "vrouwen", "admit")
    await membership(client, platform, seeded, "kook", "admit")
    await membership(client, platform, seeded, "vaders")
    await membership(client, platform, seeded, "welzijn", "reject")
    strengths: list[tuple[str, str, dict[str, Any]]] = [
        ("tolken", "vrouwen", {"kind": "interpreters", "title": "Tolken", "languages": ["ar"]}),
        ("zaal", "welzijn", {"kind": "venue", "title": "Vergaderzaal", "districts": ["centrum"]}),
        ("soep", "welzijn", {"kind": "catering", "title": "Soep en brood"}),
        ("advies", "fonds", {"kind": "expertise", "title": "Advies over subsidieaanvragen"}),
        ("raadzaal", "gemeente", {"kind": "venue", "title": "Vergaderzaal", "capacity": 120}),
        ("koks", "kook", {"kind": "catering", "title": "Catering", "capacity": 60}),
    ]
    for key, organisation, body in strengths:
        await add_strength(client, platform, seeded, key, organisation, body)
    soup = f"/organisations/{seeded.ids['welzijn']}/strengths/{seeded.strengths['soep']}/withdraw"
    await command(client, seeded, "POST", soup, platform, {"reason": "geen kok meer"})

    elsewhere = Seeded()
    await register(client, other, elsewhere, "elsewhere", ELSEWHERE)
    await membership(client, other, elsewhere, "elsewhere", "admit")
    for kind, title in [
        ("venue", "Vergaderzaal"),
        ("catering", "Catering"),
        ("interpreters", "Tolken"),
        ("expertise", "Advies over subsidieaanvragen"),
    ]:
        body = {"kind": kind, "title": title, "languages": ["ar"], "districts": ["centrum"]}
        await add_strength(client, other, elsewhere, title, "elsewhere", body)
    seeded.ids["elsewhere"] = elsewhere.ids["elsewhere"]  # known, to be never seen
    seeded.position = max(seeded.position, elsewhere.position)
    return seeded


async def get(
    client: httpx.AsyncClient,
    platform: Platform,
    path: str,
    position: int | None = None,
    role: str = "analyst",
    **params: Any,
) -> dict[str, Any]:
    if position is not None:
        params = {"wait_for": position, "timeout": TIMEOUT, **params}
    response = await client.get(path, params=params, headers=platform.auth(role))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def keys(
    client: httpx.AsyncClient, platform: Platform, seeded: Seeded, **params: Any
) -> list[str]:
    """The directory's answer as the seed's keys, in order; the total must match when the
    whole list fits on one page."""
    page = await get(client, platform, "/organisations", seeded.position, **params)
    found = [seeded.key_of(item["id"]) for item in page["items"]]
    assert "elsewhere" not in found
    if "limit" not in params and "offset" not in params:
        assert page["total"] == len(found), page
    return found


def problem(response: httpx.Response, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["status"] == 422
    assert body["field"] == field, body
    assert field in body["detail"], body
    return body


async def test_each_filter_narrows_the_directory_to_the_matching_organisations(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    seeded = await seed(client, platform, other_platform)

    async def find(**params: Any) -> list[str]:
        return await keys(client, platform, seeded, **params)

    assert await find() == BY_NAME
    assert await find(kind="self-organisation") == ["vaders", "kook", "vrouwen"]
    assert await find(kind="formal-organisation") == ["welzijn"]
    assert await find(kind="fund") == ["fonds"]
    assert await find(kind="municipality") == ["gemeente"]
    assert await find(theme="women") == ["kook", "vrouwen"]
    assert await find(theme="welfare") == ["gemeente", "welzijn"]
    assert await find(theme="sport") == []
    assert await find(district="schalkwijk") == ["gemeente", "vrouwen", "welzijn"]
    assert await find(district="noord") == ["kook", "gemeente"]
    assert await find(language="tr") == ["vaders", "kook"]
    assert await find(language="zgh") == ["vrouwen"]
    assert await find(language="nl") == BY_NAME
    assert await find(strength="venue") == ["gemeente", "welzijn"]
    assert await find(strength="catering") == ["kook"]  # Welzijn's soup was withdrawn
    assert await find(strength="transport") == []
    assert await find(membership="member") == ["kook", "vrouwen"]
    assert await find(membership="applied") == ["vaders"]
    assert await find(membership="rejected") == ["welzijn"]
    assert await find(membership="none") == ["fonds", "gemeente"]
    assert await find(membership="suspended") == []

    page = await get(client, platform, "/organisations", seeded.position, role="auditor")
    entries = {seeded.key_of(item["id"]): item for item in page["items"]}
    assert entries["welzijn"]["strengths"] == 1  # the withdrawn one is not counted
    assert entries["gemeente"]["strengths"] == 1
    assert entries["fonds"]["strengths"] == 1
    assert entries["vaders"]["strengths"] == 0
    assert entries["vrouwen"]["membership_status"] == "member"
    assert entries["vrouwen"]["member_since"] is not None
    assert entries["vaders"]["member_since"] is None
    assert entries["vrouwen"]["languages"] == ["ar", "nl", "zgh"]
    assert entries["vrouwen"]["themes"] == ["women", "language"]
    assert entries["welzijn"]["kind"] == "formal-organisation"
    assert entries["kook"]["name"] == "de Kookgroep"


async def test_full_text_search_is_dutch_and_filters_combine(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    seeded = await seed(client, platform, other_platform)

    async def find(**params: Any) -> list[str]:
        return await keys(client, platform, seeded, **params)

    # Stemmed: "vrouw" finds "Vrouwen" in a name and "vrouwen" in a description; "jongere"
    # finds "jongeren"; "ouder" finds "ouderen".
    assert await find(q="vrouw") == ["kook", "vrouwen"]
    assert await find(q="vrouwen") == ["kook", "vrouwen"]
    assert await find(q="jongere") == ["vaders"]
    assert await find(q="ouder") == ["welzijn"]
    # Case and accents do not matter; every word must match; `-word` excludes.
    assert await find(q="MAROKKÁANSE vrouwen") == ["vrouwen"]
    assert await find(q="vrouwen koken") == ["kook"]
    assert await find(q="vrouwen -koken") == ["vrouwen"]
    assert await find(q="armoede") == ["fonds"]
    assert await find(q="zwemles") == []

    # Combined filters: every one must hold.
    assert await find(q="vrouwen", district="noord") == ["kook"]
    assert await find(q="vrouwen", membership="member", language="ar") == ["vrouwen"]
    assert await find(kind="self-organisation", theme="women", district="schalkwijk") == ["vrouwen"]
    assert await find(theme="welfare", district="centrum", strength="venue") == [
        "gemeente",
        "welzijn",
    ]
    assert await find(theme="welfare", kind="municipality", strength="venue") == ["gemeente"]
    assert await find(kind="self-organisation", strength="venue") == []
    assert await find(membership="member", language="tr", sort="-name") == ["kook"]
    assert await find(language="en", district="oost") == ["gemeente"]
    assert await find(language="nl", membership="none", sort="-name") == ["gemeente", "fonds"]


async def test_sorts_and_pages_cover_every_organisation_exactly_once(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    seeded = await seed(client, platform, other_platform)
    registered = list(ORGANISATIONS)
    expected = {
        "name": BY_NAME,
        "-name": BY_NAME[::-1],
        "registered": registered,
        "-registered": registered[::-1],
    }
    for sort, order in expected.items():
        assert await keys(client, platform, seeded, sort=sort) == order, sort
        pages: list[str] = []
        for offset in (0, 2, 4):
            page = await get(
                client,
                platform,
                "/organisations",
                seeded.position,
                sort=sort,
                limit=2,
                offset=offset,
            )
            assert (page["total"], page["limit"], page["offset"]) == (6, 2, offset)
            assert len(page["items"]) == 2
            pages += [seeded.key_of(item["id"]) for item in page["items"]]
        assert pages == order, sort  # no overlap, no gap

    uneven = [
        await get(client, platform, "/organisations", seeded.position, limit=4, offset=offset)
        for offset in (0, 4)
    ]
    assert [len(p["items"]) for p in uneven] == [4, 2]
    assert [seeded.key_of(i["id"]) for p in uneven for i in p["items"]] == BY_NAME
    beyond = await get(client, platform, "/organisations", seeded.position, offset=6)
    assert (beyond["items"], beyond["total"]) == ([], 6)
    # Paging a filtered list: the total is the filtered count.
    first = await get(
        client, platform, "/organisations", seeded.position, theme="women", limit=1, sort="-name"
    )
    second = await get(
        client,
        platform,
        "/organisations",
        seeded.position,
        theme="women",
        limit=1,
        offset=1,
        sort="-name",
    )
    assert (first["total"], second["total"]) == (2, 2)
    assert [seeded.key_of(p["items"][0]["id"]) for p in (first, second)] == ["vrouwen", "kook"]
    default = await get(client, platform, "/organisations", seeded.position)
    assert (default["limit"], default["offset"]) == (50, 0)


async def test_the_directory_as_of_a_moment_shows_neither_later_renames_nor_newcomers(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    seeded = Seeded()
    first = await register(client, platform, seeded, "first", {**BASE, "name": "Buurtkracht"})
    await register(client, platform, seeded, "second", {**BASE, "name": "Amal", "themes": []})
    await membership(client, platform, seeded, "first")
    await add_strength(
        client, platform, seeded, "koffie", "first", {"kind": "catering", "title": "Koffie"}
    )
    await asyncio.sleep(0.02)
    moment = datetime.now(UTC)
    await asyncio.sleep(0.02)
    await command(
        client,
        seeded,
        "PATCH",
        f"/organisations/{first}",
        platform,
        {"name": "Schalkwijk Samen", "districts": ["schalkwijk"]},
    )
    await command(
        client,
        seeded,
        "POST",
        f"/organisations/{first}/membership/admit",
        platform,
        {"reason": "ALV"},
    )
    await add_strength(
        client, platform, seeded, "zaal", "first", {"kind": "venue", "title": "Zaal"}
    )
    third = await register(client, platform, seeded, "third", {**BASE, "name": "Cultuurhuis"})
    await register(client, other_platform, Seeded(), "elsewhere", {**BASE, "name": "Aaa Zaanstad"})
    stamp = moment.isoformat()

    now = await get(client, platform, "/organisations", seeded.position)
    assert [i["name"] for i in now["items"]] == ["Amal", "Cultuurhuis", "Schalkwijk Samen"]
    then = await get(client, platform, "/organisations", as_of=stamp)
    assert [i["name"] for i in then["items"]] == ["Amal", "Buurtkracht"]
    assert then["total"] == 2
    old = then["items"][1]
    assert (old["membership_status"], old["districts"], old["strengths"]) == ("applied", [], 1)
    assert (await get(client, platform, "/organisations", as_of=stamp, district="schalkwijk"))[
        "items"
    ] == []
    assert (await get(client, platform, "/organisations", as_of=stamp, strength="venue"))[
        "items"
    ] == []
    # A moment written in another time zone is the same moment.
    amsterdam = moment.astimezone(timezone(timedelta(hours=1)))
    again = await get(client, platform, "/organisations", as_of=amsterdam.isoformat())
    assert again["items"] == then["items"]
    # Found by its new name now, and by its former one (kept for search) too.
    renamed = await get(client, platform, "/organisations", seeded.position, q="schalkwijk")
    assert [i["id"] for i in renamed["items"]] == [first]
    former = await get(client, platform, "/organisations", seeded.position, q="buurtkracht")
    assert [i["id"] for i in former["items"]] == [first]
    assert (await get(client, platform, "/organisations", as_of=stamp, q="schalkwijk"))[
        "items"
    ] == []

    profile = await get(client, platform, f"/organisations/{first}", as_of=stamp)
    assert (profile["name"], profile["former_names"]) == ("Buurtkracht", [])
    assert profile["profile"]["districts"] == []
    assert profile["membership_status"] == "applied"
    assert [s["title"] for s in profile["strengths"]] == ["Koffie"]
    assert profile["version"] == 2
    current = await get(client, platform, f"/organisations/{first}")
    assert (current["name"], current["former_names"]) == ("Schalkwijk Samen", ["Buurtkracht"])
    assert current["membership_status"] == "member"
    assert sorted(s["title"] for s in current["strengths"]) == ["Koffie", "Zaal"]
    not_yet = await client.get(
        f"/organisations/{third}", params={"as_of": stamp}, headers=platform.auth("analyst")
    )
    assert not_yet.status_code == 404, not_yet.text

    strengths_then = await get(client, platform, "/strengths", as_of=stamp)
    assert [h["strength"]["title"] for h in strengths_then["items"]] == ["Koffie"]
    assert strengths_then["items"][0]["organisation_name"] == "Buurtkracht"
    strengths_now = await get(client, platform, "/strengths", seeded.position)
    assert [h["strength"]["title"] for h in strengths_now["items"]] == ["Koffie", "Zaal"]
    assert {h["organisation_name"] for h in strengths_now["items"]} == {"Schalkwijk Samen"}


async def test_as_of_needs_a_moment_with_a_time_zone_like_every_other_query(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    seeded = Seeded()
    organisation = await register(client, platform, seeded, "one", {**BASE, "name": "Amal"})
    paths = [
        "/organisations",
        f"/organisations/{organisation}",
        "/strengths",
        # For comparison: the membership register and the meetings answer 422 too.
        "/membership",
        f"/organisations/{organisation}/membership",
        "/meetings",
    ]
    for path in paths:
        for bad in ("2021-03-01T00:00:00", "gisteren", "2021-02-30T00:00:00Z"):
            response = await client.get(
                path, params={"as_of": bad}, headers=platform.auth("analyst")
            )
            body = problem(response, "as_of")
            assert body["instance"] == path, (path, bad)
        fine = await client.get(
            path, params={"as_of": "2021-03-01T00:00:00+01:00"}, headers=platform.auth("analyst")
        )
        # Registered today: not there yet in 2021, in the lists nor on its own.
        expected = 404 if organisation in path else 200
        assert fine.status_code == expected, (path, fine.text)


async def test_strengths_filter_by_kind_of_organisation_and_page_without_overlap(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    seeded = await seed(client, platform, other_platform)

    async def titles(**params: Any) -> list[tuple[str, str]]:
        page = await get(client, platform, "/strengths", seeded.position, role="auditor", **params)
        hits = [
            (h["strength"]["title"], seeded.key_of(h["strength"]["organisation_id"]))
            for h in page["items"]
        ]
        if "limit" not in params and "offset" not in params:
            assert page["total"] == len(hits), page
        return hits

    everything = [
        ("Advies over subsidieaanvragen", "fonds"),
        ("Catering", "kook"),
        ("Tolken", "vrouwen"),
    ]
    venues = sorted([("Vergaderzaal", "gemeente"), ("Vergaderzaal", "welzijn")])
    found = await titles()
    assert found[:3] == everything  # by title; the withdrawn soup is gone
    assert sorted(found[3:]) == venues
    assert await titles(organisation_kind="self-organisation") == [
        ("Catering", "kook"),
        ("Tolken", "vrouwen"),
    ]
    assert await titles(organisation_kind="fund") == [("Advies over subsidieaanvragen", "fonds")]
    assert await titles(organisation_kind="municipality") == [("Vergaderzaal", "gemeente")]
    assert await titles(organisation_kind="formal-organisation") == [("Vergaderzaal", "welzijn")]
    assert await titles(organisation_kind="municipality", kind="catering") == []
    assert sorted(await titles(kind="venue", district="centrum")) == venues  # none: everywhere
    assert await titles(kind="venue", district="noord") == [("Vergaderzaal", "gemeente")]
    assert await titles(language="ar") == [("Tolken", "vrouwen")]
    assert await titles(q="advies") == [("Advies over subsidieaanvragen", "fonds")]
    assert await titles(q="tolk") == [("Tolken", "vrouwen")]  # stemmed

    hit = (await get(client, platform, "/strengths", seeded.position, kind="interpreters"))["items"]
    assert hit[0]["organisation_name"] == ORGANISATIONS["vrouwen"]["name"]
    assert hit[0]["organisation_kind"] == "self-organisation"
    assert hit[0]["strength"]["languages"] == ["ar"]

    # Pages of one, over two equal titles too: each strength exactly once.
    paged: list[tuple[str, str]] = []
    for offset in range(6):
        page = await get(client, platform, "/strengths", seeded.position, limit=1, offset=offset)
        assert (page["total"], page["limit"], page["offset"]) == (5, 1, offset)
        paged += [
            (h["strength"]["title"], seeded.key_of(h["strength"]["organisation_id"]))
            for h in page["items"]
        ]
    assert len(paged) == 5
    assert sorted(paged) == sorted(found)
    two = await get(client, platform, "/strengths", seeded.position, limit=2, offset=3)
    assert (
        sorted(
            (h["strength"]["title"], seeded.key_of(h["strength"]["organisation_id"]))
            for h in two["items"]
        )
        == venues
    )

    # A dissolved organisation offers nothing any more, but stays in the directory.
    await command(
        client,
        seeded,
        "POST",
        f"/organisations/{seeded.ids['fonds']}/dissolve",
        platform,
        {"reason": "opgeheven"},
    )
    assert await titles(organisation_kind="fund") == []
    assert await keys(client, platform, seeded, kind="fund") == ["fonds"]
    fund = await get(client, platform, "/organisations", seeded.position, kind="fund")
    assert fund["items"][0]["dissolved_at"] is not None


async def test_invalid_query_values_are_refused_naming_the_field(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    cases = [
        ("/organisations", {"kind": "club"}, "kind"),
        ("/organisations", {"strength": "money"}, "strength"),
        ("/organisations", {"language": "xx"}, "language"),
        ("/organisations", {"language": "Nederlands"}, "language"),
        ("/organisations", {"membership": "sleeping"}, "membership"),
        ("/organisations", {"sort": "size"}, "sort"),
        ("/organisations", {"limit": "0"}, "limit"),
        ("/organisations", {"limit": "201"}, "limit"),
        ("/organisations", {"limit": "ten"}, "limit"),
        ("/organisations", {"offset": "-1"}, "offset"),
        ("/organisations", {"wait_for": "0"}, "wait_for"),
        ("/organisations", {"timeout": "0"}, "timeout"),
        ("/strengths", {"organisation_kind": "club"}, "organisation_kind"),
        ("/strengths", {"kind": "money"}, "kind"),
        ("/strengths", {"language": "xx"}, "language"),
        ("/strengths", {"limit": "0"}, "limit"),
        ("/strengths", {"offset": "-5"}, "offset"),
    ]
    for path, params, name in cases:
        response = await client.get(path, params=params, headers=platform.auth("analyst"))
        problem(response, name)
    # Language codes are compared as the profiles store them: lower case.
    seeded = Seeded()
    await register(client, platform, seeded, "one", {**BASE, "name": "Amal", "languages": ["ar"]})
    assert await keys(client, platform, seeded, language="AR") == ["one"]


async def test_nothing_of_another_platform_ever_shows_up(
    client: httpx.AsyncClient, platform: Platform, other_platform: Platform
) -> None:
    seeded = await seed(client, platform, other_platform)
    elsewhere = seeded.ids["elsewhere"]
    ours = {v for k, v in seeded.ids.items() if k != "elsewhere"}
    queries: list[dict[str, Any]] = [
        {},
        {"q": "vrouwen"},
        {"q": "Zaanstad"},
        {"theme": "women", "district": "schalkwijk"},
        {"membership": "member"},
        {"strength": "venue"},
        {"language": "ar"},
        {"kind": "self-organisation", "sort": "-registered"},
    ]
    for params in queries:
        for as_of in (None, datetime.now(UTC).isoformat()):
            extra = {"as_of": as_of} if as_of else {}
            page = await get(client, platform, "/organisations", seeded.position, **params, **extra)
            ids = {item["id"] for item in page["items"]}
            assert ids <= ours, params
            assert page["total"] == len(ids), params
    assert (await get(client, platform, "/organisations", seeded.position, q="Zaanstad"))[
        "total"
    ] == 0
    for params in ({}, {"q": "vergaderzaal"}, {"language": "ar"}, {"district": "centrum"}):
        hits = await get(client, platform, "/strengths", seeded.position, **params)
        assert elsewhere not in {h["strength"]["organisation_id"] for h in hits["items"]}
        assert {h["strength"]["organisation_id"] for h in hits["items"]} <= ours
    hidden = await client.get(f"/organisations/{elsewhere}", headers=platform.auth("coordinator"))
    assert hidden.status_code == 404
    # And the other way round: the other platform sees its own organisation only.
    theirs = await get(client, other_platform, "/organisations", seeded.position)
    assert [i["id"] for i in theirs["items"]] == [elsewhere]
    assert theirs["items"][0]["membership_status"] == "member"
    their_strengths = await get(client, other_platform, "/strengths", seeded.position)
    assert {h["strength"]["organisation_id"] for h in their_strengths["items"]} == {elsewhere}
    assert their_strengths["total"] == 4
    mine = await client.get(
        f"/organisations/{seeded.ids['vrouwen']}", headers=other_platform.auth("coordinator")
    )
    assert mine.status_code == 404
