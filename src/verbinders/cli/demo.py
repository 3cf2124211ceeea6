"""`verbinders demo`: load the demo Haarlem platform and say how to explore it."""

from __future__ import annotations

import click

from verbinders.cli import load_settings, run_async

__all__ = ["explain", "register"]


def explain(token: str, base: str, created: dict[str, int]) -> str:
    made = ", ".join(f"{n} {what}" for what, n in created.items() if n) or "nothing new"
    return f"""
Demo platform 'demo-haarlem' (De Haarlemse Verbinders) is ready ({made} added this time).

A coordinator token for it (shown once; each demo run issues a new one):
  {token}

Try:
  curl -s -H "Authorization: Bearer {token}" "{base}/strengths?q=tolken"
  curl -s -H "Authorization: Bearer {token}" "{base}/organisations?q=ouderen&district=noord"
  curl -s -H "Authorization: Bearer {token}" "{base}/strengths?kind=venue&district=schalkwijk"
  curl -s -H "Authorization: Bearer {token}" "{base}/organisations?membership=member&theme=women"
  curl -s -H "Authorization: Bearer {token}" "{base}/reports/membership-growth"
  curl -s -H "Authorization: Bearer {token}" "{base}/meetings?when=past&limit=5"
  curl -s -H "Authorization: Bearer {token}" "{base}/membership?effective_at=2021-03-01T00:00:00Z"
API docs: {base}/schema
"""


@click.command("demo")
def demo_command() -> None:
    """Load a fictional Haarlem platform (idempotent) and print a token to explore it."""
    from verbinders.demo import load_demo
    from verbinders.runtime import open_runtime

    @run_async
    async def body() -> None:
        settings = load_settings()
        async with open_runtime(settings, min_size=1, max_size=4) as runtime:
            result = await load_demo(runtime)
        click.echo(explain(result.token, f"http://{settings.host}:{settings.port}", result.created))

    body()


def register(main: click.Group) -> None:
    main.add_command(demo_command)
