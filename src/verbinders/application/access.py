"""Platforms (tenants) and access tokens, and how a request's bearer token is authenticated.

A token's secret names its token: `vb_<id>.<random>`, the id in base64url. A request finds the
token's events by that id and checks the secret against the SHA-256 hash its `Issued` event
recorded, so a new token works, and a revoked one stops working, the moment its event is
stored (the `Authenticator` caches an answer for at most a second). The event store is the
only record written: the listing of tokens is a read model (`projections/tokens.py`).
Tokens issued before secrets carried their id are found by their hash in
`legacy_token_secrets`, which never grows.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.application.context import Actor, CommandContext, CommandResult
from verbinders.domain.access import AccessToken, Role
from verbinders.domain.platform import Platform, platform_id, tenant_slug
from verbinders.domain.vocabulary import Term
from verbinders.errors import Conflict, NotFound, StreamConflict, Unauthorized
from verbinders.store.schema import register_migrations

if TYPE_CHECKING:
    import asyncpg

    from verbinders.runtime import Runtime
    from verbinders.store.repository import Repository

__all__ = [
    "Authenticator",
    "IssuedToken",
    "TokenView",
    "create_platform",
    "get_platform",
    "hash_secret",
    "issue_token",
    "list_tokens",
    "new_secret",
    "revoke_token",
    "token_id_of",
]

register_migrations(
    "access",
    [
        (
            1,
            "platforms and access tokens",
            """
CREATE TABLE platforms (
    tenant      text        PRIMARY KEY,
    platform_id uuid        NOT NULL UNIQUE,
    name        text        NOT NULL,
    city        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE access_tokens (
    token_id    uuid        PRIMARY KEY,
    tenant      text        NOT NULL REFERENCES platforms (tenant),
    party       uuid,
    roles       text[]      NOT NULL,
    label       text        NOT NULL,
    secret_hash text        NOT NULL UNIQUE,
    expires_at  timestamptz,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    issued_by   text        NOT NULL,
    revoked_at  timestamptz,
    revoked_by  text
);
CREATE INDEX access_tokens_tenant ON access_tokens (tenant, issued_at);
""",
        ),
        (
            2,
            "access tokens without a foreign key to their platform",
            # Every token insert checked the key with a share lock on its platform's row:
            # concurrent issuers of one platform then shared that row's lock through
            # multixacts, 10-30% of the insert's cost. Tokens are only ever issued inside an
            # existing platform (by `create_platform`, or by an actor authenticated in it), and
            # platforms are never deleted.
            "ALTER TABLE access_tokens DROP CONSTRAINT IF EXISTS access_tokens_tenant_fkey",
        ),
        (
            3,
            "access tokens from their events; the hashes of id-less secrets kept for lookup",
            # A token is now authenticated from its own events, found by the id its secret
            # carries, and listed from the `tokens` read model: issuing one writes its event
            # only (a second row with three indexes had been about a fifth of the command's
            # cost in PostgreSQL). Secrets issued before carry no id: their hashes stay here,
            # to find their tokens' streams. Nothing is ever added.
            """
CREATE TABLE legacy_token_secrets (
    secret_hash text PRIMARY KEY,
    token_id    uuid NOT NULL
);
INSERT INTO legacy_token_secrets (secret_hash, token_id)
    SELECT secret_hash, token_id FROM access_tokens;
DROP TABLE access_tokens;
""",
        ),
    ],
)

SECRET_PREFIX = "vb_"  # noqa: S105 - a prefix, not a secret
_ID_CHARACTERS = 22  # a UUID's 16 bytes in unpadded base64url


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
    token: str
    """The bearer secret: shown this once, stored only as a hash."""
    roles: tuple[str, ...]
    party: uuid.UUID | None
    label: str
    expires_at: datetime | None
    position: int


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


class PlatformView(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str
    city: str
    started_on: date
    districts: tuple[Term, ...]
    themes: tuple[Term, ...]
    point_of_contact: uuid.UUID | None
    version: int


async def issue_token(
    ctx: CommandContext,
    *,
    roles: tuple[str, ...],
    label: str,
    party: uuid.UUID | None = None,
    expires_at: datetime | None = None,
    reason: str = "",
) -> IssuedToken:
    token_id = uuid.uuid4()
    secret = new_secret(token_id)
    token = AccessToken.issue(
        token_id=token_id,
        tenant=ctx.actor.tenant,
        party=party,
        roles=roles,
        label=label,
        secret_hash=hash_secret(secret),
        expires_at=expires_at,
        issued_by=ctx.actor.name,
        reason=reason or "issued",
        now=ctx.now(),
    )
    [position] = await ctx.save(token, reason=reason or None)
    return IssuedToken(
        id=token.id,
        token=secret,
        roles=token.roles,
        party=token.party,
        label=token.label,
        expires_at=token.expires_at,
        position=position,
    )


async def revoke_token(
    ctx: CommandContext,
    token_id: uuid.UUID,
    *,
    reason: str,
    check: Callable[[int], None] | None = None,
) -> CommandResult:
    """Revoke a token; `check` sees its current version first (for If-Match)."""
    token = await ctx.get(AccessToken, token_id)
    if check is not None:
        check(token.version)
    token.revoke(revoked_by=ctx.actor.name, reason=reason)
    [position] = await ctx.save(token, reason=reason)
    return CommandResult(id=str(token_id), version=token.version, position=position)


async def list_tokens(pool: asyncpg.Pool, tenant: str) -> list[TokenView]:
    """The platform's tokens, from the `tokens` read model (as far as it has come)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT token_id, party, roles, label, issued_at, issued_by, expires_at,"
            " revoked_at, revoked_by FROM tokens.tokens WHERE tenant = $1"
            " ORDER BY issued_at, token_id",
            tenant,
        )
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


async def create_platform(
    runtime: Runtime,
    *,
    slug: str,
    name: str,
    city: str,
    started_on: date,
    districts: tuple[Term, ...] | None = None,
    themes: tuple[Term, ...] | None = None,
    operator: str = "cli",
) -> tuple[Platform, IssuedToken]:
    """Record a new platform and its first coordinator token (printed once by the CLI)."""
    tenant_slug(slug)
    actor = Actor(tenant=slug, roles=(Role.COORDINATOR.value,), label=operator)
    extra: dict[str, Any] = {}
    if districts:
        extra["districts"] = districts
    if themes:
        extra["themes"] = themes
    platform = Platform.create(
        tenant=slug, name=name, city=city, started_on=started_on, at=datetime.now(UTC), **extra
    )
    try:
        async with runtime.store.transaction() as conn:
            ctx = CommandContext(repository=runtime.repository, connection=conn, actor=actor)
            await ctx.save(platform, reason="platform created")
            await conn.execute(
                "INSERT INTO platforms (tenant, platform_id, name, city) VALUES ($1, $2, $3, $4)",
                slug,
                platform.id,
                platform.name,
                platform.city,
            )
            token = await issue_token(
                ctx,
                roles=(Role.COORDINATOR.value,),
                label=f"first coordinator of {slug}",
                reason="platform created",
            )
    except StreamConflict as error:
        raise Conflict(f"platform {slug!r} already exists", state="exists", slug=slug) from error
    return platform, token


async def get_platform(
    runtime: Runtime, tenant: str, *, as_of: datetime | None = None
) -> PlatformView:
    """The platform now, or as it stood at `as_of` (what had been recorded by then)."""
    platform = await runtime.repository.get(
        Platform, platform_id(tenant), tenant=tenant, as_of=as_of
    )
    return PlatformView(
        slug=platform.tenant,
        name=platform.name,
        city=platform.city,
        started_on=platform.started_on,
        districts=platform.districts,
        themes=platform.themes,
        point_of_contact=platform.point_of_contact,
        version=platform.version,
    )


class Authenticator:
    """Bearer secret -> Actor, from the token's own events (see the module's notes).

    Answers are cached for at most `ttl` seconds, so a revocation takes effect within that
    bound (1 s by default); the cache is keyed by the secret's hash, not the secret.
    """

    def __init__(self, repository: Repository, *, ttl: float = 1.0) -> None:
        self.repository = repository
        self.ttl = ttl
        self._cache: dict[bytes, tuple[float, Actor | None, datetime | None]] = {}
        self._pending: dict[bytes, asyncio.Future[tuple[Actor | None, datetime | None]]] = {}

    async def authenticate(self, secret: str) -> Actor:
        if not secret.startswith(SECRET_PREFIX):
            raise Unauthorized("the bearer token is malformed")
        key = hashlib.sha256(secret.encode()).digest()
        cached = self._cache.get(key)
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            actor, expires_at = await self._refresh(key, secret)
        else:
            _, actor, expires_at = cached
        if actor is None:
            raise Unauthorized("unknown or revoked token")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise Unauthorized("the token has expired")
        return actor

    async def _refresh(self, key: bytes, secret: str) -> tuple[Actor | None, datetime | None]:
        """One lookup per token at a time: the requests that find the answer expired together
        (every second, under load, all of a busy token's requests in flight) share it."""
        pending = self._pending.get(key)
        if pending is None:
            started = time.monotonic()
            pending = asyncio.ensure_future(self._lookup(secret, key.hex()))
            self._pending[key] = pending

            def done(future: asyncio.Future[tuple[Actor | None, datetime | None]]) -> None:
                self._pending.pop(key, None)
                if not future.cancelled() and future.exception() is None:
                    if len(self._cache) > 10_000:
                        self._cache.clear()
                    self._cache[key] = (started, *future.result())

            pending.add_done_callback(done)
        # Shielded: a request that goes away does not cancel the lookup the others wait for.
        return await asyncio.shield(pending)

    async def _lookup(self, secret: str, digest: str) -> tuple[Actor | None, datetime | None]:
        token_id = token_id_of(secret)
        async with self.repository.store.pool.acquire() as conn:
            if token_id is None:
                token_id = await conn.fetchval(
                    "SELECT token_id FROM legacy_token_secrets WHERE secret_hash = $1", digest
                )
                if token_id is None:
                    return None, None
            tenant = await conn.fetchval(
                "SELECT tenant FROM events WHERE stream_id = $1 AND version = 1"
                " AND stream_type = $2",
                token_id,
                AccessToken.STREAM_TYPE,
            )
        if tenant is None:
            return None, None
        token = await self.repository.find(AccessToken, token_id, tenant=tenant)
        if token is None or token.revoked or not hmac.compare_digest(token.secret_hash, digest):
            return None, None
        actor = Actor(
            tenant=token.tenant,
            roles=token.roles,
            party=token.party,
            token_id=token.id,
            label=token.label,
        )
        return actor, token.expires_at


async def ensure_platform_exists(pool: asyncpg.Pool, tenant: str) -> None:
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT 1 FROM platforms WHERE tenant = $1", tenant):
            raise NotFound(f"no platform {tenant!r}")


async def change_platform(
    ctx: CommandContext,
    *,
    name: str | None = None,
    city: str | None = None,
    districts: tuple[Term, ...] | None = None,
    themes: tuple[Term, ...] | None = None,
    check: Callable[[int], None] | None = None,
) -> CommandResult:
    """Rename the platform or change its districts and themes (coordinator)."""
    platform = await ctx.get(Platform, platform_id(ctx.actor.tenant))
    if check is not None:
        check(platform.version)
    at = ctx.now()
    details: dict[str, Any] = {
        k: v for k, v in {"name": name, "city": city}.items() if v is not None
    }
    if details:
        platform.change_details(at=at, **details)
    if districts is not None:
        platform.change_districts(districts, at=at)
    if themes is not None:
        platform.change_themes(themes, at=at)
    positions = await ctx.save(platform)
    return CommandResult(
        id=platform.tenant, version=platform.version, position=positions[-1] if positions else 0
    )


async def reassign_point_of_contact(
    ctx: CommandContext,
    organisation_id: uuid.UUID | None,
    *,
    reason: str,
    check: Callable[[int], None] | None = None,
) -> CommandResult:
    """Make an organisation of this platform (or nobody) its single point of contact."""
    from verbinders.domain.organisations import Organisation

    platform = await ctx.get(Platform, platform_id(ctx.actor.tenant))
    if check is not None:
        check(platform.version)
    if organisation_id is not None:
        organisation = await ctx.get(Organisation, organisation_id)
        if organisation.is_dissolved:
            raise Conflict(f"organisation {organisation.name!r} is dissolved", state="dissolved")
    platform.reassign_point_of_contact(
        organisation_id, reason=reason, decided_by=ctx.actor.name, at=ctx.now()
    )
    [position] = await ctx.save(platform, reason=reason)
    return CommandResult(id=platform.tenant, version=platform.version, position=position)
