"""A clock over a table of due moments: the shape the call and report timers share.

Rows (`tenant`, the key columns, `due_at`, `done_at`) are written with the events that make
them due. One process at a time (`LeaderWorker`) records each due row through the command
pipeline with a permanent idempotency key, then marks it done: a crash in between repeats only
the claim, never the event. The timer wakes at the next row's moment, when the feed is poked
(at most every `settle` seconds under a steady stream of appends: rows fall due minutes or days
after they are written) and at least every `poll` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from verbinders.application.context import Actor
from verbinders.application.idempotency import Idempotency
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.access import Role
from verbinders.errors import VerbindersError
from verbinders.leadership import LeaderWorker

if TYPE_CHECKING:
    from verbinders.application.commands import Command
    from verbinders.database import Connection

__all__ = ["DueTimer"]

log = logging.getLogger(__name__)


class DueTimer(LeaderWorker):
    """Subclasses name the lock (also the acting policy), the table, its key columns (passed
    to the command in order), the command and the idempotency key of a row."""

    table: ClassVar[str]
    columns: ClassVar[tuple[str, ...]]
    settle: ClassVar[float] = 0.5
    """Least time between two looks at the table while appends keep poking."""
    poll: ClassVar[float] = 5.0

    @property
    @abstractmethod
    def command(self) -> Command[Any, Any]:
        """The command that records a row's moment."""

    @abstractmethod
    def key(self, *values: Any) -> str:
        """The permanent idempotency key of the row with these key values."""

    async def lead(self, conn: Connection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pokes = self.runtime.signal.pokes
            await self.fire_due()
            await conn.execute("SELECT 1")  # still leading (the lock's connection is alive)
            nearest = await conn.fetchval(
                f"SELECT min(due_at) FROM {self.table} WHERE done_at IS NULL"
            )
            wait = self.poll
            if nearest is not None:
                wait = max(0.05, min(wait, (nearest - datetime.now(UTC)).total_seconds()))
            await self.nap(stop, wait, pokes, at_least=self.settle)

    async def fire_due(self) -> int:
        """Record every row due by now (at most 100); returns how many rows were handled."""
        columns = ", ".join(self.columns)
        async with self.runtime.connection() as conn:
            rows = await conn.fetch(
                f"SELECT tenant, {columns} FROM {self.table}"
                " WHERE done_at IS NULL AND due_at <= now() ORDER BY due_at LIMIT 100"
            )
        matches = " AND ".join(f"{c} = ${i}" for i, c in enumerate(self.columns, start=1))
        for row in rows:
            values = [row[c] for c in self.columns]
            actor = Actor(
                tenant=row["tenant"], roles=(Role.COORDINATOR.value,), policy=self.lock_name
            )
            key = self.key(*values)
            request = CommandRequest(
                actor=actor,
                idempotency=Idempotency(key=key, fingerprint=self.command.name, permanent=True),
            )
            try:
                await self.runtime.pipeline.execute(self.command, request, *values)
            except VerbindersError as error:
                log.warning("%s: %s was refused: %s", self.lock_name, key, error)
            async with self.runtime.connection() as conn:
                await conn.execute(
                    f"UPDATE {self.table} SET done_at = now() WHERE {matches}", *values
                )
        return len(rows)
