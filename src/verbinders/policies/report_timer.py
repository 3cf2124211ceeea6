"""The clock of accountability reports: records `Accountability.ReminderDue` when a reminder's
moment has passed (`application/report_timers.py`).

One process at a time (`LeaderWorker`). Each reminder is recorded through the command pipeline
with the permanent idempotency key `report-timer:<ledger>:<report>:<reminder>`, and the row
marked done after: a crash in between repeats only the claim, never the event.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from verbinders.application.context import Actor
from verbinders.application.funding import record_report_reminder_due
from verbinders.application.idempotency import Idempotency
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.access import Role
from verbinders.errors import VerbindersError
from verbinders.leadership import LeaderWorker

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = ["ReportTimer"]

log = logging.getLogger(__name__)


class ReportTimer(LeaderWorker):
    lock_name = "report_timer"
    settle = 0.5
    """Least time between two looks at the table: appends poke the timer, and every
    command appends (new rows are due minutes or days later, not within half a second)."""
    poll = 30.0

    async def lead(self, conn: Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pokes = self.runtime.signal.pokes
            await self.fire_due()
            await conn.execute("SELECT 1")  # still leading
            nearest = await conn.fetchval(
                "SELECT min(due_at) FROM report_timers WHERE done_at IS NULL"
            )
            wait = self.poll
            if nearest is not None:
                wait = max(0.05, min(wait, (nearest - datetime.now(UTC)).total_seconds()))
            await self.nap(stop, wait, pokes, at_least=self.settle)

    async def fire_due(self) -> int:
        """Record every reminder due by now; returns how many rows were handled."""
        async with self.runtime.connection() as conn:
            rows = await conn.fetch(
                "SELECT tenant, ledger_id, report, reminder FROM report_timers"
                " WHERE done_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT 100"
            )
        for row in rows:
            actor = Actor(
                tenant=row["tenant"], roles=(Role.COORDINATOR.value,), policy="report_timer"
            )
            key = f"report-timer:{row['ledger_id']}:{row['report']}:{row['reminder']}"
            request = CommandRequest(
                actor=actor,
                idempotency=Idempotency(
                    key=key, fingerprint=record_report_reminder_due.name, permanent=True
                ),
            )
            try:
                await self.runtime.pipeline.execute(
                    record_report_reminder_due,
                    request,
                    row["ledger_id"],
                    row["report"],
                    row["reminder"],
                )
            except VerbindersError as error:
                log.warning("report timer: %s was refused: %s", key, error)
            async with self.runtime.connection() as conn:
                await conn.execute(
                    "UPDATE report_timers SET done_at = now()"
                    " WHERE ledger_id = $1 AND report = $2 AND reminder = $3",
                    row["ledger_id"],
                    row["report"],
                    row["reminder"],
                )
        return len(rows)
