"""`verbinders status`: how far the feed can be read, what holds it back, each projection's lag."""

from __future__ import annotations

import sys

import click

from verbinders.cli import load_settings, run_async
from verbinders.runtime import open_runtime
from verbinders.store.events import FeedStatus
from verbinders.store.health import feed_problems, lag_behind

__all__ = ["register"]


@click.command("status")
@click.option(
    "--max-lag",
    type=click.IntRange(min=0),
    default=None,
    help=(
        "Exit 1 if an active projection or a policy lags more than this many positions behind"
        " the last allocated one, or the feed cannot be read (for health checks)."
    ),
)
def status_command(max_lag: int | None) -> None:
    """Show how far the feed can be read, what holds it back, and each projection's lag.

    A projection's lag counts from the last allocated position: events that a transaction in
    flight keeps from every reader count as lag too.
    """

    @run_async
    async def body() -> int:
        settings = load_settings()
        async with open_runtime(settings, min_size=1, max_size=2) as runtime:
            feed = await runtime.store.feed_status()
            projections = await runtime.runner.status()
            policies = await runtime.policies.status()
        _echo_feed(feed)
        positions: dict[str, int] = {}
        for p in projections:
            lag = lag_behind(feed, p.position)
            click.echo(
                f"projection {p.name} v{p.version} ({p.state}, {p.schema_name}):"
                f" at {p.position}, lag {lag}"
            )
            if p.state == "active":
                positions[f"projection {p.name}"] = p.position
            for fault in p.faults:
                click.echo(f"  fault: {fault.describe()}")
        if not projections:
            click.echo("no projection has run yet")
        for q in policies:
            lag = lag_behind(feed, q.position)
            click.echo(f"policy {q.name}: at {q.position}, lag {lag}")
            positions[f"policy {q.name}"] = q.position
        if not policies:
            click.echo("no policy has run yet")
        if max_lag is None:
            return 0
        problems = feed_problems(
            feed, positions, max_lag=max_lag, max_held_s=settings.ready_max_held_s
        )
        if feed.withheld > max_lag:
            problems.append(f"{feed.withheld} positions are withheld (more than {max_lag})")
        problems += [fault.describe() for p in projections for fault in p.faults]
        for problem in problems:
            click.echo(f"not healthy: {problem}", err=True)
        return 1 if problems else 0

    sys.exit(body())


def _echo_feed(feed: FeedStatus) -> None:
    """How far the feed can be read, and what holds it back."""
    click.echo(
        f"feed: readable up to position {feed.horizon}, allocated {feed.allocated}"
        f" ({feed.withheld} withheld)"
    )
    if feed.unsafe is not None:
        click.echo(f"  cannot be read here: {feed.unsafe}")
    holder = feed.holder()
    if holder is not None:
        verb = "held at" if feed.held else "in flight from"
        click.echo(f"  {verb} position {feed.horizon} by {holder}")
        if feed.holders > 1:
            click.echo(f"  ({feed.holders} transactions in flight hold the feed)")


def register(main: click.Group) -> None:
    main.add_command(status_command)
