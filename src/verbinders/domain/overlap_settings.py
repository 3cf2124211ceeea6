"""A platform's settings for overlap detection: the score from which a case opens.

One stream per platform (`overlap_settings_id`), created the first time the coordinator sets
a threshold; until then the platform uses `overlap.DEFAULT_THRESHOLD`. A change applies to
activities planned or changed from then on: cases already open stay open.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from verbinders.domain import rules
from verbinders.domain.ids import stable_id
from verbinders.domain.overlap import DEFAULT_THRESHOLD
from verbinders.errors import InvalidCommand

__all__ = ["THRESHOLD_MAX", "THRESHOLD_MIN", "OverlapSettings", "overlap_settings_id"]

THRESHOLD_MIN = 0.05
"""Below this nearly every pair that shares a word and an hour would open a case."""
THRESHOLD_MAX = 1.0


def overlap_settings_id(tenant: str) -> UUID:
    return stable_id(tenant, "overlap-settings", tenant)


def check_threshold(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCommand("threshold must be a number", field="threshold", rule="type")
    if not THRESHOLD_MIN <= value <= THRESHOLD_MAX:
        raise InvalidCommand(
            f"threshold must lie between {THRESHOLD_MIN} and {THRESHOLD_MAX}",
            field="threshold",
            rule="range",
        )
    return round(float(value), 4)


class OverlapSettings(Aggregate):
    STREAM_TYPE = "OverlapSettings"

    tenant: str
    threshold: float
    changed_at: datetime

    @classmethod
    def set_up(
        cls, *, tenant: str, threshold: float, reason: str, decided_by: str, at: datetime
    ) -> OverlapSettings:
        rules.aware(at)
        return cls(
            id=overlap_settings_id(tenant),
            tenant=tenant,
            threshold=check_threshold(threshold),
            previous=DEFAULT_THRESHOLD,
            reason=rules.reason(reason),
            decided_by=rules.party(decided_by),
            at=at,
        )

    @event("ThresholdSet")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        threshold: float,
        previous: float,
        reason: str,
        decided_by: str,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.threshold = threshold
        self.changed_at = at

    def change_threshold(
        self, threshold: float, *, reason: str, decided_by: str, at: datetime
    ) -> bool:
        """Record a new threshold; the same one records nothing (False)."""
        rules.aware(at)
        rules.not_before(at, self.changed_at, what="the settings' latest change")
        checked = check_threshold(threshold)
        if checked == self.threshold:
            return False
        self._threshold_changed(
            threshold=checked,
            previous=self.threshold,
            reason=rules.reason(reason),
            decided_by=rules.party(decided_by),
            at=at,
        )
        return True

    @event("ThresholdChanged")
    def _threshold_changed(
        self, threshold: float, previous: float, reason: str, decided_by: str, at: datetime
    ) -> None:
        self.threshold = threshold
        self.changed_at = at
