"""Funds and their rounds.

A `Fund` belongs to a funder: an organisation of the platform of kind fund or municipality
(a foundation, or the municipality's subsidy scheme). It opens `Round`s: a budget, themes,
criteria to score by, a deadline for submissions, a minimum number of reviews before a
decision, and the days an applicant has to object to one.

    open ──close──> closed        (decisions go on after closing: closing stops submissions)

**The round's ledger.** Every decision (and every reconsidered one) is also an event of its
round, `Granted`, in the same atomic append as the application's own: the round's stream is
where the budget is guarded, so two decisions racing for the last euros append to the same
stream at the same version and exactly one of them is written; the other is told what is left.
A reconsidered decision replaces the application's earlier amount in the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from verbinders.domain import limits, rules
from verbinders.domain.money import ZERO, amount, euros, total
from verbinders.errors import Conflict, InvalidCommand

__all__ = ["Criterion", "Fund", "FunderKind", "Round", "RoundState"]

CRITERIA_MAX = 12
OBJECTION_DAYS_MAX = 365
REVIEWS_MIN_MAX = 20
_CRITERION_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class FunderKind(StrEnum):
    FUND = "fund"
    MUNICIPALITY = "municipality"


class RoundState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Criterion(msgspec.Struct, frozen=True, kw_only=True):
    """What reviewers score (0-10 each): `reach`, `cooperation`, ..."""

    id: str
    label: str


class Fund(Aggregate):
    STREAM_TYPE = "Fund"

    tenant: str
    name: str
    funder: UUID
    funder_kind: FunderKind
    description: str
    created_at: datetime

    @classmethod
    def create(
        cls,
        *,
        fund_id: UUID,
        tenant: str,
        name: str,
        funder: UUID,
        funder_kind: FunderKind,
        description: str,
        at: datetime,
    ) -> Fund:
        rules.moment(at, field="at")
        return cls(
            id=fund_id,
            tenant=tenant,
            name=rules.single_line(name, field="name", max_length=limits.NAME_MAX),
            funder=funder,
            funder_kind=rules.choice(FunderKind, funder_kind, field="funder_kind"),
            description=rules.multi_line(
                description, field="description", max_length=limits.DESCRIPTION_MAX
            ),
            at=at,
        )

    @event("Created")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        name: str,
        funder: UUID,
        funder_kind: FunderKind,
        description: str,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.name = name
        self.funder = funder
        self.funder_kind = funder_kind
        self.description = description
        self.created_at = at


def _criteria(criteria: Sequence[Criterion]) -> tuple[Criterion, ...]:
    if not 1 <= len(criteria) <= CRITERIA_MAX:
        raise InvalidCommand(
            f"a round has 1 to {CRITERIA_MAX} criteria", field="criteria", rule="range"
        )
    seen: set[str] = set()
    checked = []
    for index, criterion in enumerate(criteria):
        field = f"criteria[{index}]"
        key = criterion.id.strip().lower()
        if not _CRITERION_ID.fullmatch(key) or len(key) > limits.CODE_MAX or key in seen:
            raise InvalidCommand(
                f"{field}.id must be a distinct code of lower-case letters and digits joined by"
                " hyphens, e.g. reach",
                field=f"{field}.id",
                rule="code",
            )
        seen.add(key)
        label = rules.single_line(criterion.label, field=f"{field}.label", max_length=120)
        checked.append(Criterion(id=key, label=label))
    return tuple(checked)


class Round(Aggregate):
    STREAM_TYPE = "FundingRound"

    tenant: str
    fund_id: UUID
    funder: UUID
    title: str
    budget: Decimal
    themes: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    deadline: datetime
    min_reviews: int
    objection_days: int
    state: RoundState
    opened_at: datetime
    closed_at: datetime | None
    granted: dict[str, Decimal]
    """Application id (text) -> the amount its decision in force grants."""

    @classmethod
    def open(
        cls,
        *,
        round_id: UUID,
        fund: Fund,
        title: str,
        budget: Decimal | str,
        themes: Sequence[str],
        criteria: Sequence[Criterion],
        deadline: datetime,
        min_reviews: int,
        objection_days: int,
        theme_codes: frozenset[str],
        at: datetime,
    ) -> Round:
        rules.moment(at, field="at")
        rules.moment(deadline, field="deadline")
        if deadline <= at:
            raise InvalidCommand("deadline must lie after the opening", field="deadline")
        return cls(
            id=round_id,
            tenant=fund.tenant,
            fund_id=fund.id,
            funder=fund.funder,
            title=rules.single_line(title, field="title", max_length=limits.TITLE_MAX),
            budget=amount(budget, field="budget", minimum=Decimal("0.01")),
            themes=rules.codes(themes, allowed=theme_codes, field="themes"),
            criteria=_criteria(criteria),
            deadline=deadline,
            min_reviews=rules.count(
                min_reviews, field="min_reviews", minimum=1, maximum=REVIEWS_MIN_MAX
            )
            or 1,
            objection_days=rules.count(
                objection_days, field="objection_days", minimum=0, maximum=OBJECTION_DAYS_MAX
            )
            or 0,
            at=at,
        )

    @event("Opened")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        fund_id: UUID,
        funder: UUID,
        title: str,
        budget: Decimal,
        themes: tuple[str, ...],
        criteria: tuple[Criterion, ...],
        deadline: datetime,
        min_reviews: int,
        objection_days: int,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.fund_id = fund_id
        self.funder = funder
        self.title = title
        self.budget = budget
        self.themes = themes
        self.criteria = criteria
        self.deadline = deadline
        self.min_reviews = min_reviews
        self.objection_days = objection_days
        self.state = RoundState.OPEN
        self.opened_at = at
        self.closed_at = None
        self.granted = {}

    # -- reading ------------------------------------------------------------------------------

    @property
    def committed(self) -> Decimal:
        return total(self.granted.values())

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.committed

    def accepts_submissions(self, at: datetime) -> None:
        if self.state is not RoundState.OPEN:
            raise Conflict("the round is closed to submissions", state=self.state.value)
        if at > self.deadline:
            raise Conflict(
                f"the round's deadline ({self.deadline.isoformat()}) has passed",
                state="past-deadline",
                deadline=self.deadline.isoformat(),
            )

    # -- changes ------------------------------------------------------------------------------

    def close(self, *, at: datetime) -> None:
        rules.aware(at)
        if self.state is RoundState.CLOSED:
            raise Conflict("the round is closed already", state="closed")
        self._closed(at=at)

    @event("Closed")
    def _closed(self, at: datetime) -> None:
        self.state = RoundState.CLOSED
        self.closed_at = at

    def grant(self, application_id: UUID, granted: Decimal, *, decision: int, at: datetime) -> None:
        """Record a decision's amount (replacing the application's earlier one), or refuse it
        naming what is left of the budget."""
        key = str(application_id)
        before = self.granted.get(key, ZERO)
        left = self.remaining + before
        if granted > left:
            raise Conflict(
                f"the round has {euros(left)} left of its budget of {euros(self.budget)};"
                f" {euros(granted)} cannot be granted",
                state="budget-exceeded",
                remaining=euros(left),
                budget=euros(self.budget),
            )
        self._granted(application_id=application_id, amount=granted, decision=decision, at=at)

    @event("Granted")
    def _granted(self, application_id: UUID, amount: Decimal, decision: int, at: datetime) -> None:
        self.granted[str(application_id)] = amount
