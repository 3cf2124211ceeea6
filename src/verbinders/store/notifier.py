"""Waking subscribers in other processes: one coalesced NOTIFY for many appends."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

__all__ = ["NOTIFY_CHANNEL", "NOTIFY_INTERVAL", "Notifier"]

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "verbinders_events"
NOTIFY_INTERVAL = 0.02
"""Shortest time between two notifications (seconds)."""


class Notifier:
    """Sends `NOTIFY verbinders_events` soon after appends, coalescing them under load.

    NOTIFY inside the append would serialise commits on PostgreSQL's notify queue lock, so a
    background task sends one notification for however many appends happened meanwhile, at
    most one per `NOTIFY_INTERVAL`. Subscribers also poll, so a lost notification only delays
    them; subscribers in the appending process are woken directly (`EventStore`).
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_position = 0

    def announce(self, position: int | None) -> None:
        """Something was appended (up to `position`, if known): notify soon."""
        if position is not None:
            self._last_position = max(self._last_position, position)
        self._wanted.set()
        if self._task is None or self._task.done():
            with contextlib.suppress(RuntimeError):  # no running loop: nobody to notify
                self._task = asyncio.get_running_loop().create_task(self._notify_loop())

    async def _notify_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wanted.wait(), timeout=5.0)
            except TimeoutError:
                return
            self._wanted.clear()
            try:
                async with self.pool.acquire() as conn:
                    await conn.execute(
                        "SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(self._last_position)
                    )
            except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as error:
                log.warning("could not notify subscribers (they will poll): %s", error)
                return
            # A NOTIFY is a transaction of its own: at most one per interval keeps its cost off
            # the appends under load, at the price of a few ms of latency for readers in other
            # processes.
            await asyncio.sleep(NOTIFY_INTERVAL)

    async def close(self) -> None:
        """Send the last pending notification's turn, then stop."""
        if self._task is not None and not self._task.done():
            if self._wanted.is_set():
                await asyncio.sleep(0)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
