"""Platforms (tenants) and access tokens, with the tables that authenticate requests.

`platforms` and `access_tokens` are read models kept in the same transaction as the events
that change them, so a new token works, and a revoked one stops working, at once.
"""

from __future__ import annotations

import hashlib
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
from verbinders.store.events import Companion
from verbinders.store.schema import register_migrations

if TYPE_CHECKING:
    import asyncpg

    from verbinders.runtime import Runtime

__all__ = [
    "Authenticator",
    "IssuedToken",
    "TokenView",
    "create_platform",
    "get_platform",
    "hash_secret",
    "issue_token",
    "list_tokens",
    "revoke_token",
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
    ],
)

SECRET_PREFIX = "vb_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


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


def _token_row(token: AccessToken) -> Companion:
    """The token's row, written in the statement that appends its event (it works at once)."""
    return Companion(
        "INSERT INTO access_tokens (token_id, tenant, party, roles, label, secret_hash,"
        " expires_at, issued_by)"
        " SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT FROM appended)",
        (
            token.id,
            token.tenant,
            token.party,
            list(token.roles),
            token.label,
            token.secret_hash,
            token.expires_at,
            token.issued_by,
        ),
    )


async def issue_token(
    ctx: CommandContext,
    *,
    roles: tuple[str, ...],
    label: str,
    party: uuid.UUID | None = None,
    expires_at: datetime | None = None,
    reason: str = "",
) -> IssuedToken:
    secret = new_secret()
    token = AccessToken.issue(
        token_id=uuid.uuid4(),
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
    [position] = await ctx.save(token, reason=reason or None, also=_token_row(token))
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
    [position] = await ctx.save(
        token,
        reason=reason,
        also=Companion(
            "UPDATE access_tokens SET revoked_at = now(), revoked_by = $2"
            " WHERE token_id = $1 AND EXISTS (SELECT FROM appended)",
            (token_id, ctx.actor.name),
        ),
    )
    return CommandResult(id=str(token_id), version=token.version, position=position)


async def list_tokens(pool: asyncpg.Pool, tenant: str) -> list[TokenView]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT token_id, party, roles, label, issued_at, issued_by, expires_at,"
            " revoked_at, revoked_by FROM access_tokens WHERE tenant = $1 ORDER BY issued_at",
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


async def get_platform(runtime: Runtime, tenant: str) -> PlatformView:
    platform = await runtime.repository.get(Platform, platform_id(tenant), tenant=tenant)
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
    """Bearer secret -> Actor. Answers from the `access_tokens` table, cached at most
    `ttl` seconds, so a revocation takes effect within that bound (1 s by default)."""

    def __init__(self, pool: asyncpg.Pool, *, ttl: float = 1.0) -> None:
        self.pool = pool
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Actor | None, datetime | None]] = {}

    async def authenticate(self, secret: str) -> Actor:
        if not secret.startswith(SECRET_PREFIX):
            raise Unauthorized("the bearer token is malformed")
        digest = hash_secret(secret)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or now - cached[0] > self.ttl:
            actor, expires_at = await self._lookup(digest)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, actor, expires_at)
        else:
            _, actor, expires_at = cached
        if actor is None:
            raise Unauthorized("unknown or revoked token")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise Unauthorized("the token has expired")
        return actor

    async def _lookup(self, digest: str) -> tuple[Actor | None, datetime | None]:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT token_id, tenant, party, roles, label, expires_at FROM access_tokens"
                " WHERE secret_hash = $1 AND revoked_at IS NULL",
                digest,
            )
        if row is None:
            return None, None
        actor = Actor(
            tenant=row["tenant"],
            roles=tuple(row["roles"]),
            party=row["party"],
            token_id=row["token_id"],
            label=row["label"],
        )
        return actor, row["expires_at"]


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
    details: dict[str, Any] = {k: v for k, v in {"name": name, "city": city}.items() if v}
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
