"""Reports on activities: volunteer hours per year, overlap cases' metrics, the
collaboration network per year. JSON, or CSV with `Accept: text/csv`; the network also as
GraphML (`Accept: application/graphml+xml`) for network tools (Gephi, Cytoscape, networkx).
Every report answers as of a moment (`as_of`) from the `activities` read model's history.

Readers: the coordinator, analysts, auditors, the municipality and funds
(`rights.ACTIVITY_REPORT_READERS`).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal
from xml.sax.saxutils import quoteattr

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from verbinders.api.auth import get_actor, roles
from verbinders.api.routes.common import AsOf, Timeout, WaitFor, moment
from verbinders.api.state import runtime_of
from verbinders.application import rights
from verbinders.projections.activities_queries import (
    CaseMetrics,
    HoursReport,
    Network,
    case_metrics,
    hours_report,
    network,
)
from verbinders.projections.reading import reading

__all__ = ["ActivityReportsController", "graphml"]

READERS = rights.ACTIVITY_REPORT_READERS
Year = Annotated[int, Parameter(ge=1990, le=2199, description="A calendar year (Europe/Amsterdam)")]
GRAPHML = "application/graphml+xml"


def _wants(request: Request[Any, Any, Any], media_type: str) -> bool:
    return media_type in request.headers.get("accept", "")


def _csv(header: list[str], rows: list[list[Any]], filename: str) -> Response[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return Response(
        out.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def graphml(report: Network) -> str:
    """The network as GraphML: organisations as nodes (name, kind), pairs as undirected
    edges weighted by their joint activities (and whether the pair is new)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        '  <key id="name" for="node" attr.name="name" attr.type="string"/>',
        '  <key id="kind" for="node" attr.name="kind" attr.type="string"/>',
        '  <key id="weight" for="edge" attr.name="weight" attr.type="int"/>',
        '  <key id="new" for="edge" attr.name="new" attr.type="boolean"/>',
        f'  <graph id="collaborations-{report.year}" edgedefault="undirected">',
    ]
    for node in report.nodes:
        lines.append(f"    <node id={quoteattr(str(node.id))}>")
        lines.append(f'      <data key="name">{_text(node.name or "")}</data>')
        lines.append(f'      <data key="kind">{_text(node.kind or "")}</data>')
        lines.append("    </node>")
    for n, edge in enumerate(report.edges):
        lines.append(
            f'    <edge id="e{n}" source={quoteattr(str(edge.source))}'
            f" target={quoteattr(str(edge.target))}>"
        )
        lines.append(f'      <data key="weight">{edge.activities}</data>')
        lines.append(f'      <data key="new">{str(edge.new).lower()}</data>')
        lines.append("    </edge>")
    lines += ["  </graph>", "</graphml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ActivityReportsController(Controller):
    path = "/reports"
    tags = ["reports"]

    @get(
        "/hours",
        **roles(*READERS),
        summary="Volunteer hours in a year: the platform's total, by organisation, kind, theme,"
        " district",
    )
    async def hours(
        self,
        request: Request[Any, Any, Any],
        year: Year,
        table: Literal["organisations", "kinds", "themes", "districts"] = "organisations",
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        """Each entry's corrected figure (as known at `as_of`); retracted entries count
        nothing. CSV (`Accept: text/csv`): the breakdown named by `table`, with the total as
        its first line."""
        tenant = get_actor(request).tenant
        async with reading(
            runtime_of(request),
            "activities",
            tenant=tenant,
            as_of=moment(as_of),
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            report: HoursReport = await hours_report(r, tenant, year)
        if not _wants(request, "text/csv"):
            return Response(report)
        lines = {
            "organisations": report.by_organisation,
            "kinds": report.by_kind,
            "themes": report.by_theme,
            "districts": report.by_district,
        }[table]
        return _csv(
            ["year", "key", "name", "hours", "volunteers", "entries"],
            [[year, "(platform)", "", report.total_hours, "", report.entries]]
            + [[year, x.key, x.name, x.hours, x.volunteers, x.entries] for x in lines],
            f"hours-{year}-{table}.csv",
        )

    @get(
        "/overlap-cases",
        **roles(*READERS),
        summary="Overlap cases per year: opened, resolved, outcomes, time to resolve,"
        " collaborations born",
    )
    async def cases(
        self,
        request: Request[Any, Any, Any],
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        tenant = get_actor(request).tenant
        async with reading(
            runtime_of(request),
            "activities",
            tenant=tenant,
            as_of=moment(as_of),
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            report: CaseMetrics = await case_metrics(r, tenant)
        if not _wants(request, "text/csv"):
            return Response(report)
        outcomes = sorted({o for y in report.years for o in y.outcomes})
        return _csv(
            [
                "year",
                "opened",
                "resolved",
                "lapsed",
                "still_open",
                *outcomes,
                "median_days_to_resolve",
                "mean_days_to_resolve",
                "collaborations_born",
            ],
            [
                [
                    y.year,
                    y.opened,
                    y.resolved,
                    y.lapsed,
                    y.still_open,
                    *(y.outcomes.get(o, 0) for o in outcomes),
                    y.median_days_to_resolve,
                    y.mean_days_to_resolve,
                    y.collaborations_born,
                ]
                for y in report.years
            ],
            "overlap-cases.csv",
        )

    @get(
        "/collaborations",
        **roles(*READERS),
        summary="The collaboration network of a year: pairs, new pairs, self- and formal"
        " organisations together, the trinity with the municipality (JSON, CSV, GraphML)",
    )
    async def collaborations(
        self,
        request: Request[Any, Any, Any],
        year: Year,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        """CSV (`Accept: text/csv`): one line per pair; GraphML
        (`Accept: application/graphml+xml`): the graph."""
        tenant = get_actor(request).tenant
        async with reading(
            runtime_of(request),
            "activities",
            tenant=tenant,
            as_of=moment(as_of),
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            report = await network(r, tenant, year)
        if _wants(request, GRAPHML):
            return Response(
                graphml(report).encode(),
                media_type=f"{GRAPHML}; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="collaborations-{year}.graphml"'
                },
            )
        if not _wants(request, "text/csv"):
            return Response(report)
        names = {n.id: n for n in report.nodes}
        return _csv(
            [
                "year",
                "source",
                "source_name",
                "source_kind",
                "target",
                "target_name",
                "target_kind",
                "activities",
                "new",
            ],
            [
                [
                    year,
                    e.source,
                    names[e.source].name,
                    names[e.source].kind,
                    e.target,
                    names[e.target].name,
                    names[e.target].kind,
                    e.activities,
                    e.new,
                ]
                for e in report.edges
            ],
            f"collaborations-{year}.csv",
        )
