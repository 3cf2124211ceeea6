"""The funding read model's queries: the list of applications, the reports, the 360Giving
export and the application as it stood at each decision.

Each takes a `Reading` (`reading.py`): the live versions, or those true at its position
(`as_of`). Years are calendar years in Europe/Amsterdam of the submission; amounts are exact
`numeric`, handed on as `Decimal`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verbinders.projections.temporal import as_of

if TYPE_CHECKING:
    import uuid

    import asyncpg

    from verbinders.projections.reading import Reading

__all__ = [
    "applications_page",
    "at_decisions",
    "decisions_report",
    "grants",
    "joint_report",
    "year_report",
]

YEAR = "extract(year FROM a.submitted_at AT TIME ZONE 'Europe/Amsterdam')::integer"


async def applications_page(
    r: Reading,
    tenant: str,
    *,
    everything: bool,
    party: uuid.UUID | None,
    round_id: uuid.UUID | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[asyncpg.Record]]:
    """(total, page), newest first: all (`everything`), else those of the party: as funder,
    applicant or co-applicant."""
    where = (
        f"a.tenant = $1 AND {r.valid('a')} AND ($2::uuid IS NULL OR a.round_id = $2)"
        " AND ($3::text IS NULL OR a.state = $3)"
        " AND ($4 OR a.funder = $5 OR a.applicant = $5 OR a.co_applicants ? $5::text)"
    )
    args = (tenant, round_id, state, everything, party)
    total = await r.fetchval(
        f"SELECT count(*) FROM {r.table('applications')} a WHERE {where}", *args
    )
    rows = await r.fetch(
        f"SELECT a.*, o.name AS applicant_name, o.kind AS applicant_kind"
        f" FROM {r.table('applications')} a"
        f" LEFT JOIN {r.table('organisations')} o ON o.tenant = a.tenant"
        f" AND o.id = a.applicant AND {r.valid('o')}"
        f" WHERE {where} ORDER BY a.drafted_at DESC, a.id LIMIT $6 OFFSET $7",
        *args,
        limit,
        offset,
    )
    return int(total), rows


def _joined(r: Reading) -> str:
    return (
        f" FROM {r.table('applications')} a"
        f" JOIN {r.table('funds')} f ON f.tenant = a.tenant AND f.id = a.fund_id AND {r.valid('f')}"
        f" LEFT JOIN {r.table('organisations')} o ON o.tenant = a.tenant AND o.id = a.applicant"
        f" AND {r.valid('o')}"
        f" WHERE a.tenant = $1 AND {r.valid('a')} AND a.submitted_at IS NOT NULL"
    )


async def year_report(r: Reading, tenant: str) -> list[asyncpg.Record]:
    """Per year, fund and kind of applicant: applications submitted, decided and granted,
    amounts requested and granted (by the decisions in force)."""
    return await r.fetch(
        f"SELECT {YEAR} AS year, f.id AS fund_id, f.name AS fund,"
        " coalesce(o.kind, 'unknown') AS applicant_kind, count(*) AS applications,"
        " count(*) FILTER (WHERE a.decisions > 0) AS decided,"
        " count(*) FILTER (WHERE a.decisions > 0 AND a.granted > 0) AS granted_count,"
        " sum(a.requested) AS requested, coalesce(sum(a.granted), 0) AS granted"
        f"{_joined(r)} GROUP BY 1, 2, 3, 4 ORDER BY 1, 3, 4",
        tenant,
    )


async def joint_report(r: Reading, tenant: str) -> list[asyncpg.Record]:
    """Joint against solo applications: decided, granted (more than 0), the success rate, and
    the amounts requested and granted."""
    return await r.fetch(
        "SELECT a.joint, count(*) AS applications,"
        " count(*) FILTER (WHERE a.decisions > 0) AS decided,"
        " count(*) FILTER (WHERE a.decisions > 0 AND a.granted > 0) AS granted_count,"
        " round(count(*) FILTER (WHERE a.decisions > 0 AND a.granted > 0)::numeric"
        "   / nullif(count(*) FILTER (WHERE a.decisions > 0), 0), 4) AS success_rate,"
        " sum(a.requested) AS requested, coalesce(sum(a.granted), 0) AS granted"
        f"{_joined(r)} GROUP BY 1 ORDER BY 1",
        tenant,
    )


async def decisions_report(r: Reading, tenant: str) -> list[asyncpg.Record]:
    """Per year and fund: days from submission to the first decision (mean, median, longest),
    and payment against grant (granted, paid, reclaimed, share paid)."""
    days = "extract(epoch FROM a.first_decided_at - a.submitted_at) / 86400"
    return await r.fetch(
        f"SELECT {YEAR} AS year, f.id AS fund_id, f.name AS fund,"
        " count(*) FILTER (WHERE a.decisions > 0) AS decided,"
        f" round(avg({days})::numeric, 1) AS mean_days,"
        f" round((percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}))::numeric, 1)"
        "   AS median_days,"
        f" round(max({days})::numeric, 1) AS max_days,"
        " coalesce(sum(a.granted), 0) AS granted, coalesce(sum(a.paid), 0) AS paid,"
        " coalesce(sum(a.reclaimed), 0) AS reclaimed,"
        " round(sum(a.paid) / nullif(sum(a.granted), 0), 4) AS paid_share"
        f"{_joined(r)} GROUP BY 1, 2, 3 ORDER BY 1, 3",
        tenant,
    )


async def grants(r: Reading, tenant: str) -> list[dict[str, Any]]:
    """The grants (decisions in force above 0) with what 360Giving asks of each."""
    rows = await r.fetch(
        "SELECT a.*, f.name AS fund_name, f.funder, fo.name AS funder_name,"
        " o.name AS applicant_name, rd.title AS round_title, rd.deadline,"
        " (SELECT d.decided_at FROM"
        f"   {r.table('decisions')} d WHERE d.tenant = a.tenant AND d.application_id = a.id"
        f"   AND {r.valid('d')} ORDER BY d.number DESC LIMIT 1) AS awarded_at"
        f" FROM {r.table('applications')} a"
        f" JOIN {r.table('funds')} f ON f.tenant = a.tenant AND f.id = a.fund_id AND {r.valid('f')}"
        f" JOIN {r.table('rounds')} rd ON rd.tenant = a.tenant AND rd.id = a.round_id"
        f" AND {r.valid('rd')}"
        f" LEFT JOIN {r.table('organisations')} o ON o.tenant = a.tenant AND o.id = a.applicant"
        f" AND {r.valid('o')}"
        f" LEFT JOIN {r.table('organisations')} fo ON fo.tenant = f.tenant AND fo.id = f.funder"
        f" AND {r.valid('fo')}"
        f" WHERE a.tenant = $1 AND {r.valid('a')} AND a.decisions > 0 AND a.granted > 0"
        " ORDER BY awarded_at, a.id",
        tenant,
    )
    payments = await r.fetch(
        f"SELECT p.* FROM {r.table('payments')} p WHERE p.tenant = $1 AND {r.valid('p')}"
        " ORDER BY p.application_id, p.number",
        tenant,
    )
    paid: dict[Any, list[asyncpg.Record]] = {}
    for p in payments:
        paid.setdefault(p["application_id"], []).append(p)
    return [{**dict(row), "payments": paid.get(row["id"], [])} for row in rows]


async def at_decisions(
    r: Reading, tenant: str, application_id: uuid.UUID
) -> list[tuple[asyncpg.Record, asyncpg.Record | None]]:
    """Each decision on the application, with the application as it stood just before it
    (the read model's version true at the position before the decision's): what the decider
    knew. From the read model's history, not a rebuild."""
    decisions = await r.fetch(
        f"SELECT d.* FROM {r.table('decisions')} d WHERE d.tenant = $1"
        f" AND d.application_id = $2 AND {r.valid('d')} ORDER BY d.number",
        tenant,
        application_id,
    )
    found = []
    for decision in decisions:
        before = as_of("a", decision["position"] - 1)
        row = await r.fetchrow(
            f"SELECT a.* FROM {r.table('applications')} a WHERE a.tenant = $1 AND a.id = $2"
            f" AND {before}",
            tenant,
            application_id,
        )
        found.append((decision, row))
    return found
