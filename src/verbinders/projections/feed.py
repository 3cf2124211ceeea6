"""The feed's latest events, read once for all the read models and policies of a process.

Each in-process read model and policy used to read its own batches (`projection_batch`): under
a stream of appends, a dozen statements per step of the step grid, each scanning the same
stretch of the feed and sending it again. `SharedFeed` keeps the events of one contiguous
stretch of positions `(low, high]` in memory, *complete*: every event in it, read by
statements that started after a horizon at least `high` was read, so that every transaction
at or below it had finished (see "Reading the feed against one horizon" in `engine.py`). The
events are immutable (the sealer's hash is not read here), so any part of that stretch is as
right for a reader as a read of its own.

A reader that knows its checkpoint (a leader, after its first batch) asks for the events after
it up to a horizon it read (`SharedHorizon`): when the checkpoint lies in the stretch, the
stretch is extended up to that horizon if needed (one statement for all readers: a reader that
asks while an extension is under way waits for it), and the reader takes its topics from it.
A reader behind the stretch (one that just took the lead, a rebuild, a read model catching up)
reads its batches itself, as before, until it reaches the stretch. The checkpoints themselves
stay where they were: each reader moves its own, in its own transaction, on the condition that
it is where it left it (`move_checkpoint`), so exactly-once does not depend on this cache.

Readers note their checkpoints (`note`); the stretch keeps nothing below the lowest of them,
and at most `capacity` events.

A batch with none of a reader's events only moves its checkpoint to the horizon; under a
stream of appends that is most readers at most steps, and the moves the process's readers ask
for at about the same time go in one statement (`move`), each on the same condition.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.store.eventstore import row_to_event
from verbinders.store.mapping import upcast_payload

if TYPE_CHECKING:
    from verbinders.store.events import RecordedEvent

__all__ = ["SharedFeed"]

_READ = (
    "SELECT position, tenant, stream_id, stream_type, version, topic, payload, metadata,"
    " recorded_at FROM events WHERE position > $1 AND position <= $2"
    " ORDER BY position LIMIT $3"
)


_MOVE_ALL = (
    "UPDATE checkpoints c SET position = m.to_position, updated_at = now()"
    " FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS m(name, from_position, to_position)"
    " WHERE c.name = m.name AND c.position = m.from_position RETURNING c.name"
)
_MOVE_ONE = (
    "UPDATE checkpoints SET position = $3, updated_at = now()"
    " WHERE name = $1 AND position = $2 RETURNING true"
)


class SharedFeed:
    """The feed's latest stretch of events, read once per process (see the module's notes)."""

    def __init__(
        self, *, capacity: int = 20_000, read_limit: int = 5_000, gather_delay: float = 0.002
    ) -> None:
        self.capacity = capacity
        self.read_limit = read_limit
        self.reads = 0
        """Statements that extended the stretch."""
        self.served = 0
        """Batches served from the stretch."""
        self.missed = 0
        """Asks the stretch could not serve (the reader read its batch itself)."""
        self._low: int | None = None
        self._high = 0
        self._positions: list[int] = []
        self._raw: list[RecordedEvent] = []
        self._upcast: list[RecordedEvent] = []
        self._reading: asyncio.Future[None] | None = None
        self._short = False
        """Whether the last read stopped at `read_limit`, short of its horizon."""
        self._noted: dict[str, int] = {}
        self.gather_delay = gather_delay
        self._moves: dict[str, tuple[int, int, asyncio.Future[bool | None]]] | None = None
        self.moves = 0
        """Checkpoints moved by `move`..."""
        self.move_statements = 0
        """...in this many statements."""

    async def move(self, conn: Any, name: str, checkpoint: int, to: int) -> bool:
        """Move checkpoint `name` from `checkpoint` (where its leader left it) to `to`, in one
        statement with the other moves asked for at about the same time; False if it was
        not at `checkpoint` (another leader moved it, or it was dropped).

        For batches without any of a reader's events: under a stream of appends most of the
        process's readers have none at each step, and each used to send a statement of its
        own. The first to ask waits `gather_delay` for the others, then sends them all on
        its connection (outside a transaction), which commits without waiting for the disk
        when the connection says so (the readers' connections do: a checkpoint is moved
        again after a crash, and each reader is exactly-once whatever its checkpoint's
        durability). If that statement fails, each reader moves its own checkpoint.
        """
        future: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        gathering = self._moves
        if gathering is not None and name not in gathering:
            gathering[name] = (checkpoint, to, future)
            moved = await future
        else:
            gathering = self._moves = {name: (checkpoint, to, future)}
            try:
                try:
                    await asyncio.sleep(self.gather_delay)
                finally:
                    if self._moves is gathering:
                        self._moves = None
                moved = await self._move_all(conn, gathering)
            except BaseException:
                for _, _, other in gathering.values():
                    if not other.done():
                        other.set_result(None)  # the others move their own
                raise
        if moved is None:  # the statement failed: alone, on the reader's own connection
            moved = bool(await conn.fetchval(_MOVE_ONE, name, checkpoint, to))
        self.moves += 1
        return moved

    async def _move_all(
        self, conn: Any, gathering: dict[str, tuple[int, int, asyncio.Future[bool | None]]]
    ) -> bool | None:
        names = list(gathering)
        rows = await conn.fetch(
            _MOVE_ALL,
            names,
            [gathering[n][0] for n in names],
            [gathering[n][1] for n in names],
        )
        self.move_statements += 1
        moved = {row[0] for row in rows}
        for name in names[1:]:
            gathering[name][2].set_result(name in moved)
        return names[0] in moved

    def note(self, reader: str, checkpoint: int | None) -> None:
        """`reader`'s checkpoint (None: it stopped reading here); the stretch keeps what the
        lowest checkpoint still needs."""
        if checkpoint is None:
            self._noted.pop(reader, None)
        else:
            self._noted[reader] = checkpoint

    async def take(
        self,
        conn: Any,
        after: int,
        horizon: int,
        limit: int,
        *,
        topics: Collection[str] | None,
        payload: bool = True,
        metadata: bool = True,
        unread: Collection[str] = (),
        upcast: bool = True,
    ) -> tuple[int, list[RecordedEvent]] | None:
        """Up to `limit` events of `topics` (None: all) after `after`, and the position up to
        which they are complete (at most `horizon`): with fewer than `limit` events, there
        is no other event of `topics` up to it. None if the stretch does not reach back to
        `after`: read the batch yourself.

        `horizon` must have been read in an earlier statement (`SharedHorizon`); `conn`
        (outside a transaction) may read the stretch's extension. Without `payload` or
        `metadata` (and for the topics in `unread`) the events come with them empty, as
        `projection_batch` sends them; with `upcast`, payloads as their class's current
        version reads them (`mapping.upcast_payload`), else as stored.
        """
        if after >= horizon:
            return horizon, []  # nothing up to it (a horizon may step back)
        while self._low is None or self._high < horizon:
            if self._low is not None and after < self._low:
                break
            reading = self._reading
            if reading is not None:
                await asyncio.shield(reading)
                if self._short:
                    break  # as much as one read takes: the rest in the next batch
                continue
            if self._low is None or after > self._high:
                # Nothing kept, or all of it below this reader: start again from it.
                self._reset(after)
            await self._extend(conn, horizon)
            break
        low = self._low
        if low is None or after < low:
            self.missed += 1
            return None
        complete = min(horizon, self._high)
        events = self._upcast if upcast else self._raw
        start = bisect.bisect_right(self._positions, after)
        stop = bisect.bisect_right(self._positions, complete, lo=start)
        wanted = None if topics is None else set(topics)
        blank = set(unread)
        taken: list[RecordedEvent] = []
        for event in events[start:stop]:
            if wanted is not None and event.topic not in wanted:
                continue
            if not payload or not metadata or event.topic in blank:
                event = msgspec.structs.replace(
                    event,
                    payload=event.payload if payload and event.topic not in blank else {},
                    metadata=event.metadata if metadata and event.topic not in blank else {},
                )
            taken.append(event)
            if len(taken) == limit:
                break
        self.served += 1
        return complete, taken

    def _reset(self, at: int) -> None:
        self._low = self._high = at
        self._positions.clear()
        self._raw.clear()
        self._upcast.clear()

    async def _extend(self, conn: Any, horizon: int) -> None:
        """Read the events after the stretch up to `horizon` (at most `read_limit`)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reading = future
        try:
            start = self._high
            rows = await conn.fetch(_READ, start, horizon, self.read_limit)
            if self._high != start:  # pragma: no cover - reset meanwhile (one reader at a time)
                return
            for row in rows:
                event = row_to_event(row)
                self._positions.append(event.position)
                self._raw.append(event)
                upcast = upcast_payload(event.topic, event.payload)
                self._upcast.append(
                    event
                    if upcast is event.payload
                    else msgspec.structs.replace(event, payload=upcast)
                )
            self._short = len(rows) == self.read_limit
            self._high = rows[-1][0] if self._short else horizon
            self.reads += 1
            self._trim()
        finally:
            self._reading = None
            future.set_result(None)

    def _trim(self) -> None:
        """Drop what no reader needs any more, and anything beyond `capacity`."""
        assert self._low is not None
        floor = min(self._noted.values(), default=self._low)
        cut = bisect.bisect_right(self._positions, floor)
        cut = max(cut, len(self._positions) - self.capacity)
        if cut > 0:
            self._low = max(self._low, self._positions[cut - 1])
            del self._positions[:cut]
            del self._raw[:cut]
            del self._upcast[:cut]
