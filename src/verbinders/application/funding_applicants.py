"""Funding, the applicants' side: draft (solo or joint), edit, co-applicants and their
confirmations, submit, withdraw, object to a decision, submit an accountability report.

Rights: an applicant acts for itself (`rights.act_for`: its own tokens, or the coordinator);
a co-applicant confirms for itself; nobody else changes an application here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.domain.funding_applications import BudgetLine, FundingApplication
from verbinders.domain.funding_reports import Accountability, Document, accountability_id
from verbinders.domain.funds import Round
from verbinders.domain.organisations import Organisation
from verbinders.errors import Conflict, InvalidCommand

__all__ = [
    "add_co_applicant",
    "confirm_participation",
    "draft_application",
    "edit_application",
    "object_to_decision",
    "submit_application",
    "submit_report",
    "withdraw_application",
]


async def _organisations(uow: UnitOfWork, ids: Sequence[uuid.UUID], field: str) -> None:
    await uow.preload(*((Organisation, i) for i in ids))
    for organisation_id in ids:
        organisation = await uow.find(Organisation, organisation_id)
        if organisation is None:
            raise InvalidCommand(
                f"no organisation {organisation_id} on this platform", field=field, rule="unknown"
            )
        if organisation.is_dissolved:
            raise Conflict(f"organisation {organisation_id} is dissolved", state="dissolved")


async def _own(uow: UnitOfWork, application_id: uuid.UUID) -> FundingApplication:
    application = await uow.target(FundingApplication, application_id)
    rights.act_for(uow.actor, application.applicant)
    return application


@command(writes_once=True)
async def draft_application(
    uow: UnitOfWork,
    round_id: uuid.UUID,
    *,
    applicant: uuid.UUID,
    title: str,
    summary: str,
    budget_lines: Sequence[BudgetLine],
    activity_id: uuid.UUID | None = None,
    co_applicants: Sequence[uuid.UUID] = (),
    application_id: uuid.UUID | None = None,
) -> CommandResult:
    rights.act_for(uow.actor, applicant)
    funding_round = await uow.get(Round, round_id)
    await _organisations(uow, [applicant, *co_applicants], "co_applicants")
    application = FundingApplication.draft(
        application_id=application_id or uuid.uuid4(),
        round=funding_round,
        applicant=applicant,
        title=title,
        summary=summary,
        budget_lines=budget_lines,
        activity_id=activity_id,
        co_applicants=co_applicants,
        at=uow.now(),
    )
    uow.save(
        application,
        on_conflict=lambda: Conflict(f"application {application.id} exists", state="exists"),
    )
    return CommandResult.of(application)


@command(writes_once=True)
async def edit_application(
    uow: UnitOfWork,
    application_id: uuid.UUID,
    *,
    title: str | None = None,
    summary: str | None = None,
    budget_lines: Sequence[BudgetLine] | None = None,
    activity_id: uuid.UUID | None = None,
) -> CommandResult:
    """Change the fields given; co-applicants are asked to confirm again."""
    application = await _own(uow, application_id)
    application.edit(
        title=title,
        summary=summary,
        budget_lines=budget_lines,
        activity_id=activity_id,
        at=uow.now(),
    )
    return CommandResult.of(application)


@command(writes_once=True)
async def add_co_applicant(
    uow: UnitOfWork, application_id: uuid.UUID, organisation_id: uuid.UUID
) -> CommandResult:
    application = await _own(uow, application_id)
    await _organisations(uow, [organisation_id], "organisation_id")
    application.add_co_applicant(organisation_id, at=uow.now())
    return CommandResult.of(application)


@command(writes_once=True)
async def confirm_participation(
    uow: UnitOfWork, application_id: uuid.UUID, organisation_id: uuid.UUID
) -> CommandResult:
    """A co-applicant confirms that it takes part in the application as it now reads."""
    rights.act_for(uow.actor, organisation_id)
    application = await uow.target(FundingApplication, application_id)
    application.confirm(organisation_id, at=uow.now())
    return CommandResult.of(application)


@command(writes_once=True)
async def submit_application(uow: UnitOfWork, application_id: uuid.UUID) -> CommandResult:
    application = await _own(uow, application_id)
    funding_round = await uow.get(Round, application.round_id)
    application.submit(funding_round, at=uow.now())
    return CommandResult.of(application)


@command(writes_once=True)
async def withdraw_application(
    uow: UnitOfWork, application_id: uuid.UUID, *, reason: str
) -> CommandResult:
    application = await _own(uow, application_id)
    application.withdraw(reason=reason, at=uow.now())
    uow.save(reason=reason)
    return CommandResult.of(application)


@command(writes_once=True)
async def object_to_decision(
    uow: UnitOfWork, application_id: uuid.UUID, *, reason: str
) -> CommandResult:
    application = await _own(uow, application_id)
    application.object(by=uow.actor.name, reason=reason, at=uow.now())
    return CommandResult.of(application)


@command(writes_once=True)
async def submit_report(
    uow: UnitOfWork,
    application_id: uuid.UUID,
    number: int,
    *,
    spent: Decimal | str,
    results: str,
    documents: Sequence[Document] = (),
) -> CommandResult:
    """The applicant's accountability report `number` (as the fund numbered it)."""
    application = await uow.get(FundingApplication, application_id)
    rights.act_for(uow.actor, application.applicant)
    ledger_id = accountability_id(uow.tenant, application.fund_id, application.applicant)
    ledger = await uow.target(Accountability, ledger_id)
    report = ledger.report(number)
    if report.application_id != application.id:
        raise InvalidCommand(
            f"report {number} belongs to application {report.application_id}", field="number"
        )
    ledger.submit(number, spent=spent, results=results, documents=documents, at=uow.now())
    return CommandResult.of(ledger)
