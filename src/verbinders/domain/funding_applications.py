"""Applications for funding: drafted (solo or joint), submitted to a round, reviewed, decided,
objected to and reconsidered, paid in tranches, settled or partly reclaimed.

    draft ──submit──> submitted ──decide──> decided ──settle/reclaim──> settled
      └──────withdraw──────┴──> withdrawn        └─object─> objected ─reconsider─> decided

- The applicant drafts: title, summary, budget lines (the requested amount is their sum), the
  activity it funds (optional), co-applicants. Each co-applicant confirms its participation
  before the application can be submitted (a joint application); changing the budget or the
  plan asks them again.
- Submitted to an open round before its deadline. Withdrawn before a decision.
- The fund assigns reviewers (people: `person` ids, see `application/funding_people.py`). A
  person declares a conflict of interest with the application; from then on that person can
  neither review nor decide it, and a review written before the declaration no longer counts.
- A review scores each of the round's criteria 0-10, recommends, and comments.
- A decision grants 0 up to the requested amount with conditions and a mandatory rationale,
  only once the round's minimum of (counting) reviews is there. The applicant may object
  within the round's objection period; a reconsidered decision refers to the one it replaces.
- Payments in tranches never exceed the amount granted by the decision in force (the
  accountability reports' rule, no payment while one is overdue, is checked by the service
  with the applicant's `Accountability`). Settle, or reclaim an unspent part of what was paid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from verbinders.domain import limits, rules
from verbinders.domain.funding_records import (
    CO_APPLICANTS_MAX,
    CONDITIONS_MAX,
    SCORE_MAX,
    ApplicationState,
    BudgetLine,
    Decision,
    Objection,
    Payment,
    Recommendation,
    Review,
    check_budget_lines,
    required_text,
)
from verbinders.domain.funds import Round
from verbinders.domain.money import ZERO, amount, euros, total
from verbinders.errors import Conflict, Forbidden, InvalidCommand

__all__ = [
    "ApplicationState",
    "BudgetLine",
    "Decision",
    "FundingApplication",
    "Objection",
    "Payment",
    "Recommendation",
    "Review",
]


class FundingApplication(Aggregate):
    STREAM_TYPE = "FundingApplication"

    tenant: str
    round_id: UUID
    fund_id: UUID
    funder: UUID
    applicant: UUID
    title: str
    summary: str
    budget_lines: tuple[BudgetLine, ...]
    activity_id: UUID | None
    co_applicants: dict[UUID, bool]
    """Co-applicant -> whether it confirmed the application as it now reads."""
    state: ApplicationState
    drafted_at: datetime
    submitted_at: datetime | None
    reviewers: dict[str, str]
    """Person -> name, as the fund assigned them."""
    conflicts: dict[str, str]
    """Person -> the conflict of interest declared."""
    reviews: dict[str, Review]
    decisions: list[Decision]
    objections: list[Objection]
    payments: list[Payment]
    reclaimed: Decimal
    settled_at: datetime | None

    @classmethod
    def draft(
        cls,
        *,
        application_id: UUID,
        round: Round,
        applicant: UUID,
        title: str,
        summary: str,
        budget_lines: Sequence[BudgetLine],
        activity_id: UUID | None,
        co_applicants: Sequence[UUID],
        at: datetime,
    ) -> FundingApplication:
        rules.moment(at, field="at")
        return cls(
            id=application_id,
            tenant=round.tenant,
            round_id=round.id,
            fund_id=round.fund_id,
            funder=round.funder,
            applicant=applicant,
            title=rules.single_line(title, field="title", max_length=limits.TITLE_MAX),
            summary=required_text(summary, "summary"),
            budget_lines=check_budget_lines(budget_lines),
            activity_id=activity_id,
            co_applicants=_co_applicants(co_applicants, applicant),
            at=at,
        )

    @event("Drafted")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        round_id: UUID,
        fund_id: UUID,
        funder: UUID,
        applicant: UUID,
        title: str,
        summary: str,
        budget_lines: tuple[BudgetLine, ...],
        activity_id: UUID | None,
        co_applicants: tuple[UUID, ...],
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.round_id = round_id
        self.fund_id = fund_id
        self.funder = funder
        self.applicant = applicant
        self.title = title
        self.summary = summary
        self.budget_lines = budget_lines
        self.activity_id = activity_id
        self.co_applicants = dict.fromkeys(co_applicants, False)
        self.state = ApplicationState.DRAFT
        self.drafted_at = at
        self.submitted_at = None
        self.reviewers = {}
        self.conflicts = {}
        self.reviews = {}
        self.decisions = []
        self.objections = []
        self.payments = []
        self.reclaimed = ZERO
        self.settled_at = None

    # -- reading ------------------------------------------------------------------------------

    @property
    def requested(self) -> Decimal:
        return total(line.amount for line in self.budget_lines)

    @property
    def joint(self) -> bool:
        return bool(self.co_applicants)

    @property
    def decision(self) -> Decision | None:
        """The decision in force."""
        return self.decisions[-1] if self.decisions else None

    @property
    def granted(self) -> Decimal:
        return self.decisions[-1].amount if self.decisions else ZERO

    @property
    def paid(self) -> Decimal:
        return total(p.amount for p in self.payments)

    @property
    def counting_reviews(self) -> list[Review]:
        return [r for who, r in self.reviews.items() if who not in self.conflicts]

    def involves(self, organisation: UUID) -> bool:
        return organisation == self.applicant or organisation in self.co_applicants

    def _require(self, *states: ApplicationState, action: str) -> None:
        if self.state not in states:
            raise Conflict(
                f"the application is {self.state.value} and cannot {action}",
                state=self.state.value,
            )

    def _not_conflicted(self, person: str, action: str) -> None:
        if person in self.conflicts:
            raise Forbidden(
                f"{person} declared a conflict of interest with this application and cannot"
                f" {action} it",
                person=person,
                rule="conflict-of-interest",
            )

    # -- the applicant ------------------------------------------------------------------------

    def edit(
        self,
        *,
        title: str | None,
        summary: str | None,
        budget_lines: Sequence[BudgetLine] | None,
        activity_id: UUID | None,
        at: datetime,
    ) -> None:
        rules.aware(at)
        self._require(ApplicationState.DRAFT, action="be edited")
        self._edited(
            title=self.title
            if title is None
            else rules.single_line(title, field="title", max_length=limits.TITLE_MAX),
            summary=self.summary if summary is None else required_text(summary, "summary"),
            budget_lines=self.budget_lines
            if budget_lines is None
            else check_budget_lines(budget_lines),
            activity_id=activity_id if activity_id is not None else self.activity_id,
            at=at,
        )

    @event("Edited")
    def _edited(
        self,
        title: str,
        summary: str,
        budget_lines: tuple[BudgetLine, ...],
        activity_id: UUID | None,
        at: datetime,
    ) -> None:
        self.title = title
        self.summary = summary
        self.budget_lines = budget_lines
        self.activity_id = activity_id
        self.co_applicants = dict.fromkeys(self.co_applicants, False)  # to confirm again

    def add_co_applicant(self, organisation: UUID, *, at: datetime) -> None:
        self._require(ApplicationState.DRAFT, action="take co-applicants")
        _co_applicants([*self.co_applicants, organisation], self.applicant)
        self._co_applicant_added(organisation=organisation, at=at)

    @event("CoApplicantAdded")
    def _co_applicant_added(self, organisation: UUID, at: datetime) -> None:
        self.co_applicants[organisation] = False

    def confirm(self, organisation: UUID, *, at: datetime) -> None:
        self._require(ApplicationState.DRAFT, action="be confirmed")
        if organisation not in self.co_applicants:
            raise Forbidden(
                f"organisation {organisation} is not a co-applicant of this application",
                organisation=str(organisation),
            )
        if self.co_applicants[organisation]:
            return
        self._confirmed(organisation=organisation, at=at)

    @event("CoApplicantConfirmed")
    def _confirmed(self, organisation: UUID, at: datetime) -> None:
        self.co_applicants[organisation] = True

    def submit(self, round: Round, *, at: datetime) -> None:
        rules.aware(at)
        self._require(ApplicationState.DRAFT, action="be submitted")
        waiting = [str(o) for o, confirmed in self.co_applicants.items() if not confirmed]
        if waiting:
            raise Conflict(
                f"co-applicants have not confirmed yet: {', '.join(waiting)}",
                state="unconfirmed",
                waiting_for=waiting,
            )
        round.accepts_submissions(at)
        self._submitted(requested=self.requested, at=at)

    @event("Submitted")
    def _submitted(self, requested: Decimal, at: datetime) -> None:
        self.state = ApplicationState.SUBMITTED
        self.submitted_at = at

    def withdraw(self, *, reason: str, at: datetime) -> None:
        self._require(ApplicationState.DRAFT, ApplicationState.SUBMITTED, action="be withdrawn")
        self._withdrawn(reason=rules.reason(reason), at=at)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, at: datetime) -> None:
        self.state = ApplicationState.WITHDRAWN

    def object(self, *, by: str, reason: str, at: datetime) -> None:
        self._require(ApplicationState.DECIDED, action="be objected to")
        decision = self.decisions[-1]
        if at > decision.objection_until:
            raise Conflict(
                f"the period to object ended at {decision.objection_until.isoformat()}",
                state="objection-period-over",
            )
        self._objected(
            decision=decision.number, by=by, reason=required_text(reason, "reason"), at=at
        )

    @event("Objected")
    def _objected(self, decision: int, by: str, reason: str, at: datetime) -> None:
        self.objections.append(Objection(decision=decision, reason=reason, by=by, at=at))
        self.state = ApplicationState.OBJECTED

    # -- the fund's people ---------------------------------------------------------------------

    def assign_reviewer(self, person: str, *, name: str, at: datetime) -> None:
        self._require(
            ApplicationState.SUBMITTED, ApplicationState.OBJECTED, action="take reviewers"
        )
        self._not_conflicted(person, "review")
        if person in self.reviewers:
            return
        name = rules.single_line(name, field="name", max_length=limits.NAME_MAX)
        self._reviewer_assigned(person=person, name=name, at=at)

    @event("ReviewerAssigned")
    def _reviewer_assigned(self, person: str, name: str, at: datetime) -> None:
        self.reviewers[person] = name

    def declare_conflict(self, person: str, *, reason: str, at: datetime) -> None:
        self._require(
            ApplicationState.SUBMITTED,
            ApplicationState.DECIDED,
            ApplicationState.OBJECTED,
            action="take a declaration of interest",
        )
        if person in self.conflicts:
            return
        self._conflict_declared(person=person, reason=rules.reason(reason), at=at)

    @event("ConflictDeclared")
    def _conflict_declared(self, person: str, reason: str, at: datetime) -> None:
        self.conflicts[person] = reason

    def review(
        self,
        person: str,
        *,
        criteria: Sequence[str],
        scores: Mapping[str, int],
        recommendation: Recommendation,
        comment: str,
        at: datetime,
    ) -> None:
        self._require(ApplicationState.SUBMITTED, ApplicationState.OBJECTED, action="be reviewed")
        self._not_conflicted(person, "review")
        if person not in self.reviewers:
            raise Forbidden(f"{person} is not assigned to review this application", person=person)
        if set(scores) != set(criteria):
            raise InvalidCommand(
                f"scores must name exactly the round's criteria: {', '.join(criteria)}",
                field="scores",
                rule="criteria",
            )
        for key, score in scores.items():
            rules.count(score, field=f"scores.{key}", minimum=0, maximum=SCORE_MAX)
        self._reviewed(
            review=Review(
                reviewer=person,
                scores=dict(sorted(scores.items())),
                recommendation=rules.choice(Recommendation, recommendation, field="recommendation"),
                comment=rules.multi_line(comment, field="comment", max_length=limits.NOTE_MAX),
                at=at,
            )
        )

    @event("Reviewed")
    def _reviewed(self, review: Review) -> None:
        self.reviews[review.reviewer] = review

    def decide(
        self,
        person: str,
        *,
        round: Round,
        granted: Decimal | str,
        conditions: Sequence[str],
        rationale: str,
        at: datetime,
    ) -> Decision:
        """Decide (or, after an objection, reconsider): the round's ledger is the caller's to
        append to (`Round.grant`), in the same append."""
        rules.aware(at)
        reconsidering = self.state is ApplicationState.OBJECTED
        if not reconsidering:
            self._require(ApplicationState.SUBMITTED, action="be decided")
        self._not_conflicted(person, "decide")
        counting = len(self.counting_reviews)
        if counting < round.min_reviews:
            raise Conflict(
                f"the round asks {round.min_reviews} reviews before a decision;"
                f" {counting} counted so far",
                state="too-few-reviews",
                reviews=counting,
                min_reviews=round.min_reviews,
            )
        value = amount(granted, field="amount", maximum=self.requested)
        if len(conditions) > CONDITIONS_MAX:
            raise InvalidCommand(
                f"at most {CONDITIONS_MAX} conditions", field="conditions", rule="range"
            )
        decision = Decision(
            number=len(self.decisions) + 1,
            amount=value,
            conditions=tuple(
                rules.single_line(c, field=f"conditions[{i}]", max_length=limits.NOTE_MAX)
                for i, c in enumerate(conditions)
            ),
            rationale=required_text(rationale, "rationale"),
            decided_by=person,
            at=at,
            objection_until=at + timedelta(days=round.objection_days),
            replaces=self.decisions[-1].number if reconsidering else None,
            reviews=counting,
        )
        if value < self.paid:
            raise Conflict(
                f"{euros(self.paid)} was paid already; a decision cannot grant less",
                state="paid",
            )
        self._decided(decision=decision)
        return decision

    @event("Decided")
    def _decided(self, decision: Decision) -> None:
        self.decisions.append(decision)
        self.state = ApplicationState.DECIDED

    def pay(self, payment: Decimal | str, *, by: str, at: datetime) -> Payment:
        self._require(ApplicationState.DECIDED, action="be paid")
        value = amount(payment, field="amount", minimum=Decimal("0.01"))
        left = self.granted - self.paid
        if value > left:
            raise Conflict(
                f"{euros(left)} of the {euros(self.granted)} granted is left to pay",
                state="over-grant",
                remaining=euros(left),
            )
        made = Payment(number=len(self.payments) + 1, amount=value, by=by, at=at)
        self._paid(payment=made)
        return made

    @event("Paid")
    def _paid(self, payment: Payment) -> None:
        self.payments.append(payment)

    def settle(self, *, reclaim: Decimal | str, reason: str, by: str, at: datetime) -> None:
        """Close the grant's books; `reclaim`: the unspent part of what was paid, asked back."""
        self._require(ApplicationState.DECIDED, action="be settled")
        value = amount(reclaim, field="reclaim", maximum=self.paid)
        self._settled(reclaimed=value, reason=rules.optional_reason(reason), by=by, at=at)

    @event("Settled")
    def _settled(self, reclaimed: Decimal, reason: str, by: str, at: datetime) -> None:
        self.reclaimed = reclaimed
        self.settled_at = at
        self.state = ApplicationState.SETTLED


def _co_applicants(values: Sequence[UUID], applicant: UUID) -> tuple[UUID, ...]:
    unique = tuple(dict.fromkeys(values))
    if applicant in unique:
        raise InvalidCommand(
            "the applicant cannot be its own co-applicant", field="co_applicants", rule="self"
        )
    if len(unique) > CO_APPLICANTS_MAX:
        raise InvalidCommand(
            f"at most {CO_APPLICANTS_MAX} co-applicants", field="co_applicants", rule="range"
        )
    return unique
