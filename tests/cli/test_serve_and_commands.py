"""The `verbinders` command as an operator uses it, against the test database."""

from __future__ import annotations

import asyncio
import contextlib
import json
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
        for _ in range(200):
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
            assert topics.count("Issued") == 3
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 20) == 0


async def test_export_writes_the_feed_as_ndjson(env: dict[str, str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    for slug in ("haarlem", "zaanstad"):
        code, _, _ = await asyncio.to_thread(
            run, "platform", "create", "--slug", slug, "--name", slug, "--city", slug
        )
        assert code == 0
    target = tmp_path / "events.ndjson"
    code, _, err = await asyncio.to_thread(run, "export", "events", "-o", str(target))
    assert code == 0
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == 4
    assert [e["position"] for e in lines] == sorted(e["position"] for e in lines)
    assert "exported 4 events" in err
    code, out, _ = await asyncio.to_thread(run, "export", "events", "--tenant", "zaanstad")
    assert {json.loads(line)["tenant"] for line in out.splitlines()} == {"zaanstad"}
    code, out, _ = await asyncio.to_thread(
        run, "export", "events", "--after", str(lines[1]["position"])
    )
    assert len(out.splitlines()) == 2
    code, out, _ = await asyncio.to_thread(
        run, "export", "events", "--until", str(lines[0]["position"])
    )
    assert len(out.splitlines()) == 1


async def test_replay_rebuilds_and_builds_history(env: dict[str, str]) -> None:
    await asyncio.to_thread(
        run, "platform", "create", "--slug", "haarlem", "--name", "H", "--city", "Haarlem"
    )
    code, out, _ = await asyncio.to_thread(run, "replay", "activity")
    assert code == 0, out
    assert "rebuilt activity" in out
    code, out, _ = await asyncio.to_thread(run, "replay", "activity", "--until", "1")
    assert code == 0
    assert "as of position 1" in out
    code, _, err = await asyncio.to_thread(run, "replay", "activity", "--until", "yesterday")
    assert code == 2
    assert "neither a position nor an ISO 8601 time" in err
    code, _, err = await asyncio.to_thread(run, "replay", "nothing")
    assert code == 1
    assert "no projection 'nothing'" in err


async def test_bad_configuration_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBINDERS_PORT", "eighty")
    result = await asyncio.to_thread(lambda: CliRunner().invoke(main, ["status"]))
    assert result.exit_code != 0
    assert "VERBINDERS_PORT" in result.output
