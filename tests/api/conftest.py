"""The HTTP app on the test database, and tokens for every role (`tests/platforms.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.platforms import Platform, make_platform
from verbinders.api.app import app_state, create_app
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.runtime import Runtime, runtime_on
from verbinders.workers import prepare_workers, run_workers

__all__ = ["Platform", "make_platform"]


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
    app = create_app(api_settings, runtime=runtime)
    app.state.verbinders = app_state(runtime, api_settings)
    transport = httpx.ASGITransport(app=app)
    stop = asyncio.Event()
    await prepare_workers(runtime)
    workers = asyncio.create_task(run_workers(runtime, stop))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        stop.set()
        await workers
