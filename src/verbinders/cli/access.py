"""`verbinders platform create` and `verbinders token create|revoke|list`."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import click

from verbinders.application.access import (
    create_platform,
    ensure_platform_exists,
    issue_token,
    list_tokens,
    revoke_token,
)
from verbinders.application.context import Actor, CommandContext
from verbinders.cli import load_settings, run_async
from verbinders.domain.access import Role
from verbinders.errors import InvalidCommand
from verbinders.runtime import Runtime, open_runtime

__all__ = ["register"]

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _operator_context(runtime: Runtime, conn: object, tenant: str) -> CommandContext:
    actor = Actor(tenant=tenant, roles=(Role.COORDINATOR.value,), label="cli")
    return CommandContext(repository=runtime.repository, connection=conn, actor=actor)  # type: ignore[arg-type]


def _parse_time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidCommand(f"--{field} {value!r} is not an ISO 8601 time", field=field) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group("platform")
def platform_group() -> None:
    """Platforms (one city's platform is one tenant)."""


@platform_group.command("create")
@click.option("--slug", required=True, help="Short id of the platform, e.g. haarlem.")
@click.option("--name", required=True, help='e.g. "Haarlemse Verbinders".')
@click.option("--city", required=True)
@click.option(
    "--started-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date the platform started [default: today].",
)
def platform_create(slug: str, name: str, city: str, started_on: datetime | None) -> None:
    """Create a platform and print its first coordinator token (shown once)."""

    @run_async
    async def body() -> None:
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            platform, token = await create_platform(
                runtime,
                slug=slug,
                name=name,
                city=city,
                started_on=started_on.date() if started_on else date.today(),
            )
        click.echo(f"created platform {platform.tenant!r} ({platform.name}, {platform.city})")
        click.echo("first coordinator token (shown once, keep it safe):")
        click.echo(token.token)

    body()


@click.group("token")
def token_group() -> None:
    """Access tokens of a platform."""


@token_group.command("create")
@click.option("--tenant", required=True, help="The platform's slug.")
@click.option("--role", "roles", type=ROLE_CHOICE, multiple=True, required=True)
@click.option("--party", type=click.UUID, help="The organisation the token acts for.")
@click.option("--label", default="", help="What the token is for.")
@click.option("--expires-at", help="ISO 8601 time after which the token stops working.")
@click.option("--reason", default="", help="Why access is granted (recorded).")
def token_create(
    tenant: str,
    roles: tuple[str, ...],
    party: uuid.UUID | None,
    label: str,
    expires_at: str | None,
    reason: str,
) -> None:
    """Issue a token and print its secret (shown once)."""

    @run_async
    async def body() -> None:
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            await ensure_platform_exists(runtime.pool, tenant)
            async with runtime.store.transaction() as conn:
                issued = await issue_token(
                    _operator_context(runtime, conn, tenant),
                    roles=roles,
                    label=label or f"{'/'.join(roles)} token",
                    party=party,
                    expires_at=_parse_time(expires_at, "expires-at"),
                    reason=reason or "issued at the command line",
                )
        click.echo(f"token {issued.id} ({', '.join(issued.roles)}):", err=True)
        click.echo(issued.token)

    body()


@token_group.command("revoke")
@click.argument("token_id", type=click.UUID)
@click.option("--tenant", required=True)
@click.option("--reason", required=True, help="Why access ends (recorded).")
def token_revoke(token_id: uuid.UUID, tenant: str, reason: str) -> None:
    """Revoke a token at once."""

    @run_async
    async def body() -> None:
        async with (
            open_runtime(load_settings(), min_size=1, max_size=2) as runtime,
            runtime.store.transaction() as conn,
        ):
            ctx = _operator_context(runtime, conn, tenant)
            await revoke_token(ctx, token_id, reason=reason)
        click.echo(f"revoked token {token_id}")

    body()


@token_group.command("list")
@click.option("--tenant", required=True)
def token_list(tenant: str) -> None:
    """List a platform's tokens (never their secrets)."""

    @run_async
    async def body() -> None:
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            await ensure_platform_exists(runtime.pool, tenant)
            await runtime.runner.catch_up("tokens")
            tokens = await list_tokens(runtime.pool, tenant)
        for t in tokens:
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            expiry = f", expires {t.expires_at:%Y-%m-%d}" if t.expires_at else ""
            party = f" for {t.party}" if t.party else ""
            click.echo(f"{t.id}  {','.join(t.roles)}{party}  {t.label!r}  {state}{expiry}")

    body()


def register(main: click.Group) -> None:
    main.add_command(platform_group)
    main.add_command(token_group)
