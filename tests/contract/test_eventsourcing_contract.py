"""The `eventsourcing` library's own recorder contract tests, run against this store."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    TrackingRecorderTestCase,
)

from tests.conftest import RUN_ID, with_database
from tests.contract.adapter import StoreRecorder

pytestmark = pytest.mark.server

_numbers = itertools.count()


class FreshDatabase:
    """Each contract test gets a database of its own, cloned from the session's template."""

    cluster_dsn: str
    template: str
    recorders: list[StoreRecorder]
    databases: list[str]

    @pytest.fixture(autouse=True)
    def _databases(self, cluster_dsn: str, template_database: str) -> Iterator[None]:
        self.cluster_dsn = cluster_dsn
        self.template = template_database
        self.recorders = []
        self.databases = []
        yield
        for recorder in self.recorders:
            recorder.close()
        asyncio.run(self._drop())

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.cluster_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _drop(self) -> None:
        for name in self.databases:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create_recorder(self) -> StoreRecorder:
        name = f"vb_{RUN_ID}_contract_{next(_numbers)}_{uuid.uuid4().hex[:4]}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.databases.append(name)
        recorder = StoreRecorder(with_database(self.cluster_dsn, name))
        self.recorders.append(recorder)
        return recorder


class TestApplicationRecorder(FreshDatabase, ApplicationRecorderTestCase[StoreRecorder]):
    """Every test of the library's case, at the library's own parameters (they take < 1 s)."""

    def test_insert_subscribe(self) -> None:
        # Optional in the library (not every recorder can follow its notifications); the
        # store's feed can, so it is held to it.
        self.optional_test_insert_subscribe()


class TestTrackingRecorder(FreshDatabase, TrackingRecorderTestCase):
    pass
