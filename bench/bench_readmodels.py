"""Read models over a realistic history, run by hand (never as a test).

    ./dev setup && .venv/bin/python bench/bench_readmodels.py [--events N] [--database-url URL]

In one run, on one scratch database, on one history of N events (default 1,000,000) made by
`history.py` (the product's own commands and append path; each platform in a process of its
own unless `--one-process`), it measures:

  (a) a plain paged scan of the events (keyset pages of 5000, rows decoded): the baseline;
  (b) each registered read model's rebuild through the product's own path (`replay`, as
      `verbinders replay NAME` runs it): events/s over the whole history, and its ratio to (a);
  (c) each list and report route that takes `as_of`, through the real app (in this process,
      over ASGI, with a coordinator's bearer token): live, then `as_of` at M random moments
      (positions of the history, mapped to the times the store recorded them): p50, p99 and
      the ratio of the p99s. Each `as_of` request has a timeout (`--timeout`); after
      `--give-up` timeouts in a row a route's remaining moments are skipped (both reported);
  (d) each read model's lag while the HTTP bench's command mix (a meeting scheduled, a
      profile updated, a member suspended or reinstated; one event each) runs through the
      command pipeline at `--lag-rate` commands/s, open loop, with the read models kept by a
      `ProjectionRunner` in this process: the lag in events and in seconds (how long ago the
      feed's horizon passed the read model's checkpoint), sampled every 0.1 s.

It prints a table per part and writes the results as JSON under bench/results/. `--only b,c`
picks parts; `--events 100000` makes a quick run. With `--keep-database NAME` (and
`--database-url`) the run uses the database NAME on that server and keeps it: the first run
generates the history there (and records what the later parts need of it: the platforms,
their coordinators' tokens, their members), later runs find it and skip the generation, so
that (a)-(d) can be measured again on the same history after a change. The product's API is
used in three small functions (`rebuild`, `query`, `lag`), to adapt when it changes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import asyncpg
import httpx

from bench_store import paged_scan
from common import scratch_database, with_database
from history import GeneratedHistory, generate
from verbinders.api.app import app_state, create_app
from verbinders.application import meetings as meetings_service
from verbinders.application import membership as membership_service
from verbinders.application import organisations as org_service
from verbinders.application.context import Actor
from verbinders.config import Settings
from verbinders.domain.meetings import MeetingMode
from verbinders.domain.profile import ProfileChanges
from verbinders.projections.engine import replay
from verbinders.runtime import open_runtime
from verbinders.store.moments import catch_up_moment_marks

if TYPE_CHECKING:
    from verbinders.runtime import Runtime

RESULTS = Path(__file__).parent / "results"

ROUTES = {
    "directory q": "/organisations?q=taalles&limit=20",
    "strengths q": "/strengths?q=tolken&limit=20",
    "membership register": "/membership?limit=50",
    "membership growth": "/reports/membership-growth",
    "meetings past": "/meetings?when=past&limit=50",
    "attendance report": "/reports/attendance",
    "calls": "/calls",
    "calls of a year": "/reports/calls?year=2023",
}
"""The list and report routes that take `as_of` (one call's own routes are left out)."""


# -- the product's API, in three small functions ---------------------------------------------


async def rebuild(runtime: Runtime, name: str) -> None:
    """Rebuild read model `name` from the first event, as `verbinders replay NAME` does."""
    conn = await runtime.connect()
    try:
        await replay(conn, runtime.runner.projections[name])
    finally:
        await conn.close()


async def query(
    client: httpx.AsyncClient, route: str, as_of: datetime | None, timeout: float
) -> float | None:
    """Seconds one GET took (None: no answer within `timeout`); anything but 200 fails."""
    url = route
    if as_of is not None:
        url += ("&" if "?" in route else "?") + urlencode({"as_of": as_of.isoformat()})
    started = time.perf_counter()
    try:
        response = await asyncio.wait_for(client.get(url), timeout)
    except TimeoutError:
        return None
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
    return time.perf_counter() - started


async def lag(runtime: Runtime) -> dict[str, tuple[int, int]]:
    """Each read model's (checkpoint, feed horizon) now, as `verbinders status` reads them."""
    return {s.name: (s.position, s.horizon) for s in await runtime.runner.status()}


# -- (a) and (b) -----------------------------------------------------------------------------


@dataclass
class Rate:
    name: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def scan(runtime: Runtime, total: int) -> Rate:
    async with runtime.pool.acquire() as conn:
        started = time.perf_counter()
        count = await paged_scan(conn, 5000)
        seconds = time.perf_counter() - started
    if count != total:
        raise RuntimeError(f"the scan read {count} events, not {total}")
    return Rate("plain paged scan", count, seconds)


async def rebuilds(runtime: Runtime, total: int, names: list[str]) -> list[Rate]:
    rates = []
    for name in names:
        started = time.perf_counter()
        await rebuild(runtime, name)
        rates.append(Rate(name, total, time.perf_counter() - started))
        print(f"  rebuilt {name}: {rates[-1].seconds:.1f} s", flush=True)
    return rates


# -- (c) -------------------------------------------------------------------------------------


@dataclass
class RouteResult:
    route: str
    path: str
    live: list[float] = field(default_factory=list)
    as_of: list[float] = field(default_factory=list)
    timeouts: int = 0
    skipped: int = 0

    def summary(self) -> dict[str, Any]:
        live = percentiles(self.live)
        past = percentiles(self.as_of)
        return {
            "route": self.route,
            "path": self.path,
            "live_p50_ms": live[0],
            "live_p99_ms": live[1],
            "as_of_p50_ms": past[0],
            "as_of_p99_ms": past[1],
            "p99_ratio": past[1] / live[1] if past[1] and live[1] else None,
            "answered": len(self.as_of),
            "timeouts": self.timeouts,
            "skipped": self.skipped,
        }


def percentiles(samples: list[float]) -> tuple[float | None, float | None]:
    """(p50, p99) in ms; p99 by the nearest rank (the largest of fewer than 100 samples)."""
    if not samples:
        return None, None
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def moments(runtime: Runtime, count: int, seed: int) -> list[datetime]:
    """`count` random positions of the history, as the times the store recorded them."""
    async with runtime.pool.acquire() as conn:
        last = int(await conn.fetchval("SELECT max(position) FROM events"))
        positions = random.Random(seed).sample(range(1, last + 1), k=min(count, last))
        rows = await conn.fetch(
            "SELECT position, recorded_at FROM events WHERE position = any($1::bigint[])",
            positions,
        )
    return [row["recorded_at"] for row in rows]


async def routes(
    runtime: Runtime,
    settings: Settings,
    token: str,
    times: list[datetime],
    *,
    live: int,
    timeout: float,
    give_up: int,
    only: list[str] | None,
) -> list[RouteResult]:
    app = create_app(settings, runtime=runtime)
    app.state.verbinders = app_state(runtime, settings)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    results = []
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers, timeout=None
    ) as client:
        for name, path in ROUTES.items():
            if only and name not in only:
                continue
            result = RouteResult(name, path)
            for _ in range(3):  # warm-up
                await query(client, path, None, 60)
            for _ in range(live):
                seconds = await query(client, path, None, 60)
                assert seconds is not None
                result.live.append(seconds)
            in_a_row = 0
            for n, moment in enumerate(times):
                seconds = await query(client, path, moment, timeout)
                if seconds is None:
                    result.timeouts += 1
                    in_a_row += 1
                    if in_a_row >= give_up:
                        result.skipped = len(times) - n - 1
                        break
                else:
                    in_a_row = 0
                    result.as_of.append(seconds)
            summary = result.summary()
            print(
                f"  {name}: live p99 {fmt(summary['live_p99_ms'])} ms, as_of p99"
                f" {fmt(summary['as_of_p99_ms'])} ms, {result.timeouts} timeouts,"
                f" {result.skipped} skipped",
                flush=True,
            )
            results.append(result)
    return results


# -- (d) -------------------------------------------------------------------------------------


@dataclass
class LagResult:
    commands: int
    seconds: float
    samples: int
    worst_events: dict[str, int]
    worst_seconds: dict[str, float]
    p99_seconds: dict[str, float]


async def lag_under_load(
    runtime: Runtime,
    tenant: str,
    members: list[tuple[uuid.UUID, bool]],
    *,
    rate: float,
    seconds: float,
    writers: int,
) -> LagResult:
    """The HTTP bench's command mix through the pipeline while the read models follow."""
    actor = Actor(tenant=tenant, roles=("coordinator",), label="bench")
    suspended = {org: flag for org, flag in members}
    orgs = [org for org, _ in members]
    if not orgs:
        raise RuntimeError("no members to send the command mix to")
    issued = 0
    stop = asyncio.Event()
    runner = asyncio.create_task(runtime.runner.run(stop))
    last = await runtime.store.last_position()
    for name in runtime.runner.projections:
        if not await runtime.runner.wait_for(name, last, timeout=600):
            raise RuntimeError(f"{name} did not catch up before the load")

    async def command(n: int) -> None:
        org = orgs[(n // 3) % len(orgs)]
        kind = n % 3
        if kind == 0:
            starts = datetime.now(UTC) + timedelta(days=30)
            await runtime.pipeline.run(
                meetings_service.schedule_meeting,
                actor,
                title=f"Bench {n}",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                mode=MeetingMode.ONLINE,
                online_link="https://meet.voorbeeld.nl/bench",
            )
        elif kind == 1:
            changes = ProfileChanges(description=f"Bijgewerkt door de bench {n}")
            await runtime.pipeline.run(org_service.update_organisation, actor, org, changes)
        else:
            action = membership_service.reinstate if suspended[org] else membership_service.suspend
            suspended[org] = not suspended[org]
            await runtime.pipeline.run(action, actor, org, reason="bench")

    # Each writer keeps its own schedule (open loop) and owns every `writers`-th command, so
    # that no two writers race for one organisation's streams.
    started = time.monotonic()
    end = started + seconds

    async def writer(w: int) -> None:
        nonlocal issued
        interval = writers / rate
        n, due = w, started + w / rate
        while due < end:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await command(n)
            issued += 1
            n += writers
            due += interval

    horizons: list[tuple[float, int]] = []
    worst_events: dict[str, int] = {}
    lags: dict[str, list[float]] = {name: [] for name in runtime.runner.projections}

    async def sample() -> int:
        count = 0
        while not stop.is_set():
            now = time.monotonic()
            status = await lag(runtime)
            count += 1
            for name, (checkpoint, horizon) in status.items():
                horizons.append((now, horizon))
                worst_events[name] = max(worst_events.get(name, 0), horizon - checkpoint)
                # Seconds since the horizon first passed the checkpoint (0 when caught up).
                passed = next((t for t, h in horizons if h > checkpoint), None)
                lags[name].append(0.0 if passed is None else now - passed)
            await asyncio.sleep(0.1)
        return count

    sampler = asyncio.create_task(sample())
    try:
        await asyncio.gather(*(writer(w) for w in range(writers)))
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        samples = await sampler
        await runner
    return LagResult(
        commands=issued,
        seconds=elapsed,
        samples=samples,
        worst_events=worst_events,
        worst_seconds={name: max(values, default=0.0) for name, values in lags.items()},
        p99_seconds={name: (percentiles(values)[1] or 0.0) / 1000 for name, values in lags.items()},
    )


# -- the run ---------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded PG 18)")
    parser.add_argument("--events", type=int, default=1_000_000, help="the history's size")
    parser.add_argument("--platforms", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--one-process", action="store_true", help="generate all platforms in this process"
    )
    parser.add_argument(
        "--calls-every",
        type=int,
        default=6,
        help="months between a platform's calls in the history (issue_call reads the store)",
    )
    parser.add_argument("--only", default="a,b,c,d", help="parts to run, e.g. a,b")
    parser.add_argument("--models", help="read models for (b), comma-separated (default: all)")
    parser.add_argument("--routes", help="routes for (c), comma-separated names (default: all)")
    parser.add_argument("--moments", type=int, default=50, help="as_of moments per route (c)")
    parser.add_argument("--live", type=int, default=50, help="live requests per route (c)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per as_of request (c), s")
    parser.add_argument("--give-up", type=int, default=3, help="timeouts in a row (c)")
    parser.add_argument("--lag-rate", type=float, default=300.0, help="commands/s (d)")
    parser.add_argument("--lag-seconds", type=float, default=30.0)
    parser.add_argument("--lag-writers", type=int, default=16)
    parser.add_argument(
        "--keep-database",
        metavar="NAME",
        help="generate the history into NAME once and keep it; later runs reuse it",
    )
    return parser.parse_args()


async def run(args: argparse.Namespace, dsn: str, version: str, embedded: bool) -> dict[str, Any]:
    parts = set(args.only.split(","))
    settings = Settings(database_url=dsn, run_projections=False)
    out: dict[str, Any] = {
        "command": "bench/bench_readmodels.py " + " ".join(args.argv),
        "started": datetime.now(UTC).isoformat(),
        "postgresql": f"{version} ({'embedded' if embedded else 'server'})",
    }
    async with open_runtime(settings) as runtime:
        await runtime.runner.prepare()
        history = await kept_history(runtime) if args.keep_database else None
        if history is None:
            history = await generate(
                runtime,
                args.events,
                processes=not args.one_process,
                platforms=args.platforms,
                seed=args.seed,
                calls_every=args.calls_every,
            )
            async with runtime.pool.acquire() as conn:
                await conn.execute("VACUUM (ANALYZE) events")
            if args.keep_database:
                await keep_history(runtime, history)
        else:
            # An earlier run's (d) appended its commands to the kept history: count them in.
            async with runtime.pool.acquire() as conn:
                stored = int(await conn.fetchval("SELECT count(*) FROM events"))
            print(
                f"history: the one kept in the database (generation skipped), {stored:,} events"
                f" now ({stored - history.events:,} appended by earlier runs' part d)",
                flush=True,
            )
            history = dataclasses.replace(history, events=stored)
        total = history.events
        print(
            f"history: {total:,} events, {history.organisations:,} organisations on"
            f" {len(history.tenants)} platforms, {history.months} months, in"
            f" {history.seconds:.1f} s ({total / history.seconds:,.0f} events/s); calls"
            f" (every {args.calls_every} months) took {history.call_seconds:.1f} s, summed over"
            f" the processes",
            flush=True,
        )
        out["history"] = {
            "events": total,
            "seconds": history.seconds,
            "organisations": history.organisations,
            "platforms": len(history.tenants),
            "months": history.months,
            "appends": history.appends,
            "pipeline_commands": history.pipeline_commands,
            "call_seconds": history.call_seconds,
            "pipeline_seconds": history.pipeline_seconds,
        }
        base: Rate | None = None
        if "a" in parts or "b" in parts:
            base = await scan(runtime, total)
            print(f"(a) {base.name}: {base.rate:,.0f} events/s", flush=True)
            out["a"] = asdict(base) | {"rate": base.rate}
        names = list(runtime.runner.projections)
        if args.models:
            names = [n for n in names if n in args.models.split(",")]
        if "b" in parts:
            rates = await rebuilds(runtime, total, names)
            out["b"] = [asdict(r) | {"rate": r.rate} for r in rates]
            print("\n(b) rebuild, events/s over the whole history; ratio to the plain scan")
            print(f"{'read model':24} {'seconds':>9} {'events/s':>10} {'/ scan':>7}")
            for r in rates:
                ratio = r.rate / base.rate if base else None
                print(f"{r.name:24} {r.seconds:9.1f} {r.rate:10,.0f} {fmt(ratio, 3):>7}")
        else:
            for name in names:  # the read models must be there for (c) and (d)
                await runtime.runner.catch_up(name, timeout=3600)
        tenant = history.tenants[0]
        if "c" in parts:
            # The moment marks `as_of` starts from: `serve` writes them as events come in; a
            # history generated here (or kept from an earlier run) is caught up at once.
            async with runtime.pool.acquire() as conn:
                started = time.perf_counter()
                marks = await catch_up_moment_marks(conn)
            print(
                f"moment marks: {marks:,} written in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            times = await moments(runtime, args.moments, args.seed)
            print(f"\n(c) routes of {tenant}, live and as_of {len(times)} moments", flush=True)
            results = await routes(
                runtime,
                settings,
                history.tokens[tenant],
                times,
                live=args.live,
                timeout=args.timeout,
                give_up=args.give_up,
                only=args.routes.split(",") if args.routes else None,
            )
            out["c"] = [r.summary() for r in results]
            print(
                f"{'route':20} {'live p50':>9} {'p99':>9} {'as_of p50':>10} {'p99':>9}"
                f" {'p99 ratio':>9} {'answered':>8} {'timeouts':>8} {'skipped':>7}"
            )
            for s in out["c"]:
                print(
                    f"{s['route']:20} {fmt(s['live_p50_ms']):>9} {fmt(s['live_p99_ms']):>9}"
                    f" {fmt(s['as_of_p50_ms']):>10} {fmt(s['as_of_p99_ms']):>9}"
                    f" {fmt(s['p99_ratio'], 2):>9} {s['answered']:>8} {s['timeouts']:>8}"
                    f" {s['skipped']:>7}"
                )
        if "d" in parts:
            print(
                f"\n(d) lag under the command mix at {args.lag_rate:g} commands/s for"
                f" {args.lag_seconds:g} s",
                flush=True,
            )
            result = await lag_under_load(
                runtime,
                tenant,
                history.members[tenant],
                rate=args.lag_rate,
                seconds=args.lag_seconds,
                writers=args.lag_writers,
            )
            out["d"] = asdict(result)
            print(
                f"{result.commands:,} commands in {result.seconds:.1f} s"
                f" ({result.commands / result.seconds:,.0f}/s), {result.samples} samples"
            )
            print(f"{'read model':24} {'worst lag events':>16} {'p99 lag s':>10} {'worst s':>8}")
            for name in result.worst_events:
                print(
                    f"{name:24} {result.worst_events[name]:16,} "
                    f"{result.p99_seconds[name]:10.2f} {result.worst_seconds[name]:8.2f}"
                )
    return out


KEPT_HISTORY = "bench_kept_history"
"""The table, in a database kept with `--keep-database`, that records its generated history."""


async def keep_history(runtime: Runtime, history: GeneratedHistory) -> None:
    body = asdict(history) | {
        "members": {
            tenant: [[str(member), suspended] for member, suspended in members]
            for tenant, members in history.members.items()
        }
    }
    async with runtime.pool.acquire() as conn:
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {KEPT_HISTORY} (body text NOT NULL)")
        await conn.execute(f"DELETE FROM {KEPT_HISTORY}")
        await conn.execute(f"INSERT INTO {KEPT_HISTORY} VALUES ($1)", json.dumps(body))


async def kept_history(runtime: Runtime) -> GeneratedHistory | None:
    async with runtime.pool.acquire() as conn:
        if await conn.fetchval("SELECT to_regclass($1) IS NULL", KEPT_HISTORY):
            return None
        text = await conn.fetchval(f"SELECT body FROM {KEPT_HISTORY}")
    if text is None:
        return None
    body = json.loads(text)
    body["tenants"] = tuple(body["tenants"])
    body["members"] = {
        tenant: [(uuid.UUID(member), suspended) for member, suspended in members]
        for tenant, members in body["members"].items()
    }
    return GeneratedHistory(**body)


async def main() -> None:
    import sys

    args = parse_args()
    args.argv = sys.argv[1:]
    if args.keep_database:
        if not args.database_url:
            raise SystemExit("--keep-database needs --database-url")
        admin = await asyncpg.connect(args.database_url)
        try:
            version = await admin.fetchval("SHOW server_version")
            if not await admin.fetchval(
                "SELECT true FROM pg_database WHERE datname = $1", args.keep_database
            ):
                await admin.execute(f'CREATE DATABASE "{args.keep_database}"')
        finally:
            await admin.close()
        print(f"PostgreSQL {version} (server), database {args.keep_database} (kept)", flush=True)
        out = await run(
            args, with_database(args.database_url, args.keep_database), version, embedded=False
        )
    else:
        async with scratch_database(args.database_url) as scratch:
            version = await scratch.admin.fetchval("SHOW server_version")
            print(
                f"PostgreSQL {version} ({'embedded' if scratch.embedded else 'server'})",
                flush=True,
            )
            out = await run(args, scratch.dsn, version, scratch.embedded)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"readmodels-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    asyncio.run(main())
