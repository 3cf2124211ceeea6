"""Reminders to the addressees of a call that have not responded.

When a reminder round falls due (`Call.ReminderDue`, recorded by the timer, `call_timer.py`),
this policy reminds every organisation the call addressed at that moment that had not
responded by then: both read from the store's history up to the event (the call's stream up
to the event's version, the response streams up to its position), never from a read model or
the clock, so the decision is the same however often the event is seen. The reminder is
recorded as `Call.Reminded` (actor `policy:call_reminders`) and written to the outbox with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from verbinders.application.addressees import addressees_at, responded_by
from verbinders.application.calls import remind_unanswered
from verbinders.domain.calls import Call
from verbinders.policies.policy import Issue, Policy
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["CallReminders"]


class CallReminders(Policy):
    name = "call_reminders"
    # The event classes `@event` creates are invisible to type checkers.
    topics = (topic_of(Call.ReminderDue),)  # type: ignore[attr-defined]

    async def decide(self, conn: Connection, event: RecordedEvent) -> list[Issue]:
        call_id = event.stream_id
        addressees = await addressees_at(conn, call_id, until_version=event.version)
        answered = await responded_by(
            conn, event.tenant, call_id, addressees, until_position=event.position
        )
        pending = [organisation for organisation in addressees if organisation not in answered]
        if not pending:
            return []
        at = datetime.fromisoformat(event.payload["at"])
        return [Issue(remind_unanswered, (call_id, int(event.payload["round"]), pending), at=at)]
