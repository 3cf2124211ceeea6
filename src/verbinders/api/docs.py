"""The API documentation pages, served whole by the app itself: they work without internet.

`/schema` and `/schema/swagger` show Swagger UI, whose script, style sheet and icon come from
the `swagger-ui-bundle-v2` package and are served at `/schema/assets/...`; the page loads the
OpenAPI document from `/schema/openapi.json`. A Content-Security-Policy in the page allows only
the app's own origin, so the page behaves the same offline as online (and cannot be made to
load anything from elsewhere). Nothing is fetched from a CDN.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import swagger_ui_bundle
from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin

if TYPE_CHECKING:
    from litestar import Request
    from litestar.router import Router

__all__ = ["ASSETS", "SwaggerPage"]

ASSETS_PATH = "/assets"
"""Where the assets are served, below the OpenAPI path (`/schema/assets/...`)."""

INIT_SCRIPT = b"""\
// Verbinders: start Swagger UI on the OpenAPI document named by this script's tag.
(function () {
  var script = document.currentScript;
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: script.dataset.openapi,
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  });
})();
"""

ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
    "verbinders-swagger.js": "text/javascript; charset=utf-8",
}
"""The files the page needs, and their media types; nothing else is served."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none';"
    " form-action 'none'"
)


@functools.cache
def _asset(name: str) -> bytes:
    if name == "verbinders-swagger.js":
        return INIT_SCRIPT
    return (Path(swagger_ui_bundle.swagger_ui_path) / name).read_bytes()


@get(f"{ASSETS_PATH}/{{name:str}}", sync_to_thread=False, include_in_schema=False)
def serve_asset(name: str) -> Response[bytes]:
    """One of the documentation page's files (`ASSETS`), cached by browsers for a day."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFoundException(f"no documentation asset {name!r}")
    return Response(
        _asset(name),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


class SwaggerPage(OpenAPIRenderPlugin):
    """Swagger UI from local assets, at the OpenAPI root and at `/swagger`."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        openapi = self.get_openapi_json_route(request)
        assets = openapi.rsplit("/", 1)[0] + ASSETS_PATH
        title = html.escape(str(openapi_schema["info"]["title"]))
        page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
  <title>{title}</title>
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{assets}/favicon-16x16.png" sizes="16x16">
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{assets}/verbinders-swagger.js" data-openapi="{html.escape(openapi)}"></script>
</body>
</html>
"""
        return page.encode()

    def receive_router(self, router: Router) -> None:
        router.register(serve_asset)
