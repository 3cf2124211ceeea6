"""The API documentation pages work without internet: every file they load is served here."""

from __future__ import annotations

import re

import httpx
import pytest

from verbinders.api.docs import ASSETS

_REFERENCES = re.compile(r'(?:src|href|data-openapi)="([^"]*)"')


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_the_documentation_page_loads_only_files_of_this_app(
    client: httpx.AsyncClient, page: str
) -> None:
    answer = await client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    references = _REFERENCES.findall(html)
    assert len(references) == 6, references
    for reference in references:
        assert reference.startswith("/schema/"), reference
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert "default-src 'none'; script-src 'self'" in html  # the browser loads nothing else


async def test_every_file_the_page_loads_is_served_with_its_media_type(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/schema")).text
    expected = {
        ".js": "text/javascript",
        ".css": "text/css",
        ".png": "image/png",
        ".json": "application/vnd.oai.openapi+json",
    }
    for reference in _REFERENCES.findall(html):
        answer = await client.get(reference)
        assert answer.status_code == 200, reference
        suffix = reference[reference.rfind(".") :]
        assert answer.headers["content-type"].startswith(expected[suffix]), reference
        assert len(answer.content) > 100, reference
    bundle = await client.get("/schema/assets/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content
    assert bundle.headers["cache-control"] == "public, max-age=86400"
    start = (await client.get("/schema/assets/verbinders-swagger.js")).text
    assert "validatorUrl: null" in start  # no badge fetched from swagger.io


@pytest.mark.parametrize(
    "name", ["index.html", "swagger-ui.js.map", "..%2F..%2Fdocs.py", "nothing.js"]
)
async def test_only_the_pages_own_files_are_served(client: httpx.AsyncClient, name: str) -> None:
    answer = await client.get(f"/schema/assets/{name}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_page_needs_exactly_the_files_that_are_served() -> None:
    assert set(ASSETS) == {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon-32x32.png",
        "favicon-16x16.png",
        "verbinders-swagger.js",
    }
