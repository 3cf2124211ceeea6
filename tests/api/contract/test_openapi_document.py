"""The whole OpenAPI document, walked: every body a named, fully typed schema; every operation
a short unique `operationId` and a tag; every error the one problem schema. A new route with an
untyped body, or without a name in `api/operations.py`, fails here."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from verbinders.api.app import create_app
from verbinders.api.openapi import build_document
from verbinders.config import Settings

FREE_FORM = {
    "#/components/schemas/RecordedEvent/properties/payload",
    "#/components/schemas/RecordedEvent/properties/metadata",
}
"""Objects whose members are open by design: an event's own fields (listed per event in
docs/api.md) and its metadata."""
COMBINATORS = ("$ref", "anyOf", "oneOf", "allOf", "enum", "const", "type")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(create_app(Settings()))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _untyped(node: Any, where: str) -> list[str]:
    """Schemas that say nothing of their values."""
    found = []
    if isinstance(node, dict):
        if not any(key in node for key in COMBINATORS):
            found.append(where)
        if node.get("type") == "object" and "properties" not in node and where not in FREE_FORM:
            extra = node.get("additionalProperties")
            if not isinstance(extra, dict) or not extra:
                found.append(where + " (object without properties)")
        for key in ("properties", "$defs"):
            for name, inner in node.get(key, {}).items():
                found += _untyped(inner, f"{where}/{key}/{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found += _untyped(node[key], f"{where}/{key}")
        for key in ("anyOf", "oneOf", "allOf"):
            for number, inner in enumerate(node.get(key, [])):
                found += _untyped(inner, f"{where}/{key}/{number}")
    return found


def test_every_operation_has_a_short_unique_name_and_a_tag(document: dict[str, Any]) -> None:
    names = [operation.get("operationId") for _, _, operation in _operations(document)]
    assert len(names) == len(set(names)), names
    for method, path, operation in _operations(document):
        name = operation.get("operationId", "")
        assert re.fullmatch(r"[a-z][A-Za-z]{2,40}", name), (method, path, name)
        assert operation.get("tags"), (method, path)


def test_every_body_is_a_named_schema(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        body = operation.get("requestBody")
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            assert "$ref" in schema, (method, path, schema)
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                schema = content["schema"]
                if media in ("application/json", "application/problem+json"):
                    named = schema.get("items", schema) if schema.get("type") == "array" else schema
                    assert "$ref" in named, (method, path, status, schema)


def test_no_schema_is_untyped(document: dict[str, Any]) -> None:
    untyped = []
    for name, schema in document["components"]["schemas"].items():
        untyped += _untyped(schema, f"#/components/schemas/{name}")
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            untyped += _untyped(parameter["schema"], f"{method} {path} {parameter['name']}")
    assert not untyped, untyped


def test_names_are_unique(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    titles = [schema.get("title", name) for name, schema in schemas.items()]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)


def test_every_error_is_the_one_problem_schema(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        codes = {int(code) for code in operation["responses"]}
        assert {400, 422} <= codes, (method, path)
        if operation.get("security"):
            assert {401, 403, 404, 503} <= codes, (method, path)
        if method != "GET":
            assert {409, 412, 413, 415, 429} <= codes, (method, path)
        successes = [code for code in codes if code < 400]
        assert len(successes) == 1, (method, path, successes)
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                (content,) = response["content"].items()
                assert content[0] == "application/problem+json", (method, path, code)
                assert content[1]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_request_bodies_state_the_bounds_and_refuse_unknown_fields(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    register = schemas["RegisterOrganisation"]
    assert register["additionalProperties"] is False
    name = register["properties"]["name"]
    assert (name["minLength"], name["maxLength"]) == (2, 120)
    assert "pattern" in name
    volunteers = register["properties"]["active_volunteers"]["anyOf"][0]
    assert volunteers["maximum"] == 100_000
    assert schemas["RegisterEntry"]["properties"]["organisation_id"]["format"] == "uuid"
    page = schemas["OrganisationPage"]["properties"]["items"]
    assert page["items"] == {"$ref": "#/components/schemas/DirectoryEntry"}


def test_commands_answer_201_only_where_they_create(document: dict[str, Any]) -> None:
    created = sorted(
        operation["operationId"]
        for _, _, operation in _operations(document)
        if "201" in operation["responses"]
    )
    assert created == sorted(
        [
            "addContact",
            "addStrength",
            "createFund",
            "draftApplication",
            "issueBoardTicket",
            "issueCall",
            "issueToken",
            "logHours",
            "openFundingRound",
            "planActivity",
            "recordDecision",
            "registerOrganisation",
            "scheduleMeeting",
        ]
    )


async def test_options_lists_every_method_of_every_path(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    uuid = "00000000-0000-4000-8000-000000000000"
    for path, item in document["paths"].items():
        methods = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        concrete = re.sub(r"\{[a-z_]+_id\}", uuid, path).replace("{need_id}", "n1")
        concrete = concrete.replace("{number}", "1")
        answer = await client.options(concrete)
        assert answer.status_code == 204, (path, answer.status_code, answer.text)
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert methods | {"OPTIONS"} <= allowed, (path, allowed)
