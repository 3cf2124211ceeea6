"""Every test runs against a real PostgreSQL.

By default an embedded PostgreSQL 18 is started once per test session in a temporary folder;
with `VERBINDERS_TEST_DATABASE_URL` the tests use that server instead. Either way each test
that asks for `database` gets a database of its own, cloned from a template holding the schema,
and dropped afterwards. No test skips because a database is missing: if none can be had, the
session fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from verbinders.config import Settings
from verbinders.database import EmbeddedPostgres, open_pool
from verbinders.database import connect as connect_to
from verbinders.store.eventstore import EventStore
from verbinders.store.personal import Keyring
from verbinders.store.repository import Repository
from verbinders.store.schema import install_schema

RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count()


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def cluster_dsn() -> Iterator[str]:
    """The DSN of a maintenance database on the PostgreSQL the tests use."""
    url = os.environ.get("VERBINDERS_TEST_DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="verbinders-test-pg-"))
    embedded = EmbeddedPostgres(folder / "data")
    dsn = embedded.start()

    async def tune() -> None:
        # A throw-away test cluster: durability is not what is under test here.
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("ALTER SYSTEM SET fsync = off")
            await conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            await conn.execute("ALTER SYSTEM SET full_page_writes = off")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    asyncio.run(tune())
    try:
        yield dsn
    finally:
        embedded.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(cluster_dsn: str) -> AsyncIterator[str]:
    name = f"vb_{RUN_ID}_template"
    admin = await asyncpg.connect(cluster_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(with_database(cluster_dsn, name))
        try:
            await install_schema(conn)
        finally:
            await conn.close()
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def database(cluster_dsn: str, template_database: str) -> AsyncIterator[str]:
    """A fresh database with the schema installed; yields its DSN."""
    async with cloned_database(cluster_dsn, template_database) as dsn:
        yield dsn


@contextlib.asynccontextmanager
async def cloned_database(cluster_dsn: str, template: str) -> AsyncIterator[str]:
    """A database of its own cloned from `template`, its schema brought up to date; its DSN."""
    name = f"vb_{RUN_ID}_{next(_counter)}"
    admin = await asyncpg.connect(cluster_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        dsn = with_database(cluster_dsn, name)
        conn = await asyncpg.connect(dsn)
        try:
            await install_schema(conn)
        finally:
            await conn.close()
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(snapshot_every=0)


@pytest.fixture
async def pool(database: str, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database, settings, min_size=1, max_size=60)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(params=["lane", "pool"])
async def store(
    request: pytest.FixtureRequest, database: str, pool: asyncpg.Pool, settings: Settings
) -> AsyncIterator[EventStore]:
    """The store as the runtime builds it (single-statement appends on its own connections),
    and with every append through the pool."""

    async def connect() -> asyncpg.Connection:
        return await connect_to(database, settings)

    if request.param == "lane":
        store = EventStore(pool, connect=connect, append_connections=8)
    else:
        store = EventStore(pool)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def keyring(pool: asyncpg.Pool) -> Keyring:
    return Keyring(pool)


@pytest.fixture
def repository(store: EventStore, keyring: Keyring) -> Repository:
    return Repository(store, keyring, snapshot_every=5)
