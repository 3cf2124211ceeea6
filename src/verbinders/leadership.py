"""One leader at a time for a process-wide worker (the mail outbox, the call timer).

The leader holds a session advisory lock on a connection of its own; if its process dies the
lock goes with the connection and a standby in another process takes over within its
`standby_interval`. Failures are logged and retried with a growing delay, as the projection
and policy runners do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import asyncpg

from verbinders.store.schema import LOCK_NAMESPACE_PROJECTIONS

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.runtime import Runtime

__all__ = ["LeaderWorker"]

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 30.0


class LeaderWorker(ABC):
    """Subclasses name the lock (`lock_name`) and write `lead`, which runs while leading."""

    lock_name: str
    standby_interval: float = 2.0

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.leading = False

    async def run(self, stop: asyncio.Event) -> None:
        """Lead whenever this process can, until `stop` is set."""
        failures = 0
        while not stop.is_set():
            try:
                await self._try(stop)
                failures = 0
                continue
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("%s stopped (%s); restarting", self.lock_name, error)
            except Exception:
                log.exception("%s failed; retrying", self.lock_name)
            failures += 1
            delay = min(self.standby_interval * 2 ** (failures - 1), MAX_RETRY_DELAY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _try(self, stop: asyncio.Event) -> None:
        conn = await self.runtime.connect()
        try:
            got = await conn.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                LOCK_NAMESPACE_PROJECTIONS,
                self.lock_name,
            )
            if not got:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.standby_interval)
                return
            self.leading = True
            await self.lead(conn, stop)
        finally:
            self.leading = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
            if not conn.is_closed():
                conn.terminate()

    @abstractmethod
    async def lead(self, conn: Connection, stop: asyncio.Event) -> None:
        """Work while leading; `conn` holds the lock (check it now and then)."""

    async def nap(
        self,
        stop: asyncio.Event,
        seconds: float,
        pokes: int | None = None,
        *,
        at_least: float = 0.0,
    ) -> None:
        """Wait `seconds`, less when the feed is poked (since `pokes`) or `stop` is set.

        Without `pokes` the feed is not watched: only `stop` ends the nap early (a worker on a
        clock, like the sealer, must not wake after every append).
        With `at_least`, pokes end the nap only after that long: a steady stream of appends
        then wakes the worker a few times a second, not once per append.
        """
        if pokes is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)
            return
        if at_least > 0:
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(at_least, seconds))
                return
            except TimeoutError:
                seconds -= at_least
            if seconds <= 0:
                return
        await self.runtime.signal.wait(seconds, since=pokes, stop=stop)
