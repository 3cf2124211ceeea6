"""Rebuild times of read models on a history already stored, run by hand (never as a test).

    .venv/bin/python bench/bench_rebuild.py --database-url URL [--models meetings] [--rounds 2]

URL names a database holding a history (e.g. one `bench/history.py` filled; nothing else
writes to it). In turn, per round: the plain paged scan of the events (the baseline of
`bench_readmodels.py`'s (a)), then each model's rebuild through `replay` (as `verbinders
replay NAME`), with the seconds of its indexes after the load. To compare two versions of the
code on one history, run it from each tree in alternation (`PYTHONPATH=<other>/src`); a
rebuild that cannot be swapped in (a newer version of the model is active) is timed all the
same and reported as not activated.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import time

from bench_store import paged_scan
from verbinders.config import Settings
from verbinders.projections import engine
from verbinders.projections.engine import LostLeadership, replay
from verbinders.runtime import open_runtime


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--models", default="meetings")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--batch-size", type=int, help="events per batch (default: replay's)")
    args = parser.parse_args()
    indexes = engine.ensure_indexes
    spent = [0.0]

    async def timed_indexes(*a: object, **k: object) -> None:
        started = time.perf_counter()
        await indexes(*a, **k)  # type: ignore[arg-type]
        spent[0] = time.perf_counter() - started

    engine.ensure_indexes = timed_indexes  # type: ignore[assignment]
    beside = getattr(engine, "ensure_indexes_beside", None)
    if beside is not None:  # the same on two connections (a `replay` given a `reader`)

        async def timed_beside(*a: object, **k: object) -> None:
            started = time.perf_counter()
            await beside(*a, **k)
            spent[0] = time.perf_counter() - started

        engine.ensure_indexes_beside = timed_beside
    settings = Settings(database_url=args.database_url, run_projections=False)
    async with open_runtime(settings) as runtime:
        await runtime.runner.prepare()
        conn = await runtime.connect()
        # A second connection for the engine to read ahead on, where its `replay` takes one.
        reader = (
            await runtime.connect() if "reader" in inspect.signature(replay).parameters else None
        )
        try:
            total = int(await conn.fetchval("SELECT count(*) FROM events"))
            for _ in range(args.rounds):
                started = time.perf_counter()
                await paged_scan(conn, 5000)
                seconds = time.perf_counter() - started
                print(f"scan: {seconds:.2f} s, {total / seconds:,.0f} events/s", flush=True)
                for name in args.models.split(","):
                    note = ""
                    started = time.perf_counter()
                    try:
                        options: dict[str, object] = {} if reader is None else {"reader": reader}
                        if args.batch_size:
                            options["batch_size"] = args.batch_size
                        await replay(conn, runtime.runner.projections[name], **options)
                    except LostLeadership:
                        note = " (not activated: a newer version is active)"
                    seconds = time.perf_counter() - started
                    print(
                        f"{name}: {seconds:.2f} s, {total / seconds:,.0f} events/s,"
                        f" indexes {spent[0]:.2f} s{note}",
                        flush=True,
                    )
        finally:
            if reader is not None:
                await reader.close()
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
