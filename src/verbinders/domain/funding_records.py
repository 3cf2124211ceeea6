"""The records of a funding application: its states, budget lines, reviews, decisions,
objections and payments, and the bounds on them (`funding_applications.py` holds the
aggregate)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import msgspec

from verbinders.domain import limits, rules
from verbinders.domain.money import amount
from verbinders.errors import InvalidCommand

__all__ = [
    "BUDGET_LINES_MAX",
    "CONDITIONS_MAX",
    "CO_APPLICANTS_MAX",
    "SCORE_MAX",
    "ApplicationState",
    "BudgetLine",
    "Decision",
    "Objection",
    "Payment",
    "Recommendation",
    "Review",
    "check_budget_lines",
    "required_text",
]

BUDGET_LINES_MAX = 50
CO_APPLICANTS_MAX = 10
CONDITIONS_MAX = 20
SCORE_MAX = 10


class ApplicationState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DECIDED = "decided"
    OBJECTED = "objected"
    SETTLED = "settled"
    WITHDRAWN = "withdrawn"


class Recommendation(StrEnum):
    GRANT = "grant"
    PARTIAL = "partial"
    REJECT = "reject"


class BudgetLine(msgspec.Struct, frozen=True, kw_only=True):
    description: str
    amount: Decimal


class Review(msgspec.Struct, frozen=True, kw_only=True):
    reviewer: str
    scores: dict[str, int]
    recommendation: Recommendation
    comment: str
    at: datetime


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    amount: Decimal
    conditions: tuple[str, ...]
    rationale: str
    decided_by: str
    at: datetime
    objection_until: datetime
    replaces: int | None = None
    """The decision this one reconsidered."""
    reviews: int = 0
    """Reviews counted when it was taken."""


class Objection(msgspec.Struct, frozen=True, kw_only=True):
    decision: int
    reason: str
    by: str
    at: datetime


class Payment(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    amount: Decimal
    by: str
    at: datetime


def check_budget_lines(lines: Sequence[BudgetLine]) -> tuple[BudgetLine, ...]:
    if not 1 <= len(lines) <= BUDGET_LINES_MAX:
        raise InvalidCommand(
            f"an application has 1 to {BUDGET_LINES_MAX} budget lines",
            field="budget_lines",
            rule="range",
        )
    return tuple(
        BudgetLine(
            description=rules.single_line(
                line.description, field=f"budget_lines[{i}].description", max_length=200
            ),
            amount=amount(line.amount, field=f"budget_lines[{i}].amount", minimum=Decimal("0.01")),
        )
        for i, line in enumerate(lines)
    )


def required_text(value: str, field: str, maximum: int = limits.DESCRIPTION_MAX) -> str:
    return rules.multi_line(value, field=field, max_length=maximum, required=True)
