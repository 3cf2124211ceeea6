"""A bound on how long one transaction can hold the event feed back.

A transaction that appended holds the feed's horizon until it ends: every reader, subscriber
and projection waits behind it. On PostgreSQL 17 and newer each append sets its transaction's
`transaction_timeout` (see `feed_guards.py`); the server then ends the transaction itself. On
older servers, and for holders that escaped that setting (a session that changed it, code from
before the store's migration 2 during an upgrade), this watchdog, run by every process that
opens the runtime, looks at the feed's holders every `interval` seconds and ends
(`pg_terminate_backend`) a backend it has seen holding the feed for longer than `bound`: its
transaction rolls back, nothing of it is kept, and the feed moves on.

A prepared transaction (two-phase commit) cannot be ended that way, and rolling back another
coordinator's prepared transaction would break its atomicity across resources: the watchdog
logs it once, naming its gid and the statement that finishes it, and `feed_status()`,
`/health/ready` and `verbinders status` keep showing it.

Ending a backend needs the right to signal it: the same role, or membership of
`pg_signal_backend`. Where that is missing the watchdog logs a warning and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from collections.abc import Callable

    from verbinders.database import Connection

__all__ = ["AppendWatchdog"]

log = logging.getLogger(__name__)


class AppendWatchdog:
    """Ends backends that hold the feed back for longer than `bound` seconds."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        bound: float,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pool = pool
        self.bound = bound
        self.interval = interval if interval is not None else min(1.0, max(0.05, bound / 4))
        self._clock = clock
        self._first_seen: dict[tuple[int, str], float] = {}
        self._reported: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.terminated: list[int] = []
        """Backends this watchdog ended (for the log and the tests)."""

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                await self.check()
                failing = False
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if not failing:  # once per spell of failures, not every interval
                    log.warning("the append watchdog cannot look at the feed (%s)", error)
                failing = True
            await asyncio.sleep(self.interval)

    async def check(self) -> list[int]:
        """One look: end the backends held for longer than the bound; returns their pids."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT pid, xact, prepared_gid, since, application, state,"
                " extract(epoch FROM clock_timestamp() - since)::float8 AS held_s"
                " FROM feed_holders() WHERE pid IS DISTINCT FROM pg_backend_pid()"
            )
            now = self._clock()
            seen: dict[tuple[int, str], float] = {}
            ended: list[int] = []
            for row in rows:
                if row["pid"] is None:
                    if (row["held_s"] or 0.0) >= self.bound:
                        self._report_prepared(row["prepared_gid"], row["since"])
                    continue
                key = (row["pid"], row["xact"])
                first = seen[key] = self._first_seen.get(key, now)
                if now - first >= self.bound and await self._terminate(conn, row):
                    ended.append(row["pid"])
            self._first_seen = seen
        return ended

    async def _terminate(self, conn: Connection, row: asyncpg.Record) -> bool:
        try:
            done = bool(await conn.fetchval("SELECT pg_terminate_backend($1)", row["pid"]))
        except asyncpg.InsufficientPrivilegeError as error:
            log.warning(
                "backend %s has held the event feed for more than %g s, and this process may"
                " not end it (%s)",
                row["pid"],
                self.bound,
                error,
            )
            return False
        if done:
            self.terminated.append(row["pid"])
            log.warning(
                "ended backend %s (application %s, %s): its transaction held the event feed"
                " for more than %g s (VERBINDERS_APPEND_TRANSACTION_TIMEOUT_S)",
                row["pid"],
                row["application"] or "unnamed",
                row["state"] or "state unknown",
                self.bound,
            )
        return done

    def _report_prepared(self, gid: str | None, since: object) -> None:
        if gid is None or gid in self._reported:
            return
        self._reported.add(gid)
        log.warning(
            "prepared transaction %r holds the event feed back (prepared at %s); finish it with"
            " COMMIT PREPARED or ROLLBACK PREPARED %r",
            gid,
            since,
            gid,
        )
