"""Store benchmark, run by hand: ./dev setup && .venv/bin/python bench/bench_store.py [--quick]

In one run, on one database, it measures
  (a) plain asyncpg single-row inserts into a table shaped like `events` (the limit),
  (b) this store's single-event appends (EventStore.append),
  (c) the eventsourcing library's PostgresApplicationRecorder (psycopg, threads; the peer),
each with the same number of concurrent writers, in interleaved rounds (median of rounds), and
  (d) projection catch-up over N events (ActivityProjection through engine.replay) against a
      plain paged scan of the same rows.
It prints ratios: the machine is shared and noisy, so only same-run ratios mean anything.
Default target: an embedded PostgreSQL 18 with default durability; --database-url for a server.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec

from verbinders.config import Settings
from verbinders.database import EmbeddedPostgres, init_connection, open_pool
from verbinders.projections.activity import ActivityProjection
from verbinders.projections.engine import replay
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.schema import install_schema

PAYLOAD = msgspec.json.encode(
    {
        "name": "Stichting Samen Schalkwijk",
        "theme": "welfare",
        "hours": 12,
        "district": "Schalkwijk",
    }
)
META = Metadata(tenant="bench", actor="bench", correlation_id="bench")
META_JSON = msgspec.json.encode(META)

PLAIN_DDL = """
CREATE SEQUENCE IF NOT EXISTS plain_seq CACHE 1;
CREATE TABLE IF NOT EXISTS plain_events (
    position bigint PRIMARY KEY DEFAULT nextval('plain_seq'),
    tenant text NOT NULL, stream_id uuid NOT NULL, stream_type text NOT NULL,
    version integer NOT NULL, topic text NOT NULL, payload jsonb NOT NULL,
    metadata jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX IF NOT EXISTS plain_stream_version ON plain_events (stream_id, version);
CREATE INDEX IF NOT EXISTS plain_tenant_position ON plain_events (tenant, position);
CREATE INDEX IF NOT EXISTS plain_recorded_at ON plain_events USING brin (recorded_at);
"""


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


async def run_writers(writers: int, seconds: float, make_writer) -> float:  # type: ignore[no-untyped-def]
    """Events per second of `writers` concurrent loops over `seconds`."""
    deadline = time.perf_counter() + seconds
    counts = [0] * writers

    async def loop(i: int) -> None:
        write = await make_writer(i)
        while time.perf_counter() < deadline:
            await write()
            counts[i] += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(writers)))
    return sum(counts) / (time.perf_counter() - started)


async def plain_inserts(pool: asyncpg.Pool, writers: int, seconds: float) -> float:
    async def make(i: int):  # type: ignore[no-untyped-def]
        stream = uuid.uuid4()
        version = 0

        async def write() -> None:
            nonlocal version
            version += 1
            async with pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO plain_events (tenant, stream_id, stream_type, version, topic,"
                    " payload, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    "bench",
                    stream,
                    "Thing",
                    version,
                    "bench:Thing.Happened",
                    PAYLOAD,
                    META_JSON,
                )

        return write

    return await run_writers(writers, seconds, make)


async def store_appends(store: EventStore, writers: int, seconds: float) -> float:
    async def make(i: int):  # type: ignore[no-untyped-def]
        stream = uuid.uuid4()
        version = 0

        async def write() -> None:
            nonlocal version
            await store.append(
                [
                    NewEvent(
                        stream_id=stream,
                        stream_type="Thing",
                        version=version + 1,
                        topic="bench:Thing.Happened",
                        payload=PAYLOAD,
                    )
                ],
                expected={stream: version},
                metadata=META,
            )
            version += 1

        return write

    return await run_writers(writers, seconds, make)


def library_recorder(dsn: str, writers: int):  # type: ignore[no-untyped-def]
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parts = urlsplit(dsn)
    query = dict(p.split("=", 1) for p in parts.query.split("&") if p)
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=query.get("host", parts.hostname or "127.0.0.1"),
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
        pool_size=writers,
        schema="library",
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name="stored_events")
    return datastore, recorder


def library_inserts(recorder, writers: int, seconds: float) -> float:  # type: ignore[no-untyped-def]
    from eventsourcing.persistence import StoredEvent

    deadline = time.perf_counter() + seconds
    counts = [0] * writers

    def loop(i: int) -> None:
        stream = uuid.uuid4()
        version = 0
        while time.perf_counter() < deadline:
            version += 1
            recorder.insert_events(
                [
                    StoredEvent(
                        originator_id=stream,
                        originator_version=version,
                        topic="bench:Thing.Happened",
                        state=PAYLOAD,
                    )
                ]
            )
            counts[i] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


async def load_events(pool: asyncpg.Pool, n: int) -> None:
    """Write n events straight into the table (loading is not measured)."""
    chunk = 200_000
    async with pool.acquire() as conn:
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            await conn.execute(
                "INSERT INTO events (position, tenant, stream_id, stream_type, version, topic,"
                " payload, metadata)"
                " SELECT nextval('event_position_seq'), 'catchup-' || (g % 7),"
                "  md5('s' || (g / 50))::uuid, 'Thing', g % 50 + 1,"
                "  'bench:Thing.' || (ARRAY['Registered','Renamed','Joined','Left'])[g % 4 + 1],"
                "  $1::jsonb, $2::jsonb FROM generate_series($3::bigint, $4::bigint) AS g",
                PAYLOAD,
                META_JSON,
                start,
                start + size - 1,
            )
        await conn.execute("VACUUM ANALYZE events")


async def paged_scan(pool: asyncpg.Pool, page: int = 5000) -> tuple[int, float]:
    count, last = 0, 0
    started = time.perf_counter()
    async with pool.acquire() as conn:
        while True:
            rows = await conn.fetch(
                "SELECT position, tenant, stream_id, stream_type, version, topic, payload,"
                " metadata, recorded_at FROM events WHERE position > $1 ORDER BY position"
                " LIMIT $2",
                last,
                page,
            )
            if not rows:
                break
            count += len(rows)
            last = rows[-1][0]
    return count, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded PG 18)")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0, help="per contender per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=1_000_000, help="catch-up size for (d)")
    parser.add_argument("--quick", action="store_true", help="1 s rounds, 100k events")
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="for every contender alike (off: commits are not waited for on disk)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.events = 1.0, 1, 100_000

    embedded = None
    if args.database_url:
        admin_dsn = args.database_url
    else:
        folder = Path(tempfile.mkdtemp(prefix="verbinders-bench-"))
        embedded = EmbeddedPostgres(folder)
        admin_dsn = embedded.start()
    name = f"verbinders_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.execute(
        f'ALTER DATABASE "{name}" SET synchronous_commit = {args.synchronous_commit}'
    )
    dsn = with_database(admin_dsn, name)
    settings = Settings()
    pool = await open_pool(dsn, settings, min_size=args.writers, max_size=args.writers + 2)
    datastore = None
    try:
        async with pool.acquire() as conn:
            await install_schema(conn)
            await conn.execute(PLAIN_DDL)
            await conn.execute("CREATE SCHEMA IF NOT EXISTS library")
            version = await conn.fetchval("SHOW server_version")
        store = EventStore(pool)
        datastore, recorder = library_recorder(dsn, args.writers)
        recorder.create_table()
        print(
            f"PostgreSQL {version}; {args.writers} writers; {args.rounds} rounds of"
            f" {args.seconds:g} s each"
        )
        results: dict[str, list[float]] = {"a": [], "b": [], "c": []}
        for r in range(args.rounds):
            results["a"].append(await plain_inserts(pool, args.writers, args.seconds))
            results["b"].append(await store_appends(store, args.writers, args.seconds))
            results["c"].append(
                await asyncio.to_thread(library_inserts, recorder, args.writers, args.seconds)
            )
            print(
                f"  round {r + 1}: a={results['a'][-1]:,.0f}/s b={results['b'][-1]:,.0f}/s"
                f" c={results['c'][-1]:,.0f}/s"
            )
        a, b, c = (statistics.median(results[k]) for k in "abc")
        print(f"(a) plain asyncpg inserts        {a:10,.0f} events/s")
        print(
            f"(b) EventStore.append            {b:10,.0f} events/s   b/a = {b / a:.2f}"
            "  (target >= 0.7)"
        )
        print(
            f"(c) eventsourcing PG recorder    {c:10,.0f} events/s   b/c = {b / c:.1f}"
            "  (target >= 5)"
        )
        await store.close()

        # (d) catch-up over a fresh events table
        async with pool.acquire() as conn:
            await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_truncate")
            await conn.execute("TRUNCATE events")
            await conn.execute("ALTER TABLE events ENABLE TRIGGER events_no_truncate")
        await load_events(pool, args.events)
        scanned, scan_seconds = await paged_scan(pool)
        conn = await asyncpg.connect(dsn)
        await init_connection(conn)
        started = time.perf_counter()
        generation = await replay(conn, EventStore(pool), ActivityProjection(), batch_size=5000)
        replay_seconds = time.perf_counter() - started
        total = await conn.fetchval(
            f'SELECT sum(events) FROM "{generation.schema_name}".daily_events'
        )
        await conn.close()
        assert total == args.events == scanned, (total, scanned)
        scan_rate, replay_rate = scanned / scan_seconds, args.events / replay_seconds
        print(f"(d) plain paged scan             {scan_rate:10,.0f} events/s")
        print(
            f"    projection catch-up          {replay_rate:10,.0f} events/s   ratio ="
            f" {replay_rate / scan_rate:.2f}  (target >= 50,000 events/s)"
        )
    finally:
        if datastore is not None:
            datastore.close()
        await pool.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
