"""Reports on calls, as JSON or, with `Accept: text/csv`, as CSV (coordinator, municipality,
analysts; no personal data in them).

- `GET /reports/calls/{id}`: per call: time to the first response, the share of addressees that
  responded by the respond-by moment, and per kind of need what was needed against offered.
- `GET /reports/calls?year=Y`: per year (of issue, in UTC): calls by kind, and response rates
  by organisation and by kind of organisation (addressed, responded, responded in time). CSV
  gives one table: `table=organisations` (default), `organisation-kinds` or `kinds`.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from verbinders.api.auth import get_actor, roles
from verbinders.api.routes.common import AsOf, Timeout, WaitFor, moment
from verbinders.api.state import runtime_of
from verbinders.application import rights
from verbinders.projections.call_picture import Tally, call_picture
from verbinders.projections.calls_queries import first_responses, year_tables
from verbinders.projections.reading import reading

__all__ = ["CallReportsController"]


class CallReport(msgspec.Struct, frozen=True, kw_only=True):
    call_id: uuid.UUID
    title: str
    kind: str
    issued_at: datetime
    respond_by: datetime
    addressed: int
    responded: int
    responded_in_time: int
    share_in_time: float | None
    """Share of the addressees that responded by the respond-by moment."""
    first_response_after_s: float | None
    """Seconds from issuing to the first response (None: nobody responded)."""
    offered_vs_needed: list[Tally]


class KindCount(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    calls: int


class Rate(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    name: str | None = None
    addressed: int
    responded: int
    responded_in_time: int
    rate: float | None
    """responded / addressed."""


class YearReport(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    calls_by_kind: list[KindCount]
    by_organisation: list[Rate]
    by_organisation_kind: list[Rate]


def _wants_csv(request: Request[Any, Any, Any]) -> bool:
    return "text/csv" in request.headers.get("accept", "")


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


def _rates(rows: list[Any]) -> list[Rate]:
    return [
        Rate(
            key=str(r["key"]),
            name=r["name"],
            addressed=r["addressed"],
            responded=r["responded"],
            responded_in_time=r["in_time"],
            rate=round(r["responded"] / r["addressed"], 4) if r["addressed"] else None,
        )
        for r in rows
    ]


class CallReportsController(Controller):
    path = "/reports/calls"
    tags = ["reports", "calls"]

    @get(
        "/{call_id:uuid}",
        **roles(*rights.CALL_REPORT_READERS),
        summary="One call: time to first response, share in time, offered against needed",
    )
    async def call(
        self,
        request: Request[Any, Any, Any],
        call_id: uuid.UUID,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        at = moment(as_of)
        async with reading(
            runtime, "calls", tenant=tenant, as_of=at, wait_for=wait_for, timeout=timeout
        ) as r:
            picture = await call_picture(r, tenant, call_id, as_of=at)
            row = await first_responses(r, tenant, call_id)
        first = row["first"] if row else None
        in_time = int(row["in_time"]) if row else 0
        report = CallReport(
            call_id=picture.call_id,
            title=picture.title,
            kind=picture.kind,
            issued_at=picture.issued_at,
            respond_by=picture.respond_by,
            addressed=picture.addressed,
            responded=picture.responded,
            responded_in_time=in_time,
            share_in_time=round(in_time / picture.addressed, 4) if picture.addressed else None,
            first_response_after_s=(first - picture.issued_at).total_seconds() if first else None,
            offered_vs_needed=picture.by_kind,
        )
        if not _wants_csv(request):
            return Response(report)
        summary = [
            report.call_id,
            report.title,
            report.addressed,
            report.responded,
            report.responded_in_time,
            report.share_in_time,
            report.first_response_after_s,
        ]
        return _csv(
            [
                "call_id",
                "title",
                "addressed",
                "responded",
                "responded_in_time",
                "share_in_time",
                "first_response_after_s",
                "need_kind",
                "needed",
                "offered",
                "organisations",
            ],
            [
                [*summary, t.key, t.needed, t.offered, t.organisations]
                for t in report.offered_vs_needed
            ]
            or [[*summary, None, None, None, None]],
            f"call-{call_id}.csv",
        )

    @get(
        "/",
        **roles(*rights.CALL_REPORT_READERS),
        summary="One year: calls by kind; response rates by organisation and kind of organisation",
    )
    async def year(
        self,
        request: Request[Any, Any, Any],
        year: Annotated[int, Parameter(ge=1990, le=2199, description="The year of issue (UTC)")],
        table: Literal["organisations", "organisation-kinds", "kinds"] = "organisations",
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        async with reading(
            runtime, "calls", tenant=tenant, as_of=moment(as_of), wait_for=wait_for, timeout=timeout
        ) as r:
            kinds, by_organisation, by_kind = await year_tables(r, tenant, start, end)
        report = YearReport(
            year=year,
            calls_by_kind=[KindCount(kind=r["kind"], calls=r["calls"]) for r in kinds],
            by_organisation=_rates(by_organisation),
            by_organisation_kind=_rates(by_kind),
        )
        if not _wants_csv(request):
            return Response(report)
        if table == "kinds":
            return _csv(
                ["year", "kind", "calls"],
                [[year, k.kind, k.calls] for k in report.calls_by_kind],
                f"calls-{year}-kinds.csv",
            )
        rates = report.by_organisation if table == "organisations" else report.by_organisation_kind
        return _csv(
            ["year", "key", "name", "addressed", "responded", "responded_in_time", "rate"],
            [
                [year, r.key, r.name, r.addressed, r.responded, r.responded_in_time, r.rate]
                for r in rates
            ],
            f"calls-{year}-{table}.csv",
        )
