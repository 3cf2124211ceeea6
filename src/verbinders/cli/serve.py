"""`verbinders serve`: the HTTP API with the projections and policies in-process.

The HTTP layer (uvicorn, Litestar, `verbinders.api`) is imported only when `serve` runs, so
that the other commands, and `verbinders project` above all, load none of it."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

import click

from verbinders.cli import load_settings

if TYPE_CHECKING:
    from types import FrameType

    import uvicorn

    from verbinders.config import Settings

__all__ = ["register"]


def graceful_server(config: uvicorn.Config, stopping: asyncio.Event) -> uvicorn.Server:
    """uvicorn, but a signal ends it cleanly (exit code 0) and first tells the app, so that
    open live streams end at once instead of holding the shutdown until its timeout."""
    import uvicorn

    class GracefulServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True
            stopping.set()

    return GracefulServer(config)


@click.command("serve")
@click.option("--host", help="Address to listen on [default: VERBINDERS_HOST or 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [default: VERBINDERS_PORT or 8000].")
@click.option("--demo", is_flag=True, help="First load the demo Haarlem platform (idempotent).")
def serve_command(host: str | None, port: int | None, demo: bool) -> None:
    """Serve the API (embedded PostgreSQL unless VERBINDERS_DATABASE_URL is set).

    Stops cleanly on Ctrl-C or SIGTERM: requests in flight finish, live streams end, the
    projections stop after their current batch, and the embedded database shuts down.
    """
    import uvicorn

    from verbinders.api.app import create_app

    settings = load_settings()
    if host is not None:
        settings = dataclasses.replace(settings, host=host)
    if port is not None:
        settings = dataclasses.replace(settings, port=port)
    if demo:
        _load_demo(settings)
    where = settings.database_url or f"embedded PostgreSQL in {settings.data_dir}"
    click.echo(
        f"Verbinders on http://{settings.host}:{settings.port} (API docs at /schema);"
        f" data: {where}",
        err=True,
    )
    stopping = asyncio.Event()
    config = uvicorn.Config(
        create_app(settings, stopping=stopping),
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's records go through the product's one log format
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    server = graceful_server(config, stopping)
    server.run()
    if not server.started:
        raise click.ClickException("the server did not start (see the log above)")


def _load_demo(settings: Settings) -> None:
    from verbinders.cli import run_async
    from verbinders.cli.demo import explain
    from verbinders.demo import load_demo
    from verbinders.runtime import open_runtime

    @run_async
    async def body() -> None:
        async with open_runtime(settings, min_size=1, max_size=4) as runtime:
            result = await load_demo(runtime)
        click.echo(explain(result.token, f"http://{settings.host}:{settings.port}", result.created))

    body()


def register(main: click.Group) -> None:
    main.add_command(serve_command)
