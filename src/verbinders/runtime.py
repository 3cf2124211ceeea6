"""What a running process holds, opened and closed in one place.

`verbinders serve` (through the Litestar lifespan), `verbinders project`, the other CLI
commands and the tests all open a `Runtime`: the database (embedded or server), the pool, the
event store, the keyring, the repository, the feed signal, the command pipeline, and the
runners of the projections and the policies.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg

from verbinders import registry
from verbinders.application.pipeline import Pipeline
from verbinders.config import Settings
from verbinders.database import Database, connect, open_database
from verbinders.policies.runner import PolicyRunner
from verbinders.projections import ProjectionRunner, all_projections
from verbinders.projections.feed import SharedFeed
from verbinders.store.aggregate_cache import AggregateCache
from verbinders.store.eventstore import EventStore
from verbinders.store.personal import Keyring
from verbinders.store.repository import Repository
from verbinders.store.subscription import FeedSignal, SharedHorizon

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from verbinders.database import Connection
    from verbinders.policies.policy import Policy
    from verbinders.projections.engine import Projection

__all__ = ["Runtime", "open_runtime", "runtime_on"]


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    database: Database
    store: EventStore
    keyring: Keyring
    repository: Repository
    signal: FeedSignal
    runner: ProjectionRunner
    pipeline: Pipeline
    """Runs every command (`application/unit_of_work.py`)."""
    policies: PolicyRunner

    @property
    def pool(self) -> asyncpg.Pool:
        return self.database.pool

    def connection(self) -> contextlib.AbstractAsyncContextManager[Connection]:
        """A pooled connection, waited for at most `VERBINDERS_POOL_WAIT_S` (then
        `Unavailable`, 503 with `Retry-After`): for queries as for commands."""
        return self.pipeline.connection()

    async def connect(self) -> asyncpg.Connection:
        """A connection of its own (not from the pool), with the pool's codecs and settings."""
        return await connect(self.database.dsn, self.settings)


@contextlib.asynccontextmanager
async def runtime_on(
    settings: Settings,
    database: Database,
    *,
    projections: Sequence[Projection] | None = None,
    policies: Sequence[Policy] | None = None,
) -> AsyncIterator[Runtime]:
    """A runtime over an open database (the tests open theirs)."""

    async def open_connection() -> asyncpg.Connection:
        return await connect(database.dsn, settings)

    store = EventStore(
        database.pool,
        connect=open_connection,
        append_connections=settings.append_connections,
        append_timeout=settings.append_transaction_timeout_s,
    )
    keyring = Keyring(database.pool)
    signal = FeedSignal(database.dsn)
    store.local_listeners.append(signal.poke)

    horizon = SharedHorizon(signal)  # one horizon read for the process's readers at a time
    feed = SharedFeed()  # and one read of the feed's latest events for all of them
    runner = ProjectionRunner(
        store,
        signal,
        list(all_projections() if projections is None else projections),
        open_connection,
        horizon=horizon,
        feed=feed,
    )
    repository = Repository(
        store,
        keyring,
        snapshot_every=settings.snapshot_every,
        cache=AggregateCache(settings.aggregate_cache_size)
        if settings.aggregate_cache_size
        else None,
    )
    pipeline = Pipeline(repository, wait=settings.pool_wait_s)
    runtime = Runtime(
        settings=settings,
        database=database,
        store=store,
        keyring=keyring,
        repository=repository,
        signal=signal,
        runner=runner,
        pipeline=pipeline,
        policies=PolicyRunner(
            pipeline,
            signal,
            list(registry.policies() if policies is None else policies),
            open_connection,
            horizon=horizon,
            feed=feed,
        ),
    )
    await signal.start()
    await store.start()
    try:
        yield runtime
    finally:
        await signal.stop()
        await store.close()


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, *, min_size: int | None = None, max_size: int | None = None
) -> AsyncIterator[Runtime]:
    """Open the database (starting the embedded one if no URL is set) and everything on it."""
    async with (
        open_database(settings, min_size=min_size, max_size=max_size) as database,
        runtime_on(settings, database) as runtime,
    ):
        yield runtime
