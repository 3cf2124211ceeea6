"""Hostile input gets a 4xx problem document, never a 500: each case by hand, then a corpus sent
to every route of the app.

The generic checks (`api/hygiene.py`) run before any route reads the request, the domain's
bounds when a command reaches its aggregate, and `api/problems.py` maps what is left (JSON
nested past the decoder's recursion, values the database refuses) to problem documents.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import types
import typing
import uuid
from enum import Enum
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from litestar import Litestar, Request
from litestar.routes import HTTPRoute

from tests.api.conftest import Platform
from verbinders.api.app import create_app
from verbinders.api.problems import exception_handlers
from verbinders.config import Settings
from verbinders.domain import limits

PROBLEM = "application/problem+json"
PROBLEMS = "https://verbinders.nl/problems/"
JSON = {"Content-Type": "application/json"}
TOO_BIG = str(2**63)
FUND = {"kind": "fund", "name": "Fonds Spaarnestad"}


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The answer's problem document, checked to have `status`."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM), answer.headers
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


def refused(answer: httpx.Response, field: str, rule: str, status: int = 422) -> None:
    body = problem(answer, status)
    assert (body.get("field"), body.get("rule")) == (field, rule), body


# -- text: NUL and other characters ------------------------------------------------------------


async def test_a_nul_in_a_json_string_is_refused_naming_the_field(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.post(
        "/organisations",
        content=b'{"kind":"fund","name":"Fonds\\u0000X"}',
        headers={**platform.auth("coordinator"), **JSON},
    )
    refused(answer, "name", "characters")
    assert "U+0000" in answer.json()["detail"]
    assert "control character" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/organisations?q=%00", "q"),
        ("/events?topic=%00", "topic"),
        ("/strengths?q=Zaal%1b", "q"),
        ("/membership?status=member%00", "status"),
        ("/me?anything=%00", "anything"),
        ("/organisations?q=%ed%a0%80", "query"),  # a surrogate, not UTF-8
        ("/organisations?%00=1", "query"),
        (f"/organisations?q={'x' * (limits.QUERY_TEXT_MAX + 1)}", "q"),
    ],
)
async def test_a_control_character_or_an_overlong_value_in_a_query_is_refused(
    client: httpx.AsyncClient, platform: Platform, url: str, field: str
) -> None:
    answer = await client.get(url, headers=platform.auth("coordinator"))
    body = problem(answer, 422)
    assert body["field"] == field, body
    assert body["rule"] in {"characters", "encoding", "max-length"}


async def test_a_query_string_is_refused_every_time_and_one_that_passed_passes_again(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    for _ in range(2):
        refused(
            await client.get("/events?topic=%00", headers=platform.auth("coordinator")),
            "topic",
            "characters",
        )
        answer = await client.get("/events?limit=5", headers=platform.auth("coordinator"))
        assert answer.status_code == 200, answer.text
    # what passed on a route that ignores a parameter is checked on one that types it
    auth = platform.auth("coordinator")
    assert (await client.get("/me?since=9999-12-31", headers=auth)).status_code == 200
    refused(await client.get("/reports/activity?since=9999-12-31", headers=auth), "since", "range")


async def test_a_nul_in_a_path_parameter_is_refused(client: httpx.AsyncClient) -> None:
    refused(await client.get("/schema/assets/%00"), "name", "characters")


async def test_a_full_text_search_at_its_length_is_answered(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.get(
        "/organisations", params={"q": "zaal " * 100}, headers=platform.auth("coordinator")
    )
    assert answer.status_code == 200, answer.text


async def test_a_zero_width_space_does_not_let_a_duplicate_name_in(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    headers = platform.auth("coordinator")
    first = await client.post("/organisations", json=FUND, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(
        "/organisations", json={**FUND, "name": "Fonds\u200b Spaarnestad"}, headers=headers
    )
    assert problem(again, 409)["state"] == "taken"


async def test_a_bidirectional_override_in_a_name_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.post(
        "/organisations",
        json={**FUND, "name": "Fonds \u202emleraaH"},
        headers=platform.auth("coordinator"),
    )
    refused(answer, "name", "characters")


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/organisations?offset={TOO_BIG}", "offset"),
        (f"/events?after={TOO_BIG}", "after"),
        (f"/events/stream?after={TOO_BIG}", "after"),
        (f"/organisations?wait_for={TOO_BIG}", "wait_for"),
        ("/meetings?offset=-99999999999999999999999", "offset"),
        (f"/organisations?offset=1{'0' * 5000}", "offset"),
    ],
)
async def test_numbers_past_64_bits_in_a_query_are_refused(
    client: httpx.AsyncClient, platform: Platform, url: str, field: str
) -> None:
    refused(await client.get(url, headers=platform.auth("coordinator")), field, "range")


async def test_the_largest_64_bit_position_is_a_valid_query(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.get(
        f"/events?after={limits.INT64_MAX}", headers=platform.auth("coordinator")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["events"] == []


async def test_a_last_event_id_past_64_bits_is_refused_before_the_stream_starts(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.get(
        "/events/stream",
        headers={**platform.auth("coordinator"), "Last-Event-ID": "99999999999999999999"},
    )
    refused(answer, "Last-Event-ID", "range")


async def test_a_count_past_its_bound_is_refused_and_the_read_models_keep_going(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    headers = platform.auth("coordinator")
    created = (await client.post("/organisations", json=FUND, headers=headers)).json()
    for field in ("active_volunteers", "constituency_size"):
        answer = await client.patch(
            f"/organisations/{created['id']}", json={field: 2**31}, headers=headers
        )
        refused(answer, field, "range")
    changed = await client.patch(
        f"/organisations/{created['id']}",
        json={"active_volunteers": limits.ACTIVE_VOLUNTEERS_MAX},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    directory = await client.get(
        "/organisations",
        params={"wait_for": changed.json()["position"]},
        headers=headers,
    )
    assert directory.status_code == 200, directory.text


# -- moments and dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field", "rule"),
    [
        ("/organisations?as_of=0001-01-01T00:00:00%2B01:00", "as_of", "range"),
        ("/platform?as_of=9999-12-31T23:00:00-14:00", "as_of", "range"),
        ("/organisations?as_of=2024-01-01T00:00:00", "as_of", "timezone"),
        ("/reports/attendance?until=9999-12-31", "until", "range"),
        ("/reports/activity?since=0001-01-01", "since", "range"),
        ("/events?since=2020-01-01T00:00:00Z&until=2021-01-01T00:00:00", "until", "timezone"),
        ("/membership?effective_at=1899-12-31T23:59:59Z", "effective_at", "range"),
    ],
)
async def test_extreme_or_zone_less_moments_in_a_query_are_refused(
    client: httpx.AsyncClient, platform: Platform, url: str, field: str, rule: str
) -> None:
    refused(await client.get(url, headers=platform.auth("coordinator")), field, rule)


async def test_the_last_date_of_the_window_is_a_valid_query(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.get(
        "/reports/attendance?until=2199-12-31", headers=platform.auth("coordinator")
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("expires_at", "rule"),
    [
        ("2030-01-01T00:00:00", "timezone"),
        ("9999-12-31T20:00:00-14:00", "range"),
        ("2001-01-01T00:00:00Z", "future"),
    ],
)
async def test_a_token_expiry_must_be_zoned_and_near(
    client: httpx.AsyncClient, platform: Platform, expires_at: str, rule: str
) -> None:
    answer = await client.post(
        "/tokens",
        json={"roles": ["analyst"], "expires_at": expires_at},
        headers=platform.auth("coordinator"),
    )
    refused(answer, "expires_at", rule)


async def test_a_meeting_past_year_9999_in_utc_is_refused(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.post(
        "/meetings",
        json={
            "title": "Oudejaarsavond",
            "starts_at": "9999-12-31T20:00:00-14:00",
            "ends_at": "9999-12-31T21:00:00-14:00",
            "mode": "online",
            "online_link": "https://zoom.us/j/1",
        },
        headers=platform.auth("coordinator"),
    )
    refused(answer, "starts_at", "range")


# -- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "status"),
    [
        (200, 422),  # decoded, then refused by the schema: a name is text
        (1000, 400),
        (30_000, 400),
        (40_000, 413),  # past the body limit of the test app (64 KiB)
    ],
)
async def test_json_nested_deep_is_a_malformed_request(
    client: httpx.AsyncClient, platform: Platform, depth: int, status: int
) -> None:
    nested = "[" * depth + "]" * depth
    answer = await client.post(
        "/organisations",
        content=f'{{"kind":"fund","name":{nested}}}'.encode(),
        headers={**platform.auth("coordinator"), **JSON},
    )
    body = problem(answer, status)
    if status == 400:
        assert body["type"] == PROBLEMS + "malformed-request"
        assert "nested too deeply" in body["detail"]


async def test_malformed_json_is_a_malformed_request(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.patch(
        "/platform", content=b"{" * 1000, headers={**platform.auth("coordinator"), **JSON}
    )
    assert problem(answer, 400)["type"] == PROBLEMS + "malformed-request"


@pytest.mark.parametrize(
    ("content_type", "accept_header"),
    [
        ("text/plain", "accept-post"),
        ("application/xml", "accept-post"),
        ("application/x-www-form-urlencoded", "accept-post"),
        ("application/json; charset=latin-1", "accept-post"),
        ("multipart/form-data; boundary=x", "accept-post"),
    ],
)
async def test_a_command_body_that_is_not_json_is_unsupported(
    client: httpx.AsyncClient, platform: Platform, content_type: str, accept_header: str
) -> None:
    answer = await client.post(
        "/organisations",
        content=msgspec.json.encode(FUND),
        headers={**platform.auth("coordinator"), "Content-Type": content_type},
    )
    body = problem(answer, 415)
    assert body["type"] == PROBLEMS + "unsupported-media-type"
    assert answer.headers[accept_header] == "application/json"


async def test_a_patch_that_is_not_json_names_what_patch_accepts(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.patch(
        "/platform",
        content=b'{"name": "X"}',
        headers={**platform.auth("coordinator"), "Content-Type": "text/plain"},
    )
    problem(answer, 415)
    assert answer.headers["accept-patch"] == "application/json"


async def test_a_compressed_body_is_unsupported(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    answer = await client.post(
        "/organisations",
        content=msgspec.json.encode(FUND),
        headers={**platform.auth("coordinator"), **JSON, "Content-Encoding": "gzip"},
    )
    problem(answer, 415)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl -d without -H: no Content-Type at all is read as JSON
        {"Content-Type": "application/json"},
        {"Content-Type": "Application/JSON; charset=UTF-8"},
        {"Content-Type": "application/vnd.verbinders+json"},
    ],
)
async def test_json_bodies_are_accepted_with_or_without_a_content_type(
    client: httpx.AsyncClient, platform: Platform, headers: dict[str, str]
) -> None:
    request = client.build_request(
        "POST",
        "/organisations",
        content=msgspec.json.encode({**FUND, "name": f"Fonds {uuid.uuid4().hex[:8]}"}),
        headers={**platform.auth("coordinator"), **headers},
    )
    assert ("content-type" in request.headers) == bool(headers)
    answer = await client.send(request)
    assert answer.status_code == 201, answer.text


# -- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["X-Request-ID", "Idempotency-Key"])
@pytest.mark.parametrize(
    "value", ["x" * (limits.HEADER_TOKEN_MAX + 1), "caf\u00e9", "tab\there", "\u00a0"]
)
async def test_request_ids_and_idempotency_keys_are_short_printable_ascii(
    client: httpx.AsyncClient, platform: Platform, name: str, value: str
) -> None:
    answer = await client.post(
        "/tokens",
        json={"roles": ["analyst"]},
        headers={**platform.auth("coordinator"), name: value.encode("latin-1")},  # type: ignore[dict-item]
    )
    refused(answer, name, "format")


async def test_a_request_id_at_its_length_is_echoed_and_recorded(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    request_id = "r" * limits.HEADER_TOKEN_MAX
    answer = await client.post(
        "/tokens",
        json={"roles": ["analyst"]},
        headers={**platform.auth("coordinator"), "X-Request-ID": request_id},
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-request-id"] == request_id


# -- what the database refuses, should it get that far -----------------------------------------


def _request() -> Request[Any, Any, Any]:
    app = Litestar()
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/organisations",
        "raw_path": b"/organisations",
        "query_string": b"",
        "headers": [],
        "app": app,
        "server": ("testserver", 80),
        "scheme": "http",
        "root_path": "",
        "state": {},
    }
    return Request(scope)  # type: ignore[arg-type]


async def test_a_nul_the_database_refuses_is_a_422_not_a_500(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.CharacterNotInRepertoireError) as caught:
            await conn.fetchval("SELECT $1::text", "Fonds\x00X")
    answer = exception_handlers()[asyncpg.DataError](_request(), caught.value)
    assert answer.status_code == 422
    assert answer.content["rule"] == "characters"


async def test_a_number_the_database_refuses_is_a_422_not_a_500(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.DataError) as caught:
            await conn.fetchval("SELECT $1::bigint", 2**63)
    answer = exception_handlers()[asyncpg.DataError](_request(), caught.value)
    assert answer.status_code == 422
    assert answer.content["rule"] == "range"


# -- the corpus, to every route ----------------------------------------------------------------

_PATH_PARAM = re.compile(r"{(\w+):(\w+)}")


def _url(route: HTTPRoute) -> str:
    """The route with valid path parameters (a fresh uuid, 1 for a number), so that the body
    attacks reach the handler."""
    kinds = {"uuid": lambda: str(uuid.uuid4()), "int": lambda: "1"}
    return _PATH_PARAM.sub(lambda m: kinds.get(m.group(2), lambda: "x")(), route.path)


def _sample(annotation: Any) -> Any:
    """A JSON value of `annotation` whose every text holds a NUL."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _sample(args[0])
    if origin in (typing.Union, types.UnionType):
        usable = [a for a in args if a not in (type(None), msgspec.UnsetType)]
        return _sample(usable[0])
    if origin in (list, tuple):
        return [_sample(args[0])]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        hints = typing.get_type_hints(annotation, include_extras=True)
        return {name: _sample(hints[name]) for name in annotation.__struct_fields__}
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation)).value
    samples: dict[Any, Any] = {
        str: "Fonds\u0000X",
        int: 1,
        float: 1.0,
        bool: True,
        uuid.UUID: str(uuid.uuid4()),
        dt.datetime: "2030-01-01T10:00:00+01:00",
        dt.date: "2030-01-01",
    }
    return samples.get(annotation, "Fonds\u0000X")


def _query_attacks(handler: Any) -> list[tuple[str, dict[str, str]]]:
    """For each query parameter the handler declares, a value it must refuse."""
    attacks = [("?x=%00", {}), ("?%00", {}), ("?q=%ff", {})]
    for name, field in handler.parsed_fn_signature.parameters.items():
        if name in {"self", "request", "data"} or f"{{{name}:" in handler.paths.copy().pop():
            continue
        attacks.append((f"?{name}=%00", {}))
        text = str(field.annotation)
        if "int" in text:
            attacks.append((f"?{name}={TOO_BIG}", {}))
        if "datetime.datetime" in text:
            attacks.append((f"?{name}=0001-01-01T00:00:00%2B01:00", {}))
            attacks.append((f"?{name}=2024-01-01T00:00:00", {}))
        elif "datetime.date" in text:
            attacks.append((f"?{name}=9999-12-31", {}))
    for header, value in (
        ("X-Request-ID", "x" * 500),
        ("Idempotency-Key", "é"),
        ("Last-Event-ID", "99999999999999999999"),
    ):
        attacks.append(("", {header: value.encode("latin-1")}))  # type: ignore[dict-item]
    return attacks


def _body_attacks(handler: Any) -> list[tuple[bytes, dict[str, str], int | None]]:
    """Bodies a command route must refuse: (body, headers, the exact status or None for 4xx)."""
    data = handler.parsed_fn_signature.parameters["data"].annotation
    nul = msgspec.json.encode(_sample(data))
    deep = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
    return [
        (nul, JSON, None),  # schema, state or existence may refuse first: any 4xx
        (deep, JSON, 400),
        (b"{" * 5000, JSON, 400),
        (nul, {"Content-Type": "text/plain"}, 415),
        (nul, {"Content-Type": "application/xml"}, 415),
        (b'{"x": ' + b"9" * 5000 + b"}", JSON, None),
    ]


def _routes(app: Litestar) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                found.append((method, _url(route), handler))
    return found


def test_the_corpus_reaches_every_route_of_the_app() -> None:
    app = create_app(Settings())
    routes = _routes(app)
    paths = {url.split("/")[1] for _, url, _ in routes}
    assert {"organisations", "events", "meetings", "tokens", "platform", "schema"} <= paths
    assert sum(1 for _, _, h in routes if "data" in h.parsed_fn_signature.parameters) >= 25


async def test_no_hostile_input_gets_a_500_on_any_route(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    app = create_app(Settings())
    auth = platform.auth("coordinator")
    failures: list[str] = []

    async def probe(
        method: str, url: str, body: bytes | None, headers: dict[str, str], status: int | None
    ) -> None:
        answer = await asyncio.wait_for(
            client.request(method, url, content=body, headers={**auth, **headers}), 30
        )
        fine = answer.headers.get("content-type", "").startswith(PROBLEM) and (
            answer.status_code == status if status else 400 <= answer.status_code < 500
        )
        if not fine:
            failures.append(f"{method} {url} {headers} -> {answer.status_code} {answer.text[:200]}")

    for method, url, handler in _routes(app):
        for query, headers in _query_attacks(handler):
            await probe(method, url + query, None, headers, None)
        if "data" in handler.parsed_fn_signature.parameters:
            for body, headers, status in _body_attacks(handler):
                await probe(method, url, body, headers, status)
    assert not failures, "\n".join(failures)
