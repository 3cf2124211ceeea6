"""An overlap case: two organisations' activities that may overlap, and how that ended.

    open ──both answered──> resolved (joined-forces | coordinated | not-an-overlap | no-agreement)
      └──an activity cancelled or completed──> closed (lapsed)

A policy opens a case when the overlap score of two activities of *different* organisations
reaches the platform's threshold. The case's id comes from the unordered pair of activities
(`overlap_case_id`), so there is one stream per pair: opening it again creates an aggregate at
version 1 whose append expects version 0 and is refused by the store (`StreamConflict`), which
the policy takes as "already open". A pair gets one case for good, also after it ended.

Each organisation answers (the coordinator may answer for one; `answered_by` says who):

- `JoinForces(host_activity_id)`: do it together in one of the two activities. When both
  organisations answer so, with the same host, the case resolves as `joined-forces` and
  records the intended invitation (`Invitation`: the host activity and the other organisation
  as its partner), which the application layer then issues as `Activity.invite_partner`.
- `Coordinate(note)`: keep both, but apart (another day, another group), as the note says.
- `NotAnOverlap(reason)`.

An organisation may change its answer while the case is open. When both have answered:
both join forces → joined-forces; otherwise either coordinates → coordinated; both say it is
not an overlap → not-an-overlap; one joins forces and the other says it is not an overlap →
no-agreement (for the coordinator to take up). `close` (called by the policy when either
activity is cancelled or completed) ends an open case as lapsed and does nothing to an ended
one, so it may be called as often as the policy sees such events.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from verbinders.domain import limits, rules
from verbinders.domain.ids import stable_id
from verbinders.domain.overlap import Explanation
from verbinders.errors import Conflict, InvalidCommand

__all__ = [
    "Answer",
    "CaseStatus",
    "ClosedBecause",
    "Coordinate",
    "Invitation",
    "JoinForces",
    "NotAnOverlap",
    "Outcome",
    "OverlapCase",
    "overlap_case_id",
]


def overlap_case_id(tenant: str, activity: UUID, other: UUID) -> UUID:
    """The one case of an unordered pair of activities (the same for (a, b) and (b, a))."""
    first, second = sorted((activity, other), key=str)
    return stable_id(tenant, "overlap-case", f"{first}/{second}")


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Outcome(StrEnum):
    JOINED_FORCES = "joined-forces"
    COORDINATED = "coordinated"
    NOT_AN_OVERLAP = "not-an-overlap"
    NO_AGREEMENT = "no-agreement"
    LAPSED = "lapsed"
    """An activity was cancelled or completed before both organisations answered."""


class ClosedBecause(StrEnum):
    CANCELLED = "activity-cancelled"
    COMPLETED = "activity-completed"


class JoinForces(msgspec.Struct, frozen=True, kw_only=True, tag="join-forces"):
    host_activity_id: UUID
    """Which of the two activities goes on as the joint one."""
    note: str = ""


class Coordinate(msgspec.Struct, frozen=True, kw_only=True, tag="coordinate"):
    note: str
    """What is agreed: another day, another group, ..."""


class NotAnOverlap(msgspec.Struct, frozen=True, kw_only=True, tag="not-an-overlap"):
    reason: str


Answer = JoinForces | Coordinate | NotAnOverlap


class Invitation(msgspec.Struct, frozen=True, kw_only=True):
    """The partner invitation a joined-forces outcome calls for."""

    activity_id: UUID
    partner_id: UUID


class OverlapCase(Aggregate):
    STREAM_TYPE = "OverlapCase"

    tenant: str
    activities: tuple[UUID, UUID]
    """The two activities, in the order of their ids (as `overlap_case_id` sorts them)."""
    organisations: tuple[UUID, UUID]
    """Their organisations, in the same order."""
    score: float
    threshold: float
    explanation: Explanation
    status: CaseStatus
    answers: dict[UUID, Answer]
    """The latest answer per organisation."""
    opened_at: datetime
    ended_at: datetime | None
    outcome: Outcome | None
    invitation: Invitation | None

    @classmethod
    def open(
        cls,
        *,
        tenant: str,
        activity: tuple[UUID, UUID],
        other: tuple[UUID, UUID],
        explanation: Explanation,
        threshold: float,
        at: datetime,
    ) -> OverlapCase:
        """A case between `activity` and `other`, each given as (activity id, organisation id),
        with the score's explanation when it was opened and the threshold it reached."""
        rules.aware(at)
        if activity[0] == other[0]:
            raise InvalidCommand(
                "an activity does not overlap with itself", field="activities", rule="distinct"
            )
        if activity[1] == other[1]:
            raise InvalidCommand(
                "overlap cases are between activities of different organisations",
                field="organisations",
                rule="distinct",
            )
        if not 0.0 <= threshold <= 1.0:
            raise InvalidCommand(
                "threshold must lie between 0 and 1", field="threshold", rule="range"
            )
        first, second = sorted((activity, other), key=lambda pair: str(pair[0]))
        return cls(
            id=overlap_case_id(tenant, first[0], second[0]),
            tenant=tenant,
            activities=(first[0], second[0]),
            organisations=(first[1], second[1]),
            score=explanation.score,
            threshold=threshold,
            explanation=explanation,
            at=at,
        )

    @event("Opened")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        activities: tuple[UUID, UUID],
        organisations: tuple[UUID, UUID],
        score: float,
        threshold: float,
        explanation: Explanation,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.activities = activities
        self.organisations = organisations
        self.score = score
        self.threshold = threshold
        self.explanation = explanation
        self.status = CaseStatus.OPEN
        self.answers = {}
        self.opened_at = at
        self.ended_at = None
        self.outcome = None
        self.invitation = None

    def activity_of(self, organisation_id: UUID) -> UUID:
        return self.activities[self.organisations.index(organisation_id)]

    def _require_open(self, at: datetime, action: str) -> None:
        rules.aware(at)
        if self.status is not CaseStatus.OPEN:
            raise Conflict(
                f"a case that is {self.status.value} cannot {action}", state=self.status.value
            )
        rules.not_before(at, self.opened_at, what="the case's opening")

    def _checked(self, answer: Answer, organisation_id: UUID) -> Answer:
        if isinstance(answer, JoinForces):
            if answer.host_activity_id not in self.activities:
                raise InvalidCommand(
                    "host_activity_id must be one of the case's two activities",
                    field="host_activity_id",
                    rule="one-of-the-pair",
                )
            other = self.answers.get(self._other(organisation_id))
            if isinstance(other, JoinForces) and other.host_activity_id != answer.host_activity_id:
                raise Conflict(
                    f"the other organisation proposed to join forces in activity"
                    f" {other.host_activity_id}; agree on that host, or coordinate",
                    state="host-proposed",
                    host_activity_id=str(other.host_activity_id),
                )
            note = rules.multi_line(answer.note, field="note", max_length=limits.NOTE_MAX)
            return JoinForces(host_activity_id=answer.host_activity_id, note=note)
        if isinstance(answer, Coordinate):
            return Coordinate(
                note=rules.multi_line(
                    answer.note, field="note", max_length=limits.NOTE_MAX, required=True
                )
            )
        if isinstance(answer, NotAnOverlap):
            return NotAnOverlap(reason=rules.reason(answer.reason))
        raise InvalidCommand(
            "answer must be join-forces, coordinate or not-an-overlap", field="answer", rule="type"
        )

    def _other(self, organisation_id: UUID) -> UUID:
        return self.organisations[1 - self.organisations.index(organisation_id)]

    def answer(
        self, organisation_id: UUID, answer: Answer, *, answered_by: str, at: datetime
    ) -> None:
        """`organisation_id`'s answer (again: its new answer). Resolves the case once both
        organisations have answered (see the module's notes)."""
        self._require_open(at, "take answers")
        if organisation_id not in self.organisations:
            raise InvalidCommand(
                f"organisation {organisation_id} is not part of this case",
                field="organisation_id",
                rule="party-to-the-case",
            )
        checked = self._checked(answer, organisation_id)
        if self.answers.get(organisation_id) == checked:
            return
        self._answered(
            organisation_id=organisation_id,
            answer=checked,
            answered_by=rules.party(answered_by, field="answered_by"),
            at=at,
        )
        if len(self.answers) == 2:
            outcome, invitation = self._outcome()
            self._resolved(outcome=outcome, invitation=invitation, at=at)

    def _outcome(self) -> tuple[Outcome, Invitation | None]:
        first, second = (self.answers[organisation] for organisation in self.organisations)
        if isinstance(first, JoinForces) and isinstance(second, JoinForces):
            host = first.host_activity_id
            guest = self.organisations[1 - self.activities.index(host)]
            return Outcome.JOINED_FORCES, Invitation(activity_id=host, partner_id=guest)
        if isinstance(first, Coordinate) or isinstance(second, Coordinate):
            return Outcome.COORDINATED, None
        if isinstance(first, NotAnOverlap) and isinstance(second, NotAnOverlap):
            return Outcome.NOT_AN_OVERLAP, None
        return Outcome.NO_AGREEMENT, None

    @event("Answered")
    def _answered(
        self, organisation_id: UUID, answer: Answer, answered_by: str, at: datetime
    ) -> None:
        self.answers[organisation_id] = answer

    @event("Resolved")
    def _resolved(self, outcome: Outcome, invitation: Invitation | None, at: datetime) -> None:
        self.status = CaseStatus.RESOLVED
        self.outcome = outcome
        self.invitation = invitation
        self.ended_at = at

    def close(self, *, activity_id: UUID, because: ClosedBecause, at: datetime) -> None:
        """One of the activities was cancelled or completed: an open case lapses; a case that
        already ended records nothing (the policy may call this more than once). An `at`
        before the opening (an activity that ended while its case was being opened) is taken
        as the opening's, so the case's history stays ordered."""
        rules.aware(at)
        if activity_id not in self.activities:
            raise InvalidCommand(
                f"activity {activity_id} is not part of this case",
                field="activity_id",
                rule="one-of-the-pair",
            )
        because = rules.choice(ClosedBecause, because, field="because")
        if self.status is not CaseStatus.OPEN:
            return
        self._closed(activity_id=activity_id, because=because, at=max(at, self.opened_at))

    @event("Closed")
    def _closed(self, activity_id: UUID, because: ClosedBecause, at: datetime) -> None:
        self.status = CaseStatus.CLOSED
        self.outcome = Outcome.LAPSED
        self.ended_at = at
