"""The activities' read models as of a position equal a rebuild up to that position.

On the demo's history (activities 2020-2026 with partners, hours with a correction, overlap
cases opened by the policy and answered), at random positions: every list and report of the
`activities` read model, and the rows of the overlap candidate index (the policy reads it as
of positions), read from the live read model's versions valid at the position, equal the
same read of a read model rebuilt up to it.
"""

from __future__ import annotations

import random
from typing import Any

import asyncpg
import msgspec

from verbinders.config import Settings
from verbinders.database import Database, init_connection
from verbinders.demo import DEMO_TENANT, load_demo
from verbinders.projections.activities_queries import (
    case_metrics,
    hours_report,
    list_activities,
    list_cases,
    network,
)
from verbinders.projections.engine import discard_generation, replay
from verbinders.projections.reading import Reading
from verbinders.projections.temporal import valid
from verbinders.runtime import runtime_on

T = DEMO_TENANT
VERSION_COLUMNS = ("valid_from", "valid_to")


def plain(value: Any) -> Any:
    if isinstance(value, asyncpg.Record):
        return {k: plain(v) for k, v in value.items() if k not in VERSION_COLUMNS}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    return value


async def activities(r: Reading) -> list[Any]:
    page = dict(limit=200, offset=0)
    out: list[Any] = [
        await list_activities(
            r, T, organisation=None, status=None, theme=None, district=None, year=None,
            collaboration=None, **page,
        ),
        await list_activities(
            r, T, organisation=None, status="completed", theme="language", district=None,
            year=None, collaboration=True, **page,
        ),
        await list_cases(r, T, organisation=None, status=None, **page),
        await case_metrics(r, T),
    ]  # fmt: skip
    for year in (2020, 2022, 2025, 2026):
        out.append(await hours_report(r, T, year))
        out.append(await network(r, T, year))
    return plain(out)


async def candidates(conn: asyncpg.Connection, schema: str, position: int | None) -> Any:
    rows = await conn.fetch(
        f'SELECT c.* FROM "{schema}".candidates c WHERE {valid("c", position)} ORDER BY c.id'
    )
    return plain(list(rows))


async def test_as_of_any_position_equals_a_rebuild_up_to_it(
    database: str, pool: asyncpg.Pool
) -> None:
    async with runtime_on(
        Settings(snapshot_every=0), Database(pool=pool, dsn=database, embedded=False)
    ) as runtime:
        await load_demo(runtime)
        for name in ("activities", "overlap_candidates"):
            await runtime.runner.catch_up(name)
        projections = runtime.runner.projections
    conn = await asyncpg.connect(database)
    try:
        await init_connection(conn)
        first, last = (
            int(v)
            for v in await conn.fetchrow(
                "SELECT min(position), max(position) FROM events"
                " WHERE stream_type IN ('Activity', 'HoursEntry', 'OverlapCase')"
            )
        )
        rng = random.Random(20261201)
        positions = sorted({*rng.sample(range(first, last), 6), last})
        compared = 0
        for position in positions:
            rebuilt = await replay(conn, projections["activities"], until_position=position)
            try:
                past = await activities(Reading(conn=conn, name=rebuilt.schema_name))
                as_of = await activities(Reading(conn=conn, name="activities", position=position))
            finally:
                await discard_generation(conn, rebuilt)
            assert as_of == past, f"activities as of position {position}"
            compared += len(str(past))
            rebuilt = await replay(conn, projections["overlap_candidates"], until_position=position)
            try:
                past = await candidates(conn, rebuilt.schema_name, None)
                as_of = await candidates(conn, "overlap_candidates", position)
            finally:
                await discard_generation(conn, rebuilt)
            assert as_of == past, f"overlap candidates as of position {position}"
        assert compared > 1000
        # the lexemes the fold had PostgreSQL stem (per batch, per new document) are those
        # of every version's documents, as a generated column computed them
        versions, differing = await conn.fetchrow(
            "SELECT count(*), count(*) FILTER (WHERE title_lexemes IS DISTINCT FROM"
            " tsvector_to_array(to_tsvector('dutch', title_document)) OR lexemes IS DISTINCT"
            " FROM tsvector_to_array(to_tsvector('dutch', document)))"
            " FROM overlap_candidates.candidates"
        )
        assert versions > 0
        assert differing == 0
        live = await activities(Reading(conn=conn, name="activities"))
        assert live == await activities(Reading(conn=conn, name="activities", position=last))
    finally:
        await conn.close()
