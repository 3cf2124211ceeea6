"""The feed's workers in a process: the projections, the policies, and the domains'
process-wide workers (the mail outbox, the call timer; each led by one process at a time).

`verbinders serve` runs them in-process (unless `VERBINDERS_RUN_PROJECTIONS=false`);
`verbinders project` runs only them. Nothing here imports the HTTP layer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verbinders.runtime import Runtime

__all__ = ["prepare_workers", "run_workers"]


async def prepare_workers(runtime: Runtime) -> None:
    """Every read model's tables and every policy's checkpoint, before anything is served."""
    await runtime.runner.prepare()
    conn = await runtime.connect()
    try:
        await runtime.policies.prepare(conn)
    finally:
        await conn.close()


async def run_workers(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run the projections, the policies and the workers until `stop` is set."""
    from verbinders import registry

    async with asyncio.TaskGroup() as group:
        group.create_task(runtime.runner.run(stop))
        group.create_task(runtime.policies.run(stop))
        for worker in registry.workers():
            group.create_task(worker(runtime).run(stop))
