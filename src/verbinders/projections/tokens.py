"""Tokens: who could act on each platform, in which roles, from when until when.

The listing of a platform's tokens (`GET /tokens`, `verbinders token list`). Requests are not
authenticated from here but from each token's own events (`application/access.py`), so this
model may lag without a new token failing or a revoked one working. It never holds a secret
or its hash. Each token is one versioned row (`temporal.py`): issued, then revoked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbinders.domain.access import AccessToken
from verbinders.projections.temporal import Table, TemporalProjection, events_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    import asyncpg

    from verbinders.projections.reading import Reading
    from verbinders.projections.temporal import Key, Rows
    from verbinders.store.events import RecordedEvent

__all__ = ["TOKENS", "TokensProjection", "token_rows"]

TOKENS = Table(
    "tokens",
    keys=(("tenant", "text"), ("token_id", "uuid")),
    values=(
        ("party", "uuid"),
        ("roles", "text[]"),
        ("label", "text"),
        ("issued_at", "timestamptz"),
        ("issued_by", "text"),
        ("expires_at", "timestamptz"),
        ("revoked_at", "timestamptz"),
        ("revoked_by", "text"),
    ),
    indexes=("(tenant, issued_at)",),
)


class TokensProjection(TemporalProjection):
    name = "tokens"
    version = 2
    versioned = (TOKENS,)
    events = events_of(AccessToken, Issued="issued", Revoked="revoked")
    reads_metadata = False

    def touches(self, event: RecordedEvent) -> Iterable[tuple[Table, Key]]:
        return ((TOKENS, (event.tenant, event.stream_id)),)

    def issued(self, rows: Rows, event: RecordedEvent) -> None:
        p = event.payload
        party, expires = p.get("party"), p.get("expires_at")
        rows.put(
            TOKENS,
            (event.tenant, event.stream_id),
            {
                "party": uuid.UUID(party) if party else None,
                "roles": list(p["roles"]),
                "label": p["label"],
                "issued_at": event.recorded_at,
                "issued_by": p["issued_by"],
                "expires_at": datetime.fromisoformat(expires) if expires else None,
                "revoked_at": None,
                "revoked_by": None,
            },
            event,
        )

    def revoked(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(TOKENS, key)
        if row is not None:
            row.update(revoked_at=event.recorded_at, revoked_by=event.payload["revoked_by"])
            rows.put(TOKENS, key, row, event)


async def token_rows(r: Reading, tenant: str) -> list[asyncpg.Record]:
    """The platform's tokens, oldest first."""
    rows: list[Any] = await r.fetch(
        "SELECT token_id, party, roles, label, issued_at, issued_by, expires_at,"
        f" revoked_at, revoked_by FROM {r.table('tokens')} t"
        f" WHERE t.tenant = $1 AND {r.valid('t')} ORDER BY t.issued_at, t.token_id",
        tenant,
    )
    return rows
