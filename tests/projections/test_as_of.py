"""An answer as of a position equals the answer of a rebuild up to that position.

On the demo's history (organisations with profiles, strengths, renames and a dissolution,
memberships with every decision, meetings with attendance and decisions, tokens, calls with
responses and claims, all through the services), at random positions: every list and report
of every read model that answers `as_of`, read from the live read model's versions valid at
the position, equals the same query on a read model rebuilt up to it (`replay --until`).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from verbinders.config import Settings
from verbinders.database import Database, init_connection
from verbinders.demo import DEMO_TENANT, load_demo
from verbinders.errors import NotFound
from verbinders.projections.activity import monthly
from verbinders.projections.call_picture import call_picture
from verbinders.projections.calls_queries import (
    addressees_of,
    calls_page,
    first_responses,
    year_tables,
)
from verbinders.projections.directory_queries import organisations_page, strengths_page
from verbinders.projections.engine import discard_generation, replay
from verbinders.projections.meetings_queries import (
    attendance_report,
    meeting_detail,
    meetings_page,
)
from verbinders.projections.membership_queries import growth, register_page
from verbinders.projections.reading import Reading
from verbinders.projections.tokens import token_rows
from verbinders.runtime import runtime_on

T = DEMO_TENANT
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
"""The moment meetings' phases and the reports are judged at (the same for both reads)."""
VERSION_COLUMNS = ("valid_from", "valid_to")


def plain(value: Any) -> Any:
    """Rows without their versions' ranges (which differ between a live read model and one
    that stopped at the position), as comparable values."""
    if isinstance(value, asyncpg.Record):
        return {k: plain(v) for k, v in value.items() if k not in VERSION_COLUMNS}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    return value


async def dump(conn: asyncpg.Connection, schema: str, table: str) -> list[str]:
    rows = await conn.fetch(f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t ORDER BY 1')
    return [r[0] for r in rows]


async def answer(query: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return plain(await query())
    except NotFound as error:
        return f"not found: {error}"


async def directory(r: Reading) -> list[Any]:
    return [
        await answer(lambda: organisations_page(r, T, limit=200)),
        await answer(lambda: organisations_page(r, T, q="taal", sort="-registered", limit=200)),
        await answer(lambda: organisations_page(r, T, membership="member", limit=200)),
        await answer(lambda: organisations_page(r, T, membership="none", limit=200)),
        await answer(lambda: organisations_page(r, T, strength="space", limit=200)),
        await answer(lambda: strengths_page(r, T, limit=200)),
        await answer(lambda: strengths_page(r, T, q="ruimte", limit=200)),
    ]


async def membership(r: Reading) -> list[Any]:
    return [
        await answer(lambda: register_page(r, T, limit=200)),
        await answer(lambda: register_page(r, T, at=datetime(2021, 3, 1, tzinfo=UTC), limit=200)),
        await answer(lambda: growth(r, T, at=NOW)),
    ]


async def meetings(r: Reading) -> list[Any]:
    _, page = await meetings_page(r, T, NOW, limit=200)
    return [
        await answer(lambda: meetings_page(r, T, NOW, limit=200)),
        await answer(lambda: meetings_page(r, T, NOW, when="past", limit=200)),
        await answer(lambda: attendance_report(r, T, NOW, None, None)),
        *[await answer(lambda m=m: meeting_detail(r, T, NOW, m["id"])) for m in page],
    ]


async def counted(r: Reading) -> dict[Any, tuple[int, int]]:
    """Each call's addressee rows and those that responded, counted in the rows."""
    a = r.table("addressees")
    rows = await r.fetch(
        f"SELECT c.id, (SELECT count(*) FROM {a} a WHERE a.tenant = c.tenant"
        f" AND a.call_id = c.id AND {r.valid('a')}) AS addressed,"
        f" (SELECT count(*) FROM {a} a WHERE a.tenant = c.tenant AND a.call_id = c.id"
        f" AND {r.valid('a')} AND a.first_response_at IS NOT NULL) AS responded"
        f" FROM {r.table('calls')} c WHERE c.tenant = $1 AND {r.valid('c')}",
        T,
    )
    return {row["id"]: (row["addressed"], row["responded"]) for row in rows}


async def calls(r: Reading, ids: list[Any]) -> list[Any]:
    # The counts kept on the calls' rows are those of their addressee rows.
    _, page = await calls_page(
        r, T, state=None, kind=None, everything=True, party=None, limit=200, offset=0
    )
    assert {c["id"]: (c["addressed"], c["responded"]) for c in page} == await counted(r)
    out = [
        await answer(
            lambda: calls_page(
                r, T, state=None, kind=None, everything=True, party=None, limit=200, offset=0
            )
        ),
        *[
            await answer(lambda y=y: year_tables(r, T, datetime(y, 1, 1, tzinfo=UTC), NOW))
            for y in (2020, 2024)
        ],
    ]
    for call_id in ids:
        out.append(await answer(lambda c=call_id: addressees_of(r, T, c)))
        out.append(await answer(lambda c=call_id: call_picture(r, T, c)))
        out.append(await answer(lambda c=call_id: first_responses(r, T, c)))
    return out


async def tokens(r: Reading) -> list[Any]:
    return [await answer(lambda: token_rows(r, T))]


async def activity(r: Reading) -> list[Any]:
    return [await answer(lambda: monthly(r, T, None, None))]


async def test_as_of_any_position_equals_a_rebuild_up_to_it(
    database: str, pool: asyncpg.Pool
) -> None:
    async with runtime_on(
        Settings(snapshot_every=0), Database(pool=pool, dsn=database, embedded=False)
    ) as runtime:
        await load_demo(runtime)
        for name in runtime.runner.projections:
            await runtime.runner.catch_up(name)
        projections = runtime.runner.projections
    conn = await asyncpg.connect(database)
    # Every other rebuild reads ahead and builds its indexes on a second connection.
    second = await asyncpg.connect(database)
    try:
        await init_connection(conn)
        last = int(await conn.fetchval("SELECT max(position) FROM events"))
        call_ids = [r["id"] for r in await conn.fetch("SELECT DISTINCT id FROM calls.calls")]
        assert last > 500 and call_ids
        rng = random.Random(20261201)
        positions = sorted({*rng.sample(range(1, last), 9), last})
        readers: dict[str, Callable[[Reading], Awaitable[list[Any]]]] = {
            "directory": directory,
            "membership": membership,
            "meetings": meetings,
            "calls": lambda r: calls(r, call_ids),
            "tokens": tokens,
        }
        compared = 0
        for i, position in enumerate(positions):
            reader = second if i % 2 else None
            for name, read in readers.items():
                rebuilt = await replay(
                    conn, projections[name], until_position=position, reader=reader
                )
                try:
                    past = await read(Reading(conn=conn, name=rebuilt.schema_name))
                    as_of = await read(Reading(conn=conn, name=name, position=position))
                finally:
                    await discard_generation(conn, rebuilt)
                assert as_of == past, f"{name} as of position {position}"
                compared += len(past)
        assert compared > 100
        # The live answer is the answer as of the last position.
        for name, read in readers.items():
            assert await read(Reading(conn=conn, name=name)) == await read(
                Reading(conn=conn, name=name, position=last)
            ), name
        # A rebuild equals the live read model, every version of every row of every table.
        for name in [*readers, "activity"]:
            rebuilt = await replay(conn, projections[name], until_position=last, reader=second)
            try:
                for table in projections[name].tables:
                    assert await dump(conn, rebuilt.schema_name, table) == await dump(
                        conn, name, table
                    ), f"{name}.{table}"
            finally:
                await discard_generation(conn, rebuilt)
        # Activity keeps no history; its live answer equals a rebuild's.
        rebuilt = await replay(conn, projections["activity"], until_position=last)
        assert await activity(Reading(conn=conn, name=rebuilt.schema_name)) == await activity(
            Reading(conn=conn, name="activity")
        )
    finally:
        await second.close()
        await conn.close()
