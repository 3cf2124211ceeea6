"""Quality of the overlap score on the hand-labelled Haarlem pairs (`tests/data/overlap_*.py`).

Prints precision, recall, F1 and the confusion matrix at thresholds around the default, for
the development part (the weights and threshold were chosen on it), the held-out part (written
before the scorer, never used to tune it) and both, then the pairs the default threshold gets
wrong, with their explanations. Lexemes come from PostgreSQL's `dutch` configuration in a
scratch database (an embedded PostgreSQL 18 unless `--database-url` names a server).

    .venv/bin/python bench/bench_overlap_quality.py [--database-url URL] [--quiet]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.data import overlap_dev, overlap_held_out
from tests.data.overlap_eval import counts, scored

from common import scratch_database
from verbinders.domain.overlap import DEFAULT_THRESHOLD

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def table(name: str, pairs: list, explanations: list) -> None:
    positives = sum(pair.overlap for pair in pairs)
    print(f"\n{name}: {len(pairs)} pairs, {positives} labelled overlap")
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'F1':>6}   TP  FP  FN  TN")
    for threshold in THRESHOLDS:
        c = counts(pairs, explanations, threshold)
        mark = "  <- default" if threshold == DEFAULT_THRESHOLD else ""
        print(
            f"{threshold:>9.2f} {c.precision:>9.3f} {c.recall:>7.3f} {c.f1:>6.3f}"
            f"  {c.tp:>3} {c.fp:>3} {c.fn:>3} {c.tn:>3}{mark}"
        )


async def main(database_url: str | None, quiet: bool) -> None:
    parts = {"development": overlap_dev.PAIRS, "held-out": overlap_held_out.PAIRS}
    async with scratch_database(database_url) as scratch:
        conn = await asyncpg.connect(scratch.dsn)
        try:
            results = {name: await scored(conn, pairs) for name, pairs in parts.items()}
            version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
    print(f"PostgreSQL {version}, default threshold {DEFAULT_THRESHOLD}")
    for name, pairs in parts.items():
        table(name, pairs, results[name])
    table(
        "both", [p for ps in parts.values() for p in ps], [e for es in results.values() for e in es]
    )
    if quiet:
        return
    print(f"\nwrong at {DEFAULT_THRESHOLD}:")
    for name, pairs in parts.items():
        for pair, explanation in zip(pairs, results[name], strict=True):
            if (explanation.score >= DEFAULT_THRESHOLD) != pair.overlap:
                kind = "missed" if pair.overlap else "false alarm"
                print(
                    f"  [{name}] {kind} {explanation.score:.3f}:"
                    f" {pair.a.title!r} / {pair.b.title!r}"
                )
                print(f"      labelled: {pair.why}")
                print(f"      scorer:   {explanation.summary}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quiet", action="store_true", help="only the tables")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.database_url, arguments.quiet))
