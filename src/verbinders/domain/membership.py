"""Membership of the platform: one stream per organisation, from application to leaving.

    applied ──admit──> member ──suspend──> suspended ──reinstate──> member
       │                  │                    │
       ├─reject──> rejected                    │
       ├─withdraw_application──> withdrawn     │
       │                  └───────leave────────┴──> left
    rejected / withdrawn / left ──reapply──> applied

A transition that does not start from an allowed state raises `Conflict` naming the current
state. Every transition's `at` must not lie before the previous one, so the periods of
membership are well ordered. A suspended organisation is still a member (its period runs on);
suspensions are kept as periods of their own.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from verbinders.domain import limits, rules
from verbinders.domain.ids import stable_id
from verbinders.errors import Conflict

__all__ = ["Membership", "MembershipStatus", "Period", "membership_id"]


class MembershipStatus(StrEnum):
    APPLIED = "applied"
    MEMBER = "member"
    SUSPENDED = "suspended"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LEFT = "left"


class Period(msgspec.Struct, frozen=True, kw_only=True):
    since: datetime
    until: datetime | None = None
    """None while the period runs."""


def membership_id(tenant: str, organisation_id: UUID) -> UUID:
    """An organisation has one membership stream per platform, at this id."""
    return stable_id(tenant, "membership", str(organisation_id))


def _motivation(value: str) -> str:
    return rules.multi_line(
        value, field="motivation", max_length=limits.MOTIVATION_MAX, required=True
    )


def _close(periods: list[Period], at: datetime) -> None:
    periods[-1] = msgspec.structs.replace(periods[-1], until=at)


_ACTION = {
    "reapply": "apply again",
    "withdraw": "withdraw its application",
    "admit": "be admitted",
    "reject": "be rejected",
    "suspend": "be suspended",
    "reinstate": "be reinstated",
    "leave": "leave",
}


class Membership(Aggregate):
    STREAM_TYPE = "Membership"

    tenant: str
    organisation_id: UUID
    status: MembershipStatus
    motivation: str
    """The motivation of the latest application."""
    changed_at: datetime
    """When the latest transition took effect."""
    periods: list[Period]
    """Periods of membership, oldest first; suspension does not interrupt one."""
    suspensions: list[Period]

    @classmethod
    def apply_for(
        cls, *, tenant: str, organisation_id: UUID, motivation: str, at: datetime
    ) -> Membership:
        """An organisation's first application. Later ones are `reapply` on the same stream.

        The application layer checks that the organisation exists and is not dissolved.
        """
        rules.aware(at)
        return cls(
            id=membership_id(tenant, organisation_id),
            tenant=tenant,
            organisation_id=organisation_id,
            motivation=_motivation(motivation),
            at=at,
        )

    @event("Applied")
    def __init__(
        self, id: UUID, tenant: str, organisation_id: UUID, motivation: str, at: datetime
    ) -> None:
        self.tenant = tenant
        self.organisation_id = organisation_id
        self.status = MembershipStatus.APPLIED
        self.motivation = motivation
        self.changed_at = at
        self.periods = []
        self.suspensions = []

    # -- reading --------------------------------------------------------------------------------

    @property
    def is_member(self) -> bool:
        """Member now, suspended or not."""
        return self.status in (MembershipStatus.MEMBER, MembershipStatus.SUSPENDED)

    @property
    def member_since(self) -> datetime | None:
        """Start of the running period of membership, if any."""
        return self.periods[-1].since if self.is_member else None

    @property
    def first_admitted_at(self) -> datetime | None:
        return self.periods[0].since if self.periods else None

    def _transition(self, action: str, at: datetime, *allowed: MembershipStatus) -> None:
        rules.aware(at)
        if self.status not in allowed:
            raise Conflict(
                f"a membership that is {self.status.value} cannot {_ACTION[action]}"
                f" (only from {' or '.join(s.value for s in allowed)})",
                state=self.status.value,
            )
        rules.not_before(at, self.changed_at, what=f"the membership became {self.status.value}")

    # -- the applicant --------------------------------------------------------------------------

    def reapply(self, *, motivation: str, at: datetime) -> None:
        self._transition(
            "reapply",
            at,
            MembershipStatus.REJECTED,
            MembershipStatus.WITHDRAWN,
            MembershipStatus.LEFT,
        )
        self._reapplied(motivation=_motivation(motivation), at=at)

    @event("Reapplied")
    def _reapplied(self, motivation: str, at: datetime) -> None:
        self.status = MembershipStatus.APPLIED
        self.motivation = motivation
        self.changed_at = at

    def withdraw_application(self, *, at: datetime, reason: str = "") -> None:
        self._transition("withdraw", at, MembershipStatus.APPLIED)
        self._application_withdrawn(reason=rules.optional_reason(reason), at=at)

    @event("ApplicationWithdrawn")
    def _application_withdrawn(self, reason: str, at: datetime) -> None:
        self.status = MembershipStatus.WITHDRAWN
        self.changed_at = at

    def leave(self, *, at: datetime, reason: str = "") -> None:
        """The organisation ends its membership (also what to record when it is dissolved)."""
        self._transition("leave", at, MembershipStatus.MEMBER, MembershipStatus.SUSPENDED)
        self._left(reason=rules.optional_reason(reason), at=at)

    @event("Left")
    def _left(self, reason: str, at: datetime) -> None:
        if self.status is MembershipStatus.SUSPENDED:
            _close(self.suspensions, at)
        _close(self.periods, at)
        self.status = MembershipStatus.LEFT
        self.changed_at = at

    # -- the coordinator's decisions ------------------------------------------------------------

    def admit(
        self, *, reason: str, decided_by: str, at: datetime, meeting_id: UUID | None = None
    ) -> None:
        self._transition("admit", at, MembershipStatus.APPLIED)
        self._admitted(
            reason=rules.reason(reason),
            decided_by=rules.party(decided_by),
            meeting_id=meeting_id,
            at=at,
        )

    @event("Admitted")
    def _admitted(
        self, reason: str, decided_by: str, meeting_id: UUID | None, at: datetime
    ) -> None:
        self.status = MembershipStatus.MEMBER
        self.periods.append(Period(since=at))
        self.changed_at = at

    def reject(
        self, *, reason: str, decided_by: str, at: datetime, meeting_id: UUID | None = None
    ) -> None:
        self._transition("reject", at, MembershipStatus.APPLIED)
        self._rejected(
            reason=rules.reason(reason),
            decided_by=rules.party(decided_by),
            meeting_id=meeting_id,
            at=at,
        )

    @event("Rejected")
    def _rejected(
        self, reason: str, decided_by: str, meeting_id: UUID | None, at: datetime
    ) -> None:
        self.status = MembershipStatus.REJECTED
        self.changed_at = at

    def suspend(
        self, *, reason: str, decided_by: str, at: datetime, meeting_id: UUID | None = None
    ) -> None:
        self._transition("suspend", at, MembershipStatus.MEMBER)
        self._suspended(
            reason=rules.reason(reason),
            decided_by=rules.party(decided_by),
            meeting_id=meeting_id,
            at=at,
        )

    @event("Suspended")
    def _suspended(
        self, reason: str, decided_by: str, meeting_id: UUID | None, at: datetime
    ) -> None:
        self.status = MembershipStatus.SUSPENDED
        self.suspensions.append(Period(since=at))
        self.changed_at = at

    def reinstate(
        self, *, reason: str, decided_by: str, at: datetime, meeting_id: UUID | None = None
    ) -> None:
        self._transition("reinstate", at, MembershipStatus.SUSPENDED)
        self._reinstated(
            reason=rules.reason(reason),
            decided_by=rules.party(decided_by),
            meeting_id=meeting_id,
            at=at,
        )

    @event("Reinstated")
    def _reinstated(
        self, reason: str, decided_by: str, meeting_id: UUID | None, at: datetime
    ) -> None:
        self.status = MembershipStatus.MEMBER
        _close(self.suspensions, at)
        self.changed_at = at
