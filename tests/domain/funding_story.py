"""The funding aggregates' stories for the domain's replay and serialisation tests: every
event class each of them declares, with exact money."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from eventsourcing.domain import Aggregate

from verbinders.domain.funding_applications import FundingApplication
from verbinders.domain.funding_records import BudgetLine, Recommendation
from verbinders.domain.funding_reports import Accountability, Document
from verbinders.domain.funds import Criterion, Fund, FunderKind, Round

__all__ = ["accountability_story", "application_story", "fund_story", "round_story"]

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
FUNDER, APPLICANT, PARTNER, THIRD = (uuid.uuid4() for _ in range(4))


def _fund() -> Fund:
    return Fund.create(
        fund_id=uuid.uuid4(),
        tenant="haarlem",
        name="Buurtfonds",
        funder=FUNDER,
        funder_kind=FunderKind.FUND,
        description="Voor buurtinitiatieven.",
        at=AT,
    )


def _round(fund: Fund) -> Round:
    return Round.open(
        round_id=uuid.uuid4(),
        fund=fund,
        title="Ronde 2026",
        budget="5000.00",
        themes=("welfare",),
        criteria=(Criterion(id="reach", label="Bereik"),),
        deadline=AT + timedelta(days=30),
        min_reviews=1,
        objection_days=14,
        theme_codes=frozenset({"welfare"}),
        at=AT,
    )


def fund_story() -> list[Aggregate]:
    return [_fund()]


def round_story() -> list[Aggregate]:
    funding_round = _round(_fund())
    funding_round.grant(uuid.uuid4(), Decimal("1200.50"), decision=1, at=AT)
    funding_round.close(at=AT + timedelta(days=31))
    return [funding_round]


def application_story() -> list[Aggregate]:
    funding_round = _round(_fund())

    def draft() -> FundingApplication:
        return FundingApplication.draft(
            application_id=uuid.uuid4(),
            round=funding_round,
            applicant=APPLICANT,
            title="Samen koken",
            summary="Koken met buren.",
            budget_lines=[BudgetLine(description="huur", amount=Decimal("1200.00"))],
            activity_id=None,
            co_applicants=[PARTNER],
            at=AT,
        )

    joint = draft()
    joint.edit(
        title=None,
        summary="Koken en eten met buren.",
        budget_lines=[
            BudgetLine(description="huur", amount=Decimal("1200.00")),
            BudgetLine(description="eten", amount=Decimal("0.10")),
        ],
        activity_id=None,
        at=AT,
    )
    joint.add_co_applicant(THIRD, at=AT)
    joint.confirm(PARTNER, at=AT)
    joint.confirm(THIRD, at=AT)
    joint.submit(funding_round, at=AT + timedelta(days=1))
    joint.assign_reviewer("token:a", name="Anna", at=AT)
    joint.declare_conflict("token:b", reason="Bestuurslid", at=AT)
    joint.review(
        "token:a",
        criteria=["reach"],
        scores={"reach": 8},
        recommendation=Recommendation.GRANT,
        comment="Goed",
        at=AT,
    )
    later = AT + timedelta(days=40)
    joint.decide(
        "token:c",
        round=funding_round,
        granted="1000.00",
        conditions=["Verslag"],
        rationale="Goed plan.",
        at=later,
    )
    joint.object(by=str(APPLICANT), reason="De huur is nodig.", at=later + timedelta(days=2))
    joint.decide(
        "token:c",
        round=funding_round,
        granted="1200.10",
        conditions=(),
        rationale="Na bezwaar.",
        at=later + timedelta(days=20),
    )
    joint.pay("600.05", by="token:c", at=later + timedelta(days=21))
    joint.settle(
        reclaim="100.00", reason="Niet besteed", by="token:c", at=later + timedelta(days=300)
    )
    withdrawn = draft()
    withdrawn.withdraw(reason="Toch niet", at=AT)
    return [joint, withdrawn]


def accountability_story() -> list[Aggregate]:
    ledger = Accountability.open(tenant="haarlem", fund_id=uuid.uuid4(), applicant=APPLICANT)
    application = uuid.uuid4()
    ledger.require_report(application, due=date(2026, 12, 1), at=AT)
    ledger.reminder_fell_due(1, when="before", at=AT)
    ledger.remind(1, when="before", at=AT)
    ledger.submit(
        1,
        spent="950.00",
        results="Twaalf avonden.",
        documents=[Document(name="bon.pdf", sha256="ab" * 32)],
        at=AT,
    )
    return [ledger]
