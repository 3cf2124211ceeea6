"""The command line's tests append through the store as the runtime builds it (its append
lane): which path an append takes is the store's tests' concern, not theirs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from verbinders.config import Settings
from verbinders.database import connect as connect_to
from verbinders.store.eventstore import EventStore


@pytest.fixture
async def store(database: str, pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[EventStore]:
    async def connect() -> asyncpg.Connection:
        return await connect_to(database, settings)

    store = EventStore(pool, connect=connect, append_connections=8)
    try:
        yield store
    finally:
        await store.close()
