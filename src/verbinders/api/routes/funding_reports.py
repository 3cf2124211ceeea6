"""Funding's read-model routes: the list of applications, the application at each decision,
the reports (JSON, or CSV with `Accept: text/csv`) and the 360Giving export; all `as_of` any
moment, from the `funding` read model's history.

The 360Giving export is a package (`grants`, `version`) of the grants in force: amounts are
JSON numbers written from the exact decimals (never through a float), payments are the
grants' disbursement transactions, the round's deadline and the decision the award date.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import Parameter, QueryParameter

from verbinders.api.auth import get_actor, roles
from verbinders.api.routes.common import AsOf, Timeout, WaitFor
from verbinders.api.state import runtime_of
from verbinders.application import rights
from verbinders.domain import limits
from verbinders.domain.access import Role
from verbinders.domain.funding_applications import ApplicationState, BudgetLine
from verbinders.errors import NotFound
from verbinders.projections.funding_queries import (
    applications_page,
    at_decisions,
    decisions_report,
    grants,
    joint_report,
    year_report,
)
from verbinders.projections.reading import Reading, reading

__all__ = ["FundingReportsController", "giving_package"]

READERS = rights.FUNDING_REPORT_READERS
DECISION_READERS = (*rights.TRAIL_READERS, Role.FUND.value, Role.MUNICIPALITY.value)
_exact = msgspec.json.Encoder(decimal_format="number")


class ApplicationSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    round_id: uuid.UUID
    fund_id: uuid.UUID
    applicant: uuid.UUID
    applicant_name: str | None
    applicant_kind: str | None
    joint: bool
    title: str
    requested: str
    granted: str
    paid: str
    state: str
    submitted_at: datetime | None
    version: int


class ApplicationPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ApplicationSummary]
    total: int
    limit: int
    offset: int


class AsDecided(msgspec.Struct, frozen=True, kw_only=True):
    """A decision, and the application as the decider saw it (just before the decision)."""

    number: int
    amount: str
    rationale: str
    conditions: list[str]
    decided_by: str
    decided_at: datetime
    replaces: int | None
    position: int
    application: ApplicationAsSeen | None


Money = Annotated[
    str, msgspec.Meta(pattern=r"^-?[0-9]+\.[0-9]{2}$", description="An amount in euros")
]
Ratio = Annotated[
    str, msgspec.Meta(pattern=r"^-?[0-9]+\.[0-9]+$", description="A decimal fraction")
]
Days = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]+\.[0-9]$", description="Days, one decimal")]


class FundingYearRow(msgspec.Struct, frozen=True, kw_only=True):
    """Per year (of submission), fund and kind of applicant."""

    year: int
    fund_id: uuid.UUID
    fund: str
    applicant_kind: str
    applications: int
    decided: int
    granted_count: int
    requested: Money | None
    granted: Money


class JointRow(msgspec.Struct, frozen=True, kw_only=True):
    """Joint (`joint`) or solo applications."""

    joint: bool
    applications: int
    decided: int
    granted_count: int
    success_rate: Ratio | None
    requested: Money | None
    granted: Money


class DecisionTimeRow(msgspec.Struct, frozen=True, kw_only=True):
    """Per year and fund: days from submission to the first decision, payment against grant."""

    year: int
    fund_id: uuid.UUID
    fund: str
    decided: int
    mean_days: Days | None
    median_days: Days | None
    max_days: Days | None
    granted: Money
    paid: Money
    reclaimed: Money
    paid_share: Ratio | None


class ApplicationAsSeen(msgspec.Struct, frozen=True, kw_only=True):
    """An application as the read model held it just before a decision."""

    id: uuid.UUID
    round_id: uuid.UUID
    fund_id: uuid.UUID
    funder: uuid.UUID
    applicant: uuid.UUID
    co_applicants: dict[str, bool]
    """Co-applicant -> whether it confirmed."""
    joint: bool
    title: str
    summary: str
    budget_lines: list[BudgetLine]
    requested: Money | None
    activity_id: uuid.UUID | None
    state: str
    drafted_at: datetime | None
    submitted_at: datetime | None
    first_decided_at: datetime | None
    decided_at: datetime | None
    granted: Money | None
    decisions: int | None
    paid: Money | None
    reclaimed: Money | None
    reviews: int | None
    conflicts: int | None
    version: int | None


class GivingOrganisation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str


class GivingProgramme(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    title: str


class GivingDates(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    start_date: datetime


class GivingTransaction(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    transaction_date: datetime
    value: float
    currency: Literal["EUR"]


class GivingGrant(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One grant in the 360Giving data standard (amounts are JSON numbers, as it asks)."""

    id: str
    title: str
    description: str
    currency: Literal["EUR"]
    amount_applied_for: float
    amount_awarded: float
    amount_disbursed: float
    award_date: datetime
    recipient_organization: list[GivingOrganisation]
    funding_organization: list[GivingOrganisation]
    grant_programme: list[GivingProgramme]
    planned_dates: list[GivingDates]
    from_open_call: Literal["Yes"]
    disbursement_transaction: list[GivingTransaction] | msgspec.UnsetType = msgspec.UNSET


class GivingPackage(msgspec.Struct, frozen=True, kw_only=True):
    """A 360Giving package (standard version 1.4) of the platform's grants."""

    grants: list[GivingGrant]
    version: Literal["1.4"]


T = TypeVar("T")


def _money(value: Decimal | None) -> str:
    return str(value if value is not None else Decimal("0.00"))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID | datetime):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in dict(row).items()} for row in rows]


def _answer(
    request: Request[Any, Any, Any], rows: list[dict[str, Any]], name: str
) -> Response[Any]:
    if "text/csv" not in request.headers.get("accept", ""):
        return Response(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = list(rows[0]) if rows else []
    writer.writerow(header)
    writer.writerows(["" if row[h] is None else row[h] for h in header] for row in rows)
    return Response(
        out.getvalue().encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _stamp(moment: datetime) -> str:
    """A full RFC 3339 date-time (the standard's dates also take YYYY-MM-DD, but its schema's
    `oneOf` then matches both of its branches where formats are not asserted)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


async def _report(
    request: Request[Any, Any, Any],
    query: Callable[[Reading, str], Awaitable[T]],
    as_of: datetime | None,
    wait_for: int | None,
    timeout: float,
) -> T:
    """One of the funding read model's reports for the token's platform, live or as of."""
    tenant = get_actor(request).tenant
    async with reading(
        runtime_of(request),
        "funding",
        tenant=tenant,
        as_of=as_of,
        wait_for=wait_for,
        timeout=timeout,
    ) as r:
        return await query(r, tenant)


def giving_package(tenant: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    """The 360Giving package of `grants` rows (identifiers prefixed by the platform)."""
    prefix = f"360G-verbinders-{tenant}"

    def org(org_id: Any, name: str | None) -> dict[str, Any]:
        return {"id": f"XI-VERBINDERS-{tenant}-{org_id}", "name": name or str(org_id)}

    items = []
    for g in found:
        item: dict[str, Any] = {
            "id": f"{prefix}-{g['id']}",
            "title": g["title"],
            "description": g["summary"],
            "currency": "EUR",
            "amountAppliedFor": g["requested"],
            "amountAwarded": g["granted"],
            "amountDisbursed": g["paid"],
            "awardDate": _stamp(g["awarded_at"]),
            "recipientOrganization": [org(g["applicant"], g["applicant_name"])],
            "fundingOrganization": [org(g["funder"], g["funder_name"])],
            "grantProgramme": [{"code": str(g["round_id"]), "title": g["round_title"]}],
            "plannedDates": [{"startDate": _stamp(g["awarded_at"])}],
            "fromOpenCall": "Yes",
        }
        if g["payments"]:
            item["disbursementTransaction"] = [
                {
                    "id": f"{prefix}-{g['id']}-payment-{p['number']}",
                    "transactionDate": _stamp(p["paid_at"]),
                    "value": p["amount"],
                    "currency": "EUR",
                }
                for p in g["payments"]
            ]
        items.append(item)
    return {"grants": items, "version": "1.4"}


class FundingReportsController(Controller):
    path = "/funding"
    tags = ["funding"]

    @get(
        "/applications",
        **roles(*rights.FUNDING_READERS),
        summary="Applications: all (coordinator, auditor), else the fund's, your own and joint",
    )
    async def applications(
        self,
        request: Request[Any, Any, Any],
        round_id: uuid.UUID | None = None,
        application_state: Annotated[
            ApplicationState | None,
            QueryParameter(name="state", description="draft, submitted, decided, ..."),
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=limits.INT32_MAX)] = 0,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> ApplicationPage:
        actor = get_actor(request)
        everything = actor.has_any(Role.COORDINATOR.value, Role.AUDITOR.value)
        async with reading(
            runtime_of(request),
            "funding",
            tenant=actor.tenant,
            as_of=as_of,
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            total, rows = await applications_page(
                r,
                actor.tenant,
                everything=everything,
                party=actor.party,
                round_id=round_id,
                state=application_state.value if application_state else None,
                limit=limit,
                offset=offset,
            )
        items = [
            ApplicationSummary(
                id=x["id"],
                round_id=x["round_id"],
                fund_id=x["fund_id"],
                applicant=x["applicant"],
                applicant_name=x["applicant_name"],
                applicant_kind=x["applicant_kind"],
                joint=x["joint"],
                title=x["title"],
                requested=_money(x["requested"]),
                granted=_money(x["granted"]),
                paid=_money(x["paid"]),
                state=x["state"],
                submitted_at=x["submitted_at"],
                version=x["version"],
            )
            for x in rows
        ]
        return ApplicationPage(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/applications/{application_id:uuid}/as-decided",
        **roles(*DECISION_READERS),
        summary="Each decision with the application as it stood just before it",
    )
    async def as_decided(
        self,
        request: Request[Any, Any, Any],
        application_id: uuid.UUID,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> list[AsDecided]:
        """What the decider knew, from the read model's history (no rebuild)."""
        actor = get_actor(request)
        async with reading(
            runtime_of(request),
            "funding",
            tenant=actor.tenant,
            as_of=as_of,
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            funder = await r.fetchval(
                f"SELECT a.funder FROM {r.table('applications')} a WHERE a.tenant = $1"
                f" AND a.id = $2 AND {r.valid('a')}",
                actor.tenant,
                application_id,
            )
            if funder is None:
                raise NotFound(f"no funding application {application_id}", id=str(application_id))
            if not actor.has_any(Role.AUDITOR.value):
                rights.manage_fund(actor, funder)
            found = await at_decisions(r, actor.tenant, application_id)
        return [
            AsDecided(
                number=d["number"],
                amount=_money(d["amount"]),
                rationale=d["rationale"],
                conditions=list(d["conditions"]),
                decided_by=d["decided_by"],
                decided_at=d["decided_at"],
                replaces=d["replaces"],
                position=d["position"],
                application=None
                if before is None
                else msgspec.convert(
                    {
                        k: _plain(v)
                        for k, v in dict(before).items()
                        if k not in ("valid_from", "valid_to", "tenant")
                    },
                    ApplicationAsSeen,
                ),
            )
            for d, before in found
        ]

    @get("/reports/years", **roles(*READERS), summary="Per year, fund and kind of applicant")
    async def years(
        self,
        request: Request[Any, Any, Any],
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        """Applications, decided and granted, amounts requested and granted: the equality
        question in numbers (JSON, or CSV)."""
        rows = _rows(await _report(request, year_report, as_of, wait_for, timeout))
        return _answer(request, rows, "funding-years")

    @get("/reports/joint", **roles(*READERS), summary="Joint against solo applications")
    async def joint(
        self,
        request: Request[Any, Any, Any],
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        """Is together more chance? Success rates and amounts, joint and solo."""
        rows = _rows(await _report(request, joint_report, as_of, wait_for, timeout))
        return _answer(request, rows, "funding-joint")

    @get(
        "/reports/decisions",
        **roles(*READERS),
        summary="Time from submission to decision, and payment against grant",
    )
    async def decisions(
        self,
        request: Request[Any, Any, Any],
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[Any]:
        rows = _rows(await _report(request, decisions_report, as_of, wait_for, timeout))
        return _answer(request, rows, "funding-decisions")

    @get(
        "/reports/360giving",
        **roles(*READERS),
        summary="The grants in the 360Giving data standard (a package, JSON)",
    )
    async def giving(
        self,
        request: Request[Any, Any, Any],
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Response[bytes]:
        found = await _report(request, grants, as_of, wait_for, timeout)
        return Response(
            _exact.encode(giving_package(get_actor(request).tenant, found)),
            media_type="application/json",
        )
