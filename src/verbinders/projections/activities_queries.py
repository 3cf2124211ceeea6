"""Queries of the `activities` read model, live or as of a position (`Reading`): the lists
of activities and overlap cases, the hours report, the overlap cases' metrics and the
collaboration network.

A year is a calendar year in the platform's time zone: of an activity, the year of its first
occurrence; of hours, the year of their day; of a case, the year it was opened.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from datetime import date
from itertools import combinations
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.domain.schedule import PLATFORM_TIME_ZONE
from verbinders.domain.vocabulary import OrganisationKind

if TYPE_CHECKING:
    from verbinders.projections.reading import Reading

__all__ = [
    "CaseMetrics",
    "HoursReport",
    "Network",
    "case_metrics",
    "hours_report",
    "list_activities",
    "list_cases",
    "network",
]

_YEAR = f"extract(year FROM a.first_at AT TIME ZONE '{PLATFORM_TIME_ZONE}')::int"


# -- lists ----------------------------------------------------------------------------------------


async def list_activities(
    r: Reading,
    tenant: str,
    *,
    organisation: uuid.UUID | None,
    status: str | None,
    theme: str | None,
    district: str | None,
    year: int | None,
    collaboration: bool | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Any]]:
    """Activities, the first occurrence latest first: those an organisation organises or
    takes part in (accepted), of a status, theme, district, year, collaborations or not."""
    a, p = r.table("activities"), r.table("partners")
    accepted = (
        f"EXISTS (SELECT FROM {p} p WHERE p.tenant = a.tenant AND p.activity_id = a.id"
        f" AND p.status = 'accepted' AND {r.valid('p')}"
    )
    where = (
        f"a.tenant = $1 AND {r.valid('a')}"
        " AND ($2::text IS NULL OR a.status = $2)"
        " AND ($3::text IS NULL OR a.themes @> ARRAY[$3::text])"
        " AND ($4::text IS NULL OR a.districts @> ARRAY[$4::text])"
        f" AND ($5::int IS NULL OR {_YEAR} = $5)"
        f" AND ($6::uuid IS NULL OR a.organisation_id = $6 OR {accepted}"
        " AND p.organisation_id = $6))"
        f" AND ($7::boolean IS NULL OR ({accepted})) = $7)"
    )
    args = (tenant, status, theme, district, year, organisation, collaboration)
    total = await r.fetchval(f"SELECT count(*) FROM {a} a WHERE {where}", *args)
    rows = await r.fetch(
        f"SELECT a.*, ({accepted})) AS collaboration,"
        f" ARRAY(SELECT p.organisation_id FROM {p} p WHERE p.tenant = a.tenant"
        f"   AND p.activity_id = a.id AND p.status = 'accepted' AND {r.valid('p')}"
        "   ORDER BY p.organisation_id) AS partners"
        f" FROM {a} a WHERE {where} ORDER BY a.first_at DESC, a.id LIMIT $8 OFFSET $9",
        *args,
        limit,
        offset,
    )
    return int(total), list(rows)


async def list_cases(
    r: Reading,
    tenant: str,
    *,
    organisation: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Any]]:
    """Overlap cases, the latest opened first: all, or those of one organisation."""
    c, a = r.table("cases"), r.table("activities")
    where = (
        f"c.tenant = $1 AND {r.valid('c')} AND ($2::text IS NULL OR c.status = $2)"
        " AND ($3::uuid IS NULL OR c.organisation_a = $3 OR c.organisation_b = $3)"
    )
    args = (tenant, status, organisation)
    total = await r.fetchval(f"SELECT count(*) FROM {c} c WHERE {where}", *args)
    rows = await r.fetch(
        f"SELECT c.*, (SELECT x.title FROM {a} x WHERE x.tenant = c.tenant"
        f"   AND x.id = c.activity_a AND {r.valid('x')}) AS title_a,"
        f" (SELECT x.title FROM {a} x WHERE x.tenant = c.tenant AND x.id = c.activity_b"
        f"   AND {r.valid('x')}) AS title_b"
        f" FROM {c} c WHERE {where} ORDER BY c.opened_at DESC, c.id LIMIT $4 OFFSET $5",
        *args,
        limit,
        offset,
    )
    return int(total), list(rows)


# -- the hours report -----------------------------------------------------------------------------


class HoursLine(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    name: str | None = None
    hours: float
    volunteers: int
    """Volunteers summed over entries (a person who gave on two days counts twice)."""
    entries: int


class HoursReport(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    total_hours: float
    """The headline: all hours given on the platform in the year (corrected figures)."""
    entries: int
    organisations: int
    by_organisation: list[HoursLine]
    by_kind: list[HoursLine]
    by_theme: list[HoursLine]
    """An entry counts under each theme of its activity (else of its organisation)."""
    by_district: list[HoursLine]


def _lines(groups: dict[str, list[Any]], names: dict[str, str] | None = None) -> list[HoursLine]:
    lines = [
        HoursLine(
            key=key,
            name=(names or {}).get(key),
            hours=sum(e["hours"] for e in entries),
            volunteers=sum(e["volunteers"] for e in entries),
            entries=len(entries),
        )
        for key, entries in groups.items()
    ]
    return sorted(lines, key=lambda line: (-line.hours, line.key))


async def hours_report(r: Reading, tenant: str, year: int) -> HoursReport:
    h, o, a = r.table("hours"), r.table("organisations"), r.table("activities")
    rows = await r.fetch(
        f"SELECT h.organisation_id, h.hours, h.volunteers, o.name, o.kind,"
        " coalesce(a.themes, o.themes, '{}') AS themes,"
        " coalesce(a.districts, o.districts, '{}') AS districts"
        f" FROM {h} h"
        f" LEFT JOIN {o} o ON o.tenant = h.tenant AND o.id = h.organisation_id AND {r.valid('o')}"
        f" LEFT JOIN {a} a ON a.tenant = h.tenant AND a.id = h.activity_id AND {r.valid('a')}"
        f" WHERE h.tenant = $1 AND {r.valid('h')} AND h.day >= $2 AND h.day < $3",
        tenant,
        date(year, 1, 1),
        date(year + 1, 1, 1),
    )
    by_org: dict[str, list[Any]] = defaultdict(list)
    by_kind: dict[str, list[Any]] = defaultdict(list)
    by_theme: dict[str, list[Any]] = defaultdict(list)
    by_district: dict[str, list[Any]] = defaultdict(list)
    names: dict[str, str] = {}
    for row in rows:
        org = str(row["organisation_id"])
        names[org] = row["name"]
        by_org[org].append(row)
        by_kind[row["kind"] or "unknown"].append(row)
        for theme in row["themes"] or ["(none)"]:
            by_theme[theme].append(row)
        for district in row["districts"] or ["(city-wide)"]:
            by_district[district].append(row)
    return HoursReport(
        year=year,
        total_hours=sum(row["hours"] for row in rows),
        entries=len(rows),
        organisations=len(by_org),
        by_organisation=_lines(by_org, names),
        by_kind=_lines(by_kind),
        by_theme=_lines(by_theme),
        by_district=_lines(by_district),
    )


# -- overlap cases' metrics ---------------------------------------------------------------------


class CaseYear(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    opened: int
    resolved: int
    """Ended with both organisations' answers (not lapsed)."""
    lapsed: int
    still_open: int
    outcomes: dict[str, int]
    median_days_to_resolve: float | None
    mean_days_to_resolve: float | None
    collaborations_born: int
    """Joined-forces cases whose invited organisation accepted in the host activity."""


class CaseMetrics(msgspec.Struct, frozen=True, kw_only=True):
    years: list[CaseYear]


async def case_metrics(r: Reading, tenant: str) -> CaseMetrics:
    c, p = r.table("cases"), r.table("partners")
    rows = await r.fetch(
        f"SELECT extract(year FROM c.opened_at AT TIME ZONE '{PLATFORM_TIME_ZONE}')::int AS year,"
        " c.status, c.outcome, extract(epoch FROM c.ended_at - c.opened_at) / 86400 AS days,"
        f" EXISTS (SELECT FROM {p} p WHERE p.tenant = c.tenant"
        "   AND p.activity_id = c.host_activity_id AND p.organisation_id = c.guest_organisation_id"
        f"   AND p.status = 'accepted' AND {r.valid('p')}) AS born"
        f" FROM {c} c WHERE c.tenant = $1 AND {r.valid('c')}",
        tenant,
    )
    years: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        years[row["year"]].append(row)
    result = []
    for year in sorted(years):
        cases = years[year]
        resolved = [c for c in cases if c["status"] == "resolved"]
        days = [float(c["days"]) for c in resolved]
        result.append(
            CaseYear(
                year=year,
                opened=len(cases),
                resolved=len(resolved),
                lapsed=sum(c["status"] == "closed" for c in cases),
                still_open=sum(c["status"] == "open" for c in cases),
                outcomes=dict(sorted(Counter(c["outcome"] for c in cases if c["outcome"]).items())),
                median_days_to_resolve=round(statistics.median(days), 2) if days else None,
                mean_days_to_resolve=round(statistics.fmean(days), 2) if days else None,
                collaborations_born=sum(
                    bool(c["born"]) for c in resolved if c["outcome"] == "joined-forces"
                ),
            )
        )
    return CaseMetrics(years=result)


# -- the collaboration network -------------------------------------------------------------------


class Node(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str | None
    kind: str | None


class Edge(msgspec.Struct, frozen=True, kw_only=True):
    source: uuid.UUID
    target: uuid.UUID
    activities: int
    """Joint activities of the pair in the year."""
    new: bool
    """The pair's first year of working together."""


class Network(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    collaborations: int
    """Activities of the year with at least one accepted partner (not cancelled)."""
    pairs: int
    new_pairs: int
    share_self_and_formal: float | None
    """Of the collaborations: the share joining a self-organisation and a formal organisation."""
    share_trinity: float | None
    """Of the collaborations: the share joining a self-organisation, a formal organisation and
    the municipality."""
    nodes: list[Node]
    edges: list[Edge]


async def network(r: Reading, tenant: str, year: int) -> Network:
    """Which organisations worked together in `year`: each collaboration joins its organiser
    and its accepted partners, every two of them a pair."""
    a, p, o = r.table("activities"), r.table("partners"), r.table("organisations")
    rows = await r.fetch(
        f"WITH collab AS (SELECT a.id, a.organisation_id, {_YEAR} AS year FROM {a} a"
        f"   WHERE a.tenant = $1 AND {r.valid('a')} AND a.status <> 'cancelled'"
        f"   AND {_YEAR} <= $2 AND EXISTS (SELECT FROM {p} p WHERE p.tenant = a.tenant"
        f"   AND p.activity_id = a.id AND p.status = 'accepted' AND {r.valid('p')})),"
        " members AS (SELECT id, year, organisation_id FROM collab"
        f"   UNION SELECT c.id, c.year, p.organisation_id FROM collab c JOIN {p} p"
        "   ON p.tenant = $1 AND p.activity_id = c.id AND p.status = 'accepted'"
        f"   AND {r.valid('p')})"
        " SELECT m.id, m.year, m.organisation_id, o.name, o.kind FROM members m"
        f" LEFT JOIN {o} o ON o.tenant = $1 AND o.id = m.organisation_id AND {r.valid('o')}"
        " ORDER BY m.year, m.id, m.organisation_id",
        tenant,
        year,
    )
    members: dict[uuid.UUID, list[Any]] = defaultdict(list)
    years: dict[uuid.UUID, int] = {}
    nodes: dict[uuid.UUID, Node] = {}
    for row in rows:
        members[row["id"]].append(row["organisation_id"])
        years[row["id"]] = row["year"]
        nodes[row["organisation_id"]] = Node(
            id=row["organisation_id"], name=row["name"], kind=row["kind"]
        )
    first_year: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    weights: Counter[tuple[uuid.UUID, uuid.UUID]] = Counter()
    spanning = trinity = collaborations = 0
    for activity, orgs in members.items():
        pairs = list(combinations(sorted(orgs, key=str), 2))
        for pair in pairs:
            first_year[pair] = min(first_year.get(pair, years[activity]), years[activity])
        if years[activity] != year:
            continue
        collaborations += 1
        weights.update(pairs)
        kinds = {nodes[org].kind for org in orgs}
        self_and_formal = {
            OrganisationKind.SELF_ORGANISATION.value,
            OrganisationKind.FORMAL_ORGANISATION.value,
        } <= kinds
        spanning += self_and_formal
        trinity += self_and_formal and OrganisationKind.MUNICIPALITY.value in kinds
    edges = [
        Edge(source=pair[0], target=pair[1], activities=count, new=first_year[pair] == year)
        for pair, count in sorted(
            weights.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))
        )
    ]
    in_year = {org for edge in edges for org in (edge.source, edge.target)}
    return Network(
        year=year,
        collaborations=collaborations,
        pairs=len(edges),
        new_pairs=sum(edge.new for edge in edges),
        share_self_and_formal=round(spanning / collaborations, 4) if collaborations else None,
        share_trinity=round(trinity / collaborations, 4) if collaborations else None,
        nodes=sorted((nodes[org] for org in in_year), key=lambda n: str(n.id)),
        edges=edges,
    )
