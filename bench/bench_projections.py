"""What the read models cost per event while commands stream in, run by hand (never as a test).

    ./dev setup && .venv/bin/python bench/bench_projections.py [--database-url URL]

In one run, on one database, in rounds: writers issue tokens through the product's own command
(`issue_token`, one event each, as `POST /tokens` does) for a fixed time, while a
`ProjectionRunner` in this process keeps a set of read models, each with its connections:

  none       no read models: the baseline (the writers alone);
  all        the five read models `verbinders serve` keeps, at the runner's step interval;
  <name>     each read model alone;
  all@<s>    the five at another step interval (`--intervals`, seconds).

Per configuration it prints the events appended per second, this process's CPU per event (the
writers and the runner; compare with `none`), and the CPU per event of the runner's own
database connections (their backends, read from /proc: the server must run on this machine).
The rounds rotate the order of the configurations; the table shows medians. The machine is
shared and noisy: compare configurations within a run, not runs with each other.

With --database-url it creates a database `verbinders_bench_<random>` on that server and drops
it afterwards; without, an embedded PostgreSQL 18 in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
from typing import TYPE_CHECKING

import asyncpg

from common import proc_stat, scratch_database
from verbinders.application.context import Actor
from verbinders.application.tokens import issue_token
from verbinders.config import Settings
from verbinders.database import connect
from verbinders.projections import ProjectionRunner, all_projections
from verbinders.projections.runner import STEP_INTERVAL
from verbinders.runtime import open_runtime

if TYPE_CHECKING:
    from verbinders.projections.engine import Projection
    from verbinders.runtime import Runtime


def backend_cpu(pid: int) -> float:
    """CPU seconds a database backend has used so far (0 once it is gone)."""
    stat = proc_stat(pid)
    return stat[1] if stat is not None else 0.0


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    runtime: Runtime,
    projections: list[Projection],
    step_interval: float,
    *,
    seconds: float,
    writers: int,
) -> tuple[float, float, float]:
    """(events/s, this process's CPU µs/event, the runner's backends' CPU µs/event)."""
    pids: list[int] = []

    async def open_connection() -> asyncpg.Connection:
        conn = await connect(runtime.database.dsn, runtime.settings)
        pids.append(await conn.fetchval("SELECT pg_backend_pid()"))
        return conn

    runner = ProjectionRunner(
        runtime.store,
        runtime.signal,
        projections,
        open_connection,
        step_interval=step_interval,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        # Caught up with the earlier rounds before the clock starts.
        last = await runtime.store.last_position()
        for projection in projections:
            if not await runner.wait_for(projection.name, last, timeout=300):
                raise RuntimeError(f"{projection.name} did not catch up")
        actor = Actor(tenant="bench", roles=("coordinator",), label="bench")
        appended = 0
        end = time.monotonic() + seconds

        async def writer() -> None:
            nonlocal appended
            while time.monotonic() < end:
                await runtime.pipeline.run(issue_token, actor, roles=("analyst",), label="bench")
                appended += 1

        backends, mine, started = sum(map(backend_cpu, pids)), own_cpu(), time.monotonic()
        await asyncio.gather(*(writer() for _ in range(writers)))
        elapsed = time.monotonic() - started
        backends = sum(map(backend_cpu, pids)) - backends
        mine = own_cpu() - mine
    finally:
        stop.set()
        await task
    return appended / elapsed, mine / appended * 1e6, backends / appended * 1e6


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded PG 18)")
    parser.add_argument("--seconds", type=float, default=6.0, help="measured time per config")
    parser.add_argument("--writers", type=int, default=8, help="concurrent command writers")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--intervals",
        default="0.02",
        help=f"other step intervals for all five, comma-separated (default step {STEP_INTERVAL})",
    )
    parser.add_argument("--alone", action="store_true", help="also each read model alone")
    return parser.parse_args()


async def run(args: argparse.Namespace, dsn: str) -> None:
    settings = Settings(database_url=dsn, run_projections=False)
    async with open_runtime(settings) as runtime:
        await runtime.runner.prepare()
        models = list(all_projections())
        configs: list[tuple[str, list[Projection], float]] = [
            ("none", [], STEP_INTERVAL),
            ("all", models, STEP_INTERVAL),
        ]
        if args.alone:
            configs += [(m.name, [m], STEP_INTERVAL) for m in models]
        for text in filter(None, args.intervals.split(",")):
            configs.append((f"all@{float(text):g}s", models, float(text)))
        results: dict[str, list[tuple[float, float, float]]] = {c[0]: [] for c in configs}
        for r in range(args.rounds):
            shift = r % len(configs)
            for label, projections, interval in configs[shift:] + configs[:shift]:
                results[label].append(
                    await measure(
                        runtime,
                        projections,
                        interval,
                        seconds=args.seconds,
                        writers=args.writers,
                    )
                )
            print(f"  round {r + 1} done", flush=True)
        print()
        print(f"{'read models':16} {'events/s':>9} {'process CPU':>12} {'their backends':>15}")
        print(f"{'':16} {'':>9} {'us/event':>12} {'us/event':>15}")
        for label, rounds in results.items():
            rate, mine, backends = (statistics.median(x[i] for x in rounds) for i in range(3))
            print(f"{label:16} {rate:9,.0f} {mine:12.1f} {backends:15.1f}")


async def main() -> None:
    args = parse_args()
    async with scratch_database(args.database_url) as scratch:
        version = await scratch.admin.fetchval("SHOW server_version")
        print(
            f"PostgreSQL {version} ({'embedded' if scratch.embedded else 'server'});"
            f" {args.writers} writers issuing tokens, {args.seconds:g} s per configuration,"
            f" {args.rounds} rounds",
            flush=True,
        )
        await run(args, scratch.dsn)


if __name__ == "__main__":
    asyncio.run(main())
