"""An activity an organisation plans, alone or with partners: from plan to completion.

    planned ──start──> running ──complete──> completed
       │                  │
       └────cancel────────┴──> cancelled

Planned and running activities take updates (details, schedule) and partners: the organiser
invites any organisation (of any kind) but itself; the invited organisation accepts with its
contribution (role, pledged hours, resources) or declines; an accepted partner may change its
contribution or withdraw; a declined or withdrawn partner may be invited again. An activity
with at least one accepted partner is a *collaboration*. Completed and cancelled activities
accept nothing. A command that does not fit the state raises `Conflict` naming the state.

Every command's `at` (when it happens, passed in) must not lie before the previous one's, so
the activity's history stays ordered. The application layer checks who may do what (the
organiser for its activity, a partner for its own answer, the coordinator for all) and that
the organisations exist; the aggregate records who decided where a decision is recorded.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event
from msgspec import UNSET

from verbinders.domain import limits, rules
from verbinders.domain.activity_details import (
    ActivityChanges,
    ActivityDetails,
    Contribution,
    details_validators,
    validate_contribution,
    validate_details,
)
from verbinders.domain.schedule import Schedule, TimeRange, check_schedule, occurrences
from verbinders.domain.vocabulary import Vocabulary
from verbinders.errors import Conflict, InvalidCommand, NotFound

__all__ = ["Activity", "ActivityStatus", "Partnership", "PartnershipStatus"]


class ActivityStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PartnershipStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Partnership(msgspec.Struct, frozen=True, kw_only=True):
    """One invited organisation's part in an activity."""

    status: PartnershipStatus
    invited_at: datetime
    invited_by: str
    message: str = ""
    answered_at: datetime | None = None
    """When it accepted, declined or withdrew (the latest of these)."""
    contribution: Contribution | None = None
    """While accepted, and kept after a withdrawal (what it had pledged)."""


_OPEN = (ActivityStatus.PLANNED, ActivityStatus.RUNNING)


class Activity(Aggregate):
    STREAM_TYPE = "Activity"

    tenant: str
    organisation_id: UUID
    """The organiser."""
    details: ActivityDetails
    schedule: Schedule
    status: ActivityStatus
    partners: dict[UUID, Partnership]
    """Per invited organisation, in the order first invited."""
    planned_at: datetime
    changed_at: datetime
    """When the latest event happened."""
    started_at: datetime | None
    ended_at: datetime | None
    """When it was completed or cancelled."""
    actual_participants: int | None
    result: str
    cancel_reason: str

    # -- planning ---------------------------------------------------------------------------

    @classmethod
    def plan(
        cls,
        *,
        activity_id: UUID,
        tenant: str,
        organisation_id: UUID,
        details: ActivityDetails,
        schedule: Schedule,
        vocabulary: Vocabulary,
        planned_by: str,
        at: datetime,
    ) -> Activity:
        """A new activity of `organisation_id` (the application layer checks it exists)."""
        rules.aware(at)
        return cls(
            id=activity_id,
            tenant=tenant,
            organisation_id=organisation_id,
            details=validate_details(details, vocabulary),
            schedule=check_schedule(schedule),
            planned_by=rules.party(planned_by, field="planned_by"),
            at=at,
        )

    @event("Planned")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        organisation_id: UUID,
        details: ActivityDetails,
        schedule: Schedule,
        planned_by: str,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.organisation_id = organisation_id
        self.details = details
        self.schedule = schedule
        self.status = ActivityStatus.PLANNED
        self.partners = {}
        self.planned_at = at
        self.changed_at = at
        self.started_at = None
        self.ended_at = None
        self.actual_participants = None
        self.result = ""
        self.cancel_reason = ""

    # -- reading ----------------------------------------------------------------------------

    @property
    def occurrences(self) -> tuple[TimeRange, ...]:
        """When it takes place, in UTC (`schedule.occurrences`)."""
        return occurrences(self.schedule)

    @property
    def accepted_partners(self) -> tuple[UUID, ...]:
        return tuple(
            partner
            for partner, part in self.partners.items()
            if part.status is PartnershipStatus.ACCEPTED
        )

    @property
    def is_collaboration(self) -> bool:
        """Whether at least one partner has accepted (and not withdrawn)."""
        return bool(self.accepted_partners)

    @property
    def is_open(self) -> bool:
        """Planned or running: what overlap detection looks at."""
        return self.status in _OPEN

    def _require(self, at: datetime, action: str, *states: ActivityStatus) -> None:
        rules.aware(at)
        if self.status not in states:
            raise Conflict(
                f"an activity that is {self.status.value} cannot {action}",
                state=self.status.value,
            )
        rules.not_before(at, self.changed_at, what="the activity's latest change")

    # -- details ----------------------------------------------------------------------------

    def update(self, changes: ActivityChanges, *, vocabulary: Vocabulary, at: datetime) -> None:
        """Change the given fields. Details are recorded as `DetailsUpdated` (with the names of
        the fields that changed), a new schedule as `Rescheduled`; values equal to the current
        ones record nothing. Everything is checked before anything is recorded."""
        self._require(at, "be updated", *_OPEN)
        details, changed = rules.changed_fields(
            self.details, changes, details_validators(vocabulary)
        )
        schedule = self.schedule if changes.schedule is UNSET else check_schedule(changes.schedule)
        if changed:
            self._details_updated(details=details, changed=changed, at=at)
        if schedule != self.schedule:
            self._rescheduled(schedule=schedule, at=at)

    @event("DetailsUpdated")
    def _details_updated(
        self, details: ActivityDetails, changed: tuple[str, ...], at: datetime
    ) -> None:
        self.details = details
        self.changed_at = at

    @event("Rescheduled")
    def _rescheduled(self, schedule: Schedule, at: datetime) -> None:
        self.schedule = schedule
        self.changed_at = at

    # -- partners ---------------------------------------------------------------------------

    def _partnership(self, partner_id: UUID) -> Partnership:
        try:
            return self.partners[partner_id]
        except KeyError:
            raise NotFound(
                f"organisation {partner_id} was never invited to this activity",
                id=str(partner_id),
            ) from None

    def _require_partner(self, partner_id: UUID, action: str, status: PartnershipStatus) -> None:
        part = self._partnership(partner_id)
        if part.status is not status:
            raise Conflict(
                f"a partner that has {part.status.value} cannot {action}",
                state=part.status.value,
                partner=str(partner_id),
            )

    def invite_partner(
        self, partner_id: UUID, *, invited_by: str, at: datetime, message: str = ""
    ) -> None:
        """Invite an organisation (any kind) to take part; again after it declined or withdrew."""
        self._require(at, "invite partners", *_OPEN)
        if partner_id == self.organisation_id:
            raise InvalidCommand(
                "an organisation cannot be a partner in its own activity",
                field="partner_id",
                rule="not-the-organiser",
            )
        current = self.partners.get(partner_id)
        if current is not None and current.status in (
            PartnershipStatus.INVITED,
            PartnershipStatus.ACCEPTED,
        ):
            raise Conflict(
                f"organisation {partner_id} is already {current.status.value}",
                state=current.status.value,
                partner=str(partner_id),
            )
        if current is None and len(self.partners) >= limits.PARTNERS_MAX:
            raise InvalidCommand(
                f"an activity has at most {limits.PARTNERS_MAX} invited organisations",
                field="partner_id",
                rule="max-items",
            )
        self._partner_invited(
            partner_id=partner_id,
            invited_by=rules.party(invited_by, field="invited_by"),
            message=rules.multi_line(message, field="message", max_length=limits.NOTE_MAX),
            at=at,
        )

    @event("PartnerInvited")
    def _partner_invited(
        self, partner_id: UUID, invited_by: str, message: str, at: datetime
    ) -> None:
        self.partners[partner_id] = Partnership(
            status=PartnershipStatus.INVITED, invited_at=at, invited_by=invited_by, message=message
        )
        self.changed_at = at

    def _answer(
        self, partner_id: UUID, status: PartnershipStatus, at: datetime, **kw: object
    ) -> None:
        self.partners[partner_id] = msgspec.structs.replace(
            self.partners[partner_id], status=status, answered_at=at, **kw
        )
        self.changed_at = at

    def accept_invitation(
        self, partner_id: UUID, contribution: Contribution, *, at: datetime
    ) -> None:
        """The invited organisation takes part, with what it brings."""
        self._require(at, "take answers from partners", *_OPEN)
        self._require_partner(partner_id, "accept", PartnershipStatus.INVITED)
        self._invitation_accepted(
            partner_id=partner_id, contribution=validate_contribution(contribution), at=at
        )

    @event("InvitationAccepted")
    def _invitation_accepted(
        self, partner_id: UUID, contribution: Contribution, at: datetime
    ) -> None:
        self._answer(partner_id, PartnershipStatus.ACCEPTED, at, contribution=contribution)

    def decline_invitation(self, partner_id: UUID, *, at: datetime, reason: str = "") -> None:
        self._require(at, "take answers from partners", *_OPEN)
        self._require_partner(partner_id, "decline", PartnershipStatus.INVITED)
        self._invitation_declined(
            partner_id=partner_id, reason=rules.optional_reason(reason), at=at
        )

    @event("InvitationDeclined")
    def _invitation_declined(self, partner_id: UUID, reason: str, at: datetime) -> None:
        self._answer(partner_id, PartnershipStatus.DECLINED, at)

    def change_contribution(
        self, partner_id: UUID, contribution: Contribution, *, at: datetime
    ) -> None:
        """An accepted partner changes what it brings (the same contribution records nothing)."""
        self._require(at, "change contributions", *_OPEN)
        self._require_partner(partner_id, "change its contribution", PartnershipStatus.ACCEPTED)
        checked = validate_contribution(contribution)
        if checked != self.partners[partner_id].contribution:
            self._contribution_changed(partner_id=partner_id, contribution=checked, at=at)

    @event("ContributionChanged")
    def _contribution_changed(
        self, partner_id: UUID, contribution: Contribution, at: datetime
    ) -> None:
        self.partners[partner_id] = msgspec.structs.replace(
            self.partners[partner_id], contribution=contribution
        )
        self.changed_at = at

    def withdraw_partner(self, partner_id: UUID, *, at: datetime, reason: str = "") -> None:
        """An accepted partner stops taking part (its pledge stays on record)."""
        self._require(at, "let partners withdraw", *_OPEN)
        self._require_partner(partner_id, "withdraw", PartnershipStatus.ACCEPTED)
        self._partner_withdrew(partner_id=partner_id, reason=rules.optional_reason(reason), at=at)

    @event("PartnerWithdrew")
    def _partner_withdrew(self, partner_id: UUID, reason: str, at: datetime) -> None:
        self._answer(partner_id, PartnershipStatus.WITHDRAWN, at)

    # -- life -------------------------------------------------------------------------------

    def start(self, *, at: datetime) -> None:
        self._require(at, "start", ActivityStatus.PLANNED)
        self._started(at=at)

    @event("Started")
    def _started(self, at: datetime) -> None:
        self.status = ActivityStatus.RUNNING
        self.started_at = at
        self.changed_at = at

    def complete(self, *, actual_participants: int, result: str, at: datetime) -> None:
        """A running activity ends: how many took part (0 or more) and what it achieved."""
        self._require(at, "be completed", ActivityStatus.RUNNING)
        participants = rules.count(
            actual_participants, field="actual_participants", maximum=limits.PARTICIPANTS_MAX
        )
        if participants is None:
            raise InvalidCommand(
                "actual_participants is required (0 if nobody came)",
                field="actual_participants",
                rule="required",
            )
        self._completed(
            actual_participants=participants,
            result=rules.multi_line(
                result, field="result", max_length=limits.RESULT_MAX, required=True
            ),
            at=at,
        )

    @event("Completed")
    def _completed(self, actual_participants: int, result: str, at: datetime) -> None:
        self.status = ActivityStatus.COMPLETED
        self.actual_participants = actual_participants
        self.result = result
        self.ended_at = at
        self.changed_at = at

    def cancel(self, *, reason: str, decided_by: str, at: datetime) -> None:
        self._require(at, "be cancelled", *_OPEN)
        self._cancelled(reason=rules.reason(reason), decided_by=rules.party(decided_by), at=at)

    @event("Cancelled")
    def _cancelled(self, reason: str, decided_by: str, at: datetime) -> None:
        self.status = ActivityStatus.CANCELLED
        self.cancel_reason = reason
        self.ended_at = at
        self.changed_at = at
