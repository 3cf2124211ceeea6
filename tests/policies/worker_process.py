"""A policy worker in a process of its own, for the tests to kill with SIGKILL.

Usage: python worker_process.py DSN. Runs the product's policies (no projections) with small
batches until killed; prints `ready` once running.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from verbinders import registry
from verbinders.config import Settings
from verbinders.database import Database, open_pool
from verbinders.policies.runner import PolicyRunner
from verbinders.runtime import runtime_on


async def main(dsn: str) -> None:
    settings = replace(Settings(), database_url=dsn)
    pool = await open_pool(dsn, settings, min_size=1, max_size=4)
    async with runtime_on(settings, Database(pool=pool, dsn=dsn, embedded=False)) as runtime:
        runner = PolicyRunner(
            runtime.pipeline,
            runtime.signal,
            registry.policies(),
            runtime.connect,
            batch_size=20,
            standby_interval=0.05,
        )
        print("ready", flush=True)
        await runner.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
