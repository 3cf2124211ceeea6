"""Tokens: who could act on each platform, in which roles, from when until when.

The listing of a platform's tokens (`GET /tokens`, `verbinders token list`). Requests are not
authenticated from here but from each token's own events (`application/access.py`), so this
model may lag without a new token failing or a revoked one working. It never holds a secret
or its hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from verbinders.projections.engine import Projection

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["TokensProjection"]

TOKEN = "verbinders.domain.access:AccessToken."  # noqa: S105 - an event topic
ISSUED = TOKEN + "Issued"
REVOKED = TOKEN + "Revoked"


class TokensProjection(Projection):
    name = "tokens"
    version = 1
    topics = (ISSUED, REVOKED)
    tables = ("tokens",)
    reads_metadata = False

    def ddl(self) -> str:
        return """
CREATE TABLE tokens (
    token_id    uuid        PRIMARY KEY,
    tenant      text        NOT NULL,
    party       uuid,
    roles       text[]      NOT NULL,
    label       text        NOT NULL,
    issued_at   timestamptz NOT NULL,
    issued_by   text        NOT NULL,
    expires_at  timestamptz,
    revoked_at  timestamptz,
    revoked_by  text
);
CREATE INDEX tokens_tenant ON tokens (tenant, issued_at);
"""

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """A batch in two statements: the issued tokens, then the revocations (a token is
        issued before it can be revoked, so a revocation in the same batch finds its row)."""
        issued = [
            {
                "token_id": str(e.stream_id),
                "tenant": e.tenant,
                "party": e.payload.get("party"),
                "roles": e.payload["roles"],
                "label": e.payload["label"],
                "issued_at": e.recorded_at.isoformat(),
                "issued_by": e.payload["issued_by"],
                "expires_at": e.payload.get("expires_at"),
            }
            for e in events
            if e.topic == ISSUED
        ]
        revoked = [
            {
                "token_id": str(e.stream_id),
                "revoked_at": e.recorded_at.isoformat(),
                "revoked_by": e.payload["revoked_by"],
            }
            for e in events
            if e.topic == REVOKED
        ]
        if issued:
            await conn.execute(
                "INSERT INTO tokens (token_id, tenant, party, roles, label, issued_at,"
                " issued_by, expires_at)"
                " SELECT token_id, tenant, party, roles, label, issued_at, issued_by, expires_at"
                " FROM jsonb_to_recordset($1::jsonb) AS t(token_id uuid, tenant text,"
                " party uuid, roles text[], label text, issued_at timestamptz,"
                " issued_by text, expires_at timestamptz)",
                msgspec.json.encode(issued),
            )
        if revoked:
            await conn.execute(
                "UPDATE tokens SET revoked_at = r.revoked_at, revoked_by = r.revoked_by"
                " FROM jsonb_to_recordset($1::jsonb)"
                " AS r(token_id uuid, revoked_at timestamptz, revoked_by text)"
                " WHERE tokens.token_id = r.token_id",
                msgspec.json.encode(revoked),
            )
