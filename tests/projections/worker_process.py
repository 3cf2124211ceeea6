"""Run the ledger projection as a separate process (killed with SIGKILL by the tests)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import asyncpg

from tests.projections.ledger import LedgerProjection
from verbinders.config import Settings
from verbinders.database import open_pool
from verbinders.projections.engine import ProjectionRunner
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal


async def main(dsn: str) -> None:
    pool = await open_pool(dsn, Settings(), min_size=1, max_size=4)
    store = EventStore(pool)
    signal = FeedSignal(dsn, poll_interval=0.1)
    runner = ProjectionRunner(
        store,
        signal,
        [LedgerProjection(delay=0.003)],
        lambda: asyncpg.connect(dsn),
        batch_size=50,
        standby_interval=0.2,
    )
    async with signal:
        print("ready", flush=True)
        await runner.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
