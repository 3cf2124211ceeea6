"""Writers and readers of the feed as processes of their own, for
`test_feed_across_processes.py`:

    python -m tests.store.feed_processes writer DSN SEED SECONDS OUT
    python -m tests.store.feed_processes reader DSN OUT
    python -m tests.store.feed_processes ledger DSN

A writer appends for SECONDS on the store as the runtime builds it (lane, pool, several streams
at once, transactions of one to three appends that sleep and sometimes roll back, hot streams
shared with the other writers) and writes `position stream version` to OUT for every event
once its append is acknowledged. A reader follows the feed with `subscribe()` (woken by
NOTIFY, polling as a safety net) and writes each event's position to OUT as it gets it. The
ledger is a read model: it copies each event into the table `ledger` and moves its checkpoint
in the same transaction (`move_checkpoint`, as the projection engine does), so that it can be
killed with SIGKILL at any moment and restarted.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from pathlib import Path

import msgspec

from verbinders.config import Settings
from verbinders.database import connect, open_pool
from verbinders.errors import StreamConflict
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.subscription import FeedSignal, subscribe

META = Metadata(tenant="processes", actor="feed-processes")
HOT = [uuid.UUID(int=n) for n in range(1, 4)]
LEDGER = "ledger"
LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS ledger (
    position bigint PRIMARY KEY,
    stream_id uuid NOT NULL,
    version integer NOT NULL,
    applied bigint GENERATED ALWAYS AS IDENTITY
);
INSERT INTO checkpoints (name, position) VALUES ('ledger', 0) ON CONFLICT DO NOTHING;
"""


def event(stream: uuid.UUID, version: int, **payload: object) -> NewEvent:
    return NewEvent(
        stream_id=stream,
        stream_type="Thing",
        version=version,
        topic="processes:Thing.Happened",
        payload=msgspec.json.encode(payload or {"v": version}),
    )


class Rollback(Exception):
    pass


async def writer(dsn: str, seed: int, seconds: float, out: Path) -> None:
    settings = Settings()
    pool = await open_pool(dsn, settings, min_size=1, max_size=4)
    store = EventStore(pool, connect=lambda: connect(dsn, settings), append_connections=3)
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    with out.open("w") as log:

        def record(events: list[NewEvent], positions: list[int]) -> None:
            for e, p in zip(events, positions, strict=True):
                log.write(f"{p} {e.stream_id} {e.version}\n")
            log.flush()

        async def versions(streams: list[uuid.UUID]) -> dict[uuid.UUID, int]:
            return {
                s: max([e.version for e in await store.read_stream(s)], default=0) for s in streams
            }

        while time.monotonic() < deadline:
            choice = rng.random()
            streams = [rng.choice(HOT)] if choice < 0.4 else [uuid.uuid4()]
            if rng.random() < 0.25:
                streams.append(uuid.uuid4())
            try:
                if choice < 0.7:  # one append, no transaction: the lane
                    expected = await versions(streams)
                    events = [event(s, expected[s] + 1, w=seed) for s in streams]
                    record(events, await store.append(events, expected=expected, metadata=META))
                else:  # a transaction of one to three appends
                    done: list[tuple[list[NewEvent], list[int]]] = []
                    async with store.transaction() as conn:
                        for _ in range(rng.randint(1, 3)):
                            one = rng.choice(HOT) if rng.random() < 0.3 else uuid.uuid4()
                            expected = await versions([one])
                            events = [event(one, expected[one] + 1, w=seed)]
                            positions = await store.append(
                                events, expected=expected, metadata=META, connection=conn
                            )
                            done.append((events, positions))
                            await asyncio.sleep(rng.uniform(0, 0.01))
                        if rng.random() < 0.12:
                            raise Rollback
                    for events, positions in done:
                        record(events, positions)
            except (StreamConflict, Rollback):
                pass
    await store.close()
    await pool.close()


async def reader(dsn: str, out: Path) -> None:
    settings = Settings()
    pool = await open_pool(dsn, settings, min_size=1, max_size=2)
    store = EventStore(pool)
    with out.open("w") as log:
        async with FeedSignal(dsn, poll_interval=0.2) as signal:
            async for batch in subscribe(store, signal, batch_size=50):
                log.write("".join(f"{e.position}\n" for e in batch))
                log.flush()


async def ledger(dsn: str) -> None:
    conn = await connect(dsn, Settings())
    store = EventStore(await open_pool(dsn, Settings(), min_size=1, max_size=2))
    await conn.execute(LEDGER_DDL)
    while True:
        checkpoint = await conn.fetchval("SELECT position FROM checkpoints WHERE name = $1", LEDGER)
        batch = await store.read_feed(checkpoint, random.randint(1, 40))
        if not batch:
            await asyncio.sleep(0.01)
            continue
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO ledger (position, stream_id, version) VALUES ($1, $2, $3)",
                [(e.position, e.stream_id, e.version) for e in batch],
            )
            await asyncio.sleep(random.uniform(0, 0.005))  # a window for SIGKILL mid-batch
            await conn.execute(
                "SELECT move_checkpoint($1, $2, $3)", LEDGER, checkpoint, batch[-1].position
            )


def main() -> None:
    role, dsn, *rest = sys.argv[1:]
    if role == "writer":
        asyncio.run(writer(dsn, int(rest[0]), float(rest[1]), Path(rest[2])))
    elif role == "reader":
        asyncio.run(reader(dsn, Path(rest[0])))
    elif role == "ledger":
        asyncio.run(ledger(dsn))
    else:
        raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    main()
