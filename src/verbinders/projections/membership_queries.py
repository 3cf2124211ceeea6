"""The membership register and the growth report, from the `membership` read model.

Two kinds of time (see `membership.py`): `at` is the world's time (when things took effect,
the transitions' and periods' own columns); the `Reading` picks what the platform knew (the
versions live, or as of a position).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec

from verbinders.domain.vocabulary import OrganisationKind
from verbinders.projections.membership import TIME_ZONE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.projections.reading import Reading

__all__ = ["GrowthReport", "MonthRow", "RegisterEntry", "YearRow", "growth", "register_page"]

_TICK = timedelta(microseconds=1)


class RegisterEntry(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: uuid.UUID
    name: str
    kind: str
    status: str
    status_since: datetime
    """When the organisation's current status took effect."""
    member_since: datetime | None
    """Start of the running period of membership (also while suspended)."""
    first_admitted_at: datetime | None
    decided_by: str | None
    """Who took the step that led to the status (or the organisation itself)."""
    reason: str | None


async def register_page(
    r: Reading,
    tenant: str,
    *,
    at: datetime | None = None,
    statuses: Sequence[str] = (),
    kinds: Sequence[str] = (),
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[RegisterEntry]]:
    """The register (total, page) sorted by name: statuses now, or in effect at `at`.

    Organisations that never applied are not in it. Names are today's names.
    """
    moment = "coalesce($2::timestamptz, 'infinity')"
    periods = r.table("periods")
    where = f"""
  FROM {r.table("transitions")} t
  LEFT JOIN {r.table("organisations")} o
    ON o.tenant = t.tenant AND o.id = t.organisation_id AND {r.valid("o")}
 WHERE t.tenant = $1 AND {r.valid("t")}
   AND CASE WHEN $2::timestamptz IS NULL THEN t.effective_until IS NULL
            ELSE t.effective_from <= $2
             AND (t.effective_until IS NULL OR t.effective_until > $2) END
   AND (cardinality($3::text[]) = 0 OR t.status = ANY ($3::text[]))
   AND (cardinality($4::text[]) = 0 OR o.kind = ANY ($4::text[]))
"""
    args = (tenant, at, list(statuses), list(kinds))
    total = await r.fetchval(f"SELECT count(*) {where}", *args)
    rows = await r.fetch(
        f"""
SELECT t.organisation_id, coalesce(o.name, t.organisation_id::text) AS name,
       coalesce(o.kind, 'unknown') AS kind, t.status, t.effective_from AS status_since,
       t.decided_by, t.reason,
       (SELECT max(p.since) FROM {periods} p
         WHERE p.tenant = t.tenant AND p.membership_id = t.membership_id AND {r.valid("p")}
           AND p.since <= {moment} AND (p.until IS NULL OR p.until > {moment})) AS member_since,
       (SELECT min(p.since) FROM {periods} p
         WHERE p.tenant = t.tenant AND p.membership_id = t.membership_id AND {r.valid("p")}
           AND p.since <= {moment}) AS first_admitted_at
{where}
 ORDER BY lower(coalesce(o.name, '')), t.organisation_id
 LIMIT $5 OFFSET $6
""",
        *args,
        limit,
        offset,
    )
    entries = [
        RegisterEntry(
            organisation_id=row["organisation_id"],
            name=row["name"],
            kind=row["kind"],
            status=row["status"],
            status_since=row["status_since"],
            member_since=row["member_since"],
            first_admitted_at=row["first_admitted_at"],
            decided_by=row["decided_by"],
            reason=row["reason"],
        )
        for row in rows
    ]
    return int(total), entries


class MonthRow(msgspec.Struct, frozen=True, kw_only=True):
    month: date
    """The month's first day."""
    members: int
    """Members at the end of the month (or at the moment asked about, for its month)."""
    by_kind: dict[str, int]
    suspended: int
    """Of the members, how many were suspended then."""


class YearRow(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    joins: int
    """Admissions that year (a readmission counts again)."""
    leaves: int
    joins_by_kind: dict[str, int]
    leaves_by_kind: dict[str, int]


class GrowthReport(msgspec.Struct, frozen=True, kw_only=True):
    started_on: date | None
    """The platform's start; the months begin there (or at an earlier admission)."""
    at: datetime
    """The moment the report runs to (now, unless asked otherwise)."""
    time_zone: str
    kinds: tuple[str, ...]
    months: list[MonthRow]
    years: list[YearRow]


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _months(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s."""
    months, current = [], date(first.year, first.month, 1)
    while current <= last:
        months.append(current)
        current = _next_month(current)
    return months


def _local_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight at the start of `day` in `zone` (never in a DST gap: those are at night)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _counts(
    rows: Sequence[Any], kinds: Sequence[str], count: str = "n"
) -> dict[int, dict[str, int]]:
    by_index: dict[int, dict[str, int]] = {}
    for row in rows:
        per_kind = by_index.setdefault(int(row["i"]), dict.fromkeys(kinds, 0))
        per_kind[row["kind"]] = per_kind.get(row["kind"], 0) + int(row[count])
    return by_index


async def growth(r: Reading, tenant: str, *, at: datetime | None = None) -> GrowthReport:
    """Members at the end of each month since the platform started, and joins and leaves per
    year, each by kind of organisation, up to the moment `at` (default: now)."""
    periods, organisations = r.table("periods"), r.table("organisations")
    zone = ZoneInfo(TIME_ZONE)
    moment = at or datetime.now(UTC)
    kinds = tuple(k.value for k in OrganisationKind)
    started_on: date | None = await r.fetchval(
        f"SELECT started_on FROM {r.table('platforms')} x WHERE x.tenant = $1 AND {r.valid('x')}",
        tenant,
    )
    earliest: datetime | None = await r.fetchval(
        f"SELECT min(p.since) FROM {periods} p WHERE p.tenant = $1 AND p.since <= $2"
        f" AND {r.valid('p')}",
        tenant,
        moment,
    )
    last_day = moment.astimezone(zone).date()
    starts = [started_on] if started_on else []
    if earliest is not None:
        starts.append(earliest.astimezone(zone).date())
    first_day = min(starts, default=last_day)
    months = _months(first_day, last_day)
    # Each month's last moment; for the running month, the moment asked about.
    points = [min(_local_start(_next_month(month), zone) - _TICK, moment) for month in months]
    member_rows = await r.fetch(
        f"""
SELECT b.i, coalesce(o.kind, 'unknown') AS kind, count(*) AS n
  FROM unnest($2::timestamptz[]) WITH ORDINALITY AS b(x, i)
  JOIN {periods} p ON p.tenant = $1 AND p.since <= b.x AND (p.until IS NULL OR p.until > b.x)
                  AND {r.valid("p")}
  LEFT JOIN {organisations} o
    ON o.tenant = p.tenant AND o.id = p.organisation_id AND {r.valid("o")}
 GROUP BY b.i, 2
""",
        tenant,
        points,
    )
    suspended_rows = await r.fetch(
        f"""
SELECT b.i, count(*) AS n
  FROM unnest($2::timestamptz[]) WITH ORDINALITY AS b(x, i)
  JOIN {r.table("suspensions")} p ON p.tenant = $1 AND p.since <= b.x
                        AND (p.until IS NULL OR p.until > b.x) AND {r.valid("p")}
 GROUP BY b.i
""",
        tenant,
        points,
    )
    members = _counts(member_rows, kinds)
    suspended = {int(r["i"]): int(r["n"]) for r in suspended_rows}
    month_rows = []
    for i, month in enumerate(months, start=1):
        per_kind = members.get(i, dict.fromkeys(kinds, 0))
        month_rows.append(
            MonthRow(
                month=month,
                members=sum(per_kind.values()),
                by_kind=per_kind,
                suspended=suspended.get(i, 0),
            )
        )
    years = sorted({month.year for month in months})
    lows = [_local_start(date(y, 1, 1), zone) for y in years]
    highs = [_local_start(date(y + 1, 1, 1), zone) for y in years]
    year_rows = await r.fetch(
        f"""
SELECT b.i, coalesce(o.kind, 'unknown') AS kind,
       count(*) FILTER (WHERE p.since >= b.lo AND p.since < b.hi AND p.since <= $4) AS joins,
       count(*) FILTER (WHERE p.until >= b.lo AND p.until < b.hi AND p.until <= $4) AS leaves
  FROM unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS b(lo, hi, i)
  JOIN {periods} p ON p.tenant = $1 AND {r.valid("p")}
   AND ((p.since >= b.lo AND p.since < b.hi) OR (p.until >= b.lo AND p.until < b.hi))
  LEFT JOIN {organisations} o
    ON o.tenant = p.tenant AND o.id = p.organisation_id AND {r.valid("o")}
 GROUP BY b.i, 2
""",
        tenant,
        lows,
        highs,
        moment,
    )
    joins, leaves = _counts(year_rows, kinds, "joins"), _counts(year_rows, kinds, "leaves")
    yearly = []
    for i, year in enumerate(years, start=1):
        j, le = joins.get(i, dict.fromkeys(kinds, 0)), leaves.get(i, dict.fromkeys(kinds, 0))
        yearly.append(
            YearRow(
                year=year,
                joins=sum(j.values()),
                leaves=sum(le.values()),
                joins_by_kind=j,
                leaves_by_kind=le,
            )
        )
    return GrowthReport(
        started_on=started_on,
        at=moment,
        time_zone=TIME_ZONE,
        kinds=kinds,
        months=month_rows,
        years=yearly,
    )
