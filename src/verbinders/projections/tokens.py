"""Tokens: who could act on each platform, in which roles, from when until when.

The listing of a platform's tokens (`GET /tokens`, `verbinders token list`). Requests are not
authenticated from here but from each token's own events (`application/access.py`), so this
model may lag without a new token failing or a revoked one working. It never holds a secret
or its hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    reads_payload = False
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
        issued before it can be revoked, so a revocation in the same batch finds its row).

        The rows are built inside PostgreSQL from the events' stored payloads, picked by
        position: the batch comes without payloads (`reads_payload`), so no payload is read
        out, decoded, encoded again and sent back. This was the costliest of the read models
        kept in the serving process, one row per token issued.
        """
        issued = [e.position for e in events if e.topic == ISSUED]
        revoked = [e.position for e in events if e.topic == REVOKED]
        # `events` is the feed's table in `public`, on the batch's search path.
        if issued:
            await conn.execute(
                "INSERT INTO tokens (token_id, tenant, party, roles, label, issued_at,"
                " issued_by, expires_at)"
                " SELECT e.stream_id, e.tenant, (e.payload->>'party')::uuid,"
                " ARRAY(SELECT jsonb_array_elements_text(e.payload->'roles')),"
                " e.payload->>'label', e.recorded_at, e.payload->>'issued_by',"
                " (e.payload->>'expires_at')::timestamptz"
                " FROM events e WHERE e.position = any($1::bigint[])"
                " ORDER BY e.position",
                issued,
            )
        if revoked:
            await conn.execute(
                "UPDATE tokens SET revoked_at = e.recorded_at,"
                " revoked_by = e.payload->>'revoked_by'"
                " FROM events e WHERE e.position = any($1::bigint[])"
                " AND tokens.token_id = e.stream_id",
                revoked,
            )
