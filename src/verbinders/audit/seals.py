"""Seals: the feed's committed events, range after range, under a chained Merkle root.

Seal n covers the positions (after_position, up_to_position]: every event there, in position
order, is a leaf of a Merkle tree (`merkle.py`) whose root is `root`. Seals follow each other
without gaps (seal n's `after_position` is seal n - 1's `up_to_position`, 0 for the first) and
each one's hash covers the previous one's:

    hash(seal n) = SHA-256("verbinders-seal-1\\n{n}\\n{after}\\n{up_to}\\n{events}\\n"
                           || hash(seal n - 1) || root)        (32 zero bytes before seal 1)

so the latest seal's hash commits to every event up to its position. A seal only covers
positions at or below the feed's horizon (`feed_horizon()`), where no transaction still in
flight can later commit an event. Sealing takes a transaction-level advisory lock, so that
two sealers (the worker, `verbinders audit seal`) never write the same number.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from verbinders.audit import merkle
from verbinders.store.chain import GENESIS
from verbinders.store.feed_guards import feed_refusal

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = ["LOCK_NAMESPACE_SEALS", "MAX_EVENTS_PER_SEAL", "Seal", "load_seals", "seal", "seal_hash"]

LOCK_NAMESPACE_SEALS = 7_103
MAX_EVENTS_PER_SEAL = 1_000_000
SEAL_FORMAT = "verbinders-seal-1"


class Seal(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    after_position: int
    up_to_position: int
    events: int
    root: bytes
    previous: bytes
    hash: bytes
    sealed_at: datetime | None = None


def seal_hash(
    number: int, after_position: int, up_to_position: int, events: int, previous: bytes, root: bytes
) -> bytes:
    head = f"{SEAL_FORMAT}\n{number}\n{after_position}\n{up_to_position}\n{events}\n"
    return hashlib.sha256(head.encode("ascii") + previous + root).digest()


_COLUMNS = "number, after_position, up_to_position, events, root, previous, hash, sealed_at"


def _seal(row: object) -> Seal:
    return Seal(
        number=row[0],  # type: ignore[index]
        after_position=row[1],  # type: ignore[index]
        up_to_position=row[2],  # type: ignore[index]
        events=row[3],  # type: ignore[index]
        root=bytes(row[4]),  # type: ignore[index]
        previous=bytes(row[5]),  # type: ignore[index]
        hash=bytes(row[6]),  # type: ignore[index]
        sealed_at=row[7],  # type: ignore[index]
    )


async def load_seals(conn: Connection) -> list[Seal]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM seals ORDER BY number")
    return [_seal(row) for row in rows]


async def seal(conn: Connection, *, max_events: int = MAX_EVENTS_PER_SEAL) -> Seal | None:
    """Seal the committed events after the last seal (None when there are none)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, 0)", LOCK_NAMESPACE_SEALS)
        last = await conn.fetchrow(f"SELECT {_COLUMNS} FROM seals ORDER BY number DESC LIMIT 1")
        previous = _seal(last) if last is not None else None
        after = previous.up_to_position if previous is not None else 0
        with feed_refusal():
            horizon = int(await conn.fetchval("SELECT feed_horizon()") or 0)
        rows = await conn.fetch(
            "SELECT position, hash FROM events WHERE position > $1 AND position <= $2"
            " ORDER BY position LIMIT $3",
            after,
            horizon,
            max_events,
        )
        if not rows:
            return None
        up_to = rows[-1][0] if len(rows) == max_events else horizon
        root = merkle.root([bytes(row[1]) for row in rows])
        number = previous.number + 1 if previous is not None else 1
        before = previous.hash if previous is not None else GENESIS
        digest = seal_hash(number, after, up_to, len(rows), before, root)
        row = await conn.fetchrow(
            "INSERT INTO seals (number, after_position, up_to_position, events, root, previous,"
            f" hash) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_COLUMNS}",
            number,
            after,
            up_to,
            len(rows),
            root,
            before,
            digest,
        )
        return _seal(row)
