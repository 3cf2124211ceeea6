"""The HTTP app on the test database, and tokens for every role."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import asyncpg
import httpx
import pytest

from verbinders.api.app import app_state, create_app
from verbinders.application.access import create_platform, issue_token
from verbinders.application.context import Actor, CommandContext
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.domain.access import Role
from verbinders.runtime import Runtime, runtime_on


@dataclass
class Platform:
    slug: str
    tokens: dict[str, str]
    """role -> bearer secret (organisation, municipality and fund act for `party`)."""
    party: uuid.UUID
    other_party: uuid.UUID
    other_org_token: str

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


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


async def make_platform(runtime: Runtime, slug: str) -> Platform:
    _, first = await create_platform(
        runtime, slug=slug, name=f"Platform {slug}", city="Haarlem", started_on=date(2019, 12, 1)
    )
    party, other = uuid.uuid4(), uuid.uuid4()
    tokens = {Role.COORDINATOR.value: first.token}
    async with runtime.store.transaction() as conn:
        ctx = CommandContext(
            repository=runtime.repository,
            connection=conn,
            actor=Actor(tenant=slug, roles=("coordinator",), label="tests"),
        )
        for role in Role:
            if role is Role.COORDINATOR:
                continue
            issued = await issue_token(
                ctx,
                roles=(role.value,),
                label=f"{role.value} for tests",
                party=party if role.value in {"organisation", "municipality", "fund"} else None,
            )
            tokens[role.value] = issued.token
        other_org = await issue_token(
            ctx, roles=("organisation",), label="another organisation", party=other
        )
    return Platform(
        slug=slug, tokens=tokens, party=party, other_party=other, other_org_token=other_org.token
    )


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
    await runtime.runner.prepare()
    projections = asyncio.create_task(runtime.runner.run(stop))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        stop.set()
        await projections
