"""Commit-to-reader lag of the feed: part (e) of bench_store.py.

Writers append single events at a steady total rate (open loop: each on its own schedule, no
catch-up bursts) through the store as the runtime builds it (the append lane, the pool, the
notifier). Two subscribers follow the feed with `subscribe()`: one in this process (woken by
the store directly, as the API's live streams and in-process projections are) and one in a
process of its own (woken by LISTEN/NOTIFY, as a `verbinders project` worker is). For every
event appended after the warm-up, the lag is the time from the append's acknowledgement to the
subscriber's receipt (both read from CLOCK_MONOTONIC, which the processes share).

    python bench/feed_lag.py subscribe DSN     # the other process (started by the bench)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

from verbinders.config import Settings
from verbinders.database import connect, open_pool
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal, subscribe

META = Metadata(tenant="bench", actor="bench", correlation_id="lag")
PAYLOAD = b'{"what": "a steady stream of commands"}'


@dataclass(frozen=True)
class Lags:
    where: str
    received: int
    missing: int
    p50: float
    p90: float
    p99: float
    worst: float

    def line(self) -> str:
        return (
            f"  {self.where:<28} {self.received:>7,} {self.missing:>7} {self.p50:>8.1f}"
            f" {self.p90:>8.1f} {self.p99:>8.1f} {self.worst:>8.1f}"
        )


def _event(stream: uuid.UUID) -> NewEvent:
    return NewEvent(
        stream_id=stream, stream_type="Thing", version=1, topic="bench:Lag", payload=PAYLOAD
    )


def lags(where: str, acked: dict[int, float], received: dict[int, float]) -> Lags:
    delays = sorted(max(0.0, received[p] - t) * 1000 for p, t in acked.items() if p in received)
    missing = sum(1 for p in acked if p not in received)
    q = statistics.quantiles(delays, n=100, method="inclusive") if len(delays) > 1 else [0.0] * 99
    return Lags(where, len(delays), missing, q[49], q[89], q[98], delays[-1] if delays else 0.0)


async def measure(
    dsn: str,
    *,
    rate: float,
    writers: int,
    warmup: float,
    seconds: float,
    lane: int,
    mixed: bool = False,
) -> tuple[float, list[Lags]]:
    """Returns the rate reached (events/s) and the lags seen by each subscriber.

    With `mixed`, 60% of the writes are single appends, 15% atomic appends to two streams and
    25% transactions of one to three appends with up to 3 ms of work between them (as
    commands with a few reads do); otherwise every write is a single append."""
    settings = Settings()
    pool = await open_pool(dsn, settings, min_size=2, max_size=settings.pool_max_size)
    store = EventStore(pool, connect=lambda: connect(dsn, settings), append_connections=lane)
    signal = FeedSignal(dsn)
    store.local_listeners.append(signal.poke)
    start = await store.last_position()
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "subscribe",
        dsn,
        str(start),
        stdout=asyncio.subprocess.PIPE,
    )
    assert other.stdout is not None
    await other.stdout.readline()  # listening
    local: dict[int, float] = {}
    remote: dict[int, float] = {}
    acked: dict[int, float] = {}
    stop = False

    async def collect() -> None:  # the other process's receipts, read as they come
        assert other.stdout is not None
        async for line in other.stdout:
            position, at = line.split()
            remote[int(position)] = float(at)

    async def follow() -> None:
        async for batch in subscribe(store, signal, after=start):
            now = time.monotonic()
            for e in batch:
                local[e.position] = now

    async def append_some(rng: random.Random) -> list[int]:
        choice = rng.random() if mixed else 0.0
        if choice < 0.6:
            stream = uuid.uuid4()
            return await store.append([_event(stream)], expected={stream: 0}, metadata=META)
        if choice < 0.75:
            a, b = uuid.uuid4(), uuid.uuid4()
            return await store.append([_event(a), _event(b)], expected={a: 0, b: 0}, metadata=META)
        positions: list[int] = []
        async with store.transaction() as conn:
            for k in range(rng.randint(1, 3)):
                if k:
                    await asyncio.sleep(rng.uniform(0, 0.003))
                stream = uuid.uuid4()
                positions += await store.append(
                    [_event(stream)], expected={stream: 0}, metadata=META, connection=conn
                )
        return positions

    async def write(i: int, measured_from: float) -> None:
        rng = random.Random(i)
        period = writers / rate
        due = time.monotonic() + i * period / writers
        while not stop:
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -period:
                due = time.monotonic()  # behind: no burst to catch up
            positions = await append_some(rng)
            now = time.monotonic()
            if now >= measured_from:
                for position in positions:
                    acked[position] = now
            due += period * len(positions)

    collecting = asyncio.create_task(collect())
    async with signal:
        following = asyncio.create_task(follow())
        measured_from = time.monotonic() + warmup
        tasks = [asyncio.create_task(write(i, measured_from)) for i in range(writers)]
        await asyncio.sleep(warmup + seconds)
        stop = True
        await asyncio.gather(*tasks)
        reached = len(acked) / seconds
        await asyncio.sleep(2.0)  # the stragglers
        following.cancel()
    other.terminate()
    await other.wait()
    await collecting
    await store.close()
    await pool.close()
    return reached, [
        lags("in this process (poked)", acked, local),
        lags("another process (NOTIFY)", acked, remote),
    ]


async def _subscriber(dsn: str, after: int) -> None:
    """Print `position time` for every event of the feed after `after`, as it arrives."""
    settings = Settings()
    pool = await open_pool(dsn, settings, min_size=1, max_size=2)
    store = EventStore(pool)
    async with FeedSignal(dsn) as signal:
        await signal.wait(timeout=30, since=0)  # the listener pokes once it listens
        print("listening", flush=True)
        async for batch in subscribe(store, signal, after=after):
            now = time.monotonic()
            sys.stdout.write("".join(f"{e.position} {now}\n" for e in batch))
            sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(_subscriber(sys.argv[2], int(sys.argv[3])))
