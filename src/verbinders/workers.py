"""The feed's workers in a process: the projections and the policies.

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
    """Run the projections and the policies until `stop` is set."""
    async with asyncio.TaskGroup() as group:
        group.create_task(runtime.runner.run(stop))
        group.create_task(runtime.policies.run(stop))
