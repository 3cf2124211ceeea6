"""Audit benchmark, run by hand (never as a test).

    ./dev setup && .venv/bin/python bench/bench_audit.py [--events N] [--database-url URL]

In one run, on one database:
  (v) `verbinders audit verify`'s work (`audit.verify.verify`) over N events in many streams
      with seals: events per second recomputed (every chained hash, every seal's Merkle root);
      and, as its baseline, a plain keyset scan of the same rows and columns, decoded only;
  (a) single-event appends with the hash chain: `APPEND_ONE` as the store runs it (the
      predecessor's hash read in the version check, SHA-256 over the canonical bytes in the
      same statement), against
  (u) the same statement without the chain (the version check as before the chain, a constant
      hash), with the same writers (one stream and one connection each), in alternating rounds;
      the ratio (a)/(u) is the chain's append cost.

Only ratios from the same run mean anything: the machine is shared and noisy. Default target:
an embedded PostgreSQL 18 in a temporary folder; with --database-url a scratch database there.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import asyncpg

from common import scratch_database
from verbinders.audit.seals import seal
from verbinders.audit.verify import EVENT_ROW, verify
from verbinders.store.schema import APPEND_ONE, HORIZON_CTE, install_schema

PAYLOAD = '{"name": "Stichting Samen Schalkwijk", "theme": "welfare", "hours": 12}'
META = '{"tenant": "bench", "actor": "bench", "correlation_id": "bench"}'

# The single-stream append as it was before the chain: EXISTS for the version check, and a
# constant hash (the column is NOT NULL); otherwise the same statement.
UNCHAINED = f"""WITH {HORIZON_CTE}
INSERT INTO events (position, tenant, stream_id, stream_type, version, topic,
                    payload, metadata, recorded_at, hash)
SELECT nextval('event_position_seq'), $1, $2, $3, $4::integer + 1, $5, $6, $7, h.recorded_at,
       decode(repeat('ab', 32), 'hex')
  FROM horizon h
 WHERE $4::integer = 0 OR EXISTS (SELECT FROM events WHERE stream_id = $2 AND version = $4)
RETURNING position"""

LOAD = """
INSERT INTO events (position, tenant, stream_id, stream_type, version, topic, payload, metadata,
                    recorded_at, hash)
SELECT g.position, 'bench', g.stream, 'Thing', g.version, 'bench:Thing.Happened',
       $3::jsonb, $4::jsonb, g.recorded_at,
       event_chain(decode(repeat('00', 32), 'hex'),
                   event_body('bench', g.stream, 'Thing', g.version, g.position,
                              'bench:Thing.Happened', g.recorded_at, $4::jsonb, $3::jsonb))
           OVER (PARTITION BY g.stream ORDER BY g.version)
  FROM (SELECT nextval('event_position_seq') AS position,
               uuid_generate_v5_like(i % $2) AS stream, (i / $2)::integer + 1 AS version,
               timestamptz '2026-01-01' + i * interval '1 second' AS recorded_at
          FROM generate_series(0, $1 - 1) AS i ORDER BY i OFFSET 0) g
"""


async def load(conn: asyncpg.Connection, events: int, streams: int) -> None:
    await conn.execute(
        "CREATE FUNCTION uuid_generate_v5_like(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE"
        " RETURN md5('bench-stream-' || n)::uuid"
    )
    await conn.execute(LOAD, events, streams, PAYLOAD, META)
    await conn.execute("ANALYZE events")


async def scan(conn: asyncpg.Connection) -> int:
    position, count = -(2**63), 0
    while True:
        rows = await conn.fetch(
            f"SELECT {EVENT_ROW} FROM events WHERE position > $1 ORDER BY position LIMIT 5000",
            position,
        )
        if not rows:
            return count
        count += len(rows)
        position = rows[-1][0]


async def writers(dsn: str, sql: str, count: int, seconds: float) -> int:
    conns = [await asyncpg.connect(dsn) for _ in range(count)]
    stop = time.perf_counter() + seconds
    done = 0

    async def one(conn: asyncpg.Connection) -> None:
        nonlocal done
        stream, version = uuid.uuid4(), 0
        statement = await conn.prepare(sql)
        while time.perf_counter() < stop:
            await statement.fetch("bench", stream, "Thing", version, "t", PAYLOAD, META)
            version += 1
            done += 1

    try:
        await asyncio.gather(*(one(c) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    return done


async def main(args: argparse.Namespace) -> None:
    async with scratch_database(args.database_url) as scratch:
        conn = await asyncpg.connect(scratch.dsn)
        try:
            await install_schema(conn)
            version = await conn.fetchval("SHOW server_version")
            print(f"PostgreSQL {version}; {args.events:,} events in {args.streams:,} streams")
            started = time.perf_counter()
            await load(conn, args.events, args.streams)
            print(f"loaded in {time.perf_counter() - started:.1f} s")
            sealed = await seal(conn)
            assert sealed is not None
            for round_ in range(args.rounds):
                t0 = time.perf_counter()
                scanned = await scan(conn)
                t1 = time.perf_counter()
                result = await verify(conn)
                t2 = time.perf_counter()
                if not result.intact or not result.events == scanned == args.events:
                    raise SystemExit(f"verification disagrees: {result.first}")
                print(
                    f"  round {round_ + 1}: plain scan {scanned / (t1 - t0):,.0f} events/s,"
                    f" verify {result.events / (t2 - t1):,.0f} events/s"
                    f" ({(t2 - t1) / (t1 - t0):.1f}x the scan)"
                )
        finally:
            await conn.close()
        chained, unchained = [], []
        for round_ in range(args.rounds):
            order = [("a", APPEND_ONE), ("u", UNCHAINED)]
            if round_ % 2:
                order.reverse()
            for name, sql in order:
                rate = await writers(scratch.dsn, sql, args.writers, args.seconds) / args.seconds
                (chained if name == "a" else unchained).append(rate)
            print(
                f"  round {round_ + 1}: chained {chained[-1]:,.0f}/s, unchained"
                f" {unchained[-1]:,.0f}/s"
            )
        a, u = statistics.median(chained), statistics.median(unchained)
        print(
            f"appends, {args.writers} writers, medians: chained {a:,.0f}/s, unchained"
            f" {u:,.0f}/s, ratio (a)/(u) = {a / u:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--streams", type=int, default=5_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
