"""The timers' naps: appends poke them, and a steady stream of appends must not make them look
at their tables once per append; a stop ends any nap at once."""

from __future__ import annotations

import asyncio
import time

from verbinders.audit.sealer import Sealer
from verbinders.policies.call_timer import CallTimer
from verbinders.policies.report_timer import ReportTimer
from verbinders.runtime import Runtime


async def poke_for(runtime: Runtime, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        runtime.signal.poke()
        await asyncio.sleep(0.005)


async def test_pokes_end_a_nap_only_after_its_least_time(runtime: Runtime) -> None:
    timer = CallTimer(runtime)
    stop = asyncio.Event()
    poking = asyncio.create_task(poke_for(runtime, 1.0))
    started = time.monotonic()
    await timer.nap(stop, 5.0, runtime.signal.pokes, at_least=0.3)
    took = time.monotonic() - started
    await poking
    assert 0.3 <= took < 2.0


async def test_a_nap_shorter_than_its_least_time_ends_on_time(runtime: Runtime) -> None:
    timer = ReportTimer(runtime)
    started = time.monotonic()
    await timer.nap(asyncio.Event(), 0.05, runtime.signal.pokes, at_least=0.5)
    assert time.monotonic() - started < 0.4


async def test_a_stop_ends_the_least_time_at_once(runtime: Runtime) -> None:
    timer = CallTimer(runtime)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = time.monotonic()
    await timer.nap(stop, 30.0, runtime.signal.pokes, at_least=10.0)
    assert time.monotonic() - started < 5.0


def test_both_timers_settle_between_looks() -> None:
    assert 0 < CallTimer.settle <= 1.0
    assert 0 < ReportTimer.settle <= 1.0


async def test_a_nap_without_pokes_sleeps_through_appends(runtime: Runtime) -> None:
    """The sealer naps on a clock: a stream of appends must not make it seal after each."""
    sealer = Sealer(runtime)
    poking = asyncio.create_task(poke_for(runtime, 0.6))
    started = time.monotonic()
    await sealer.nap(asyncio.Event(), 0.5)
    took = time.monotonic() - started
    await poking
    assert took >= 0.45


async def test_a_stop_ends_a_nap_without_pokes(runtime: Runtime) -> None:
    sealer = Sealer(runtime)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = time.monotonic()
    await sealer.nap(stop, 30.0)
    assert time.monotonic() - started < 5.0
