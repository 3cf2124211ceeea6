"""Platforms (tenants): creating one with its first coordinator token, reading and changing
it, and its single point of contact.

A platform's districts are its city's: Haarlem's are the default for a platform in Haarlem
only; a platform elsewhere is created with its own (`verbinders platform create --district`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.tokens import IssuedToken, issue_token
from verbinders.domain.access import Role
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.vocabulary import DEFAULT_DISTRICTS, Term
from verbinders.errors import Conflict, InvalidCommand, NotFound

if TYPE_CHECKING:
    from verbinders.application.unit_of_work import UnitOfWork
    from verbinders.runtime import Runtime

__all__ = [
    "MIGRATIONS",
    "CreatedPlatform",
    "PlatformView",
    "change_platform",
    "create_platform",
    "districts_for",
    "ensure_platform_exists",
    "get_platform",
    "reassign_point_of_contact",
]

HAARLEM = "haarlem"

MIGRATIONS: list[tuple[int, str, str]] = [
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
]
"""The tables of platforms and of token lookups (the `access` component)."""


class PlatformView(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    name: str
    city: str
    started_on: date
    districts: tuple[Term, ...]
    themes: tuple[Term, ...]
    point_of_contact: uuid.UUID | None
    version: int


class CreatedPlatform(msgspec.Struct, frozen=True, kw_only=True):
    platform: PlatformView
    token: IssuedToken
    """Its first coordinator token (the secret shown once)."""
    position: int = 0


def _view(platform: Platform) -> PlatformView:
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


def districts_for(city: str, districts: tuple[Term, ...] | None) -> tuple[Term, ...]:
    """The districts given, else Haarlem's for Haarlem; any other city must name its own."""
    if districts:
        return districts
    if city.strip().casefold() == HAARLEM:
        return DEFAULT_DISTRICTS
    raise InvalidCommand(
        f"a platform in {city.strip()!r} needs its city's districts (Haarlem's are the"
        " default for Haarlem only)",
        field="districts",
        rule="required",
    )


@command()
async def create_platform(
    uow: UnitOfWork,
    *,
    name: str,
    city: str,
    started_on: date,
    districts: tuple[Term, ...] | None = None,
    themes: tuple[Term, ...] | None = None,
) -> CreatedPlatform:
    """Record the actor's tenant as a new platform, with its first coordinator token."""
    slug = uow.tenant
    if await uow.find(Platform, platform_id(slug)) is not None:
        raise Conflict(f"platform {slug!r} already exists", state="exists", slug=slug)
    extra: dict[str, Any] = {"districts": districts_for(city, districts)}
    if themes:
        extra["themes"] = themes
    platform = Platform.create(
        tenant=slug, name=name, city=city, started_on=started_on, at=uow.now(), **extra
    )
    uow.save(platform, reason="platform created")
    try:
        await uow.connection.execute(
            "INSERT INTO platforms (tenant, platform_id, name, city) VALUES ($1, $2, $3, $4)",
            slug,
            platform.id,
            platform.name,
            platform.city,
        )
    except asyncpg.UniqueViolationError as error:
        raise Conflict(f"platform {slug!r} already exists", state="exists", slug=slug) from error
    token = await issue_token(
        uow, roles=(Role.COORDINATOR.value,), label=f"first coordinator of {slug}"
    )
    return CreatedPlatform(platform=_view(platform), token=token)


async def get_platform(
    runtime: Runtime, tenant: str, *, as_of: datetime | None = None
) -> PlatformView:
    """The platform now, or as it stood at `as_of` (what had been recorded by then)."""
    platform = await runtime.repository.get(
        Platform, platform_id(tenant), tenant=tenant, as_of=as_of
    )
    return _view(platform)


async def ensure_platform_exists(pool: asyncpg.Pool, tenant: str) -> None:
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT 1 FROM platforms WHERE tenant = $1", tenant):
            raise NotFound(f"no platform {tenant!r}")


@command(writes_once=True)
async def change_platform(
    uow: UnitOfWork,
    *,
    name: str | None = None,
    city: str | None = None,
    districts: tuple[Term, ...] | None = None,
    themes: tuple[Term, ...] | None = None,
) -> CommandResult:
    """Rename the platform or change its districts and themes (coordinator)."""
    platform = await uow.target(Platform, platform_id(uow.tenant))
    at = uow.now()
    details: dict[str, Any] = {
        k: v for k, v in {"name": name, "city": city}.items() if v is not None
    }
    if details:
        platform.change_details(at=at, **details)
    if districts is not None:
        platform.change_districts(districts, at=at)
    if themes is not None:
        platform.change_themes(themes, at=at)
    return CommandResult.of(platform, id=platform.tenant)


@command(writes_once=True)
async def reassign_point_of_contact(
    uow: UnitOfWork, organisation_id: uuid.UUID | None, *, reason: str
) -> CommandResult:
    """Make an organisation of this platform (or nobody) its single point of contact."""
    if organisation_id is not None:
        await uow.preload((Platform, platform_id(uow.tenant)), (Organisation, organisation_id))
    platform = await uow.target(Platform, platform_id(uow.tenant))
    if organisation_id is not None:
        organisation = await uow.get(Organisation, organisation_id)
        if organisation.is_dissolved:
            raise Conflict(f"organisation {organisation.name!r} is dissolved", state="dissolved")
    platform.reassign_point_of_contact(
        organisation_id, reason=reason, decided_by=uow.actor.name, at=uow.now()
    )
    uow.save(reason=reason)
    return CommandResult.of(platform, id=platform.tenant)
