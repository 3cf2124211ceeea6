"""Access tokens: issuing and revoking them, and their secrets.

A token's secret names its token: `vb_<id>.<random>`, the id in base64url, the 256 random
bits the secret. Only its SHA-256 hash is recorded (in the `Issued` event); the secret is
shown once, in the answer to the command that issued it, and kept nowhere else (a retry
with the same idempotency key answers without it: `IssuedToken.for_retry`).

A token acts for a party, an organisation of its platform: it must exist there and not be
dissolved, and a `municipality` or `fund` token acts for an organisation of that kind (see
`rights.py` for what acting for a party allows).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.idempotency import RETRY_NOTE
from verbinders.domain.access import AccessToken, Role
from verbinders.domain.organisations import Organisation
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Conflict, InvalidCommand

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from verbinders.application.unit_of_work import UnitOfWork
    from verbinders.database import Connection

__all__ = [
    "IssuedToken",
    "TokenView",
    "hash_secret",
    "issue_token",
    "list_tokens",
    "new_secret",
    "revoke_if_open",
    "revoke_token",
    "token_id_of",
    "token_views",
    "tokens_of_party",
]

SECRET_PREFIX = "vb_"  # noqa: S105 - a prefix, not a secret
_ID_CHARACTERS = 22  # a UUID's 16 bytes in unpadded base64url

PARTY_KINDS = {
    Role.MUNICIPALITY.value: OrganisationKind.MUNICIPALITY,
    Role.FUND.value: OrganisationKind.FUND,
}
"""Roles that act only for an organisation of one kind."""


def new_secret(token_id: uuid.UUID) -> str:
    """`vb_<token id>.<256 random bits>`: the id is public, the random part is the secret."""
    ident = base64.urlsafe_b64encode(token_id.bytes).rstrip(b"=").decode()
    return f"{SECRET_PREFIX}{ident}.{secrets.token_urlsafe(32)}"


def token_id_of(secret: str) -> uuid.UUID | None:
    """The token id a secret carries; None for a malformed or an id-less (older) secret."""
    ident, dot, random_part = secret.removeprefix(SECRET_PREFIX).partition(".")
    if not dot or len(ident) != _ID_CHARACTERS or not random_part:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(ident + "=="))
    except (ValueError, binascii.Error):
        return None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    token: str | None
    """The bearer secret: in the first answer only (null in a retry's), stored as a hash."""
    roles: tuple[str, ...]
    party: uuid.UUID | None
    label: str
    expires_at: datetime | None
    position: int = 0
    note: str | None = None
    """Set in a retry's answer: why `token` is null."""

    def for_retry(self) -> IssuedToken:
        """What an idempotency key keeps of this answer: everything but the secret."""
        return msgspec.structs.replace(self, token=None, note=RETRY_NOTE)


class TokenView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    party: uuid.UUID | None
    roles: tuple[str, ...]
    label: str
    issued_at: datetime
    issued_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


async def _check_party(uow: UnitOfWork, party: uuid.UUID, roles: tuple[str, ...]) -> None:
    organisation = await uow.find(Organisation, party)
    if organisation is None:
        raise InvalidCommand(
            f"party {party} is no organisation of this platform", field="party", rule="exists"
        )
    if organisation.is_dissolved:
        raise Conflict(
            f"organisation {organisation.name!r} (party {party}) is dissolved", state="dissolved"
        )
    for role in roles:
        kind = PARTY_KINDS.get(role)
        if kind is not None and organisation.kind != kind:
            raise InvalidCommand(
                f"a {role} token acts for an organisation of kind {kind.value};"
                f" {organisation.name!r} is a {organisation.kind.value}",
                field="party",
                rule="kind",
            )


@command(writes_once=True)
async def issue_token(
    uow: UnitOfWork,
    *,
    roles: tuple[str, ...],
    label: str,
    party: uuid.UUID | None = None,
    expires_at: datetime | None = None,
    reason: str = "",
) -> IssuedToken:
    """Issue a token (coordinator); its secret is in this answer only."""
    token_id = uuid.uuid4()
    secret = new_secret(token_id)
    token = AccessToken.issue(
        token_id=token_id,
        tenant=uow.tenant,
        party=party,
        roles=roles,
        label=label,
        secret_hash=hash_secret(secret),
        expires_at=expires_at,
        issued_by=uow.actor.name,
        reason=reason or "issued",
        now=uow.now(),
    )
    if party is not None:
        await _check_party(uow, party, token.roles)
    uow.save(token, reason=reason or None)
    return IssuedToken(
        id=token.id,
        token=secret,
        roles=token.roles,
        party=token.party,
        label=token.label,
        expires_at=token.expires_at,
    )


@command(writes_once=True)
async def revoke_token(uow: UnitOfWork, token_id: uuid.UUID, *, reason: str) -> CommandResult:
    """Revoke a token at once (coordinator)."""
    token = await uow.target(AccessToken, token_id)
    token.revoke(revoked_by=uow.actor.name, reason=reason)
    uow.save(reason=reason)
    return CommandResult.of(token)


@command(writes_once=True)
async def revoke_if_open(
    uow: UnitOfWork, token_id: uuid.UUID, *, reason: str
) -> CommandResult | None:
    """Revoke a token unless it is revoked already (then nothing, None): for policies, whose
    decisions must hold however often they are taken."""
    token = await uow.get(AccessToken, token_id)
    if token.revoked:
        return None
    token.revoke(revoked_by=uow.actor.name, reason=reason)
    uow.save(reason=reason)
    return CommandResult.of(token)


async def list_tokens(pool: asyncpg.Pool, tenant: str) -> list[TokenView]:
    """The platform's tokens, from the `tokens` read model (as far as it has come)."""
    from verbinders.projections.reading import Reading
    from verbinders.projections.tokens import token_rows

    async with pool.acquire() as conn:
        rows = await token_rows(Reading(conn=conn, name="tokens"), tenant)
    return token_views(rows)


def token_views(rows: Sequence[Any]) -> list[TokenView]:
    """`TokenView`s of rows of the `tokens` read model (`projections.tokens.token_rows`)."""
    return [
        TokenView(
            id=r["token_id"],
            party=r["party"],
            roles=tuple(r["roles"]),
            label=r["label"],
            issued_at=r["issued_at"],
            issued_by=r["issued_by"],
            expires_at=r["expires_at"],
            revoked_at=r["revoked_at"],
            revoked_by=r["revoked_by"],
        )
        for r in rows
    ]


async def tokens_of_party(
    conn: Connection, tenant: str, party: uuid.UUID, *, until_position: int
) -> list[uuid.UUID]:
    """The tokens issued for `party` and not revoked by `until_position`, from the events
    themselves (not the read model, which a replay may be rebuilding), oldest first."""
    rows = await conn.fetch(
        "SELECT i.stream_id FROM events i"
        " WHERE i.tenant = $1 AND i.stream_type = $2 AND i.version = 1"
        " AND i.position <= $4 AND i.payload->>'party' = $3::text"
        " AND NOT EXISTS (SELECT FROM events r WHERE r.stream_id = i.stream_id"
        "                 AND r.version > 1 AND r.position <= $4)"
        " ORDER BY i.position",
        tenant,
        AccessToken.STREAM_TYPE,
        str(party),
        until_position,
    )
    return [row["stream_id"] for row in rows]
