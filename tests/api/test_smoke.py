from __future__ import annotations

import httpx

from tests.api.conftest import Platform


async def test_health_and_identity(client: httpx.AsyncClient, platform: Platform) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200, ready.text
    me = await client.get("/me", headers=platform.auth("coordinator"))
    assert me.status_code == 200, me.text
    assert me.json()["tenant"] == "haarlem"
    assert (await client.get("/me")).status_code == 401
    tokens = await client.get("/tokens", headers=platform.auth("analyst"))
    assert tokens.status_code == 403
    assert tokens.headers["content-type"].startswith("application/problem+json")
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200


async def test_the_openapi_document_states_roles_and_problems_of_every_route(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["description"].startswith("Roles: "), (method, path)
            if "anyone" not in operation["description"]:
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
                assert operation["security"] == [{"BearerToken": []}]
            if method == "post":
                assert "422" in operation["responses"], path
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    ui = await client.get("/schema")
    assert ui.status_code == 200
    assert "text/html" in ui.headers["content-type"]
