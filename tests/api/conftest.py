"""The HTTP app on the test database, and tokens for every role (`tests/platforms.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from litestar import Litestar

from tests.conftest import RUN_ID, cloned_database, with_database
from tests.platforms import Platform, make_platform
from verbinders.api.app import app_state, create_app
from verbinders.config import Settings
from verbinders.database import Database, open_pool
from verbinders.runtime import Runtime, runtime_on
from verbinders.workers import prepare_workers, run_workers

__all__ = ["Platform", "make_platform"]


@pytest.fixture(scope="session")
async def prepared_template(cluster_dsn: str, template_database: str) -> AsyncIterator[str]:
    """The schema's template with what `serve` prepares at start-up done once: every read
    model's tables and every policy's checkpoint (`prepare_workers`). An API test's database
    is cloned from it, as from a platform that has been served before."""
    name = f"vb_{RUN_ID}_template_prepared"
    admin = await asyncpg.connect(cluster_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        dsn = with_database(cluster_dsn, name)
        settings = Settings(snapshot_every=0)
        pool = await open_pool(dsn, settings, min_size=1, max_size=4)
        try:
            async with runtime_on(
                settings, Database(pool=pool, dsn=dsn, embedded=False)
            ) as runtime:
                await prepare_workers(runtime)
        finally:
            await pool.close()
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def database(cluster_dsn: str, prepared_template: str) -> AsyncIterator[str]:
    """A fresh database of its own, its read models' tables already prepared."""
    async with cloned_database(cluster_dsn, prepared_template) as dsn:
        yield dsn


_apps: dict[Settings, Litestar] = {}


def _app(settings: Settings) -> Litestar:
    """One app per settings for the whole test session: building one registers every route
    (a few hundred ms). Its routes reach the runtime through `app.state`, which each test
    sets, and httpx's transport never runs the lifespan, so no test sees another's state."""
    app = _apps.get(settings)
    if app is None:
        app = _apps[settings] = create_app(settings)
    return app


@pytest.fixture
def api_settings() -> Settings:
    return Settings(snapshot_every=0, write_rate_per_minute=10_000, max_body_bytes=64 * 1024)


@pytest.fixture
async def runtime(
    database: str, pool: asyncpg.Pool, api_settings: Settings
) -> AsyncIterator[Runtime]:
    async with runtime_on(
        api_settings, Database(pool=pool, dsn=database, embedded=False)
    ) as runtime:
        yield runtime


@pytest.fixture
async def platform(runtime: Runtime) -> Platform:
    return await make_platform(runtime, "haarlem")


@pytest.fixture
async def other_platform(runtime: Runtime) -> Platform:
    return await make_platform(runtime, "zaanstad")


@pytest.fixture
async def client(runtime: Runtime, api_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app served in this event loop (its lifespan's work done by hand: same runtime)."""
    app = _app(api_settings)
    app.state.verbinders = app_state(runtime, api_settings)
    transport = httpx.ASGITransport(app=app)
    stop = asyncio.Event()
    await prepare_workers(runtime)
    workers = asyncio.create_task(run_workers(runtime, stop))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await settled(runtime)
        stop.set()
        await workers


async def settled(runtime: Runtime, timeout: float = 5.0) -> None:
    """Until every read model has reached the feed's horizon (at most `timeout` seconds).

    Stopped in the middle of that, a policy that waits for a read model to reach an event
    (the overlap detection waits for its candidate index) would sit out its whole wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    names = list(runtime.runner.projections)
    while loop.time() < deadline:
        async with runtime.pool.acquire() as conn:
            behind = await conn.fetchval(
                "SELECT count(*) FROM projection_generations g"
                " JOIN checkpoints c ON c.name = g.schema_name"
                " WHERE g.state = 'active' AND g.name = any($1::text[])"
                " AND c.position < feed_horizon()",
                names,
            )
        if not behind:
            return
        await asyncio.sleep(0.02)
