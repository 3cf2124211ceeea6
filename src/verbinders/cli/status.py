"""`verbinders status`: the feed's horizon and every projection's lag."""

from __future__ import annotations

import sys

import click

from verbinders.cli import load_settings, run_async
from verbinders.runtime import open_runtime

__all__ = ["register"]


@click.command("status")
@click.option(
    "--max-lag",
    type=int,
    default=None,
    help="Exit 1 if a projection or policy lags more than this many positions (health checks).",
)
def status_command(max_lag: int | None) -> None:
    """Show how far the feed can be read and how far each projection has come."""

    @run_async
    async def body() -> int:
        async with open_runtime(load_settings(), min_size=1, max_size=2) as runtime:
            feed = await runtime.store.feed_status()
            projections = await runtime.runner.status()
            policies = await runtime.policies.status()
        click.echo(f"feed: readable up to position {feed.horizon}, allocated {feed.allocated}")
        if feed.held_by_pid is not None and feed.horizon < feed.allocated:
            click.echo(
                f"  held back by an open append in backend {feed.held_by_pid}"
                f" since {feed.held_since}"
            )
        worst = 0
        for p in projections:
            click.echo(
                f"projection {p.name} v{p.version} ({p.state}, {p.schema_name}):"
                f" at {p.position}, lag {p.lag}"
            )
            worst = max(worst, p.lag)
        if not projections:
            click.echo("no projection has run yet")
        for q in policies:
            click.echo(f"policy {q.name}: at {q.position}, lag {q.lag}")
            worst = max(worst, q.lag)
        return 1 if max_lag is not None and worst > max_lag else 0

    sys.exit(body())


def register(main: click.Group) -> None:
    main.add_command(status_command)
