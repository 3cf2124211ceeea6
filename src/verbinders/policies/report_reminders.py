"""Reminders of accountability reports, before and after their due date.

When a reminder's moment has passed (`Accountability.ReminderDue`, recorded by the report
timer), this policy records that the applicant was reminded (`Accountability.ReportReminded`,
actor `policy:report_reminders`), unless the report was in by the position of that event: read
from the accountability stream up to the event's version, never from the clock or a read
model, so the decision is the same however often the event is seen. The runner issues each
decision once (a permanent idempotency key per event).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from verbinders.application.funding import remind_report
from verbinders.domain.funding_reports import Accountability
from verbinders.policies.policy import Issue, Policy
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["ReportReminders"]


class ReportReminders(Policy):
    name = "report_reminders"
    topics = (topic_of(Accountability.ReminderDue),)  # type: ignore[attr-defined]

    async def decide(self, conn: Connection, event: RecordedEvent) -> list[Issue]:
        number = int(event.payload["number"])
        submitted = await conn.fetchval(
            "SELECT EXISTS (SELECT FROM events WHERE stream_id = $1 AND version < $2"
            " AND topic = $3 AND (payload->>'number')::integer = $4)",
            event.stream_id,
            event.version,
            topic_of(Accountability.ReportSubmitted),  # type: ignore[attr-defined]
            number,
        )
        if submitted:
            return []
        at = datetime.fromisoformat(event.payload["at"])
        return [Issue(remind_report, (event.stream_id, number, event.payload["when"]), at=at)]
