"""The store's append lane: a few connections of its own for single-statement appends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg

__all__ = ["LANE_LOCK_TIMEOUT_MS", "AppendLane"]

LANE_LOCK_TIMEOUT_MS = 100
"""Longest an append waits on the lane for a lock (an uncommitted rival's row of the same
stream, another append's stream lock) before it gives its connection back and waits on the
pool instead (`EventStore`): a rival that does not commit must not stall unrelated appends."""


class AppendLane:
    """A few connections of the store's own for single-statement appends, handed out LIFO.

    An append outside a transaction is one autocommit statement, which leaves nothing on
    the connection to clean up; checking out from asyncpg's pool costs more than the
    statement's own client work (a queue, a connection proxy, a shielded release task).
    Here a checkout is a semaphore and a list. Connections open on first use, the most
    recently used is reused first (so a quiet lane keeps its hot ones), and one whose
    statement ended in anything but a PostgreSQL error (lost connection, cancellation) is
    closed and replaced.

    Every lane connection waits at most `lock_timeout` for a lock: an append that waits on a
    rival longer fails with `asyncpg.LockNotAvailableError` (nothing written) and leaves the
    lane to the appends behind it.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        size: int,
        *,
        lock_timeout_ms: int = LANE_LOCK_TIMEOUT_MS,
    ) -> None:
        self._connect = connect
        self._slots = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []
        self._closed = False
        self.lock_timeout_ms = lock_timeout_ms

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        """Run one autocommit statement on a connection of the lane."""
        if self._closed:
            raise asyncpg.InterfaceError("the event store is closed")
        await self._slots.acquire()
        try:
            conn = self._idle.pop() if self._idle else await self._open()
            try:
                rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            except asyncpg.PostgresError:
                if not conn.is_closed():  # the statement failed, the connection is fine
                    self._put_back(conn)
                raise
            except BaseException:
                conn.terminate()  # lost, or cancelled mid-statement: its state is unknown
                raise
            self._put_back(conn)
            return rows
        finally:
            self._slots.release()

    async def _open(self) -> asyncpg.Connection:
        conn = await self._connect()
        try:
            await conn.execute(f"SET lock_timeout = {int(self.lock_timeout_ms)}")
        except BaseException:
            conn.terminate()
            raise
        return conn

    def _put_back(self, conn: asyncpg.Connection) -> None:
        if self._closed:  # closed while this append ran
            conn.terminate()
        else:
            self._idle.append(conn)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            try:
                await asyncio.wait_for(conn.close(), 5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()
