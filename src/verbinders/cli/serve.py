"""`verbinders serve`: the HTTP API with the projections in-process."""

from __future__ import annotations

import dataclasses

import click

from verbinders.cli import load_settings

__all__ = ["register"]


@click.command("serve")
@click.option("--host", help="Address to listen on [default: VERBINDERS_HOST or 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [default: VERBINDERS_PORT or 8000].")
def serve_command(host: str | None, port: int | None) -> None:
    """Serve the API (embedded PostgreSQL unless VERBINDERS_DATABASE_URL is set).

    Stops cleanly on Ctrl-C or SIGTERM: requests in flight finish, the projections stop after
    their current batch, and the embedded database shuts down.
    """
    import uvicorn

    from verbinders.api.app import create_app

    settings = load_settings()
    if host is not None:
        settings = dataclasses.replace(settings, host=host)
    if port is not None:
        settings = dataclasses.replace(settings, port=port)
    where = settings.database_url or f"embedded PostgreSQL in {settings.data_dir}"
    click.echo(
        f"Verbinders on http://{settings.host}:{settings.port} (API docs at /schema);"
        f" data: {where}",
        err=True,
    )
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise click.ClickException("the server did not start (see the log above)")


def register(main: click.Group) -> None:
    main.add_command(serve_command)
