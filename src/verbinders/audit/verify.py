"""Recompute every event's chained hash and every seal; name what was altered.

One pass over the events in position order recomputes each event's hash from its canonical
bytes (`store/chain.py`) and the stored hash of its stream's previous version, and checks that
each stream's versions follow one another. Then each seal's Merkle root is rebuilt from the
stored hashes of its range, and the seals' own chain is checked. What is found comes back in
position order: the first finding is the first altered place of the feed.

Built from the stored predecessor, a change shows at the event changed, not at every event
after it. What each kind of tampering looks like:

- a payload, metadata, time, topic or tenant changed: that event's hash differs;
- an event deleted: the next version of its stream follows a gap (and its seal's count and
  root differ); the last event of a stream deleted: its seal differs;
- an event inserted: its hash differs (or, if the intruder chained it correctly, its seal's
  count and root differ);
- events reordered (positions swapped): their hashes differ (the position is covered), and a
  stream's versions run backwards;
- a seal changed: its hash, or the next seal's link to it, differs.

An intruder who rewrites events, chains and seals consistently is caught only against a seal
kept outside the database (an auditor's export, a published seal hash): see docs/audit.md.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec

from verbinders.audit import merkle
from verbinders.audit.seals import load_seals, seal_hash
from verbinders.store.chain import GENESIS, canonical_bytes, event_hash

if TYPE_CHECKING:
    import asyncpg

    from verbinders.database import Connection

__all__ = ["Finding", "Verification", "verify"]

BATCH = 5_000

EVENT_ROW = (
    "position, tenant, stream_id, stream_type, version, topic,"
    " (extract(epoch FROM recorded_at) * 1000000)::bigint, metadata::text, payload::text, hash"
)


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One altered place: an event (stream, version, position) or a seal."""

    kind: str
    """`hash`, `gap`, `order`, `place`, `seal`."""
    position: int
    detail: str
    stream_id: str | None = None
    version: int | None = None
    seal: int | None = None

    def describe(self) -> str:
        where = (
            f"seal {self.seal}"
            if self.stream_id is None
            else f"stream {self.stream_id} version {self.version}"
        )
        return f"position {self.position}, {where}: {self.detail}"


class Verification(msgspec.Struct, kw_only=True):
    events: int = 0
    streams: int = 0
    seals: int = 0
    sealed_up_to: int = 0
    seconds: float = 0.0
    findings: list[Finding] = msgspec.field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None


async def verify(
    conn: Connection, *, tenant: str | None = None, seals: bool = True
) -> Verification:
    """Everything (or one tenant's events, and the seals over the whole feed)."""
    started = time.perf_counter()
    result = Verification()
    last: dict[UUID, tuple[int, bytes]] = {}
    position = -(2**63)  # rows an intruder put below the feed's first position are read too
    while True:
        rows = await conn.fetch(
            f"SELECT {EVENT_ROW} FROM events WHERE position > $1"
            " AND ($2::text IS NULL OR tenant = $2) ORDER BY position LIMIT $3",
            position,
            tenant,
            BATCH,
        )
        if not rows:
            break
        for row in rows:
            _check_event(row, last, result.findings)
        result.events += len(rows)
        position = rows[-1][0]
    result.streams = len(last)
    if seals:
        await _check_seals(conn, result)
    result.findings.sort(key=lambda f: (f.position, f.seal or 0))
    result.seconds = time.perf_counter() - started
    return result


def _check_event(
    row: asyncpg.Record, last: dict[UUID, tuple[int, bytes]], findings: list[Finding]
) -> None:
    position: int = row[0]
    stream: UUID = row[2]
    version: int = row[4]
    stored = bytes(row[9])
    before_version, previous = last.get(stream, (0, GENESIS))
    where: dict[str, Any] = {"position": position, "stream_id": str(stream), "version": version}
    if position < 1:
        findings.append(
            Finding(kind="place", detail="below the feed's first position (1): inserted", **where)
        )
    if version <= before_version:
        findings.append(
            Finding(
                kind="order",
                detail=f"version {version} comes after version {before_version} in the feed"
                " (events reordered or duplicated)",
                **where,
            )
        )
    elif version != before_version + 1:
        missing = (
            f"version {before_version + 1}"
            if version == before_version + 2
            else f"versions {before_version + 1}-{version - 1}"
        )
        findings.append(
            Finding(kind="gap", detail=f"{missing} missing before it (deleted)", **where)
        )
    body = canonical_bytes(
        tenant=row[1],
        stream_id=str(stream),
        stream_type=row[3],
        version=version,
        position=position,
        topic=row[5],
        recorded_us=row[6],
        metadata=row[7],
        payload=row[8],
    )
    computed = event_hash(previous, body)
    if computed != stored and version == before_version + 1:
        findings.append(
            Finding(
                kind="hash",
                detail=f"stored hash {stored.hex()[:16]}… but its content and predecessor give"
                f" {computed.hex()[:16]}… (payload, metadata, time, topic, place or"
                " predecessor altered)",
                **where,
            )
        )
    last[stream] = (max(version, before_version), stored)


async def _check_seals(conn: Connection, result: Verification) -> None:
    previous_hash = GENESIS
    previous_up_to = 0
    for seal in await load_seals(conn):
        result.seals += 1
        problems: list[str] = []
        if seal.after_position != previous_up_to:
            problems.append(
                f"starts after position {seal.after_position}, the seal before ends at"
                f" {previous_up_to}"
            )
        if seal.previous != previous_hash:
            problems.append("its link to the seal before differs")
        rows = await conn.fetch(
            "SELECT hash FROM events WHERE position > $1 AND position <= $2 ORDER BY position",
            seal.after_position,
            seal.up_to_position,
        )
        if len(rows) != seal.events:
            problems.append(f"{len(rows)} events in its range now, {seal.events} when sealed")
        if rows and merkle.root([bytes(r[0]) for r in rows]) != seal.root:
            problems.append("the Merkle root of its range differs")
        expected = seal_hash(
            seal.number,
            seal.after_position,
            seal.up_to_position,
            seal.events,
            seal.previous,
            seal.root,
        )
        if expected != seal.hash:
            problems.append("its own hash differs (the seal was altered)")
        if problems:
            result.findings.append(
                Finding(
                    kind="seal",
                    position=seal.after_position + 1,
                    seal=seal.number,
                    detail=f"positions {seal.after_position + 1}-{seal.up_to_position}: "
                    + "; ".join(problems),
                )
            )
        previous_hash = seal.hash
        previous_up_to = seal.up_to_position
        result.sealed_up_to = seal.up_to_position
