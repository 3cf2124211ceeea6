"""The app served over loopback HTTP from the test's own event loop (for tools that speak
HTTP: schemathesis, generated clients), on the test database and runtime."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from verbinders.api.app import app_state, create_app
from verbinders.config import Settings
from verbinders.runtime import Runtime
from verbinders.workers import prepare_workers, run_workers

__all__ = ["served"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def served(runtime: Runtime, settings: Settings) -> AsyncIterator[str]:
    """Serve the app on 127.0.0.1 with the projections running; yields its base URL."""
    app = create_app(settings, runtime=runtime)
    app.state.verbinders = app_state(runtime, settings)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    stop = asyncio.Event()
    await prepare_workers(runtime)
    workers = asyncio.create_task(run_workers(runtime, stop))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        stop.set()
        await workers
