"""The sealer worker: one process at a time seals the feed, again once events were appended."""

from __future__ import annotations

import asyncio

from tests.platforms import Platform, make_platform
from verbinders.audit.sealer import Sealer
from verbinders.audit.seals import load_seals
from verbinders.audit.verify import verify
from verbinders.runtime import Runtime


async def test_the_sealer_leads_alone_and_seals_what_was_appended(
    runtime: Runtime, platform: Platform
) -> None:
    first, second = Sealer(runtime), Sealer(runtime)
    first.interval = second.interval = 0.2
    second.standby_interval = 0.1
    stop = asyncio.Event()
    tasks = [asyncio.create_task(first.run(stop)), asyncio.create_task(second.run(stop))]
    try:
        for _ in range(100):
            async with runtime.pool.acquire() as conn:
                seals = await load_seals(conn)
            if seals:
                break
            await asyncio.sleep(0.1)
        assert seals and seals[0].up_to_position >= 1
        assert [first.leading, second.leading].count(True) == 1
        await make_platform(runtime, "zaanstad")  # more events: a second seal follows
        last = await runtime.store.last_position()
        for _ in range(100):
            async with runtime.pool.acquire() as conn:
                seals = await load_seals(conn)
            if seals[-1].up_to_position >= last:
                break
            await asyncio.sleep(0.1)
        assert seals[-1].up_to_position >= last and len(seals) >= 2
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    async with runtime.pool.acquire() as conn:
        result = await verify(conn)
    assert result.intact and result.seals == len(seals)
