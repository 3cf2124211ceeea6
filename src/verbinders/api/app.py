"""The Litestar application: built by `create_app`, with no I/O until its lifespan starts."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Tag

from verbinders import __version__
from verbinders.api.docs import SwaggerPage
from verbinders.api.hygiene import RequestHygiene
from verbinders.api.openapi import OpenAPIJson, options_name_every_method
from verbinders.api.problems import exception_handlers
from verbinders.api.routes import ROUTES
from verbinders.api.state import AppState, RateLimiter
from verbinders.application.authentication import Authenticator
from verbinders.application.idempotency import forget_old_keys
from verbinders.config import Settings
from verbinders.runtime import Runtime, open_runtime
from verbinders.store.moments import run_moment_marks
from verbinders.workers import prepare_workers, run_workers

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["app_state", "create_app"]

log = logging.getLogger(__name__)

DESCRIPTION = """\
The backend of a city's collaboration platform of self-organisations, formal organisations,
the municipality and funds. Every change is an event in an append-only store.

* Authenticate with `Authorization: Bearer <token>`; each route lists the roles it admits.
* Commands accept `Idempotency-Key` (a retry replays the first answer) and, on existing
  resources, `If-Match` with the resource's `ETag` (a stale one gets 412).
* Command answers carry `Verbinders-Position`; queries accept `wait_for=<position>` to read
  your own writes.
* Commands take JSON bodies (`Content-Type: application/json`, or none); other media types get
  415. Every value has bounds (lengths, ranges, moments between 1900 and 2200); see the
  "Limits" section of the project's docs/api.md.
* Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `type`.
"""


async def _housekeeping(runtime: Runtime, stop: asyncio.Event) -> None:
    """Hourly: forget idempotency keys older than a day."""
    while not stop.is_set():
        try:
            await forget_old_keys(runtime.pool)
        except Exception:  # housekeeping must never take the server down
            log.exception("housekeeping failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 3600)


def app_state(
    runtime: Runtime, settings: Settings, stopping: asyncio.Event | None = None
) -> AppState:
    """What the routes reach through `app.state.verbinders`."""
    return AppState(
        runtime=runtime,
        authenticator=Authenticator(runtime.pipeline),
        limiter=RateLimiter(settings.write_rate_per_minute),
        stopping=stopping or asyncio.Event(),
    )


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    stopping: asyncio.Event | None = None,
) -> Litestar:
    """The app. With `runtime` (tests), it serves on that; otherwise its lifespan opens one
    (embedded PostgreSQL unless a URL is configured) and runs the projections in-process."""
    settings = settings or Settings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            current: Runtime = (
                runtime
                if runtime is not None
                else await stack.enter_async_context(open_runtime(settings))
            )
            app.state.verbinders = app_state(current, settings, stopping)
            stop = asyncio.Event()
            workers: list[asyncio.Task[None]] = []
            if runtime is None:
                workers.append(asyncio.create_task(_housekeeping(current, stop)))
                workers.append(asyncio.create_task(run_moment_marks(current.pool, stop)))
                if settings.run_projections:
                    await prepare_workers(current)
                    workers.append(asyncio.create_task(run_workers(current, stop)))
                # What start-up loaded (the app and its OpenAPI schema, the domain's classes,
                # the libraries) lives as long as the process: frozen out of the collector's
                # sight, its full collections stay short and requests do not stall on them.
                gc.collect()
                gc.freeze()
            try:
                yield
            finally:
                app.state.verbinders.stopping.set()
                stop.set()
                await asyncio.gather(*workers)

    app = Litestar(
        route_handlers=ROUTES,
        lifespan=[lifespan],
        exception_handlers=exception_handlers(),
        middleware=[RequestHygiene()],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Verbinders",
            version=__version__,
            description=DESCRIPTION,
            path="/schema",
            render_plugins=[SwaggerPage(), OpenAPIJson()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", description="A token from `verbinders`"
                    )
                }
            ),
            tags=[
                Tag(name="system", description="Health, identity, the platform"),
                Tag(name="access", description="Access tokens"),
                Tag(name="events", description="The event feed: coordinator, analysts, auditors"),
                Tag(name="reports", description="Reports from the read models"),
                Tag(name="organisations", description="The directory, profiles, strengths"),
                Tag(name="membership", description="Membership of the platform, the register"),
                Tag(name="meetings", description="Platform meetings, attendance, decisions"),
                Tag(
                    name="calls",
                    description="Calls for festivities and calamities: responses, claims,"
                    " the live picture and its board, reports",
                ),
            ],
        ),
        debug=False,
        logging_config=None,  # records go to the root logger: the command line's one format
    )
    options_name_every_method(app)
    return app
