"""Accountability: the reports an applicant owes a fund, across all of its grants there.

One `Accountability` stream per (fund, applicant) (`accountability_id`): the fund sets a report
due on a date for one of the applicant's applications; the applicant submits it (spent so far,
results, documents referred to by their SHA-256). A report not submitted by the end of its due
date is overdue, and while any report is overdue the fund pays that applicant nothing (the
payment service reads this stream). Reminders before and after the due date are recorded here
by the reminder policy, each once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from verbinders.domain import limits, rules
from verbinders.domain.money import amount
from verbinders.errors import Conflict, InvalidCommand, NotFound

__all__ = ["Accountability", "Document", "Report", "accountability_id"]

_NAMESPACE = uuid.UUID("0f1c8a52-6a8e-4c59-9a56-0a4e1bb8d5a1")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
DOCUMENTS_MAX = 50
REMINDERS = ("before", "after")


def accountability_id(tenant: str, fund_id: UUID, applicant: UUID) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"{tenant}/{fund_id}/{applicant}")


class Document(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    sha256: str


class Report(msgspec.Struct, kw_only=True):
    number: int
    application_id: UUID
    due: date
    submitted_at: datetime | None = None
    spent: Decimal | None = None
    results: str = ""
    documents: tuple[Document, ...] = ()
    falling_due: tuple[str, ...] = ()
    """Reminder moments that passed (recorded by the timer): `before`, `after`."""
    reminded: tuple[str, ...] = ()
    """Reminders recorded (by the reminder policy): `before`, `after`."""

    def overdue(self, on: date) -> bool:
        return self.submitted_at is None and on > self.due


class Accountability(Aggregate):
    STREAM_TYPE = "FundingAccountability"

    tenant: str
    fund_id: UUID
    applicant: UUID
    reports: list[Report]

    @classmethod
    def open(cls, *, tenant: str, fund_id: UUID, applicant: UUID) -> Accountability:
        return cls(
            id=accountability_id(tenant, fund_id, applicant),
            tenant=tenant,
            fund_id=fund_id,
            applicant=applicant,
        )

    @event("Opened")
    def __init__(self, id: UUID, tenant: str, fund_id: UUID, applicant: UUID) -> None:
        self.tenant = tenant
        self.fund_id = fund_id
        self.applicant = applicant
        self.reports = []

    def report(self, number: int) -> Report:
        if not 1 <= number <= len(self.reports):
            raise NotFound(f"no report {number}", report=number)
        return self.reports[number - 1]

    def overdue(self, on: date) -> list[Report]:
        return [r for r in self.reports if r.overdue(on)]

    def require_report(self, application_id: UUID, *, due: date, at: datetime) -> Report:
        rules.day(due, field="due")
        self._due(application_id=application_id, due=due, at=at)
        return self.reports[-1]

    @event("ReportDue")
    def _due(self, application_id: UUID, due: date, at: datetime) -> None:
        self.reports.append(
            Report(number=len(self.reports) + 1, application_id=application_id, due=due)
        )

    def submit(
        self,
        number: int,
        *,
        spent: Decimal | str,
        results: str,
        documents: Sequence[Document],
        at: datetime,
    ) -> None:
        report = self.report(number)
        if report.submitted_at is not None:
            raise Conflict(f"report {number} was submitted already", state="submitted")
        if len(documents) > DOCUMENTS_MAX:
            raise InvalidCommand(
                f"at most {DOCUMENTS_MAX} documents", field="documents", rule="range"
            )
        checked = []
        for i, document in enumerate(documents):
            digest = document.sha256.strip().lower()
            if not _SHA256.fullmatch(digest):
                raise InvalidCommand(
                    f"documents[{i}].sha256 must be 64 hexadecimal digits",
                    field=f"documents[{i}].sha256",
                    rule="sha256",
                )
            name = rules.single_line(document.name, field=f"documents[{i}].name", max_length=200)
            checked.append(Document(name=name, sha256=digest))
        self._submitted(
            number=number,
            spent=amount(spent, field="spent"),
            results=rules.multi_line(
                results, field="results", max_length=limits.RESULT_MAX, required=True
            ),
            documents=tuple(checked),
            at=at,
        )

    @event("ReportSubmitted")
    def _submitted(
        self,
        number: int,
        spent: Decimal,
        results: str,
        documents: tuple[Document, ...],
        at: datetime,
    ) -> None:
        report = self.reports[number - 1]
        report.submitted_at = at
        report.spent = spent
        report.results = results
        report.documents = documents

    def reminder_fell_due(self, number: int, *, when: str, at: datetime) -> bool:
        """The timer: the moment of reminder `when` (`before` or `after` the due date) passed;
        recorded once, and not for a report already in."""
        if when not in REMINDERS:
            raise InvalidCommand("when is before or after", field="when", rule="choice")
        report = self.report(number)
        if when in report.falling_due or report.submitted_at is not None:
            return False
        self._reminder_due(number=number, when=when, at=at)
        return True

    @event("ReminderDue")
    def _reminder_due(self, number: int, when: str, at: datetime) -> None:
        report = self.reports[number - 1]
        report.falling_due = (*report.falling_due, when)

    def remind(self, number: int, *, when: str, at: datetime) -> bool:
        """Record a reminder (`before` or `after` the due date) once; False if it was."""
        report = self.report(number)
        if when in report.reminded or report.submitted_at is not None:
            return False
        self._reminded(number=number, when=when, at=at)
        return True

    @event("ReportReminded")
    def _reminded(self, number: int, when: str, at: datetime) -> None:
        report = self.reports[number - 1]
        report.reminded = (*report.reminded, when)
