"""`verbinders platform create` and `verbinders token create|revoke|list`.

Every command here runs through the same pipeline as the HTTP API (`runtime.pipeline`), as
the platform's operator (`Actor.operator`), so the same rules apply.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import click

from verbinders.application.context import Actor
from verbinders.application.platforms import create_platform, ensure_platform_exists
from verbinders.application.tokens import issue_token, list_tokens, revoke_token
from verbinders.cli import load_settings, run_async
from verbinders.domain.access import Role
from verbinders.domain.vocabulary import Term
from verbinders.errors import InvalidCommand
from verbinders.runtime import open_runtime

__all__ = ["register"]

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _parse_time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidCommand(f"--{field} {value!r} is not an ISO 8601 time", field=field) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _term(value: str) -> Term:
    """`code=Label` (or a bare label, whose code is its lower-cased, hyphenated form)."""
    code, equals, label = value.partition("=")
    if not equals:
        label, code = value, "-".join(value.lower().split())
    return Term(code=code.strip(), label=label.strip())


def parse_districts(given: tuple[str, ...], file: Path | None) -> tuple[Term, ...] | None:
    """`--district` values, then the lines of `--districts-file` (blank lines and lines
    starting with # skipped); None when neither was given."""
    values = list(given)
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise InvalidCommand(
                f"--districts-file {str(file)!r} cannot be read: {error.strerror}",
                field="districts-file",
            ) from error
        values += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return tuple(_term(value) for value in values) or None


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
@click.option(
    "--district",
    "districts",
    multiple=True,
    help="One of the city's districts, as code=Label (repeat for each) [default for"
    " --city Haarlem: Haarlem's districts].",
)
@click.option(
    "--districts-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A file with one district (code=Label) per line.",
)
def platform_create(
    slug: str,
    name: str,
    city: str,
    started_on: datetime | None,
    districts: tuple[str, ...],
    districts_file: Path | None,
) -> None:
    """Create a platform and print its first coordinator token (shown once)."""

    @run_async
    async def body() -> None:
        operator = Actor.operator(slug)  # checks the slug before anything is opened
        terms = parse_districts(districts, districts_file)
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            created = await runtime.pipeline.run(
                create_platform,
                operator,
                name=name,
                city=city,
                started_on=started_on.date() if started_on else date.today(),
                districts=terms,
            )
        platform = created.platform
        click.echo(f"created platform {platform.slug!r} ({platform.name}, {platform.city})")
        click.echo(f"districts: {', '.join(d.label for d in platform.districts)}")
        click.echo("first coordinator token (shown once, keep it safe):")
        click.echo(created.token.token)

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
        operator = Actor.operator(tenant)
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            await ensure_platform_exists(runtime.pool, tenant)
            issued = await runtime.pipeline.run(
                issue_token,
                operator,
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
        operator = Actor.operator(tenant)
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            await runtime.pipeline.run(revoke_token, operator, token_id, reason=reason)
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
