"""An auditor's trail: whole streams with their hashes, the seals, and Merkle proofs.

The export (format `verbinders-trail-1`, JSON) holds every event of the streams asked for, in
position order, each with who (its metadata, as stored), when, position, its canonical fields
and hash; every seal of the store (the chain of seals is short and lets the latest seal be
compared with one kept elsewhere); and, for each event sealed, the Merkle path from its hash to
its seal's root. `tools/verify_trail.py` checks all of it with Python's standard library only;
the algorithm is in docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from verbinders.audit import merkle
from verbinders.audit.seals import load_seals
from verbinders.audit.verify import EVENT_ROW

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = ["TRAIL_FORMAT", "export_trail", "trail_events"]

TRAIL_FORMAT = "verbinders-trail-1"


async def trail_events(
    conn: Connection, stream_ids: Sequence[UUID], *, tenant: str
) -> list[dict[str, Any]]:
    """The streams' events in position order, as the trail holds them."""
    rows = await conn.fetch(
        f"SELECT {EVENT_ROW}, recorded_at FROM events"
        " WHERE stream_id = any($1::uuid[]) AND tenant = $2 ORDER BY position",
        list(stream_ids),
        tenant,
    )
    return [
        {
            "position": row[0],
            "tenant": row[1],
            "stream_id": str(row[2]),
            "stream_type": row[3],
            "version": row[4],
            "topic": row[5],
            "recorded_at": row[10].astimezone(UTC).isoformat(),
            "metadata": row[7],
            "payload": row[8],
            "hash": bytes(row[9]).hex(),
        }
        for row in rows
    ]


async def export_trail(
    conn: Connection,
    stream_ids: Sequence[UUID],
    *,
    tenant: str,
    subject: Mapping[str, Any],
) -> dict[str, Any]:
    """The trail of `stream_ids` (see the module's notes); `subject` says what it is of."""
    events = await trail_events(conn, stream_ids, tenant=tenant)
    seals = await load_seals(conn)
    proofs = []
    for seal in seals:
        inside = [e for e in events if seal.after_position < e["position"] <= seal.up_to_position]
        if not inside:
            continue
        rows = await conn.fetch(
            "SELECT position, hash FROM events WHERE position > $1 AND position <= $2"
            " ORDER BY position",
            seal.after_position,
            seal.up_to_position,
        )
        index = {row[0]: i for i, row in enumerate(rows)}
        tree = merkle.levels([bytes(row[1]) for row in rows])
        for event in inside:
            at = index.get(event["position"])
            if at is None:
                continue
            path = merkle.proof(tree, at)
            proofs.append(
                {
                    "position": event["position"],
                    "seal": seal.number,
                    "path": [[side, sibling.hex()] for side, sibling in path],
                }
            )
    return {
        "format": TRAIL_FORMAT,
        "tenant": tenant,
        "subject": dict(subject),
        "exported_at": datetime.now(UTC).isoformat(),
        "streams": [str(s) for s in stream_ids],
        "events": events,
        "seals": [
            {
                "number": s.number,
                "after_position": s.after_position,
                "up_to_position": s.up_to_position,
                "events": s.events,
                "root": s.root.hex(),
                "previous": s.previous.hex(),
                "hash": s.hash.hex(),
                "sealed_at": s.sealed_at.astimezone(UTC).isoformat() if s.sealed_at else None,
            }
            for s in seals
        ],
        "proofs": proofs,
    }
