"""Tickets for the live board: a browser's `EventSource` cannot send an `Authorization` header,
so the desk's page trades its bearer token for a ticket that opens one call's live picture.

A ticket is a random secret (`vbt_...`, 256 bits) of which only the SHA-256 is stored, bound to
the platform, the call and the token that asked for it; it expires (`TICKET_LIFETIME`) and
stops working when that token is revoked (checked each time a stream opens). It grants
reading that call's picture and nothing else.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from verbinders.application.context import Actor
from verbinders.domain.access import AccessToken
from verbinders.errors import Unauthorized

if TYPE_CHECKING:
    from verbinders.runtime import Runtime

__all__ = ["MIGRATIONS", "TICKET_LIFETIME", "BoardTicket", "issue_ticket", "redeem_ticket"]

TICKET_LIFETIME = timedelta(hours=12)
"""A working day at the municipality's desk."""
PREFIX = "vbt_"

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "tickets for the live board of a call",
        """
CREATE TABLE board_tickets (
    ticket_hash text        PRIMARY KEY,
    tenant      text        NOT NULL,
    call_id     uuid        NOT NULL,
    token_id    uuid        NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX board_tickets_expiry ON board_tickets (expires_at);
""",
    ),
]


class BoardTicket(msgspec.Struct, frozen=True, kw_only=True):
    ticket: str
    """Shown once; pass it as `?ticket=` to the call's picture stream."""
    board: str
    """The board's address with the ticket in its fragment (never sent to the server)."""
    expires_at: datetime


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


async def issue_ticket(runtime: Runtime, actor: Actor, call_id: uuid.UUID) -> BoardTicket:
    """A ticket for `actor` (who may manage the call: the route checks) to watch `call_id`."""
    if actor.token_id is None:
        raise Unauthorized("only a token can ask for a board ticket")
    ticket = PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + TICKET_LIFETIME
    async with runtime.connection() as conn:
        await conn.execute("DELETE FROM board_tickets WHERE expires_at < now()")
        await conn.execute(
            "INSERT INTO board_tickets (ticket_hash, tenant, call_id, token_id, expires_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            _hash(ticket),
            actor.tenant,
            call_id,
            actor.token_id,
            expires_at,
        )
    return BoardTicket(
        ticket=ticket, board=f"/board/calls/{call_id}#ticket={ticket}", expires_at=expires_at
    )


async def redeem_ticket(runtime: Runtime, ticket: str, call_id: uuid.UUID) -> Actor:
    """The actor a ticket stands for, for the picture of `call_id` only; `Unauthorized` for
    an unknown, expired or revoked one, or one for another call."""
    if not ticket.startswith(PREFIX) or len(ticket) > 100:
        raise Unauthorized("unknown board ticket")
    async with runtime.connection() as conn:
        row = await conn.fetchrow(
            "SELECT tenant, call_id, token_id FROM board_tickets"
            " WHERE ticket_hash = $1 AND expires_at > now()",
            _hash(ticket),
        )
        if row is None or row["call_id"] != call_id:
            raise Unauthorized("unknown or expired board ticket, or one for another call")
        token = await runtime.repository.find(
            AccessToken, row["token_id"], tenant=row["tenant"], connection=conn
        )
    now = datetime.now(UTC)
    if token is None or token.revoked or (token.expires_at and token.expires_at <= now):
        raise Unauthorized("the token this board ticket was issued for no longer works")
    return Actor(
        tenant=token.tenant,
        roles=token.roles,
        party=token.party,
        token_id=token.id,
        label=token.label,
    )
