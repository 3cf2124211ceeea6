"""Funding, the fund's side: funds, rounds, reviewers, conflicts of interest, reviews,
decisions (and reconsidered ones), payments, reports due, settlement.

Rights: a fund's people (a fund or municipality token acting for its funder) act for that fund
only, the coordinator for every fund (`rights.manage_fund`). Reviewers and deciders are people:
`rights.person` (their token). Auditors change nothing: no command here admits them.

A decision appends to the application's stream and to its round's in one atomic append: the
round's ledger guards the budget (`domain/funds.py`); a decision that lost a race for the
round's version is told what is left now.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.report_timers import set_report_timers
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.domain.funding_applications import FundingApplication, Recommendation
from verbinders.domain.funding_reports import Accountability, accountability_id
from verbinders.domain.funds import Criterion, Fund, FunderKind, Round
from verbinders.domain.money import euros
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Conflict, InvalidCommand, VerbindersError

__all__ = [
    "assign_reviewer",
    "close_round",
    "create_fund",
    "decide",
    "declare_conflict",
    "open_round",
    "pay",
    "record_report_reminder_due",
    "remind_report",
    "require_report",
    "review",
    "settle",
]

AMSTERDAM_DAY = "Europe/Amsterdam"


async def managed_application(uow: UnitOfWork, application_id: uuid.UUID) -> FundingApplication:
    application = await uow.target(FundingApplication, application_id)
    rights.manage_fund(uow.actor, application.funder)
    return application


@command(writes_once=True)
async def create_fund(
    uow: UnitOfWork,
    *,
    name: str,
    funder: uuid.UUID,
    description: str = "",
    fund_id: uuid.UUID | None = None,
) -> CommandResult:
    """A fund of `funder`, an organisation of kind fund or municipality of the platform."""
    rights.manage_fund(uow.actor, funder)
    organisation = await uow.find(Organisation, funder)
    if organisation is None:
        raise InvalidCommand(f"no organisation {funder} on this platform", field="funder")
    kinds = {
        OrganisationKind.FUND: FunderKind.FUND,
        OrganisationKind.MUNICIPALITY: FunderKind.MUNICIPALITY,
    }
    kind = kinds.get(organisation.kind)
    if kind is None:
        raise InvalidCommand(
            f"organisation {funder} is a {organisation.kind.value}; a fund belongs to a fund or"
            " the municipality",
            field="funder",
            rule="funder-kind",
        )
    fund = Fund.create(
        fund_id=fund_id or uuid.uuid4(),
        tenant=uow.tenant,
        name=name,
        funder=funder,
        funder_kind=kind,
        description=description,
        at=uow.now(),
    )
    uow.save(fund, on_conflict=lambda: Conflict(f"fund {fund.id} exists", state="exists"))
    return CommandResult.of(fund)


@command(writes_once=True)
async def open_round(
    uow: UnitOfWork,
    fund_id: uuid.UUID,
    *,
    title: str,
    budget: Decimal | str,
    criteria: Sequence[Criterion],
    deadline: datetime,
    themes: Sequence[str] = (),
    min_reviews: int = 2,
    objection_days: int = 42,
    round_id: uuid.UUID | None = None,
) -> CommandResult:
    await uow.preload((Fund, fund_id), (Platform, platform_id(uow.tenant)))
    fund = await uow.get(Fund, fund_id)
    rights.manage_fund(uow.actor, fund.funder)
    platform = await uow.get(Platform, platform_id(uow.tenant))
    funding_round = Round.open(
        round_id=round_id or uuid.uuid4(),
        fund=fund,
        title=title,
        budget=budget,
        themes=themes,
        criteria=criteria,
        deadline=deadline,
        min_reviews=min_reviews,
        objection_days=objection_days,
        theme_codes=platform.vocabulary.theme_codes,
        at=uow.now(),
    )
    uow.save(
        funding_round,
        on_conflict=lambda: Conflict(f"round {funding_round.id} exists", state="exists"),
    )
    return CommandResult.of(funding_round)


@command(writes_once=True)
async def close_round(uow: UnitOfWork, round_id: uuid.UUID) -> CommandResult:
    funding_round = await uow.target(Round, round_id)
    rights.manage_fund(uow.actor, funding_round.funder)
    funding_round.close(at=uow.now())
    return CommandResult.of(funding_round)


@command(writes_once=True)
async def assign_reviewer(
    uow: UnitOfWork, application_id: uuid.UUID, *, reviewer: str, name: str
) -> CommandResult:
    """Assign a person (`token:<id>` of one of the fund's people) to review."""
    application = await managed_application(uow, application_id)
    if not reviewer.startswith(("token:", "operator:")) or len(reviewer) > 80:
        raise InvalidCommand(
            "reviewer must name a person: token:<token id>", field="reviewer", rule="person"
        )
    application.assign_reviewer(reviewer, name=name, at=uow.now())
    return CommandResult.of(application)


@command(writes_once=True)
async def declare_conflict(
    uow: UnitOfWork, application_id: uuid.UUID, *, reason: str
) -> CommandResult:
    """The acting person declares a conflict of interest with the application."""
    application = await managed_application(uow, application_id)
    application.declare_conflict(rights.person(uow.actor), reason=reason, at=uow.now())
    return CommandResult.of(application)


@command(writes_once=True)
async def review(
    uow: UnitOfWork,
    application_id: uuid.UUID,
    *,
    scores: Mapping[str, int],
    recommendation: Recommendation,
    comment: str = "",
) -> CommandResult:
    application = await managed_application(uow, application_id)
    funding_round = await uow.get(Round, application.round_id)
    application.review(
        rights.person(uow.actor),
        criteria=[c.id for c in funding_round.criteria],
        scores=scores,
        recommendation=recommendation,
        comment=comment,
        at=uow.now(),
    )
    return CommandResult.of(application)


@command(writes_once=True)
async def decide(
    uow: UnitOfWork,
    application_id: uuid.UUID,
    *,
    amount: Decimal | str,
    rationale: str,
    conditions: Sequence[str] = (),
) -> CommandResult:
    """Decide (or reconsider after an objection): the application's decision and the round's
    ledger in one append; 409 naming what is left when the budget does not hold it, or when
    another decision on the round got there first."""
    application = await uow.get(FundingApplication, application_id)
    await uow.preload((Round, application.round_id))
    application = await managed_application(uow, application_id)
    funding_round = await uow.get(Round, application.round_id)
    decision = application.decide(
        rights.person(uow.actor),
        round=funding_round,
        granted=amount,
        conditions=conditions,
        rationale=rationale,
        at=uow.now(),
    )
    funding_round.grant(application.id, decision.amount, decision=decision.number, at=uow.now())

    async def lost() -> VerbindersError:
        now = await uow.reload(Round, funding_round.id)
        left = now.remaining + now.granted.get(str(application.id), Decimal(0)) if now else None
        return Conflict(
            "another decision on this round was recorded first; "
            + (f"{euros(left)} of the budget is left now" if left is not None else "retry"),
            state="round-moved-on",
            remaining=euros(left) if left is not None else None,
        )

    uow.save(funding_round, on_conflict=lost)
    return CommandResult.of(application, data={"decision": decision.number})


def _today(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(AMSTERDAM_DAY)).date()


@command(writes_once=True)
async def pay(
    uow: UnitOfWork, application_id: uuid.UUID, *, amount: Decimal | str
) -> CommandResult:
    """A tranche; refused while any report the applicant owes this fund is overdue."""
    application = await uow.get(FundingApplication, application_id)
    ledger_id = accountability_id(uow.tenant, application.fund_id, application.applicant)
    await uow.preload((Accountability, ledger_id))
    application = await managed_application(uow, application_id)
    ledger = await uow.find(Accountability, ledger_id)
    overdue = ledger.overdue(_today(uow.now())) if ledger is not None else []
    if overdue:
        first = overdue[0]
        raise Conflict(
            f"report {first.number} (application {first.application_id}) was due on"
            f" {first.due.isoformat()} and is overdue: no payment to this applicant until it"
            " is in",
            state="report-overdue",
            report=first.number,
        )
    payment = application.pay(amount, by=rights.person(uow.actor), at=uow.now())
    return CommandResult.of(application, data={"payment": payment.number})


@command()
async def require_report(uow: UnitOfWork, application_id: uuid.UUID, *, due: date) -> CommandResult:
    application = await uow.get(FundingApplication, application_id)
    ledger_id = accountability_id(uow.tenant, application.fund_id, application.applicant)
    await uow.preload((Accountability, ledger_id))
    application = await managed_application(uow, application_id)
    if not application.decisions:
        raise Conflict("reports are asked of decided applications", state=application.state.value)
    ledger = await uow.find(Accountability, ledger_id)
    if ledger is None:
        ledger = Accountability.open(
            tenant=uow.tenant, fund_id=application.fund_id, applicant=application.applicant
        )
        uow.save(ledger)
    report = ledger.require_report(application.id, due=due, at=uow.now())
    await set_report_timers(uow.connection, uow.tenant, ledger.id, report.number, due)
    return CommandResult.of(ledger, data={"report": report.number})


@command(writes_once=True)
async def record_report_reminder_due(
    uow: UnitOfWork, ledger_id: uuid.UUID, number: int, when: str
) -> CommandResult:
    """The report timer's command: reminder `when` of report `number` fell due (nothing for a
    report already in, or a reminder recorded already)."""
    ledger = await uow.get(Accountability, ledger_id)
    fund = await uow.get(Fund, ledger.fund_id)
    rights.manage_fund(uow.actor, fund.funder)
    ledger.reminder_fell_due(number, when=when, at=uow.now())
    return CommandResult.of(ledger)


@command(writes_once=True)
async def remind_report(
    uow: UnitOfWork, ledger_id: uuid.UUID, number: int, when: str
) -> CommandResult:
    """The reminder policy's command: record that the applicant was reminded of report
    `number` (`before` or `after` its due date), once; nothing once the report is in."""
    ledger = await uow.get(Accountability, ledger_id)
    fund = await uow.get(Fund, ledger.fund_id)
    rights.manage_fund(uow.actor, fund.funder)
    ledger.remind(number, when=when, at=uow.now())
    return CommandResult.of(ledger)


@command(writes_once=True)
async def settle(
    uow: UnitOfWork,
    application_id: uuid.UUID,
    *,
    reclaim: Decimal | str = "0.00",
    reason: str = "",
) -> CommandResult:
    """Close the grant's books, reclaiming the unspent part of what was paid (if any)."""
    application = await managed_application(uow, application_id)
    if Decimal(str(reclaim)) > 0 and not reason.strip():
        raise InvalidCommand("a reclaim states its reason", field="reason", rule="required")
    application.settle(reclaim=reclaim, reason=reason, by=rights.person(uow.actor), at=uow.now())
    return CommandResult.of(application)
