"""The membership register and its growth: who is a member, since when, and how that grew.

Tables (readers query the views in the schema `membership`):

- `platforms`: when each platform started (from `Platform.Created`), where growth begins;
- `organisations`: each organisation's kind and current name (from `Organisation.Registered`
  and `Renamed`), for the register and the breakdown by kind;
- `memberships`: one row per membership stream, its status now;
- `transitions`: every membership event with the status it led to, **valid from** its `at`
  **until** the next event's `at` (open while current), with who decided and why;
- `periods`: periods of membership (admitted until left; a suspension does not interrupt one);
- `suspensions`: periods of suspension.

Two kinds of time (see docs/architecture.md). The validity columns hold the world's time, the
events' `at` (when an admission took effect), not the time of recording: history loaded
afterwards (the demo, an import of the paper register) lands where it happened. So "the
register as things stood on 1 March 2021" is a condition on those columns (the queries' `at`),
with no replay. What the platform *knew* at a moment (`as_of` in the API: only the events
recorded by then) is a historical generation of these same tables
(`projections.history.schema_as_of`), on which the same queries run.

Months and years are counted in the platform's local time (`TIME_ZONE`): "members at the end of
March" are those whose period covers the last moment of 31 March in Amsterdam. Joins are
admissions (a readmission after leaving counts again), leaves are `Left` events; a suspended
organisation is still a member.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import msgspec

from verbinders.domain.vocabulary import OrganisationKind
from verbinders.projections.engine import Projection

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = [
    "TIME_ZONE",
    "GrowthReport",
    "MembershipProjection",
    "MonthRow",
    "RegisterEntry",
    "YearRow",
    "growth",
    "register_page",
]

TIME_ZONE = "Europe/Amsterdam"
"""Month and year boundaries of the growth report (every platform so far is Dutch)."""

_TICK = timedelta(microseconds=1)

MEMBERSHIP = "verbinders.domain.membership:Membership."
ORGANISATION = "verbinders.domain.organisations:Organisation."
PLATFORM_CREATED = "verbinders.domain.platform:Platform.Created"

STATUS_AFTER = {
    "Applied": "applied",
    "Reapplied": "applied",
    "ApplicationWithdrawn": "withdrawn",
    "Admitted": "member",
    "Rejected": "rejected",
    "Suspended": "suspended",
    "Reinstated": "member",
    "Left": "left",
}

_DDL = """
CREATE TABLE platforms (
    tenant     text PRIMARY KEY,
    started_on date NOT NULL
);

CREATE TABLE organisations (
    tenant        text        NOT NULL,
    id            uuid        NOT NULL,
    kind          text        NOT NULL,
    name          text        NOT NULL,
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE memberships (
    tenant            text        NOT NULL,
    id                uuid        NOT NULL,
    organisation_id   uuid        NOT NULL,
    status            text        NOT NULL,
    applied_at        timestamptz NOT NULL,
    changed_at        timestamptz NOT NULL,
    member_since      timestamptz,
    first_admitted_at timestamptz,
    version           integer     NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, organisation_id)
);

CREATE TABLE transitions (
    tenant          text        NOT NULL,
    membership_id   uuid        NOT NULL,
    version         integer     NOT NULL,
    organisation_id uuid        NOT NULL,
    event           text        NOT NULL,
    status          text        NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_until     timestamptz,
    decided_by      text,
    reason          text,
    motivation      text,
    meeting_id      uuid,
    position        bigint      NOT NULL,
    PRIMARY KEY (tenant, membership_id, version),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX transitions_current ON transitions (tenant, status) WHERE valid_until IS NULL;
CREATE INDEX transitions_valid ON transitions (tenant, valid_from, valid_until);

CREATE TABLE periods (
    tenant           text        NOT NULL,
    membership_id    uuid        NOT NULL,
    admitted_version integer     NOT NULL,
    organisation_id  uuid        NOT NULL,
    since            timestamptz NOT NULL,
    until            timestamptz,
    PRIMARY KEY (tenant, membership_id, admitted_version),
    CHECK (until IS NULL OR until >= since)
);
CREATE INDEX periods_since ON periods (tenant, since);
CREATE INDEX periods_until ON periods (tenant, until);

CREATE TABLE suspensions (
    tenant            text        NOT NULL,
    membership_id     uuid        NOT NULL,
    suspended_version integer     NOT NULL,
    organisation_id   uuid        NOT NULL,
    since             timestamptz NOT NULL,
    until             timestamptz,
    PRIMARY KEY (tenant, membership_id, suspended_version),
    CHECK (until IS NULL OR until >= since)
);
"""


def _at(event: RecordedEvent) -> datetime:
    """When it took effect in the world (the event's `at`), not when it was recorded."""
    return datetime.fromisoformat(event.payload["at"])


class MembershipProjection(Projection):
    name = "membership"
    version = 1
    topics = (
        PLATFORM_CREATED,
        ORGANISATION + "Registered",
        ORGANISATION + "Renamed",
        *(MEMBERSHIP + name for name in STATUS_AFTER),
    )
    tables = ("platforms", "organisations", "memberships", "transitions", "periods", "suspensions")

    def ddl(self) -> str:
        return _DDL

    async def handle(self, conn: Connection, event: RecordedEvent) -> None:
        if event.topic.startswith(MEMBERSHIP):
            await _membership(conn, event, event.topic.removeprefix(MEMBERSHIP))
        elif event.topic == ORGANISATION + "Registered":
            await conn.execute(
                "INSERT INTO organisations (tenant, id, kind, name, registered_at)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, id) DO NOTHING",
                event.tenant,
                event.stream_id,
                event.payload["kind"],
                event.payload["name"],
                _at(event),
            )
        elif event.topic == ORGANISATION + "Renamed":
            await conn.execute(
                "UPDATE organisations SET name = $3 WHERE tenant = $1 AND id = $2",
                event.tenant,
                event.stream_id,
                event.payload["name"],
            )
        elif event.topic == PLATFORM_CREATED:
            await conn.execute(
                "INSERT INTO platforms (tenant, started_on) VALUES ($1, $2)"
                " ON CONFLICT (tenant) DO NOTHING",
                event.tenant,
                date.fromisoformat(event.payload["started_on"]),
            )


async def _membership(conn: Connection, event: RecordedEvent, name: str) -> None:
    tenant, stream, at, p = event.tenant, event.stream_id, _at(event), event.payload
    if name == "Applied":
        await conn.execute(
            "INSERT INTO memberships (tenant, id, organisation_id, status, applied_at,"
            " changed_at, version) VALUES ($1, $2, $3, 'applied', $4, $4, $5)"
            " ON CONFLICT (tenant, id) DO NOTHING",
            tenant,
            stream,
            p["organisation_id"],
            at,
            event.version,
        )
    organisation_id = await conn.fetchval(
        "SELECT organisation_id FROM memberships WHERE tenant = $1 AND id = $2", tenant, stream
    )
    if organisation_id is None:  # pragma: no cover - every stream starts with Applied
        return
    status = STATUS_AFTER[name]
    await conn.execute(
        "UPDATE transitions SET valid_until = $3"
        " WHERE tenant = $1 AND membership_id = $2 AND valid_until IS NULL",
        tenant,
        stream,
        at,
    )
    await conn.execute(
        "INSERT INTO transitions (tenant, membership_id, version, organisation_id, event, status,"
        " valid_from, decided_by, reason, motivation, meeting_id, position)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        tenant,
        stream,
        event.version,
        organisation_id,
        name,
        status,
        at,
        p.get("decided_by") or event.metadata.get("actor"),
        p.get("reason"),
        p.get("motivation"),
        p.get("meeting_id"),
        event.position,
    )
    if name in ("Suspended", "Admitted"):
        table, column = (
            ("periods", "admitted_version")
            if name == "Admitted"
            else ("suspensions", "suspended_version")
        )
        await conn.execute(
            f"INSERT INTO {table} (tenant, membership_id, {column}, organisation_id, since)"
            " VALUES ($1, $2, $3, $4, $5)",
            tenant,
            stream,
            event.version,
            organisation_id,
            at,
        )
    closes = {"Reinstated": ("suspensions",), "Left": ("suspensions", "periods")}
    for table in closes.get(name, ()):
        await conn.execute(
            f"UPDATE {table} SET until = $3"
            " WHERE tenant = $1 AND membership_id = $2 AND until IS NULL",
            tenant,
            stream,
            at,
        )
    await conn.execute(
        "UPDATE memberships SET status = $3, changed_at = $4, version = $5,"
        " member_since = CASE WHEN $6 = 'Admitted' THEN $4"
        "   WHEN $6 = 'Left' THEN NULL ELSE member_since END,"
        " first_admitted_at = CASE WHEN $6 = 'Admitted' THEN coalesce(first_admitted_at, $4)"
        "   ELSE first_admitted_at END"
        " WHERE tenant = $1 AND id = $2",
        tenant,
        stream,
        status,
        at,
        event.version,
        name,
    )


# -- queries --------------------------------------------------------------------------------------


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


def _quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


async def register_page(
    conn: Connection,
    schema: str,
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
    s = _quoted(schema)
    moment = "coalesce($2::timestamptz, 'infinity')"
    where = f"""
  FROM {s}.transitions t
  LEFT JOIN {s}.organisations o ON o.tenant = t.tenant AND o.id = t.organisation_id
 WHERE t.tenant = $1
   AND CASE WHEN $2::timestamptz IS NULL THEN t.valid_until IS NULL
            ELSE t.valid_from <= $2 AND (t.valid_until IS NULL OR t.valid_until > $2) END
   AND (cardinality($3::text[]) = 0 OR t.status = ANY ($3::text[]))
   AND (cardinality($4::text[]) = 0 OR o.kind = ANY ($4::text[]))
"""
    args = (tenant, at, list(statuses), list(kinds))
    total = await conn.fetchval(f"SELECT count(*) {where}", *args)
    rows = await conn.fetch(
        f"""
SELECT t.organisation_id, coalesce(o.name, t.organisation_id::text) AS name,
       coalesce(o.kind, 'unknown') AS kind, t.status, t.valid_from AS status_since,
       t.decided_by, t.reason,
       (SELECT max(p.since) FROM {s}.periods p
         WHERE p.tenant = t.tenant AND p.membership_id = t.membership_id
           AND p.since <= {moment} AND (p.until IS NULL OR p.until > {moment})) AS member_since,
       (SELECT min(p.since) FROM {s}.periods p
         WHERE p.tenant = t.tenant AND p.membership_id = t.membership_id
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
            organisation_id=r["organisation_id"],
            name=r["name"],
            kind=r["kind"],
            status=r["status"],
            status_since=r["status_since"],
            member_since=r["member_since"],
            first_admitted_at=r["first_admitted_at"],
            decided_by=r["decided_by"],
            reason=r["reason"],
        )
        for r in rows
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


async def growth(
    conn: Connection, schema: str, tenant: str, *, at: datetime | None = None
) -> GrowthReport:
    """Members at the end of each month since the platform started, and joins and leaves per
    year, each by kind of organisation, up to the moment `at` (default: now)."""
    s = _quoted(schema)
    zone = ZoneInfo(TIME_ZONE)
    moment = at or datetime.now(UTC)
    kinds = tuple(k.value for k in OrganisationKind)
    started_on: date | None = await conn.fetchval(
        f"SELECT started_on FROM {s}.platforms WHERE tenant = $1", tenant
    )
    earliest: datetime | None = await conn.fetchval(
        f"SELECT min(since) FROM {s}.periods WHERE tenant = $1 AND since <= $2", tenant, moment
    )
    last_day = moment.astimezone(zone).date()
    starts = [started_on] if started_on else []
    if earliest is not None:
        starts.append(earliest.astimezone(zone).date())
    first_day = min(starts, default=last_day)
    months = _months(first_day, last_day)
    # Each month's last moment; for the running month, the moment asked about.
    points = [min(_local_start(_next_month(month), zone) - _TICK, moment) for month in months]
    member_rows = await conn.fetch(
        f"""
SELECT b.i, coalesce(o.kind, 'unknown') AS kind, count(*) AS n
  FROM unnest($2::timestamptz[]) WITH ORDINALITY AS b(x, i)
  JOIN {s}.periods p ON p.tenant = $1 AND p.since <= b.x AND (p.until IS NULL OR p.until > b.x)
  LEFT JOIN {s}.organisations o ON o.tenant = p.tenant AND o.id = p.organisation_id
 GROUP BY b.i, 2
""",
        tenant,
        points,
    )
    suspended_rows = await conn.fetch(
        f"""
SELECT b.i, count(*) AS n
  FROM unnest($2::timestamptz[]) WITH ORDINALITY AS b(x, i)
  JOIN {s}.suspensions p ON p.tenant = $1 AND p.since <= b.x
                        AND (p.until IS NULL OR p.until > b.x)
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
    year_rows = await conn.fetch(
        f"""
SELECT b.i, coalesce(o.kind, 'unknown') AS kind,
       count(*) FILTER (WHERE p.since >= b.lo AND p.since < b.hi AND p.since <= $4) AS joins,
       count(*) FILTER (WHERE p.until >= b.lo AND p.until < b.hi AND p.until <= $4) AS leaves
  FROM unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS b(lo, hi, i)
  JOIN {s}.periods p ON p.tenant = $1
   AND ((p.since >= b.lo AND p.since < b.hi) OR (p.until >= b.lo AND p.until < b.hi))
  LEFT JOIN {s}.organisations o ON o.tenant = p.tenant AND o.id = p.organisation_id
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
