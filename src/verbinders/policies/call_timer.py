"""The clock of calls: records `Call.ReminderDue` when a reminder round's moment has passed.

Reads `call_timers` (written with the call's events, `application/call_timers.py`), one
process at a time (`LeaderWorker`). Each round is recorded through the command pipeline with
the idempotency key `timer:<call>:<round>`, claimed for good, and the row marked done after:
a crash in between repeats only the claim, never the event. It wakes at the next row's moment,
when the feed is poked (a call was issued or changed; at most every `settle` seconds under a
steady stream of appends) and at least every `poll` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from verbinders.application.calls import record_reminder_due
from verbinders.application.context import Actor
from verbinders.application.idempotency import Idempotency
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.access import Role
from verbinders.errors import VerbindersError
from verbinders.leadership import LeaderWorker

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = ["CallTimer"]

log = logging.getLogger(__name__)


class CallTimer(LeaderWorker):
    lock_name = "call_timer"
    settle = 0.5
    """Least time between two looks at the table: appends poke the timer, and every
    command appends (new rows are due minutes or days later, not within half a second)."""
    poll = 5.0

    async def lead(self, conn: Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pokes = self.runtime.signal.pokes
            await self.fire_due()
            await conn.execute("SELECT 1")  # still leading (the lock's connection is alive)
            nearest = await conn.fetchval(
                "SELECT min(due_at) FROM call_timers WHERE done_at IS NULL"
            )
            wait = self.poll
            if nearest is not None:
                wait = max(0.05, min(wait, (nearest - datetime.now(UTC)).total_seconds()))
            await self.nap(stop, wait, pokes, at_least=self.settle)

    async def fire_due(self) -> int:
        """Record every round due by now; returns how many rows were handled."""
        async with self.runtime.connection() as conn:
            rows = await conn.fetch(
                "SELECT tenant, call_id, round FROM call_timers"
                " WHERE done_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT 100"
            )
        for row in rows:
            actor = Actor(
                tenant=row["tenant"], roles=(Role.COORDINATOR.value,), policy="call_timer"
            )
            key = f"timer:{row['call_id']}:{row['round']}"
            request = CommandRequest(
                actor=actor,
                idempotency=Idempotency(
                    key=key, fingerprint=record_reminder_due.name, permanent=True
                ),
            )
            try:
                await self.runtime.pipeline.execute(
                    record_reminder_due, request, row["call_id"], row["round"]
                )
            except VerbindersError as error:
                log.warning("call timer: %s was refused: %s", key, error)
            async with self.runtime.connection() as conn:
                await conn.execute(
                    "UPDATE call_timers SET done_at = now() WHERE call_id = $1 AND round = $2",
                    row["call_id"],
                    row["round"],
                )
        return len(rows)
