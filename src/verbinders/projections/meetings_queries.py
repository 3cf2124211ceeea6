"""The meetings read model's queries: the list, one meeting, the attendance report.

Each takes a `Reading` (`reading.py`): the live versions or those true at its position; `at`
is the moment a meeting's phase is judged at (now, or the `as_of` moment).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verbinders.projections.meetings import HELD, MEETING_STATE

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    import asyncpg

    from verbinders.projections.reading import Reading

__all__ = ["WHEN", "attendance_report", "meeting_detail", "meetings_page"]

WHEN: dict[str | None, tuple[str, str]] = {
    None: ("TRUE", "m.starts_at, m.id"),
    "upcoming": ("m.ends_at > $2", "m.starts_at, m.id"),
    "past": ("m.ends_at <= $2", "m.starts_at DESC, m.id"),
}


def _held(r: Reading, m: str) -> str:
    return HELD.format(
        m=m,
        attendance=r.table("attendance"),
        decisions=r.table("decisions"),
        valid_ha=r.valid("ha"),
        valid_hd=r.valid("hd"),
    )


def _summary_sql(r: Reading) -> str:
    # The meeting's version and last change: the greatest of its rows' (see `meetings.py`).
    return (
        "SELECT m.*, greatest(m.meeting_version, a.version, d.version) AS version,"
        " greatest(m.changed_at, a.changed_at, d.changed_at) AS updated_at,"
        f" {MEETING_STATE.format(m='m', at='$2')} AS state,"
        f" {_held(r, 'm')} AS held,"
        " a.present, a.people, a.excused, a.unexcused, d.decisions"
        f" FROM {r.table('meetings')} m"
        " CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE status = 'present') AS present,"
        "   coalesce(sum(people) FILTER (WHERE status = 'present'), 0) AS people,"
        "   count(*) FILTER (WHERE status = 'absent-with-notice') AS excused,"
        "   count(*) FILTER (WHERE status = 'absent-without-notice') AS unexcused,"
        "   max(x.meeting_version) AS version, max(x.changed_at) AS changed_at"
        f"   FROM {r.table('attendance')} x WHERE x.tenant = m.tenant AND x.meeting_id = m.id"
        f"   AND {r.valid('x')}) a"
        " CROSS JOIN LATERAL (SELECT count(*) AS decisions,"
        "   max(y.meeting_version) AS version, max(y.changed_at) AS changed_at"
        f"   FROM {r.table('decisions')} y WHERE y.tenant = m.tenant AND y.meeting_id = m.id"
        f"   AND {r.valid('y')}) d"
    )


async def meetings_page(
    r: Reading,
    tenant: str,
    at: datetime,
    *,
    when: str | None = None,
    include_cancelled: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[asyncpg.Record]]:
    """(total, page) of the platform's meetings with their summaries."""
    condition, order = WHEN[when]
    condition += f" AND {r.valid('m')}"
    if not include_cancelled:
        condition += " AND m.cancelled_at IS NULL"
    total = await r.fetchval(
        f"SELECT count(*) FROM {r.table('meetings')} m"
        f" WHERE m.tenant = $1 AND $2::timestamptz IS NOT NULL AND {condition}",
        tenant,
        at,
    )
    rows = await r.fetch(
        f"{_summary_sql(r)} WHERE m.tenant = $1 AND {condition}"
        f" ORDER BY {order} LIMIT $3 OFFSET $4",
        tenant,
        at,
        limit,
        offset,
    )
    return int(total), list(rows)


async def meeting_detail(
    r: Reading, tenant: str, at: datetime, meeting_id: uuid.UUID
) -> tuple[Any, list[asyncpg.Record], list[asyncpg.Record]] | None:
    """(summary, attendance with names, decisions) of one meeting, or None."""
    row = await r.fetchrow(
        f"{_summary_sql(r)} WHERE m.tenant = $1 AND m.id = $3 AND {r.valid('m')}",
        tenant,
        at,
        meeting_id,
    )
    if row is None:
        return None
    attendance = await r.fetch(
        f"SELECT a.*, o.name FROM {r.table('attendance')} a"
        f" LEFT JOIN {r.table('organisations')} o"
        f" ON o.tenant = a.tenant AND o.id = a.organisation_id AND {r.valid('o')}"
        f" WHERE a.tenant = $1 AND a.meeting_id = $2 AND {r.valid('a')}"
        " ORDER BY lower(coalesce(o.name, '')), a.organisation_id",
        tenant,
        meeting_id,
    )
    decisions = await r.fetch(
        f"SELECT * FROM {r.table('decisions')} d"
        f" WHERE d.tenant = $1 AND d.meeting_id = $2 AND {r.valid('d')}"
        " ORDER BY d.meeting_version",
        tenant,
        meeting_id,
    )
    return row, list(attendance), list(decisions)


def _report_sql(r: Reading) -> str:
    return f"""
WITH held AS (
    SELECT m.id, m.starts_at FROM {r.table("meetings")} m
     WHERE m.tenant = $1 AND {r.valid("m")} AND m.cancelled_at IS NULL AND m.starts_at <= $2
       AND ($3::timestamptz IS NULL OR m.starts_at >= $3)
       AND ($4::timestamptz IS NULL OR m.starts_at < $4)
       AND {_held(r, "m")}
), periods AS (
    SELECT ms.organisation_id, p.since, p.until
      FROM {r.table("memberships")} ms
      JOIN {r.table("membership_periods")} p
        ON p.tenant = ms.tenant AND p.membership_id = ms.id AND {r.valid("p")}
     WHERE ms.tenant = $1 AND {r.valid("ms")} AND p.since <= $2
), members AS (
    SELECT organisation_id, min(since) AS member_since FROM periods GROUP BY organisation_id
), eligible AS (
    SELECT DISTINCT p.organisation_id, h.id AS meeting_id
      FROM held h
      JOIN periods p ON p.since <= h.starts_at AND (p.until IS NULL OR p.until > h.starts_at)
)
SELECT mb.organisation_id, o.name, o.kind, mb.member_since,
       count(e.meeting_id) AS held,
       count(*) FILTER (WHERE a.status = 'present') AS attended,
       count(*) FILTER (WHERE a.status = 'absent-with-notice') AS excused,
       count(*) FILTER (WHERE a.status = 'absent-without-notice') AS unexcused
  FROM members mb
  LEFT JOIN {r.table("organisations")} o
    ON o.tenant = $1 AND o.id = mb.organisation_id AND {r.valid("o")}
  LEFT JOIN eligible e ON e.organisation_id = mb.organisation_id
  LEFT JOIN {r.table("attendance")} a ON a.tenant = $1 AND a.meeting_id = e.meeting_id
                            AND a.organisation_id = e.organisation_id AND {r.valid("a")}
 GROUP BY mb.organisation_id, o.name, o.kind, mb.member_since
 ORDER BY lower(coalesce(o.name, '')), mb.organisation_id
"""


async def attendance_report(
    r: Reading, tenant: str, at: datetime, start: datetime | None, end: datetime | None
) -> list[asyncpg.Record]:
    """Per organisation: meetings held while it was a member, and its attendance."""
    return list(await r.fetch(_report_sql(r), tenant, at, start, end))
