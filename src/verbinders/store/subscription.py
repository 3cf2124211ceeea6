"""Waking up readers of the feed: LISTEN/NOTIFY with polling as the safety net.

One `FeedSignal` per process holds one listening connection. Appends in this process poke it
directly; appends elsewhere reach it through NOTIFY. Waiters always wake after
`poll_interval` anyway, so a lost notification (or a broken listening connection, which is
re-opened) only delays them.

A reader must not miss a poke that arrives while it is reading: it notes `pokes` before it
reads and waits with `wait(since=...)`, which returns at once if a poke came in meanwhile.
(Waiting for "the next poke" after the read would sleep through an append that committed
during the read, and deliver it only a poll interval later.)

The listening connection is checked every `keepalive` seconds, so that one that died without
the client noticing (a half-open TCP connection) is replaced instead of staying silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import asyncpg

from verbinders.database import PINNED_SETTINGS
from verbinders.store.eventstore import NOTIFY_CHANNEL

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from verbinders.store.events import RecordedEvent
    from verbinders.store.eventstore import EventStore

__all__ = ["FeedSignal", "SharedHorizon", "subscribe"]

log = logging.getLogger(__name__)


class FeedSignal:
    """Something new may be in the feed: wakes every waiter at once."""

    def __init__(
        self, dsn: str | None = None, *, poll_interval: float = 1.0, keepalive: float = 30.0
    ) -> None:
        self.dsn = dsn
        self.poll_interval = poll_interval
        self.keepalive = keepalive
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.notifications = 0
        """NOTIFYs heard."""
        self.pokes = 0
        """Pokes so far (NOTIFYs and appends in this process): note it before reading."""

    async def start(self) -> None:
        if self.dsn is not None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> FeedSignal:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def poke(self) -> None:
        """Wake all waiters (called on NOTIFY, and by appends in this process)."""
        self.pokes += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(
        self,
        timeout: float | None = None,
        *,
        since: int | None = None,
        stop: asyncio.Event | None = None,
    ) -> bool:
        """Wait for a poke or `timeout` (default: the poll interval). True if poked.

        With `since` (a value of `pokes` noted earlier), a poke after that note counts too:
        the wait then returns at once. With `stop`, the wait also ends (False) when it is set:
        a worker told to stop does not first sit out its wait.
        """
        event = self._event
        if since is not None and since != self.pokes:
            return True
        if stop is not None and stop.is_set():
            return False
        seconds = self.poll_interval if timeout is None else timeout
        if stop is None:
            try:
                await asyncio.wait_for(event.wait(), seconds)
            except TimeoutError:
                return False
            return True
        poked = asyncio.ensure_future(event.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                {poked, stopped}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            poked.cancel()
            stopped.cancel()
        return event.is_set()

    def _on_notification(self, *_: Any) -> None:
        self.notifications += 1
        self.poke()

    async def _listen(self) -> None:
        assert self.dsn is not None
        while True:
            lost = asyncio.Event()
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self.dsn, timeout=max(self.keepalive, 1.0), server_settings=PINNED_SETTINGS
                )
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, self._on_notification)
                # Something may have been appended while we were not listening.
                self.poke()
                await self._until_lost(connection, lost)
                log.warning("feed listener lost its connection; reconnecting")
            except Exception as error:
                # Whatever it was, the listener must not die: waiters would only poll.
                log.warning("feed listener cannot listen (%r); retrying", error)
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
                    if not connection.is_closed():
                        connection.terminate()
            await asyncio.sleep(self.poll_interval)

    async def _until_lost(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return when the connection is lost, or found dead by a periodic check."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.keepalive)
                return
            await asyncio.wait_for(connection.execute("SELECT 1"), max(self.keepalive, 1.0))


class SharedHorizon:
    """The feed's horizon, read once for all the readers of a process that ask at about the
    same time (the read models and policies woken by one poke).

    `feed_horizon()` reads pg_locks, which is not free; each in-process read model and
    policy used to read it for each of its batches. `read` answers with a horizon read at
    most `max_age` seconds ago, or joins a read under way, else reads it on the caller's
    connection. Any horizon read in an earlier statement is right for a batch read after
    it (see "Reading the feed against one horizon" in `projections/engine.py`); an older
    one only delays events appended since to the next batch, and `read` returns with it the
    signal's `pokes` noted before it was read: a reader that waits with `since=` that value
    wakes at once for anything appended after it, as if it had noted `pokes` itself.
    """

    def __init__(self, signal: FeedSignal, *, max_age: float = 0.02) -> None:
        self.signal = signal
        self.max_age = max_age
        self.reads = 0
        """Horizons read (`feed_horizon()` statements) so far."""
        self._value: tuple[int, int] | None = None
        self._read_at = 0.0
        self._reading: asyncio.Future[tuple[int, int]] | None = None

    async def read(self, conn: Any) -> tuple[int, int]:
        """(horizon, pokes noted before it was read); see the class's notes."""
        reading = self._reading
        if reading is not None:
            try:
                return await asyncio.shield(reading)
            except Exception:  # noqa: S110 - the other reader's connection failed: read here
                pass
        elif self._value is not None and time.monotonic() - self._read_at <= self.max_age:
            return self._value
        pokes = self.signal.pokes
        started = time.monotonic()
        future: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        self._reading = future
        try:
            horizon = int(await conn.fetchval("SELECT feed_horizon()"))
        except BaseException:
            if self._reading is future:
                self._reading = None
            future.set_exception(RuntimeError("the horizon could not be read"))
            future.exception()  # retrieved: nobody may be waiting for it
            raise
        self.reads += 1
        value = (horizon, pokes)
        if self._value is None or started >= self._read_at:
            self._value, self._read_at = value, started
        if self._reading is future:
            self._reading = None
        future.set_result(value)
        return value


async def subscribe(
    store: EventStore,
    signal: FeedSignal,
    *,
    after: int = 0,
    tenant: str | None = None,
    topics: Sequence[str] | None = None,
    batch_size: int = 500,
) -> AsyncIterator[list[RecordedEvent]]:
    """Batches of the feed after `after`, for ever: every committed event once, in order."""
    position = after
    while True:
        pokes = signal.pokes  # before reading: a poke during the read is not lost
        batch = await store.read_feed(position, batch_size, tenant=tenant, topics=topics)
        if batch:
            position = batch[-1].position
            yield batch
            if len(batch) == batch_size:
                continue
        await signal.wait(since=pokes)
