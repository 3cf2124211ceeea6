"""A projection worker in a process of its own, for the tests to kill with SIGKILL.

Usage: python worker_process.py DSN. Runs the slow ledger projection (a few ms per event,
batches of 25, so that most of its time is spent inside a batch's transaction) until killed.
Its leadership connection is named `ledger-worker` in `pg_stat_activity`, so that the test
can see when it is inside a transaction that has written rows. Prints `ready` once running.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.projections.ledger import LedgerProjection, connector
from verbinders.config import Settings
from verbinders.database import open_pool
from verbinders.projections.runner import ProjectionRunner
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal

APPLICATION_NAME = "ledger-worker"


async def main(dsn: str) -> None:
    pool = await open_pool(dsn, Settings(), min_size=1, max_size=4)
    store = EventStore(pool)
    signal = FeedSignal(dsn, poll_interval=0.1)
    runner = ProjectionRunner(
        store,
        signal,
        [LedgerProjection(delay=0.004)],
        connector(dsn, APPLICATION_NAME),
        batch_size=25,
        standby_interval=0.05,
    )
    async with signal:
        print("ready", flush=True)
        await runner.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
