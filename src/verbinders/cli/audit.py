"""`verbinders audit`: verify the store's hash chains and seals, seal now, export a trail.

`verify` exits 1 when anything was altered and names the first altered place (stream,
version, position, what differs); `seal` writes a seal over the events committed since the last
one; `export --application ID -o FILE` writes a funding application's trail (docs/audit.md),
which `tools/verify_trail.py` verifies offline.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from uuid import UUID

import click
import msgspec

from verbinders.cli import load_settings, run_async
from verbinders.errors import InvalidCommand

__all__ = ["register"]


@click.group("audit")
def audit_group() -> None:
    """Tamper evidence: verify chains and seals, seal the feed, export a trail."""


@audit_group.command("verify")
@click.option("--tenant", default=None, help="Only this tenant's events (seals: all of them).")
@click.option("--all", "show_all", is_flag=True, help="List every finding, not only the first.")
def verify_command(tenant: str | None, show_all: bool) -> None:
    """Recompute every event's hash and every seal; exit 1 naming the first altered event."""

    @run_async
    async def body() -> int:
        from verbinders.audit.verify import verify
        from verbinders.runtime import open_runtime

        async with (
            open_runtime(load_settings(), min_size=1, max_size=2) as runtime,
            runtime.pool.acquire() as conn,
        ):
            result = await verify(conn, tenant=tenant)
        rate = result.events / result.seconds if result.seconds else 0.0
        click.echo(
            f"verified {result.events} events in {result.streams} streams and {result.seals}"
            f" seals (sealed up to position {result.sealed_up_to}) in {result.seconds:.2f} s"
            f" ({rate:,.0f} events/s)"
        )
        if result.intact:
            click.echo("intact")
            return 0
        first = result.findings[0]
        click.echo(f"ALTERED: first at {first.describe()}")
        others = result.findings[1:] if show_all else []
        for finding in others:
            click.echo(f"  also at {finding.describe()}")
        if len(result.findings) > 1 and not show_all:
            click.echo(f"  ({len(result.findings) - 1} more findings; --all lists them)")
        return 1

    sys.exit(body())


@audit_group.command("seal")
def seal_command() -> None:
    """Seal the events committed since the last seal (a Merkle root, chained)."""

    @run_async
    async def body() -> None:
        from verbinders.audit.seals import seal
        from verbinders.runtime import open_runtime

        async with (
            open_runtime(load_settings(), min_size=1, max_size=2) as runtime,
            runtime.pool.acquire() as conn,
        ):
            sealed = await seal(conn)
        if sealed is None:
            click.echo("nothing to seal: no event committed since the last seal")
        else:
            click.echo(
                f"seal {sealed.number}: positions {sealed.after_position + 1}-"
                f"{sealed.up_to_position}, {sealed.events} events, hash {sealed.hash.hex()}"
            )

    body()


@audit_group.command("export")
@click.option("--application", "application", required=True, help="A funding application's id.")
@click.option("--tenant", default=None, help="Its platform (default: found from the id).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(application: str, tenant: str | None, output: Path) -> None:
    """Write a funding application's trail with hashes, seals and proofs (JSON)."""
    try:
        application_id = UUID(application)
    except ValueError:
        raise click.ClickException(f"--application {application!r} is not a UUID") from None

    @run_async
    async def body() -> None:
        from verbinders.application.funding_trail import application_trail
        from verbinders.runtime import open_runtime

        async with (
            open_runtime(load_settings(), min_size=1, max_size=2) as runtime,
            runtime.pool.acquire() as conn,
        ):
            found = tenant or await conn.fetchval(
                "SELECT tenant FROM events WHERE stream_id = $1 AND version = 1",
                application_id,
            )
            if found is None:
                raise InvalidCommand(f"no application {application_id}", field="application")
            trail = await application_trail(conn, application_id, tenant=found)
        await asyncio.to_thread(output.write_bytes, msgspec.json.encode(trail))
        click.echo(
            f"wrote {output}: {len(trail['events'])} events, {len(trail['proofs'])} proofs,"
            f" {len(trail['seals'])} seals"
        )

    body()


def register(main: click.Group) -> None:
    main.add_command(audit_group)
