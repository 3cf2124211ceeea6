"""Store benchmark, run by hand (never as a test).

    ./dev setup && .venv/bin/python bench/bench_store.py [--quick] [--database-url URL]

In one run, on one database, it measures
  (a) plain asyncpg single-row INSERTs into `plain_events`, a table shaped like `events` (same
      columns, types and indexes), one autocommit statement per row on a dedicated connection
      per writer: the limit;
  (b) this store's single-event appends, EventStore.append of one NewEvent to the writer's own
      stream at its tracked expected version, on the store as the runtime builds it: one
      statement (APPEND_ONE) on the store's append lane of its own connections
      (VERBINDERS_APPEND_CONNECTIONS, default 16; --append-connections);
  (c) the eventsourcing library's PostgresApplicationRecorder (psycopg, one thread per writer,
      its own schema `library`), inserting one StoredEvent per call: the peer;
with the same number of concurrent writers, each for the same time after a warm-up, in rounds
whose order rotates (a b c, b c a, c a b, ...) so that noise on a shared machine falls on all of
them alike; it reports medians of the rounds, and per event the client's and the server's CPU
time and the WAL written. Then
  (d) projection catch-up over N events (ActivityProjection through engine.replay) against a
      plain paged scan of the same rows (SELECT ... WHERE position > $1 ORDER BY position
      LIMIT n, rows decoded), with a breakdown of where the replay's time goes.

Only ratios from the same run mean anything: the machine is shared and noisy. The CPU time
per event (client: this process; server: this database's backends and the server's background
processes, read from /proc when the server runs on this machine) is steadier than the rates.
Default target: an embedded PostgreSQL 18 in a temporary folder, with default durability
(fsync and synchronous_commit on). With --database-url it creates a database
`verbinders_bench_<random>` on that server and drops it afterwards.

`--diagnose` adds contenders, each differing from (a) or (b) in one thing, to price the parts
of an append: (a) through the pool; (a) inside a plpgsql set-returning function; (b) through
the pool instead of the lane; APPEND_ONE on dedicated connections (one per writer), and without
its horizon lock (not a correct append); the multi-stream function append_events called
directly on dedicated connections, and copies of it without the per-stream lock, the version
check or the horizon lock (`bench_diag` schema); and it prints auto_explain's timings of the
statements inside one append_events call where the server has auto_explain.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import asyncpg
import msgspec

from common import proc_stat, scratch_database
from feed_lag import measure as measure_lag
from verbinders.config import Settings
from verbinders.database import (
    connect,
    open_pool,
)
from verbinders.projections.activity import ActivityProjection
from verbinders.projections.engine import replay
from verbinders.store.events import Metadata, NewEvent, RecordedEvent
from verbinders.store.eventstore import EventStore
from verbinders.store.schema import APPEND_ONE, INSERT_ONE, install_schema

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
TOPIC = "bench:Thing.Happened"

# Same columns, types, defaults and indexes as `events` (store/schema.py, migrations 1 and 3:
# its 32-byte `hash` here a constant, there chained, see store/chain.py); the position comes
# from a sequence with the same CACHE 1 (as a column default instead of a nextval() inside
# append_events).
PLAIN_DDL = """
CREATE SEQUENCE IF NOT EXISTS plain_position_seq AS bigint CACHE 1;
CREATE TABLE IF NOT EXISTS plain_events (
    position     bigint      PRIMARY KEY DEFAULT nextval('plain_position_seq'),
    tenant       text        NOT NULL,
    stream_id    uuid        NOT NULL,
    stream_type  text        NOT NULL,
    version      integer     NOT NULL CHECK (version > 0),
    topic        text        NOT NULL,
    payload      jsonb       NOT NULL,
    metadata     jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    hash         bytea       NOT NULL DEFAULT decode(repeat('ab', 32), 'hex')
);
CREATE UNIQUE INDEX IF NOT EXISTS plain_events_stream_version
    ON plain_events (stream_id, version);
CREATE INDEX IF NOT EXISTS plain_events_tenant_position ON plain_events (tenant, position);
CREATE INDEX IF NOT EXISTS plain_events_recorded_at ON plain_events USING brin (recorded_at);
"""

PLAIN_INSERT = (
    "INSERT INTO plain_events (tenant, stream_id, stream_type, version, topic, payload,"
    " metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
APPEND_SQL = "SELECT * FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9)"

# Diagnostic copies of append_events (store/schema.py), each without one step,
# in a schema of their own; they insert into the real `events` table. Used by --diagnose only.
_DIAG_FUNCTION = r"""
CREATE OR REPLACE FUNCTION bench_diag.{name}(
    p_tenant text, p_streams uuid[], p_expected integer[], p_ev_streams uuid[],
    p_ev_types text[], p_ev_versions integer[], p_ev_topics text[], p_ev_payloads jsonb[],
    p_metadata jsonb
) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
    conflict   record;
    low        bigint;
    stream_key integer;
    recorded   timestamptz;
BEGIN
    IF {stream_lock} THEN
        FOR stream_key IN SELECT DISTINCT uuid_hash(s) FROM unnest(p_streams) AS s ORDER BY 1 LOOP
            PERFORM pg_advisory_xact_lock(7102, stream_key);
        END LOOP;
    END IF;
    IF {version_check} THEN
        SELECT s.stream_id, s.expected, v.actual
          INTO conflict
          FROM unnest(p_streams, p_expected) AS s(stream_id, expected),
               LATERAL (SELECT coalesce(max(e.version), 0) AS actual
                          FROM public.events e WHERE e.stream_id = s.stream_id) AS v
         WHERE v.actual <> s.expected
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'conflict' USING ERRCODE = 'VB409';
        END IF;
    END IF;
    recorded := clock_timestamp();
    IF {horizon_lock} THEN
        SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO low
          FROM public.event_position_seq;
        PERFORM pg_advisory_xact_lock_shared(low);
    END IF;
    RETURN QUERY
    INSERT INTO public.events (position, tenant, stream_id, stream_type, version, topic,
                               payload, metadata, recorded_at, hash)
    SELECT nextval('public.event_position_seq'), p_tenant, e.stream_id, e.stream_type,
           e.version, e.topic, e.payload, p_metadata, recorded,
           decode(repeat('ab', 32), 'hex')  -- not chained: these copies price other steps
      FROM unnest(p_ev_streams, p_ev_types, p_ev_versions, p_ev_topics, p_ev_payloads)
           AS e(stream_id, stream_type, version, topic, payload)
    RETURNING position;
END $$;
"""
_DIAG_FUNCTIONS = {
    # name: (stream lock, version check, horizon lock)
    "append_full": (True, True, True),
    "append_no_stream_lock": (False, True, True),
    "append_no_version_check": (True, False, True),
    "append_no_horizon_lock": (True, True, False),
    "append_insert_only": (False, False, False),
}
# One INSERT like (a)'s but through the same kind of set-returning plpgsql call as (b).
_DIAG_PLAIN_FUNCTION = r"""
CREATE OR REPLACE FUNCTION bench_diag.plain_insert_fn(
    p_tenant text, p_stream uuid, p_type text, p_version integer, p_topic text,
    p_payload jsonb, p_metadata jsonb
) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    INSERT INTO public.plain_events (tenant, stream_id, stream_type, version, topic, payload,
                                     metadata)
    VALUES (p_tenant, p_stream, p_type, p_version, p_topic, p_payload, p_metadata)
    RETURNING position;
END $$;
"""

# Diagnostic only, NOT a correct append: the store's APPEND_ONE without the horizon's lock (a
# reader could then pass a position still in flight), to price that lock under load.
APPEND_ONE_NO_HORIZON_SQL = (
    "WITH horizon AS MATERIALIZED (SELECT clock_timestamp() AS recorded_at)\n" + INSERT_ONE
)


# -- measuring -------------------------------------------------------------------------------


def _cpu_of(pids: Sequence[int]) -> dict[int, float]:
    """CPU seconds used so far by each of these processes (those still alive)."""
    usage = {}
    for pid in pids:
        stat = proc_stat(pid)
        if stat is not None:
            usage[pid] = stat[1]
    return usage


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


@dataclass
class Snapshot:
    events: int
    at: float
    client_cpu: float
    server_cpu: dict[int, float] | None
    machine: tuple[float, float]
    wal: int


@dataclass
class Result:
    """One contender's window: rate and per-event costs."""

    rate: float
    client_us: float
    server_us: float | None
    wal_bytes: float
    machine_busy: float


@dataclass
class Probe:
    """Reads the counters around a measured window, on a connection of its own."""

    conn: asyncpg.Connection
    local: bool
    """Whether the server runs on this machine, so that /proc shows its processes' CPU."""

    async def snapshot(self, counts: Sequence[int]) -> Snapshot:
        # The server's CPU is that of this database's backends and of the server's own
        # background processes (WAL writer, checkpointer, ...), not of other databases'
        # backends: a shared server may be busy with other work.
        row = await self.conn.fetchrow(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,"
            " array(SELECT pid FROM pg_stat_activity"
            "       WHERE datname = current_database() OR datname IS NULL)"
        )
        assert row is not None
        return Snapshot(
            events=sum(counts),
            at=time.perf_counter(),
            client_cpu=time.process_time(),
            server_cpu=_cpu_of(row[1]) if self.local else None,
            machine=_machine_cpu(),
            wal=int(row[0]),
        )

    async def window(self, counts: Sequence[int], warmup: float, seconds: float) -> Result:
        await asyncio.sleep(warmup)
        first = await self.snapshot(counts)
        await asyncio.sleep(seconds)
        return self.result(first, await self.snapshot(counts))

    async def measure(self, events: int, work: Awaitable[Any]) -> tuple[Result, Any]:
        """Run `work`, which handles `events` events; its result and its costs."""
        first = await self.snapshot([0])
        value = await work
        return self.result(first, await self.snapshot([events])), value

    @staticmethod
    def result(first: Snapshot, last: Snapshot) -> Result:
        n = max(1, last.events - first.events)
        busy = last.machine[0] - first.machine[0]
        total = max(1.0, last.machine[1] - first.machine[1])
        server = None
        if first.server_cpu is not None and last.server_cpu is not None:
            # Processes started during the window count from zero.
            used = sum(t - first.server_cpu.get(pid, 0.0) for pid, t in last.server_cpu.items())
            server = used / n * 1e6
        return Result(
            rate=(last.events - first.events) / (last.at - first.at),
            client_us=(last.client_cpu - first.client_cpu) / n * 1e6,
            server_us=server,
            wal_bytes=(last.wal - first.wal) / n,
            machine_busy=busy / total,
        )


async def server_is_local(conn: asyncpg.Connection) -> bool:
    """Whether this connection's backend is a process on this machine that /proc shows."""
    backend, database = await conn.fetchrow("SELECT pg_backend_pid(), current_database()")
    return database in _proc_title(backend)


def _proc_title(pid: int) -> str:
    """A process's command line: a PostgreSQL backend shows its database there."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


Write = Callable[[], Awaitable[None]]
MakeWrite = Callable[[int], Awaitable[Write]]


async def run_async_writers(
    probe: Probe, writers: int, warmup: float, seconds: float, make_write: MakeWrite
) -> Result:
    """`writers` concurrent tasks, each calling its own write() in a loop."""
    counts = [0] * writers
    stop = False

    async def loop(i: int) -> None:
        write = await make_write(i)
        while not stop:
            await write()
            counts[i] += 1

    tasks = [asyncio.create_task(loop(i)) for i in range(writers)]
    try:
        result = await probe.window(counts, warmup, seconds)
    finally:
        stop = True
        await asyncio.gather(*tasks)
    return result


# -- contenders ------------------------------------------------------------------------------


@dataclass
class Bench:
    dsn: str
    writers: int
    warmup: float
    seconds: float
    pool: asyncpg.Pool
    store: EventStore
    probe: Probe
    conns: list[asyncpg.Connection] = field(default_factory=list)
    recorder: Any = None
    datastore: Any = None

    async def connect(self) -> asyncpg.Connection:
        return await connect(self.dsn, Settings())

    async def open(self, diagnose: bool) -> None:
        self.conns = [await self.connect() for _ in range(self.writers)]
        self.datastore, self.recorder = await asyncio.to_thread(
            library_recorder, self.dsn, self.writers
        )
        if diagnose:
            async with self.pool.acquire() as conn:
                await conn.execute("CREATE SCHEMA IF NOT EXISTS bench_diag")
                for name, (lock, check, horizon) in _DIAG_FUNCTIONS.items():
                    await conn.execute(
                        _DIAG_FUNCTION.format(
                            name=name,
                            stream_lock=str(lock).lower(),
                            version_check=str(check).lower(),
                            horizon_lock=str(horizon).lower(),
                        )
                    )
                await conn.execute(_DIAG_PLAIN_FUNCTION)

    async def close(self) -> None:
        for conn in self.conns:
            await conn.close()
        if self.datastore is not None:
            await asyncio.to_thread(self.datastore.close)

    async def run(self, make_write: MakeWrite) -> Result:
        return await run_async_writers(
            self.probe, self.writers, self.warmup, self.seconds, make_write
        )

    # (a) the limit
    async def plain(self) -> Result:
        async def make(i: int) -> Write:
            conn, stream, version = self.conns[i], uuid.uuid4(), 0

            async def write() -> None:
                nonlocal version
                version += 1
                await conn.execute(
                    PLAIN_INSERT, "bench", stream, "Thing", version, TOPIC, PAYLOAD, META_JSON
                )

            return write

        return await self.run(make)

    # (b) this store
    async def store_append(self) -> Result:
        return await self.appends_on(self.store)

    async def store_append_pooled(self) -> Result:
        return await self.appends_on(EventStore(self.pool))

    async def appends_on(self, store: EventStore) -> Result:
        async def make(i: int) -> Write:
            stream, version = uuid.uuid4(), 0

            async def write() -> None:
                nonlocal version
                await store.append(
                    [
                        NewEvent(
                            stream_id=stream,
                            stream_type="Thing",
                            version=version + 1,
                            topic=TOPIC,
                            payload=PAYLOAD,
                        )
                    ],
                    expected={stream: version},
                    metadata=META,
                )
                version += 1

            return write

        return await self.run(make)

    # (c) the peer
    async def library(self) -> Result:
        from eventsourcing.persistence import StoredEvent

        counts = [0] * self.writers
        stop = threading.Event()
        errors: list[BaseException] = []

        def loop(i: int) -> None:
            stream, version = uuid.uuid4(), 0
            try:
                while not stop.is_set():
                    version += 1
                    self.recorder.insert_events(
                        [
                            StoredEvent(
                                originator_id=stream,
                                originator_version=version,
                                topic=TOPIC,
                                state=PAYLOAD,
                            )
                        ]
                    )
                    counts[i] += 1
            except BaseException as error:  # reported after the window
                errors.append(error)

        threads = [
            threading.Thread(target=loop, args=(i,), daemon=True) for i in range(self.writers)
        ]
        for thread in threads:
            thread.start()
        try:
            result = await self.probe.window(counts, self.warmup, self.seconds)
        finally:
            stop.set()
            for thread in threads:
                await asyncio.to_thread(thread.join)
        if errors:
            raise errors[0]
        return result

    # -- diagnostic variants: each differs from (a) or (b) in one thing ---------------------

    async def plain_pooled(self) -> Result:
        """(a) through the store's pool: pool.acquire() per INSERT."""

        async def make(i: int) -> Write:
            stream, version = uuid.uuid4(), 0

            async def write() -> None:
                nonlocal version
                version += 1
                async with self.pool.acquire() as conn:
                    await conn.execute(
                        PLAIN_INSERT, "bench", stream, "Thing", version, TOPIC, PAYLOAD, META_JSON
                    )

            return write

        return await self.run(make)

    async def plain_function(self) -> Result:
        """(a)'s INSERT wrapped in a set-returning plpgsql function, RETURNING position."""

        async def make(i: int) -> Write:
            conn, stream, version = self.conns[i], uuid.uuid4(), 0

            async def write() -> None:
                nonlocal version
                version += 1
                await conn.fetch(
                    "SELECT * FROM bench_diag.plain_insert_fn($1, $2, $3, $4, $5, $6, $7)",
                    "bench",
                    stream,
                    "Thing",
                    version,
                    TOPIC,
                    PAYLOAD,
                    META_JSON,
                )

            return write

        return await self.run(make)

    def function_call(self, function: str) -> Callable[[], Awaitable[Result]]:
        """append_events (or a diagnostic copy) called directly on dedicated connections."""
        sql = APPEND_SQL.replace("append_events", function)

        async def contender() -> Result:
            async def make(i: int) -> Write:
                conn, stream, version = self.conns[i], uuid.uuid4(), 0

                async def write() -> None:
                    nonlocal version
                    await conn.fetch(
                        sql,
                        "bench",
                        [stream],
                        [version],
                        [stream],
                        ["Thing"],
                        [version + 1],
                        [TOPIC],
                        [PAYLOAD],
                        META_JSON,
                    )
                    version += 1

                return write

            return await self.run(make)

        return contender

    def single_statement(self, sql: str = APPEND_ONE) -> Callable[[], Awaitable[Result]]:
        """The store's APPEND_ONE (or a variant) on dedicated connections, one per writer."""

        async def contender() -> Result:
            async def make(i: int) -> Write:
                stream, version = uuid.uuid4(), 0

                async def write() -> None:
                    nonlocal version
                    args = ("bench", stream, "Thing", version, TOPIC, PAYLOAD, META_JSON)
                    position = await self.conns[i].fetchval(sql, *args)
                    assert position is not None
                    version += 1

                return write

            return await self.run(make)

        return contender


def library_recorder(dsn: str, writers: int) -> tuple[Any, Any]:
    """eventsourcing's own recorder on this database, in its own schema `library`."""
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query))
    datastore = PostgresDatastore(
        dbname=parts.path.lstrip("/"),
        host=query.get("host", parts.hostname or "127.0.0.1"),
        port=parts.port or int(query.get("port", 5432)),
        user=parts.username or "postgres",
        password=parts.password or "",
        pool_size=writers,
        schema="library",
    )
    with datastore.transaction(commit=True) as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS library")
    recorder = PostgresApplicationRecorder(datastore, events_table_name="stored_events")
    recorder.create_table()
    return datastore, recorder


# -- (d) catch-up ----------------------------------------------------------------------------


async def load_events(conn: asyncpg.Connection, n: int) -> None:
    """Write n events straight into `events` (not measured): 20 events per stream, 7 tenants,
    4 topics, recorded one second apart, so the projection has some hundreds of rows; each
    stream chained as the store chains it (store/chain.py)."""
    chunk = 250_000
    await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_truncate")
    await conn.execute("TRUNCATE events")
    await conn.execute("ALTER TABLE events ENABLE TRIGGER events_no_truncate")
    for start in range(0, n, chunk):
        await conn.execute(
            "INSERT INTO events (position, tenant, stream_id, stream_type, version, topic,"
            " payload, metadata, recorded_at, hash)"
            " SELECT e.position, e.tenant, e.stream_id, 'Thing', e.version, e.topic,"
            "  $1::jsonb, $2::jsonb, e.recorded_at,"
            "  event_chain(decode(repeat('00', 32), 'hex'), event_body(e.tenant, e.stream_id,"
            "   'Thing', e.version, e.position, e.topic, e.recorded_at, $2::jsonb, $1::jsonb))"
            "   OVER (PARTITION BY e.stream_id ORDER BY e.version)"
            " FROM (SELECT nextval('event_position_seq') AS position,"
            "  'tenant-' || (g / 20 % 7) AS tenant, md5('s' || (g / 20))::uuid AS stream_id,"
            "  (g % 20 + 1)::integer AS version,"
            "  'bench:Thing.' || (ARRAY['Registered','Renamed','Joined','Left'])[g % 4 + 1]"
            "   AS topic, now() - ($4 - g) * interval '1 second' AS recorded_at"
            "  FROM generate_series($3::bigint, $5::bigint) AS g ORDER BY g OFFSET 0) e",
            PAYLOAD,
            META_JSON,
            start,
            n,
            min(n, start + chunk) - 1,
        )
    await conn.execute("VACUUM (ANALYZE) events")
    await conn.execute("CHECKPOINT")


async def paged_scan(conn: asyncpg.Connection, page: int) -> int:
    """The plain way to read every row: keyset pages, rows decoded (jsonb through msgspec)."""
    count, last = 0, 0
    while True:
        rows = await conn.fetch(
            "SELECT position, tenant, stream_id, stream_type, version, topic, payload,"
            " metadata, recorded_at FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            last,
            page,
        )
        if not rows:
            return count
        count += len(rows)
        last = rows[-1][0]


class TimedActivity(ActivityProjection):
    """ActivityProjection with handle_batch timed, reading whole events like the plain scan
    (the product's activity counts leave the payload and metadata unread: this measures the
    engine's cost of a batch of whole events, as the scan it is compared with decodes them)."""

    reads_payload = True
    reads_metadata = True
    handle_seconds = 0.0

    async def handle_batch(self, conn: Any, events: Sequence[RecordedEvent]) -> None:
        started = time.perf_counter()
        try:
            await super().handle_batch(conn, events)
        finally:
            self.handle_seconds += time.perf_counter() - started


@dataclass
class CatchUp:
    events: int
    seconds: float
    read_seconds: float
    handle_seconds: float


async def catch_up(conn: asyncpg.Connection, batch: int) -> CatchUp:
    from verbinders.projections import engine

    projection = TimedActivity()
    read_seconds = 0.0
    read_batch = engine.read_batch

    async def timed_read_batch(*args: Any, **kwargs: Any) -> Any:
        """The engine's one read per batch (checkpoint, horizon and events), timed."""
        nonlocal read_seconds
        started = time.perf_counter()
        try:
            return await read_batch(*args, **kwargs)
        finally:
            read_seconds += time.perf_counter() - started

    engine.read_batch = timed_read_batch  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        generation = await replay(conn, projection, batch_size=batch)
        seconds = time.perf_counter() - started
    finally:
        engine.read_batch = read_batch  # type: ignore[assignment]
    total = await conn.fetchval(f'SELECT sum(events) FROM "{generation.schema_name}".daily_events')
    return CatchUp(int(total), seconds, read_seconds, projection.handle_seconds)


async def feed_reads(conn: asyncpg.Connection, page: int) -> tuple[float, float]:
    """One more pass over the feed in pages: seconds spent fetching (and decoding) rows, and
    seconds turning them into RecordedEvents as the store and the engine do."""
    from verbinders.store.eventstore import row_to_event

    fetching = converting = 0.0
    last = 0
    while True:
        started = time.perf_counter()
        rows = await conn.fetch(
            "SELECT position, tenant, stream_id, stream_type, version, topic, payload,"
            " metadata, recorded_at FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            last,
            page,
        )
        fetched = time.perf_counter()
        [row_to_event(row) for row in rows]
        converting += time.perf_counter() - fetched
        fetching += fetched - started
        if not rows:
            return fetching, converting
        last = rows[-1][0]


# -- reporting -------------------------------------------------------------------------------


def _median(results: list[Result], attr: str) -> float | None:
    values = [getattr(r, attr) for r in results]
    if any(v is None for v in values):
        return None
    return statistics.median(values)


def _cpu_per_event(results: list[Result]) -> float | None:
    client, server = _median(results, "client_us"), _median(results, "server_us")
    return None if client is None or server is None else client + server


def print_table(results: dict[str, list[Result]], labels: dict[str, str]) -> None:
    print(
        f"{'':34} {'events/s':>10} {'client':>9} {'server':>9} {'WAL':>7} {'CPU busy':>8}"
        "\n"
        f"{'':34} {'(median)':>10} {'us/event':>9} {'us/event':>9} {'B/event':>7} {'machine':>8}"
    )
    for key, rounds in results.items():
        server = _median(rounds, "server_us")
        server_text = f"{server:9.0f}" if server is not None else f"{'n/a':>9}"
        print(
            f"{labels[key]:34} {_median(rounds, 'rate'):10,.0f}"
            f" {_median(rounds, 'client_us'):9.0f} {server_text}"
            f" {_median(rounds, 'wal_bytes'):7.0f} {_median(rounds, 'machine_busy'):8.0%}"
        )


async def explain_append(conn: asyncpg.Connection) -> None:
    """auto_explain's plans (with timings) of the statements inside one append_events call."""
    try:
        await conn.execute("LOAD 'auto_explain'")
    except asyncpg.PostgresError as error:
        print(f"  (no auto_explain on this server: {error})")
        return
    messages: list[str] = []

    def listen(_conn: Any, message: Any) -> None:
        messages.append(message.message)

    conn.add_log_listener(listen)
    stream = uuid.uuid4()
    for version in range(3):  # the last call's plans are printed: caches are warm by then
        messages.clear()
        await conn.execute(
            "SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;"
            " SET auto_explain.log_nested_statements = on; SET auto_explain.log_timing = on;"
            " SET client_min_messages = log"
        )
        await conn.fetch(
            APPEND_SQL,
            "bench",
            [stream],
            [version],
            [stream],
            ["Thing"],
            [version + 1],
            [TOPIC],
            [PAYLOAD],
            META_JSON,
        )
        await conn.execute("RESET client_min_messages; RESET auto_explain.log_min_duration")
    conn.remove_log_listener(listen)
    for message in messages:
        # "duration: 0.083 ms  plan:\nQuery Text: INSERT INTO events ...\n<plan>"
        head, _, rest = message.partition("\n")
        query = " ".join(rest.removeprefix("Query Text: ").split("\n", 1)[0].split())
        print(f"  {head.removeprefix('duration: ').removesuffix('  plan:'):>10}  {query[:80]}")
    print(
        "  (the outer call's duration includes auto_explain's own logging of the inner statements)"
    )


# -- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded PG 18)")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured, per contender")
    parser.add_argument("--warmup", type=float, default=2.0, help="before each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (a) (b) (c)")
    parser.add_argument(
        "--append-connections",
        type=int,
        default=Settings().append_connections,
        help="the store's append lane for (b) (default: VERBINDERS_APPEND_CONNECTIONS' default)",
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="catch-up size for (d)")
    parser.add_argument("--catchup-rounds", type=int, default=2, help="scan/replay pairs")
    parser.add_argument("--batch", type=int, default=5000, help="page and replay batch size")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s rounds, 100k events")
    parser.add_argument(
        "--only", help="comma-separated contenders to run, e.g. a,b (for profiling)"
    )
    parser.add_argument("--skip-writes", action="store_true", help="no (a) (b) (c)")
    parser.add_argument("--skip-catchup", action="store_true", help="no (d)")
    parser.add_argument("--skip-lag", action="store_true", help="no (e)")
    parser.add_argument(
        "--lag-rate",
        type=float,
        default=3400.0,
        help="(e): appends per second (default: the HTTP bench's command rate)",
    )
    parser.add_argument("--lag-writers", type=int, default=16, help="(e): appending tasks")
    parser.add_argument("--lag-seconds", type=float, default=20.0, help="(e): measured")
    parser.add_argument("--lag-rounds", type=int, default=3, help="(e): rounds")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="add contenders that split (b)'s cost, and auto_explain one append",
    )
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="diagnostic only, for every contender alike (default on: honest durability)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.events, args.catchup_rounds = 2.0, 0.5, 100_000, 1
        args.lag_seconds, args.lag_rounds = 5.0, 1
    return args


async def bench_writes(bench: Bench, args: argparse.Namespace) -> None:
    contenders: dict[str, tuple[str, Callable[[], Awaitable[Result]]]] = {
        "a": ("(a) plain asyncpg INSERT", bench.plain),
        "b": ("(b) EventStore.append", bench.store_append),
        "c": ("(c) eventsourcing recorder", bench.library),
    }
    if args.diagnose:
        contenders |= {
            "a_pool": ("    a through the pool", bench.plain_pooled),
            "a_fn": ("    a in a plpgsql SRF", bench.plain_function),
            "b_sql": ("    append_events, own conns", bench.function_call("append_events")),
        }
        for name in _DIAG_FUNCTIONS:
            contenders[name] = (
                f"    {name.replace('append_', 'fn ')}",
                bench.function_call(f"bench_diag.{name}"),
            )
        contenders["b_pool"] = ("    b through the pool", bench.store_append_pooled)
        contenders["one_sql"] = ("    APPEND_ONE, own conns", bench.single_statement())
        contenders["one_sql_unsafe"] = (
            "    APPEND_ONE without horizon lock",
            bench.single_statement(APPEND_ONE_NO_HORIZON_SQL),
        )
    keys = [k for k in contenders if not args.only or k in args.only.split(",")]
    results: dict[str, list[Result]] = {k: [] for k in keys}
    for r in range(args.rounds):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        line = []
        for key in order:
            result = await contenders[key][1]()
            results[key].append(result)
            line.append(f"{key}={result.rate:,.0f}")
        print(f"  round {r + 1}: " + " ".join(line), flush=True)
    print()
    print_table(results, {k: v[0] for k, v in contenders.items()})
    rate = {k: statistics.median(r.rate for r in v) for k, v in results.items()}
    if {"a", "b", "c"} <= rate.keys():
        a, b, c = rate["a"], rate["b"], rate["c"]
        print()
        print(f"b/a = {b / a:.2f}  (target >= 0.7)")
        print(f"b/c = {b / c:.1f}  (target >= 5)")
        print(f"a/c = {a / c:.1f}")
        cost = {k: _cpu_per_event(results[k]) for k in "ab"}
        if cost["a"] is not None and cost["b"] is not None:
            print(
                f"CPU per event (client + server): a {cost['a']:.0f} us, b {cost['b']:.0f} us;"
                f" a/b = {cost['a'] / cost['b']:.2f} (what b/a tends to when the CPUs are"
                " the limit, as on this machine)"
            )
    if args.diagnose:
        async with bench.pool.acquire() as conn:
            print("\nauto_explain of one append_events call (single connection, no load):")
            await explain_append(conn)


async def bench_lag(dsn: str, args: argparse.Namespace) -> None:
    print(
        f"\n(e) commit-to-reader lag: {args.lag_writers} tasks appending at"
        f" {args.lag_rate:,.0f} events/s in all, single appends or mixed (see feed_lag.py)"
        f" ({args.warmup:g} s warm-up, {args.lag_seconds:g} s measured, {args.lag_rounds}"
        f" rounds), the lane of {args.append_connections}"
    )
    print(
        f"  {'subscriber':<28} {'events':>7} {'missing':>7} {'p50 ms':>8} {'p90 ms':>8}"
        f" {'p99 ms':>8} {'max ms':>8}"
    )
    p99: dict[str, list[float]] = {}
    for r in range(args.lag_rounds):
        for mixed in (False, True):
            reached, seen = await measure_lag(
                dsn,
                rate=args.lag_rate,
                writers=args.lag_writers,
                warmup=args.warmup,
                seconds=args.lag_seconds,
                lane=args.append_connections,
                mixed=mixed,
            )
            load = "mixed" if mixed else "single appends"
            print(f"  round {r + 1}, {load}: {reached:,.0f} events/s", flush=True)
            for lag in seen:
                print(lag.line(), flush=True)
                p99.setdefault(f"{load}, {lag.where}", []).append(lag.p99)
    for where, values in p99.items():
        print(f"p99 {where}: median of rounds {statistics.median(values):.1f} ms (target < 250)")


async def bench_catchup(bench: Bench, args: argparse.Namespace) -> None:
    conn = await bench.connect()
    results: dict[str, list[Result]] = {"scan": [], "replay": []}
    try:
        started = time.perf_counter()
        await load_events(conn, args.events)
        print(f"\n(d) loaded {args.events:,} events in {time.perf_counter() - started:.0f} s")
        for _ in range(args.catchup_rounds):
            scan, count = await bench.probe.measure(args.events, paged_scan(conn, args.batch))
            assert count == args.events, (count, args.events)
            replayed, last = await bench.probe.measure(args.events, catch_up(conn, args.batch))
            assert last.events == args.events, (last.events, args.events)
            results["scan"].append(scan)
            results["replay"].append(replayed)
            print(
                f"  scan {scan.rate:,.0f} events/s; replay {replayed.rate:,.0f} events/s"
                f" ({last.seconds:.1f} s: reading checkpoint, horizon and events"
                f" {last.read_seconds:.1f} s, handle_batch {last.handle_seconds:.1f} s,"
                " BEGIN, checkpoint moves and commits"
                f" {last.seconds - last.read_seconds - last.handle_seconds:.1f} s)",
                flush=True,
            )
        fetching, converting = await feed_reads(conn, args.batch)
    finally:
        await conn.close()
    print()
    print_table(
        results,
        {"scan": "(d) plain paged scan", "replay": "    catch-up (ActivityProjection)"},
    )
    scan_rate = statistics.median(r.rate for r in results["scan"])
    rate = statistics.median(r.rate for r in results["replay"])
    print(
        f"\ncatch-up = {rate:,.0f} events/s (target >= 50,000); catch-up/scan ="
        f" {rate / scan_rate:.2f}"
    )
    print(
        f"one more paged pass over the feed: fetching and decoding rows {fetching:.1f} s,"
        f" turning them into RecordedEvents {converting:.1f} s"
    )


async def main() -> None:
    args = parse_args()
    async with scratch_database(
        args.database_url, settings={"synchronous_commit": args.synchronous_commit}
    ) as scratch:
        await run(args, scratch.dsn, "embedded" if scratch.embedded else args.database_url)


async def run(args: argparse.Namespace, dsn: str, where: str) -> None:
    bench: Bench | None = None
    pool: asyncpg.Pool | None = None
    try:
        pool = await open_pool(dsn, Settings(), min_size=args.writers, max_size=args.writers + 1)
        async with pool.acquire() as conn:
            await install_schema(conn)
            await conn.execute(PLAIN_DDL)
            settings = {
                s: await conn.fetchval(f"SHOW {s}")
                for s in (
                    "server_version",
                    "fsync",
                    "synchronous_commit",
                    "wal_sync_method",
                    "shared_buffers",
                )
            }
        probe_conn = await asyncpg.connect(dsn)
        probe = Probe(probe_conn, await server_is_local(probe_conn))
        bench = Bench(dsn, args.writers, args.warmup, args.seconds, pool, EventStore(pool), probe)
        bench.store = EventStore(
            pool, connect=bench.connect, append_connections=args.append_connections
        )
        await bench.open(args.diagnose)
        print(
            f"PostgreSQL {settings['server_version']} ({where}), fsync={settings['fsync']},"
            f" synchronous_commit={settings['synchronous_commit']},"
            f" wal_sync_method={settings['wal_sync_method']},"
            f" shared_buffers={settings['shared_buffers']}; {os.cpu_count()} CPUs;"
            f" Python {sys.version.split()[0]}"
        )
        print(
            f"{args.writers} writers; {args.rounds} rounds; per contender and round"
            f" {args.warmup:g} s warm-up, {args.seconds:g} s measured"
            + ("" if probe.local else "; server CPU not visible (remote server)")
        )
        if not args.skip_writes:
            await bench_writes(bench, args)
        await bench.store.close()
        if not args.skip_lag:
            await bench_lag(dsn, args)
        if not args.skip_catchup:
            await bench_catchup(bench, args)
        await probe_conn.close()
    finally:
        if bench is not None:
            await bench.close()
        if pool is not None:
            await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
