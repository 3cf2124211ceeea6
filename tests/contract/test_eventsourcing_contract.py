"""The `eventsourcing` library's own recorder contract tests, run against this store."""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
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


class TestNotificationsOfRacingAppends(FreshDatabase, NonInterleavingNotificationIDsBaseCase):
    """The library's race of two 1,000-event inserts, held to this store's semantic."""

    def test(self) -> None:
        """Each insert's events are in version order along the feed and all arrive, once,
        to a reader tailing the race; they need not be contiguous.

        The library's own case asserts that the notification ids of two concurrent inserts do
        not interleave. Its PostgreSQL recorder gets that by locking the table for every
        insert, which serialises all writers; this store lets appends to different streams
        run in parallel, each taking positions from the sequence as it inserts, so two large
        appends at once may interleave (docs/architecture.md, "What a position means"). What
        a reader relies on instead is checked here: while the inserts race, a reader that
        follows the feed by its last id gets every event exactly once, in increasing id order,
        never an id below one it already has, and each stream's events in version order.
        """
        recorder = self.create_recorder()
        first, second = self.new_originator_id(), self.new_originator_id()
        stacks = [self.create_stack(first), self.create_stack(second)]
        race = threading.Barrier(3)
        errors: list[BaseException] = []
        done = threading.Event()

        def insert(stack: list[StoredEvent]) -> None:
            race.wait()
            try:
                recorder.insert_events(stack)
            except BaseException as error:
                errors.append(error)

        seen: list[tuple[int, object, int]] = []

        def tail() -> None:
            race.wait()
            last = 0
            while True:
                finished = done.is_set()
                batch = recorder.select_notifications(last, 100, inclusive_of_start=False)
                seen.extend((n.id, n.originator_id, n.originator_version) for n in batch)
                if batch:
                    last = batch[-1].id
                elif finished:
                    return

        writers = [threading.Thread(target=insert, args=(stack,)) for stack in stacks]
        reader = threading.Thread(target=tail)
        for thread in (*writers, reader):
            thread.start()
        for thread in writers:
            thread.join()
        done.set()
        reader.join()
        assert errors == []

        ids = [i for i, _, _ in seen]
        assert ids == sorted(set(ids))  # once each, in increasing order, none late
        for stream in (first, second):
            versions = [v for _, s, v in seen if s == stream]
            assert versions == list(range(self.insert_num))
        stored = recorder.select_notifications(None, 3 * self.insert_num)
        assert [(n.id, n.originator_id, n.originator_version) for n in stored] == seen
