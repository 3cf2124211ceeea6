"""The application layer on the real database, without HTTP: a runtime (no workers) and a
platform with tokens for every role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.platforms import Platform, make_platform
from verbinders.application.context import Actor
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.runtime import Runtime, runtime_on


@pytest.fixture
async def runtime(database: str, pool: asyncpg.Pool) -> AsyncIterator[Runtime]:
    settings = Settings(snapshot_every=0)
    async with runtime_on(settings, Database(pool=pool, dsn=database, embedded=False)) as runtime:
        yield runtime


@pytest.fixture
async def platform(runtime: Runtime) -> Platform:
    return await make_platform(runtime, "haarlem")


@pytest.fixture
async def other_platform(runtime: Runtime) -> Platform:
    return await make_platform(runtime, "zaanstad")


@pytest.fixture
async def actors(runtime: Runtime, platform: Platform) -> dict[str, Actor]:
    """The platform's tokens as the actors they authenticate to (role -> Actor)."""
    from verbinders.application.authentication import Authenticator

    authenticator = Authenticator(runtime.pipeline)
    return {role: await authenticator.authenticate(t) for role, t in platform.tokens.items()}
