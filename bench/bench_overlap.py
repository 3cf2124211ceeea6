"""The overlap check for one new activity among 100,000 activities of 2,000 organisations:
p50 and p99 against a plain indexed lookup of the same rows, in the same run.

    .venv/bin/python bench/bench_overlap.py [--activities 100000] [--organisations 2000]
        [--checks 300] [--database-url URL] [--keep-database NAME] [--rebuilds-only]

1. A deterministic history on one platform: `--activities` activities of
   `--organisations` organisations (Haarlem's themes and districts; 40 kinds of activity in
   Dutch; weekly series of 6 to 30 weeks or one-off afternoons and evenings, 2020-2027),
   made by `Activity.plan` itself and appended through the store's real path in batches.
2. A plain paged scan of the events (keyset pages of 5000, rows decoded, as
   `bench_store.paged_scan`): the baseline of the rebuilds. Then the candidate index
   (`overlap_candidates`) and the `activities` read model rebuilt through the product's own
   path (`replay`, as `verbinders replay NAME` runs it: batches of 20,000 folded in memory and
   written set-based, secondary indexes built after the load): events/s, ratio to the scan.
   `--rebuilds-only` stops here.
3. `--checks` drafts like the others (not saved), each checked as "check before you plan"
   does (`overlap_search.search(limit=20)`: the statement that finds the draft's candidates
   by GIN on the hour slots, those of highest score bound first, then each ranked by its
   score and the best 20 explained, as the route returns them); that first statement timed
   again on its own; and, as the baseline, the same rows (every candidate: each activity
   that shares an hour and a theme or a word with the draft, whatever its bound) fetched
   by a plain indexed lookup (primary key, `= any($2)`) and decoded, without search or
   scoring. Prints p50/p99 of both, their ratio and the number of candidates found.

With `--keep-database NAME` (and `--database-url`) the run uses the database NAME on that
server and keeps it: the first such run makes the history and rebuilds as above, later ones
find them there and time the checks only (steps 1 and 2 skipped), so two versions of the
search can be compared, one run after the other, on the same rows. The database is left for
the caller to drop.

Results go to docs/benchmarks.md by hand, with the command.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import random
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from bench.common import scratch_database, with_database

from verbinders.application import overlap_search
from verbinders.application.overlap_search import fetch_candidates, score_candidates, search
from verbinders.config import Settings
from verbinders.domain.activities import Activity
from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.overlap import DEFAULT_THRESHOLD
from verbinders.domain.schedule import OneOff, Schedule, Weekday, Weekly
from verbinders.domain.vocabulary import DEFAULT_DISTRICTS, DEFAULT_THEMES, Vocabulary
from verbinders.projections.engine import replay
from verbinders.runtime import Runtime, open_runtime
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.mapping import encode_event, stream_type_of

AMS = ZoneInfo("Europe/Amsterdam")
TENANT = "bench"
KINDS = (
    ("Taalcafé", "Samen Nederlands oefenen bij een kop koffie", ("language", "integration")),
    ("Huiswerkbegeleiding", "Hulp bij huiswerk voor kinderen", ("education", "youth")),
    ("Kookworkshop", "Gezond en goedkoop koken met recepten uit alle keukens", ("health",)),
    ("Naaiatelier", "Samen kleding maken en herstellen", ("women", "participation")),
    ("Repair café", "Spullen repareren in plaats van weggooien", ("sustainability",)),
    ("Ouderensoos", "Ontmoeting, spelletjes en koffie voor ouderen", ("elderly",)),
    ("Voetbaltoernooi", "Voetbal voor jongeren uit de wijk", ("sport", "youth")),
    ("Digicafé", "Hulp met de smartphone en DigiD", ("digital-skills", "elderly")),
    ("Schuldhulpspreekuur", "Inloopspreekuur over geldzaken en schulden", ("debt", "poverty")),
    ("Opvoedgesprek", "Moeders en vaders praten over opvoeden", ("parenting",)),
    ("Sollicitatietraining", "Oefenen met solliciteren en gesprekken", ("work",)),
    ("Moestuin", "Samen tuinieren in de buurtmoestuin", ("sustainability", "health")),
    ("Koor", "Zingen in een buurtkoor", ("culture",)),
    ("Dansles", "Dansen voor meiden", ("culture", "youth")),
    ("Iftar-maaltijd", "Samen het vasten breken tijdens de ramadan", ("faith", "culture")),
    ("Mantelzorgcafé", "Lotgenotencontact voor mantelzorgers", ("care",)),
    ("Fietsles", "Leren fietsen voor vrouwen", ("women", "integration")),
    ("Voorleesuurtje", "Voorlezen voor peuters en kleuters", ("education", "language")),
    ("Buurtmaaltijd", "Samen eten met de buren", ("participation", "poverty")),
    ("Zwemles", "Zwemles voor volwassenen", ("sport", "health")),
)
GROUPS = (
    "nieuwkomers",
    "ouderen",
    "jongeren",
    "vrouwen",
    "kinderen",
    "gezinnen",
    "statushouders",
    "mantelzorgers",
    "Turkse ouderen",
    "moeders met jonge kinderen",
)
LANGUAGES = ("nl", "tr", "ar", "en", "pl", "ti", "so", "pap", "srn", "fa")
DAYS = tuple(Weekday)
SUFFIXES = ("in de wijk", "voor iedereen", "op zaterdag", "extra", "")
NOTES = ("Gratis.", "Met vrijwilligers.", "Aanmelden niet nodig.")
VOCABULARY = Vocabulary(districts=DEFAULT_DISTRICTS, themes=DEFAULT_THEMES)
# The check's first statement: the best 20's candidates of highest bound (a search that
# fetches all, as before the bound, takes no limit).
# The policy's search: only the candidates whose bound reaches the threshold (all before).
POLICY = {"floor": DEFAULT_THRESHOLD} if hasattr(overlap_search, "fetched_for") else {}
STATEMENT = (
    {"limit": overlap_search.fetched_for(20)} if hasattr(overlap_search, "fetched_for") else {}
)


def draft(rng: random.Random) -> tuple[ActivityDetails, Schedule]:
    title, text, themes = rng.choice(KINDS)
    district = rng.choice([d.code for d in DEFAULT_DISTRICTS] + [None])
    details = ActivityDetails(
        title=f"{title} {rng.choice(SUFFIXES)}".strip(),
        description=f"{text}. {rng.choice(NOTES)}",
        themes=themes,
        target_groups=(rng.choice(GROUPS),),
        districts=(district,) if district else (),
        languages=("nl", rng.choice(LANGUAGES)),
        venue=None,
        expected_participants=rng.randint(5, 60),
    )
    start = date(2020, 1, 6) + timedelta(days=rng.randrange(7 * 365))
    hour = rng.choice((9, 10, 13, 14, 15, 19, 20))
    if rng.random() < 0.7:
        schedule: Schedule = Weekly(
            weekdays=(rng.choice(DAYS),),
            starts=clock(hour),
            ends=clock(hour + 2),
            first_day=start,
            last_day=start + timedelta(weeks=rng.randint(6, 30)),
        )
    else:
        begins = datetime.combine(start, clock(hour), tzinfo=AMS)
        schedule = OneOff(starts_at=begins, ends_at=begins + timedelta(hours=rng.choice((2, 3, 4))))
    return details, schedule


async def history(runtime, activities: int, organisations: int, seed: int) -> float:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    orgs = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(organisations)]
    started = time.perf_counter()
    batch: list[NewEvent] = []
    expected: dict[uuid.UUID, int] = {}
    metadata = Metadata(tenant=TENANT, actor="bench", roles=("coordinator",))
    stream_type = stream_type_of(Activity)
    for n in range(activities):
        details, schedule = draft(rng)
        activity = Activity.plan(
            activity_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            tenant=TENANT,
            organisation_id=orgs[n % organisations],
            details=details,
            schedule=schedule,
            vocabulary=VOCABULARY,
            planned_by="bench",
            at=datetime(2019, 12, 1, tzinfo=UTC) + timedelta(minutes=n),
        )
        for event in activity.collect_events():
            topic, payload = encode_event(event, {})
            batch.append(
                NewEvent(
                    stream_id=activity.id,
                    stream_type=stream_type,
                    version=1,
                    topic=topic,
                    payload=payload,
                )
            )
            expected[activity.id] = 0
        if len(batch) >= 2000:
            await runtime.store.append(batch, expected=expected, metadata=metadata)
            batch, expected = [], {}
    if batch:
        await runtime.store.append(batch, expected=expected, metadata=metadata)
    return time.perf_counter() - started


def cold_caches() -> None:
    """Empty the caches the folds use (local day and time to UTC, expansions, documents)."""
    from verbinders.domain import schedule as schedule_module
    from verbinders.projections import activities, overlap_candidates

    schedule_module._local_to_utc.cache_clear()
    for name in ("utc_moment", "_zone_days"):
        if hasattr(schedule_module, name):
            getattr(schedule_module, name).cache_clear()
    for name in ("_range", "_slot_range"):
        if hasattr(overlap_candidates, name):
            getattr(overlap_candidates, name).cache_clear()
    activities._schedule_facts.cache_clear()
    for cache in (overlap_candidates._documents, overlap_candidates._groups):
        cache.cache_clear()
    overlap_candidates._when.cache_clear()


async def paged_scan(conn, page: int) -> int:  # type: ignore[no-untyped-def]
    """The plain way to read every event (the same as `bench_store.paged_scan`)."""
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


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, dsn: str, *, reused: bool = False) -> None:
    settings = replace(Settings(), database_url=dsn, run_projections=False)
    async with open_runtime(settings) as runtime:
        await runtime.runner.prepare()
        if not reused:
            await build(runtime, args)
        if args.rebuilds_only:
            return
        await checks(runtime, args)


async def build(runtime: Runtime, args: argparse.Namespace) -> None:
    """The history, the plain scan and the two rebuilds (steps 1 and 2)."""
    seconds = await history(runtime, args.activities, args.organisations, args.seed)
    print(
        f"history: {args.activities:,} activities of {args.organisations:,} organisations"
        f" appended in {seconds:.1f} s",
        flush=True,
    )
    async with runtime.pool.acquire() as conn:
        started = time.perf_counter()
        scanned = await paged_scan(conn, 5000)
        scan_rate = scanned / (time.perf_counter() - started)
    print(f"plain paged scan: {scanned:,} events, {scan_rate:,.0f} events/s", flush=True)
    for name in ("overlap_candidates", "activities"):
        cold_caches()  # as a rebuild in a fresh process: `Activity.plan` above warmed them
        conn = await runtime.connect()
        # A second connection for the engine to read ahead on, where its `replay` takes one.
        reader = (
            await runtime.connect() if "reader" in inspect.signature(replay).parameters else None
        )
        try:
            options = {} if reader is None else {"reader": reader}
            started = time.perf_counter()
            await replay(conn, runtime.runner.projections[name], **options)
            took = time.perf_counter() - started
        finally:
            if reader is not None:
                await reader.close()
            await conn.close()
        rate = scanned / took
        print(
            f"rebuild {name} (replay): {took:.1f} s ({rate:,.0f} events/s,"
            f" {rate / scan_rate:.2f} x the scan)",
            flush=True,
        )
    async with runtime.pool.acquire() as conn:
        await conn.execute("VACUUM (ANALYZE)")


async def checks(runtime: Runtime, args: argparse.Namespace) -> None:
    """The drafts checked, against the plain lookup of the same rows (step 3)."""
    rng = random.Random(args.seed + 1)
    checks, lookups, found, statements, rows_found = [], [], [], [], []
    fetched: list[int] = []
    policies: list[float] = []
    positive: list[int] = []
    async with runtime.connection() as conn:
        for n in range(args.checks + 20):
            details, schedule = draft(rng)
            organisation = uuid.uuid4()
            draft_ = {"organisation_id": organisation, "details": details, "schedule": schedule}
            started = time.perf_counter()
            result = await search(conn, TENANT, limit=20, **draft_)
            check = time.perf_counter() - started
            # the statement alone, as the check runs it first (timed apart, run after it)
            started = time.perf_counter()
            _, first_rows = await fetch_candidates(conn, TENANT, **STATEMENT, **draft_)
            statement = time.perf_counter() - started
            # the policy's search: every candidate at or above the threshold
            started = time.perf_counter()
            await search(conn, TENANT, **POLICY, **draft_)
            policy = time.perf_counter() - started
            # every candidate (untimed): the rows of the baseline
            mine, candidate_rows = await fetch_candidates(conn, TENANT, **draft_)
            ids = [row["id"] for row in candidate_rows]
            started = time.perf_counter()
            rows = await conn.fetch(
                "SELECT c.* FROM overlap_candidates.candidates c WHERE c.tenant = $1"
                " AND c.id = any($2::uuid[]) AND c.valid_to IS NULL",
                TENANT,
                ids,
            )
            lookup = time.perf_counter() - started
            assert len(rows) == len(ids)
            if n >= 20:  # warm-up left out
                checks.append(check * 1000)
                statements.append(statement * 1000)
                fetched.append(len(first_rows))
                policies.append(policy * 1000)
                rows_found.append(len(candidate_rows))
                lookups.append(lookup * 1000)
                found.append(len(result))
                positive.append(len(score_candidates(mine, candidate_rows)))
    p50, p99 = percentile(checks, 0.5), percentile(checks, 0.99)
    l50, l99 = percentile(lookups, 0.5), percentile(lookups, 0.99)
    print(f"overlap check:  p50 {p50:.2f} ms  p99 {p99:.2f} ms  ({args.checks} drafts)")
    s50, s99 = percentile(statements, 0.5), percentile(statements, 0.99)
    print(
        f"  of which the statement: p50 {s50:.2f} ms  p99 {s99:.2f} ms"
        f" (candidate rows: median {statistics.median(rows_found):.0f},"
        f" max {max(rows_found)})"
    )
    print(
        f"  rows the statement returned: median {statistics.median(fetched):.0f},"
        f" max {max(fetched)}"
    )
    q50, q99 = percentile(policies, 0.5), percentile(policies, 0.99)
    print(f"policy search (score >= {DEFAULT_THRESHOLD}): p50 {q50:.2f} ms  p99 {q99:.2f} ms")
    print(f"plain lookup:   p50 {l50:.2f} ms  p99 {l99:.2f} ms  (the same rows by key)")
    print(f"ratio check/lookup: p50 {p50 / l50:.1f}x  p99 {p99 / l99:.1f}x")
    print(
        f"candidates per draft scoring above 0: median {statistics.median(positive):.0f},"
        f" max {max(positive)}; returned with their explanations (the best 20, as the"
        f" check route does): median {statistics.median(found):.0f}"
    )


async def kept(args: argparse.Namespace) -> None:
    """`run` on the database `--keep-database`, made and filled if missing, never dropped."""
    admin = await asyncpg.connect(args.database_url)
    try:
        exists = await admin.fetchval(
            "SELECT true FROM pg_database WHERE datname = $1", args.keep_database
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{args.keep_database}"')
    finally:
        await admin.close()
    dsn = with_database(args.database_url, args.keep_database)
    reused = False
    if exists:
        conn = await asyncpg.connect(dsn)
        try:
            reused = bool(
                await conn.fetchval("SELECT count(*) FROM events WHERE tenant = $1", TENANT)
            )
        finally:
            await conn.close()
    if reused:
        print(f"database {args.keep_database}: its history and read models reused", flush=True)
    await run(args, dsn, reused=reused)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--organisations", type=int, default=2_000)
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--keep-database",
        default=None,
        metavar="NAME",
        help="use and keep this database on --database-url; reuse its history if it has one",
    )
    parser.add_argument(
        "--rebuilds-only",
        action="store_true",
        help="stop after the scan and the rebuilds (no checks)",
    )
    args = parser.parse_args()

    async def go() -> None:
        if args.keep_database:
            if not args.database_url:
                parser.error("--keep-database needs --database-url")
            await kept(args)
            return
        async with scratch_database(args.database_url) as scratch:
            await run(args, scratch.dsn)

    asyncio.run(go())


if __name__ == "__main__":
    main()
