"""The directory's queries: organisations by filters and full text, strengths by need.

Each takes a `Reading` (`reading.py`): live or as of a position, the same SQL with the
versions' condition (`Reading.valid`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verbinders.projections.text import fold

if TYPE_CHECKING:
    import asyncpg

    from verbinders.projections.reading import Reading

__all__ = ["SORTS", "organisations_page", "strengths_page"]

SORTS = {
    "name": "lower(o.name), o.id",
    "-name": "lower(o.name) DESC, o.id",
    "registered": "o.registered_at, o.id",
    "-registered": "o.registered_at DESC, o.id",
}


class _Args:
    def __init__(self, *values: Any) -> None:
        self.values = list(values)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


async def organisations_page(
    r: Reading,
    tenant: str,
    *,
    q: str | None = None,
    kind: str | None = None,
    theme: str | None = None,
    district: str | None = None,
    language: str | None = None,
    strength: str | None = None,
    membership: str | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[asyncpg.Record]]:
    """(total, page) of the platform's organisations; each row with its `membership_status`
    (`none` if it never applied), `member_since`, `strength_count` (and `total`)."""
    arg = _Args(tenant)
    where = ["o.tenant = $1", r.valid("o")]
    if q:
        where.append(f"o.search @@ websearch_to_tsquery('dutch', {arg(fold(q))})")
    if kind:
        where.append(f"o.kind = {arg(kind)}")
    if theme:
        where.append(f"{arg(theme)} = ANY (o.themes)")
    if district:
        where.append(f"{arg(district)} = ANY (o.districts)")
    if language:
        where.append(f"{arg(language)} = ANY (o.languages)")
    memberships = r.table("memberships")
    if membership == "none":  # never applied: no membership row
        where.append(
            f"NOT EXISTS (SELECT 1 FROM {memberships} ms WHERE ms.tenant = o.tenant"
            f" AND ms.organisation_id = o.id AND {r.valid('ms')})"
        )
    elif membership:
        where.append(
            f"o.id IN (SELECT ms.organisation_id FROM {memberships} ms WHERE ms.tenant = $1"
            f" AND {r.valid('ms')} AND ms.membership_status = {arg(membership)})"
        )
    strengths = r.table("strengths")
    if strength:
        where.append(
            f"EXISTS (SELECT 1 FROM {strengths} s WHERE s.tenant = o.tenant"
            f" AND s.organisation_id = o.id AND {r.valid('s')} AND s.withdrawn_at IS NULL"
            f" AND s.kind = {arg(strength)})"
        )
    condition = " AND ".join(where)
    organisations = r.table("organisations")
    # Each page row's membership (`none` if it never applied), read like its strengths after
    # the LIMIT (subqueries in the select list), not joined to every match.
    member = (
        f" FROM {memberships} ms WHERE ms.tenant = o.tenant AND ms.organisation_id = o.id"
        f" AND {r.valid('ms')}"
    )
    count_args = list(arg.values)
    # The page and the total in one statement: the matching rows are found once (as of a
    # moment that means reading their versions once, not twice); `total` is the count of
    # every match, computed before LIMIT, and each page row's strengths are counted after it.
    rows = await r.fetch(
        f"SELECT o.*, coalesce((SELECT ms.membership_status{member}), 'none')"
        f" AS membership_status, (SELECT ms.member_since{member}) AS member_since,"
        f" (SELECT count(*) FROM {strengths} s WHERE s.tenant = o.tenant"
        f" AND s.organisation_id = o.id AND {r.valid('s')} AND s.withdrawn_at IS NULL)"
        f" AS strength_count, count(*) OVER () AS total FROM {organisations} o"
        f" WHERE {condition}"
        f" ORDER BY {SORTS[sort]} LIMIT {arg(limit)} OFFSET {arg(offset)}",
        *arg.values,
    )
    if rows:
        total = rows[0]["total"]
    elif offset == 0:
        total = 0
    else:  # a page past the end: count on its own
        total = await r.fetchval(
            f"SELECT count(*) FROM {organisations} o WHERE {condition}", *count_args
        )
    return int(total), list(rows)


async def strengths_page(
    r: Reading,
    tenant: str,
    *,
    q: str | None = None,
    kind: str | None = None,
    language: str | None = None,
    district: str | None = None,
    organisation_kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[asyncpg.Record]]:
    """(total, page) of the strengths on offer (not withdrawn, of organisations not
    dissolved), best matches of `q` first; rows with `organisation_name`/`_kind`."""
    arg = _Args(tenant)
    where = [
        "s.tenant = $1",
        r.valid("s"),
        r.valid("o"),
        "s.withdrawn_at IS NULL",
        "o.dissolved_at IS NULL",
    ]
    rank = "0::real"
    if q:
        query = f"websearch_to_tsquery('dutch', {arg(fold(q))})"
        where.append(f"s.search @@ {query}")
        rank = f"ts_rank(s.search, {query})"
    if kind:
        where.append(f"s.kind = {arg(kind)}")
    if language:
        where.append(f"{arg(language)} = ANY (s.languages)")
    if district:
        where.append(f"({arg(district)} = ANY (s.districts) OR s.districts = '{{}}')")
    if organisation_kind:
        where.append(f"o.kind = {arg(organisation_kind)}")
    sql_from = (
        f"FROM {r.table('strengths')} s JOIN {r.table('organisations')} o"
        " ON o.tenant = s.tenant AND o.id = s.organisation_id"
        f" WHERE {' AND '.join(where)}"
    )
    total = await r.fetchval(f"SELECT count(*) {sql_from}", *arg.values)
    rows = await r.fetch(
        f"SELECT s.*, o.name AS organisation_name, o.kind AS organisation_kind {sql_from}"
        f" ORDER BY {rank} DESC, s.title, s.id LIMIT {arg(limit)} OFFSET {arg(offset)}",
        *arg.values,
    )
    return int(total), list(rows)
