"""Moment marks: the feed's position at each boundary of a 100 ms grid, for `as_of` reads.

A moment maps to the last position recorded at or before it (`EventStore.position_at`). An
append reads its clock before it allocates its positions (see `recorded_at` in `schema.py`),
so times follow positions only within a bounded skew, `SKEW` (2 s): the highest position
recorded by a moment lies among the events recorded in the `SKEW` before the latest time
recorded by then. Found that way alone (the window), a lookup reads every index entry of those
two seconds: ~28,000 at 13,000 events/s.

`feed_moments` keeps, for each boundary B of a `GRID` (100 ms, aligned on `ORIGIN`) whose
preceding bucket [B - GRID, B) had events, the highest position of all the events recorded
before B: a cumulative maximum. A lookup then takes the last mark at or before the moment and
the events recorded from that mark up to the moment, a range of at most one bucket when marks
are current (`POSITION_AT_SQL`). Where no mark lies within the window (a fresh store, a history
loaded without marks, marks lagging) it reads the window as before: the answer is the same
either way.

A mark is written once it is final: no event recorded before B can still commit. The writer
reads the feed's horizon H first (every position up to H belongs to a finished transaction,
see `schema.py`), then the time r recorded at the highest position up to H. By the skew bound
every event recorded before r - SKEW has a lower position, so it is at most H: committed (or
rolled back) and visible to the writer's next statement. Boundaries up to r - SKEW - MARGIN
are final. An append left open (up to the append timeout) holds the horizon back and so the
marks; nothing is assumed of how long a transaction stays open.

Marks are written by the servers' and workers' housekeeping, a bounded span per call
(`write_moment_marks`), idempotently (`ON CONFLICT DO NOTHING`: two writers compute the same
values); `verbinders mark-moments` catches them up on an existing store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

    from verbinders.database import Connection

__all__ = [
    "GRID",
    "MARGIN",
    "MIGRATION",
    "ORIGIN",
    "POSITION_AT_SQL",
    "SKEW",
    "catch_up_moment_marks",
    "run_moment_marks",
    "write_moment_marks",
]

log = logging.getLogger(__name__)

GRID = timedelta(milliseconds=100)
"""The marks' grid."""
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
"""The grid's origin (`date_bin`)."""
SKEW = timedelta(seconds=2)
"""How far an event's time may lie before that of an event of a lower position."""
MARGIN = timedelta(milliseconds=500)
"""Added to `SKEW` before a boundary counts as final."""

MIGRATION = """
CREATE TABLE feed_moments (
    bucket   timestamptz PRIMARY KEY,
    position bigint      NOT NULL
);
COMMENT ON TABLE feed_moments IS
    'Per 100 ms boundary: the highest position recorded before it (see store/moments.py).';
"""

POSITION_AT_SQL = (
    "(SELECT CASE WHEN t.last IS NULL THEN 0 ELSE greatest("
    "CASE WHEN k.bucket >= t.last - interval '2 seconds' THEN k.position END,"
    " (SELECT coalesce(max(pa.position + 0), 0) FROM events pa"
    " WHERE pa.recorded_at <= {moment}"
    " AND pa.recorded_at >= greatest(k.bucket, t.last - interval '2 seconds'))) END"
    " FROM (SELECT max(pb.recorded_at) AS last FROM events pb WHERE pb.recorded_at <= {moment}) t"
    " LEFT JOIN LATERAL (SELECT fm.bucket, fm.position FROM feed_moments fm"
    " WHERE fm.bucket <= {moment} ORDER BY fm.bucket DESC LIMIT 1) k ON true)"
)
"""SQL: the last position recorded by the moment `{moment}` (see `EventStore.position_at`).

`last`: the latest time recorded by then. With a mark at B in [last - 2 s, moment], the answer
is the larger of the mark and the events recorded in [B, moment]; without one, the events
recorded in [last - 2 s, moment] (the window). Each is a short range of the btree on
(recorded_at, position) (`schema.MOMENT_INDEX`); `position + 0` keeps the planner from walking
the primary key backwards instead."""

_BIN = "date_bin('{grid}', {value}, '{origin}'::timestamptz)"


def _bin(value: str) -> str:
    return _BIN.format(grid=_interval(GRID), value=value, origin=ORIGIN.isoformat())


def _interval(delta: timedelta) -> str:
    return f"{delta.total_seconds() * 1000:.0f} milliseconds"


_FINAL_SQL = f"""
SELECT {_bin("least(t.recorded_at, clock_timestamp()) - $2::interval")} AS final,
       (SELECT fm.bucket FROM feed_moments fm ORDER BY fm.bucket DESC LIMIT 1) AS last_bucket
  FROM (SELECT e.recorded_at FROM events e WHERE e.position <= $1
         ORDER BY e.position DESC LIMIT 1) AS t
"""

_FIRST_SQL = """
SELECT min(e.recorded_at) FROM events e
 WHERE e.recorded_at >= coalesce($1::timestamptz, '-infinity')
"""

_WRITE_SQL = f"""
INSERT INTO feed_moments (bucket, position)
SELECT s.bucket,
       greatest((SELECT fm.position FROM feed_moments fm WHERE fm.bucket = $1::timestamptz),
                max(s.top) OVER (ORDER BY s.bucket))
  FROM (SELECT {_bin("e.recorded_at")} + '{_interval(GRID)}'::interval AS bucket,
               max(e.position) AS top
          FROM events e
         WHERE e.recorded_at >= coalesce($1::timestamptz, '-infinity') AND e.recorded_at < $2
         GROUP BY 1) AS s
 ORDER BY s.bucket
ON CONFLICT (bucket) DO NOTHING
"""


def _floor(moment: datetime) -> datetime:
    return ORIGIN + (moment - ORIGIN) // GRID * GRID


async def write_moment_marks(
    conn: Connection,
    *,
    span: timedelta = timedelta(seconds=10),
    settle: timedelta = SKEW + MARGIN,
) -> tuple[int, bool]:
    """Write the next final marks, over at most `span` (a multiple of `GRID`) of recorded time.

    Returns (marks written, whether more final marks remain to be written). `settle`: how
    long before the time recorded at the horizon a boundary counts as final (`SKEW` + `MARGIN`;
    tests only make it shorter). Run outside a transaction (each statement reads after the
    horizon was fixed)."""
    horizon = await conn.fetchval("SELECT feed_horizon()")
    row = await conn.fetchrow(_FINAL_SQL, horizon, settle)
    if row is None:
        return 0, False  # no event yet
    final: datetime = row["final"]
    last: datetime | None = row["last_bucket"]
    if last is not None and last >= final:
        return 0, False
    first: datetime | None = await conn.fetchval(_FIRST_SQL, last)
    if first is None or first >= final:
        return 0, False
    upper = min(final, _floor(first) + span)
    status = await conn.execute(_WRITE_SQL, last, upper)
    written = int(status.rsplit(" ", 1)[-1])
    return written, upper < final


async def catch_up_moment_marks(
    conn: Connection,
    *,
    span: timedelta = timedelta(seconds=10),
    settle: timedelta = SKEW + MARGIN,
) -> int:
    """Write every final mark missing after the last one; returns how many were written."""
    total = 0
    more = True
    while more:
        written, more = await write_moment_marks(conn, span=span, settle=settle)
        total += written
    return total


async def run_moment_marks(pool: asyncpg.Pool, stop: asyncio.Event, every: float = 1.0) -> None:
    """Keep the marks current until `stop` is set: a bounded step every `every` seconds.

    A step that fails (the database away, a read-only standby) is logged, with its traceback
    only the first time in a row, and the next one waits twice as long, up to a minute."""
    failures = 0
    while not stop.is_set():
        try:
            async with pool.acquire() as conn:
                _, more = await write_moment_marks(conn)
            failures = 0
        except Exception as error:  # housekeeping must never take the process down
            failures += 1
            if failures == 1:
                log.exception("writing moment marks failed")
            else:
                log.warning("writing moment marks failed again (%s): %s", failures, error)
            more = False
        if more:
            await asyncio.sleep(0)
            continue
        wait = min(every * 2 ** max(0, failures - 1), max(every, 60.0)) if failures else every
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
