"""The calls read model's lists and reports (the picture is in `call_picture.py`).

Each takes a `Reading` (`reading.py`): the live versions or those true at its position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    import asyncpg

    from verbinders.projections.reading import Reading

__all__ = ["addressees_of", "calls_page", "first_responses", "year_tables"]


async def calls_page(
    r: Reading,
    tenant: str,
    *,
    state: str | None,
    kind: str | None,
    everything: bool,
    party: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[asyncpg.Record]]:
    """(total, page) of calls, newest first: all of them (`everything`), or those `party`
    issued or is addressed by; each with `addressed` and `responded` counts."""
    addressees = r.table("addressees")
    where = (
        f"c.tenant = $1 AND {r.valid('c', ranged=True)} AND ($2::text IS NULL OR c.state = $2)"
        " AND ($3::text IS NULL OR c.kind = $3) AND ($4 OR c.issued_by = $5"
        f" OR EXISTS (SELECT FROM {addressees} x WHERE x.tenant = c.tenant"
        f"  AND x.call_id = c.id AND x.organisation_id::text = $5 AND {r.valid('x')}))"
    )
    args = (tenant, state, kind, everything, party)
    calls = r.table("calls")
    total = await r.fetchval(f"SELECT count(*) FROM {calls} c WHERE {where}", *args)
    # `addressed` and `responded` are counted on the call's row (see `calls.CALLS`).
    rows = await r.fetch(
        f"SELECT c.* FROM {calls} c WHERE {where}"
        " ORDER BY c.issued_at DESC, c.id LIMIT $6 OFFSET $7",
        *args,
        limit,
        offset,
    )
    return int(total), list(rows)


async def addressees_of(r: Reading, tenant: str, call_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every addressee of the call with its organisation's name and kind, by name."""
    return list(
        await r.fetch(
            f"SELECT a.*, o.name, o.kind FROM {r.table('addressees')} a"
            f" LEFT JOIN {r.table('organisations')} o ON o.tenant = a.tenant"
            f" AND o.id = a.organisation_id AND {r.valid('o')}"
            f" WHERE a.tenant = $1 AND a.call_id = $2 AND {r.valid('a')}"
            " ORDER BY lower(coalesce(o.name, '')), a.organisation_id",
            tenant,
            call_id,
        )
    )


async def first_responses(r: Reading, tenant: str, call_id: uuid.UUID) -> Any:
    """The call's first response time and how many answered by `respond_by` (or None)."""
    return await r.fetchrow(
        "SELECT min(a.first_response_at) AS first,"
        " count(*) FILTER (WHERE a.first_response_at <= c.respond_by) AS in_time"
        f" FROM {r.table('calls')} c JOIN {r.table('addressees')} a"
        f" ON a.tenant = c.tenant AND a.call_id = c.id AND {r.valid('a')}"
        f" WHERE c.tenant = $1 AND c.id = $2 AND {r.valid('c')} GROUP BY c.id",
        tenant,
        call_id,
    )


_RATES_SQL = """
SELECT {key} AS key, {name} AS name, count(*) AS addressed,
       count(a.first_response_at) AS responded,
       count(*) FILTER (WHERE a.first_response_at <= c.respond_by) AS in_time
  FROM {addressees} a
  JOIN {calls} c ON c.tenant = a.tenant AND c.id = a.call_id AND {valid_c}
  LEFT JOIN {organisations} o ON o.tenant = a.tenant AND o.id = a.organisation_id AND {valid_o}
 WHERE a.tenant = $1 AND {valid_a} AND c.issued_at >= $2 AND c.issued_at < $3
 GROUP BY 1, 2 ORDER BY 1
"""


async def year_tables(
    r: Reading, tenant: str, start: datetime, end: datetime
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], list[asyncpg.Record]]:
    """Calls issued in [start, end): (count by kind, rates by organisation, rates by kind of
    organisation)."""
    tables = {
        "addressees": r.table("addressees"),
        "calls": r.table("calls"),
        "organisations": r.table("organisations"),
        "valid_a": r.valid("a"),
        "valid_c": r.valid("c"),
        "valid_o": r.valid("o"),
    }
    kinds = await r.fetch(
        f"SELECT kind, count(*) AS calls FROM {r.table('calls')} c WHERE c.tenant = $1"
        f" AND {r.valid('c')} AND c.issued_at >= $2 AND c.issued_at < $3"
        " GROUP BY kind ORDER BY kind",
        tenant,
        start,
        end,
    )
    by_organisation = await r.fetch(
        _RATES_SQL.format(key="a.organisation_id", name="o.name", **tables), tenant, start, end
    )
    by_kind = await r.fetch(
        _RATES_SQL.format(key="coalesce(o.kind, 'unknown')", name="NULL::text", **tables),
        tenant,
        start,
        end,
    )
    return list(kinds), list(by_organisation), list(by_kind)
