"""The mail worker's marks on its deliveries, written together.

Every SMTP connection of the worker (a *lane*) marks each delivery `committing` before its final
dot, and writes the outcome of the one before (`sent` with the server's reply, a failure, a
skip) in the same statement. `MarkWriter` goes one step further: marks that several lanes hand
in while a statement is running go into the next statement together (a group commit), so the
deliveries of all connections cost about one UPDATE per round trip to the database, on the
leader's own connection (the one that holds its lock: a mark is only ever written while
leading). Every mark is conditional on the leader's claim (and, for `committing` and `sent`,
on the state it expects): a delivery another leader has taken is left alone, and the writer
says which marks took.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

    from verbinders.database import Connection

__all__ = ["Mark", "MarkWriter"]

MARK_SQL = """
UPDATE mail_deliveries d
   SET state = m.state,
       reply = coalesce(m.reply, d.reply),
       last_error = coalesce(m.error, d.last_error),
       in_doubt = d.in_doubt + m.doubt,
       next_attempt_at = CASE WHEN m.delay IS NULL THEN d.next_attempt_at
                              ELSE now() + make_interval(secs => m.delay) END,
       sent_at = CASE WHEN m.state = 'sent' THEN now() ELSE d.sent_at END
  FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::integer[],
              $8::float8[], $9::text[])
       AS m(message_id, person_id, state, reply, error, doubt, delay, expected)
 WHERE d.message_id = m.message_id AND d.person_id = m.person_id AND d.claim = $1
   AND (m.expected IS NULL OR d.state = m.expected)
RETURNING d.message_id, d.person_id
"""

Key = tuple[uuid.UUID, uuid.UUID]


@dataclass(frozen=True, slots=True)
class Mark:
    """A delivery's next state, written only if the leader's claim (and `expected`) hold."""

    row: asyncpg.Record
    state: str
    reply: str | None = None
    error: str | None = None
    doubt: int = 0
    """1: the delivery was sent again after its fate was unknown (see `in_doubt`)."""
    delay: float | None = None
    """Seconds until the next attempt (a failure's backoff); None leaves it."""
    expected: str | None = None

    @property
    def key(self) -> Key:
        return (self.row["message_id"], self.row["person_id"])


class MarkWriter:
    """Writes the lanes' marks in as few statements as they allow (see the module's notes)."""

    def __init__(self, conn: Connection, claim: uuid.UUID) -> None:
        self.conn = conn
        self.claim = claim
        self.statements = 0
        self._waiting: list[tuple[list[Mark], asyncio.Future[set[Key]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, marks: list[Mark]) -> set[Key]:
        """Write `marks` (with whatever other lanes hand in meanwhile); the keys of the
        deliveries whose marks took (of these and the others written with them)."""
        if not marks:
            return set()
        done: asyncio.Future[set[Key]] = asyncio.get_running_loop().create_future()
        self._waiting.append((marks, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                took = await self._execute([mark for marks, _ in batch for mark in marks])
            except BaseException as error:
                for _, done in [*batch, *self._waiting]:
                    if isinstance(error, Exception):
                        done.set_exception(error)
                    else:
                        done.cancel()
                self._waiting = []
                if not isinstance(error, Exception):
                    raise
                return
            for _, done in batch:
                done.set_result(took)

    async def _execute(self, marks: list[Mark]) -> set[Key]:
        self.statements += 1
        rows = await self.conn.fetch(
            MARK_SQL,
            self.claim,
            [mark.row["message_id"] for mark in marks],
            [mark.row["person_id"] for mark in marks],
            [mark.state for mark in marks],
            [mark.reply for mark in marks],
            [mark.error for mark in marks],
            [mark.doubt for mark in marks],
            [mark.delay for mark in marks],
            [mark.expected for mark in marks],
        )
        return {(row["message_id"], row["person_id"]) for row in rows}
