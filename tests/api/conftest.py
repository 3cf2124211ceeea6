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
from verbinders.application.context import Actor
from verbinders.application.organisations import register_organisation
from verbinders.application.platforms import create_platform
from verbinders.application.tokens import issue_token
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.domain.access import Role
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.runtime import Runtime, runtime_on
from verbinders.workers import prepare_workers, run_workers


@dataclass
class Platform:
    slug: str
    tokens: dict[str, str]
    """role -> bearer secret; organisation, municipality and fund act for their own party:
    `party` (a self-organisation), `municipality` and `fund`."""
    party: uuid.UUID
    other_party: uuid.UUID
    """A formal organisation, acted for by `other_org_token`."""
    other_org_token: str
    municipality: uuid.UUID
    fund: uuid.UUID

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


PARTIES = {
    "party": ("De Verbinding", OrganisationKind.SELF_ORGANISATION),
    "other_party": ("Welzijn Haarlem", OrganisationKind.FORMAL_ORGANISATION),
    "municipality": ("Gemeente", OrganisationKind.MUNICIPALITY),
    "fund": ("Fonds", OrganisationKind.FUND),
}
"""The organisations the test tokens act for, registered with every test platform."""


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


async def make_platform(runtime: Runtime, slug: str, *, parties: bool = True) -> Platform:
    """A platform, the organisations the test tokens act for, and a token for every role.

    Without `parties` (for tests that count the organisations they register themselves), no
    organisation is registered and only the roles without a party get a token."""
    operator = Actor.operator(slug, "tests")
    run = runtime.pipeline.run
    created = await run(
        create_platform,
        operator,
        name=f"Platform {slug}",
        city="Haarlem",
        started_on=date(2019, 12, 1),
    )
    ids = {key: uuid.uuid4() for key in PARTIES}
    for key, (name, kind) in PARTIES.items() if parties else ():
        registered = await run(register_organisation, operator, kind=kind, name=f"{name} {slug}")
        ids[key] = uuid.UUID(registered.id)
    assert created.token.token is not None
    tokens = {Role.COORDINATOR.value: created.token.token}
    parties_of = {
        Role.ORGANISATION.value: ids["party"],
        Role.MUNICIPALITY.value: ids["municipality"],
        Role.FUND.value: ids["fund"],
    }
    for role in Role:
        if role is Role.COORDINATOR or (role.value in parties_of and not parties):
            continue
        issued = await run(
            issue_token,
            operator,
            roles=(role.value,),
            label=f"{role.value} for tests",
            party=parties_of.get(role.value),
        )
        assert issued.token is not None
        tokens[role.value] = issued.token
    other_org_token = ""
    if parties:
        other_org = await run(
            issue_token,
            operator,
            roles=("organisation",),
            label="another organisation",
            party=ids["other_party"],
        )
        assert other_org.token is not None
        other_org_token = other_org.token
    return Platform(
        slug=slug,
        tokens=tokens,
        party=ids["party"],
        other_party=ids["other_party"],
        other_org_token=other_org_token,
        municipality=ids["municipality"],
        fund=ids["fund"],
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
    await prepare_workers(runtime)
    workers = asyncio.create_task(run_workers(runtime, stop))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        stop.set()
        await workers
