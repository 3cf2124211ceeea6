"""The `verbinders` command as an operator uses it, against the test database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

import httpx
import pytest
from click.testing import CliRunner

from verbinders.cli import main

pytestmark = pytest.mark.server


@pytest.fixture
def env(database: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("VERBINDERS_DATABASE_URL", database)
    monkeypatch.setenv("VERBINDERS_LOG_LEVEL", "WARNING")
    return {**os.environ, "VERBINDERS_DATABASE_URL": database, "VERBINDERS_LOG_LEVEL": "WARNING"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_serving(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "verbinders", "serve", "--port", str(port), env=env
    )
    async with httpx.AsyncClient() as client:
        for _ in range(600):  # 30 s: a busy machine starts Python slowly
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"http://127.0.0.1:{port}/health/ready")).status_code == 200:
                    return process
            await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("verbinders serve did not become ready")


async def test_platform_tokens_and_serve_survive_a_restart(env: dict[str, str]) -> None:
    code, out, _ = await asyncio.to_thread(
        run,
        "platform",
        "create",
        "--slug",
        "haarlem",
        "--name",
        "Haarlemse Verbinders",
        "--city",
        "Haarlem",
        "--started-on",
        "2019-12-01",
    )
    assert code == 0, out
    coordinator = out.strip().splitlines()[-1]
    assert coordinator.startswith("vb_")
    code, out, _ = await asyncio.to_thread(
        run, "token", "create", "--tenant", "haarlem", "--role", "analyst", "--label", "research"
    )
    assert code == 0
    analyst = out.strip().splitlines()[-1]
    code, out, _ = await asyncio.to_thread(run, "token", "list", "--tenant", "haarlem")
    assert "research" in out and analyst not in out

    port = free_port()
    process = await start_serving(env, port)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        me = await client.get("/me", headers={"Authorization": f"Bearer {analyst}"})
        assert me.json()["roles"] == ["analyst"]
        issued = await client.post(
            "/tokens",
            json={"roles": ["auditor"]},
            headers={"Authorization": f"Bearer {coordinator}"},
        )
        assert issued.status_code == 201
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 20) == 0

    process = await start_serving(env, port)
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            page = await client.get("/events", headers={"Authorization": f"Bearer {analyst}"})
            topics = [e["topic"].rsplit(".", 1)[-1] for e in page.json()["events"]]
            assert topics.count("issued") == 3
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 20) == 0


async def test_bad_configuration_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBINDERS_PORT", "eighty")
    result = await asyncio.to_thread(lambda: CliRunner().invoke(main, ["status"]))
    assert result.exit_code != 0
    assert "VERBINDERS_PORT" in result.output
