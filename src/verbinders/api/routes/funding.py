"""Funding over HTTP: funds, rounds, applications and everything done to them; the trail.

Commands go through the pipeline (one line each); reads come from the store (one fund, round or
application as it is now; the trail, every event with its position and chained hash). Who may
do what is `application/rights.py`'s: the fund's people act for their fund, applicants and
co-applicants for themselves, auditors read everything and change nothing. Amounts are strings
with cents ("1250.00"), never JSON numbers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from verbinders.api.auth import get_actor, roles
from verbinders.api.results import CommandResult
from verbinders.api.routes.common import etag, execute
from verbinders.api.state import runtime_of
from verbinders.application import funding as fund_side
from verbinders.application import funding_applicants as applicants
from verbinders.application import rights
from verbinders.application.funding_trail import trail_of
from verbinders.domain import limits
from verbinders.domain.funding_applications import (
    BudgetLine,
    Decision,
    FundingApplication,
    Objection,
    Payment,
    Recommendation,
    Review,
)
from verbinders.domain.funding_reports import Accountability, Document, Report, accountability_id
from verbinders.domain.funds import CRITERIA_MAX, Criterion, Fund, Round
from verbinders.domain.money import Amount

__all__ = ["FundingController"]

READERS = rights.FUNDING_READERS
MANAGERS = rights.FUND_MANAGERS
OWN = rights.OWN
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=limits.DESCRIPTION_MAX)]
Line = Annotated[str, msgspec.Meta(max_length=limits.NOTE_MAX)]


class CreateFund(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: limits.Title
    funder: uuid.UUID
    description: Annotated[str, msgspec.Meta(max_length=limits.DESCRIPTION_MAX)] = ""


class CriterionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: limits.Code
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class OpenRound(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: limits.Title
    budget: Amount
    criteria: Annotated[tuple[CriterionIn, ...], msgspec.Meta(min_length=1, max_length=12)]
    deadline: limits.Moment
    themes: limits.Codes = ()
    min_reviews: Annotated[int, msgspec.Meta(ge=1, le=20)] = 2
    objection_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 42


class LineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    amount: Amount


Lines = Annotated[tuple[LineIn, ...], msgspec.Meta(min_length=1, max_length=50)]


def _lines(lines: tuple[LineIn, ...]) -> tuple[BudgetLine, ...]:
    return tuple(BudgetLine(description=x.description, amount=x.amount) for x in lines)  # type: ignore[arg-type]


class DraftApplication(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    applicant: uuid.UUID
    title: limits.Title
    summary: Text
    budget_lines: Lines
    activity_id: uuid.UUID | None = None
    co_applicants: Annotated[tuple[uuid.UUID, ...], msgspec.Meta(max_length=10)] = ()


class EditApplication(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: limits.Title | None = None
    summary: Text | None = None
    budget_lines: Lines | None = None
    activity_id: uuid.UUID | None = None


class CoApplicant(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID


class FundingReason(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: limits.Reason


class AssignReviewer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reviewer: Annotated[str, msgspec.Meta(min_length=7, max_length=80)]
    """A person: `token:<token id>` of one of the fund's people."""
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.NAME_MAX)]


class ReviewIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    scores: Annotated[
        dict[limits.Code, Annotated[int, msgspec.Meta(ge=0, le=10)]],
        msgspec.Meta(max_length=CRITERIA_MAX),
    ]
    recommendation: Recommendation
    comment: Annotated[str, msgspec.Meta(max_length=limits.NOTE_MAX)] = ""


class DecideIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Amount
    rationale: Text
    conditions: Annotated[tuple[Line, ...], msgspec.Meta(max_length=20)] = ()


class PayIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Amount


class ReportDueIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    due: date


class DocumentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$")]


class ReportIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    spent: Amount
    results: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.RESULT_MAX)]
    documents: Annotated[tuple[DocumentIn, ...], msgspec.Meta(max_length=50)] = ()


class SettleIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reclaim: Amount = "0.00"
    reason: Annotated[str, msgspec.Meta(max_length=limits.REASON_MAX)] = ""


# -- answers --------------------------------------------------------------------------------


class FundingDecision(Decision, frozen=True, kw_only=True):
    """A decision on a funding application (`amount` in euros with cents)."""


class FundView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    name: str
    funder: uuid.UUID
    funder_kind: str
    description: str
    created_at: datetime
    version: int


class RoundView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    fund_id: uuid.UUID
    title: str
    budget: str
    granted: str
    remaining: str
    themes: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    deadline: datetime
    min_reviews: int
    objection_days: int
    state: str
    version: int


class ApplicationView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    round_id: uuid.UUID
    fund_id: uuid.UUID
    applicant: uuid.UUID
    co_applicants: dict[str, bool]
    title: str
    summary: str
    budget_lines: tuple[BudgetLine, ...]
    requested: str
    activity_id: uuid.UUID | None
    state: str
    submitted_at: datetime | None
    decisions: list[FundingDecision]
    objections: list[Objection]
    payments: list[Payment]
    granted: str
    paid: str
    reclaimed: str
    reports: list[Report]
    reviewers: dict[str, str] | None = None
    """The fund's, auditors' and coordinator's view only (as reviews and conflicts)."""
    conflicts: dict[str, str] | None = None
    reviews: dict[str, Review] | None = None
    version: int


class TrailEvent(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    stream_id: str
    stream_type: str
    version: int
    topic: str
    recorded_at: str
    metadata: str
    payload: str
    hash: str
    tenant: str


async def _fund(request: Request[Any, Any, Any], fund_id: uuid.UUID) -> Fund:
    actor = get_actor(request)
    return await runtime_of(request).repository.get(Fund, fund_id, tenant=actor.tenant)


class FundingController(Controller):
    path = "/funding"
    tags = ["funding"]

    # -- reads ----------------------------------------------------------------------------------

    @get("/funds/{fund_id:uuid}", **roles(*READERS), summary="One fund")
    async def fund(self, request: Request[Any, Any, Any], fund_id: uuid.UUID) -> FundView:
        fund = await _fund(request, fund_id)
        return FundView(
            id=fund.id,
            name=fund.name,
            funder=fund.funder,
            funder_kind=fund.funder_kind.value,
            description=fund.description,
            created_at=fund.created_at,
            version=fund.version,
        )

    @get("/rounds/{round_id:uuid}", **roles(*READERS), summary="One round with its budget left")
    async def round(
        self, request: Request[Any, Any, Any], round_id: uuid.UUID
    ) -> Response[RoundView]:
        actor = get_actor(request)
        found = await runtime_of(request).repository.get(Round, round_id, tenant=actor.tenant)
        view = RoundView(
            id=found.id,
            fund_id=found.fund_id,
            title=found.title,
            budget=str(found.budget),
            granted=str(found.committed),
            remaining=str(found.remaining),
            themes=found.themes,
            criteria=found.criteria,
            deadline=found.deadline,
            min_reviews=found.min_reviews,
            objection_days=found.objection_days,
            state=found.state.value,
            version=found.version,
        )
        return Response(view, headers={"ETag": etag(found.version)})

    @get(
        "/applications/{application_id:uuid}",
        **roles(*READERS),
        summary="One application: the applicant's, co-applicants', fund's and auditors' view",
    )
    async def application(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID
    ) -> Response[ApplicationView]:
        actor = get_actor(request)
        repository = runtime_of(request).repository
        found = await repository.get(FundingApplication, application_id, tenant=actor.tenant)
        rights.see_application(actor, found.funder, found.applicant, found.co_applicants)
        ledger = await repository.find(
            Accountability,
            accountability_id(actor.tenant, found.fund_id, found.applicant),
            tenant=actor.tenant,
        )
        reports = [r for r in ledger.reports if r.application_id == found.id] if ledger else []
        inside = actor.has_any("auditor") or rights.manages_fund(actor, found.funder)
        view = ApplicationView(
            id=found.id,
            round_id=found.round_id,
            fund_id=found.fund_id,
            applicant=found.applicant,
            co_applicants={str(k): v for k, v in found.co_applicants.items()},
            title=found.title,
            summary=found.summary,
            budget_lines=found.budget_lines,
            requested=str(found.requested),
            activity_id=found.activity_id,
            state=found.state.value,
            submitted_at=found.submitted_at,
            decisions=[FundingDecision(**msgspec.structs.asdict(d)) for d in found.decisions],
            objections=found.objections,
            payments=found.payments,
            granted=str(found.granted),
            paid=str(found.paid),
            reclaimed=str(found.reclaimed),
            reports=reports,
            reviewers=found.reviewers if inside else None,
            conflicts=found.conflicts if inside else None,
            reviews=found.reviews if inside else None,
            version=found.version,
        )
        return Response(view, headers={"ETag": etag(found.version)})

    @get(
        "/applications/{application_id:uuid}/trail",
        **roles(*rights.TRAIL_READERS),
        summary="The application's trail: every event of it, its round, fund and reports, with"
        " position and chained hash",
    )
    async def trail(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID
    ) -> list[TrailEvent]:
        """From the store in position order; verify it offline with an export
        (`verbinders audit export`, docs/audit.md)."""
        actor = get_actor(request)
        async with runtime_of(request).connection() as conn:
            events = await trail_of(conn, application_id, tenant=actor.tenant)
        return [TrailEvent(**e) for e in events]

    # -- the fund's commands ----------------------------------------------------------------------

    @post(
        "/funds",
        **roles(*MANAGERS, command=True, location="/funding/funds/{id}"),
        summary="Create a fund of a funder (an organisation of kind fund or municipality)",
        status_code=HTTP_201_CREATED,
    )
    async def create_fund(
        self, request: Request[Any, Any, Any], data: CreateFund
    ) -> Response[CommandResult]:
        return await execute(request, fund_side.create_fund, **msgspec.structs.asdict(data))

    @post(
        "/funds/{fund_id:uuid}/rounds",
        **roles(*MANAGERS, command=True, location="/funding/rounds/{id}"),
        summary="Open a round: budget, criteria, themes, deadline, minimum reviews",
        status_code=HTTP_201_CREATED,
    )
    async def open_round(
        self, request: Request[Any, Any, Any], fund_id: uuid.UUID, data: OpenRound
    ) -> Response[CommandResult]:
        fields = msgspec.structs.asdict(data)
        fields["criteria"] = tuple(Criterion(id=c.id, label=c.label) for c in data.criteria)
        return await execute(request, fund_side.open_round, fund_id, **fields)

    @post(
        "/rounds/{round_id:uuid}/close",
        **roles(*MANAGERS, command=True),
        summary="Close a round to submissions",
        status_code=200,
    )
    async def close_round(
        self, request: Request[Any, Any, Any], round_id: uuid.UUID
    ) -> Response[CommandResult]:
        return await execute(request, fund_side.close_round, round_id)

    @post(
        "/applications/{application_id:uuid}/reviewers",
        **roles(*MANAGERS, command=True),
        summary="Assign a reviewer (a person of the fund)",
        status_code=200,
    )
    async def assign_reviewer(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: AssignReviewer
    ) -> Response[CommandResult]:
        return await execute(
            request,
            fund_side.assign_reviewer,
            application_id,
            reviewer=data.reviewer,
            name=data.name,
        )

    @post(
        "/applications/{application_id:uuid}/conflicts",
        **roles(*MANAGERS, command=True),
        summary="Declare the acting person's conflict of interest: no review, no decision",
        status_code=200,
    )
    async def declare_conflict(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: FundingReason
    ) -> Response[CommandResult]:
        return await execute(
            request, fund_side.declare_conflict, application_id, reason=data.reason
        )

    @post(
        "/applications/{application_id:uuid}/reviews",
        **roles(*MANAGERS, command=True),
        summary="Review: a score per criterion, a recommendation, a comment",
        status_code=200,
    )
    async def review(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: ReviewIn
    ) -> Response[CommandResult]:
        return await execute(
            request,
            fund_side.review,
            application_id,
            scores=data.scores,
            recommendation=data.recommendation,
            comment=data.comment,
        )

    @post(
        "/applications/{application_id:uuid}/decisions",
        **roles(*MANAGERS, command=True),
        summary="Decide, or reconsider after an objection (409 naming what the round has left)",
        status_code=200,
    )
    async def decide(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: DecideIn
    ) -> Response[CommandResult]:
        return await execute(
            request,
            fund_side.decide,
            application_id,
            amount=data.amount,
            rationale=data.rationale,
            conditions=data.conditions,
        )

    @post(
        "/applications/{application_id:uuid}/payments",
        **roles(*MANAGERS, command=True),
        summary="Pay a tranche (never past the grant; none while a report is overdue)",
        status_code=200,
    )
    async def pay(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: PayIn
    ) -> Response[CommandResult]:
        return await execute(request, fund_side.pay, application_id, amount=data.amount)

    @post(
        "/applications/{application_id:uuid}/reports",
        **roles(*MANAGERS, command=True),
        summary="Set an accountability report due on a date",
        status_code=200,
    )
    async def require_report(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: ReportDueIn
    ) -> Response[CommandResult]:
        return await execute(request, fund_side.require_report, application_id, due=data.due)

    @post(
        "/applications/{application_id:uuid}/settle",
        **roles(*MANAGERS, command=True),
        summary="Settle the grant, reclaiming what was paid and not spent",
        status_code=200,
    )
    async def settle(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: SettleIn
    ) -> Response[CommandResult]:
        return await execute(
            request, fund_side.settle, application_id, reclaim=data.reclaim, reason=data.reason
        )

    # -- the applicants' commands -----------------------------------------------------------------

    @post(
        "/rounds/{round_id:uuid}/applications",
        **roles(*OWN, command=True, location="/funding/applications/{id}"),
        summary="Draft an application (solo, or joint with co-applicants)",
        status_code=HTTP_201_CREATED,
    )
    async def draft(
        self, request: Request[Any, Any, Any], round_id: uuid.UUID, data: DraftApplication
    ) -> Response[CommandResult]:
        fields = msgspec.structs.asdict(data)
        fields["budget_lines"] = _lines(data.budget_lines)
        return await execute(request, applicants.draft_application, round_id, **fields)

    @patch(
        "/applications/{application_id:uuid}",
        **roles(*OWN, command=True),
        summary="Edit a draft (co-applicants confirm again)",
    )
    async def edit(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: EditApplication
    ) -> Response[CommandResult]:
        return await execute(
            request,
            applicants.edit_application,
            application_id,
            title=data.title,
            summary=data.summary,
            budget_lines=_lines(data.budget_lines) if data.budget_lines is not None else None,
            activity_id=data.activity_id,
        )

    @post(
        "/applications/{application_id:uuid}/co-applicants",
        **roles(*OWN, command=True),
        summary="Add a co-applicant to a draft",
        status_code=200,
    )
    async def add_co_applicant(
        self,
        request: Request[Any, Any, Any],
        application_id: uuid.UUID,
        data: CoApplicant,
    ) -> Response[CommandResult]:
        return await execute(
            request, applicants.add_co_applicant, application_id, data.organisation_id
        )

    @post(
        "/applications/{application_id:uuid}/confirm",
        **roles(*OWN, command=True),
        summary="A co-applicant confirms its participation",
        status_code=200,
    )
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        application_id: uuid.UUID,
        data: CoApplicant,
    ) -> Response[CommandResult]:
        return await execute(
            request, applicants.confirm_participation, application_id, data.organisation_id
        )

    @post(
        "/applications/{application_id:uuid}/submit",
        **roles(*OWN, command=True),
        summary="Submit to the round (open, before its deadline, every co-applicant confirmed)",
        status_code=200,
    )
    async def submit(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID
    ) -> Response[CommandResult]:
        return await execute(request, applicants.submit_application, application_id)

    @post(
        "/applications/{application_id:uuid}/withdraw",
        **roles(*OWN, command=True),
        summary="Withdraw before a decision",
        status_code=200,
    )
    async def withdraw(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: FundingReason
    ) -> Response[CommandResult]:
        return await execute(
            request, applicants.withdraw_application, application_id, reason=data.reason
        )

    @post(
        "/applications/{application_id:uuid}/objections",
        **roles(*OWN, command=True),
        summary="Object to the decision within the round's period",
        status_code=200,
    )
    async def object(
        self, request: Request[Any, Any, Any], application_id: uuid.UUID, data: FundingReason
    ) -> Response[CommandResult]:
        return await execute(
            request, applicants.object_to_decision, application_id, reason=data.reason
        )

    @post(
        "/applications/{application_id:uuid}/reports/{number:int}",
        **roles(*OWN, command=True),
        summary="Submit an accountability report: spent, results, documents by SHA-256",
        status_code=200,
    )
    async def submit_report(
        self,
        request: Request[Any, Any, Any],
        application_id: uuid.UUID,
        number: Annotated[int, Parameter(ge=1, le=limits.INT32_MAX)],
        data: ReportIn,
    ) -> Response[CommandResult]:
        return await execute(
            request,
            applicants.submit_report,
            application_id,
            number,
            spent=data.spent,
            results=data.results,
            documents=tuple(Document(name=d.name, sha256=d.sha256) for d in data.documents),
        )
