"""The live picture across API processes (LISTEN/NOTIFY), resumed with `Last-Event-ID`, and
the board page in a real headless browser (Debian's chromium) seeing a response appear."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import Platform
from tests.api.test_calls import CALL, admitted
from tests.api.test_commands import served
from tests.cli.test_serve_and_commands import free_port, start_serving
from verbinders.runtime import Runtime

pytestmark = pytest.mark.server


@pytest.fixture
async def other_process(database: str, platform: Platform) -> AsyncIterator[str]:
    """`verbinders serve` in a process of its own (it runs the read models and workers)."""
    env = {**os.environ, "VERBINDERS_DATABASE_URL": database, "VERBINDERS_LOG_LEVEL": "WARNING"}
    port = free_port()
    process = await start_serving(env, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await process.wait()


async def pictures(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], wanted: int
) -> AsyncIterator[tuple[str, dict]]:
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        event_id = ""
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                yield event_id, json.loads(line[6:])


async def test_a_response_sent_to_one_api_process_reaches_a_stream_on_another(
    runtime: Runtime, platform: Platform, other_process: str
) -> None:
    await admitted(runtime, platform, platform.party)
    await admitted(runtime, platform, platform.other_party)
    coordinator = platform.auth("coordinator")
    async with (
        served(runtime) as here,
        httpx.AsyncClient(timeout=20) as client,
    ):
        created = await client.post(f"{other_process}/calls", json=CALL, headers=coordinator)
        call_id = created.json()["id"]
        seen: list[tuple[str, dict]] = []

        async def watch() -> None:
            url = f"{here}/calls/{call_id}/picture/stream"
            async for event in pictures(client, url, coordinator, 2):
                seen.append(event)
                if event[1]["responded"] == 1:
                    return

        watching = asyncio.create_task(watch())
        while not seen:
            await asyncio.sleep(0.02)
        assert seen[0][1]["responded"] == 0
        started = time.monotonic()
        answered = await client.put(
            f"{other_process}/calls/{call_id}/responses/{platform.party}",
            json={"available": True, "volunteers": 3},
            headers=platform.auth("organisation"),
        )
        assert answered.status_code == 200
        await asyncio.wait_for(watching, 15)
        assert time.monotonic() - started < 10
        last_id = seen[-1][0]
        assert last_id == str(seen[-1][1]["position"])

        # Resumed on the first process with the last id: nothing until the picture moves on.
        resumed: list[tuple[str, dict]] = []

        async def resume() -> None:
            url = f"{other_process}/calls/{call_id}/picture/stream"
            async for event in pictures(client, url, {**coordinator, "Last-Event-ID": last_id}, 1):
                resumed.append(event)
                return

        resuming = asyncio.create_task(resume())
        await asyncio.sleep(1.0)
        assert resumed == []
        await client.put(
            f"{here}/calls/{call_id}/responses/{platform.other_party}",
            json={"available": False},
            headers={"Authorization": f"Bearer {platform.other_org_token}"},
        )
        await asyncio.wait_for(resuming, 15)
        assert resumed[0][1]["responded"] == 2
        bad = await client.get(
            f"{here}/calls/{call_id}/picture/stream",
            headers={**coordinator, "Last-Event-ID": "yesterday"},
        )
        assert bad.status_code == 422


# -- the board page in a browser ------------------------------------------------------------------


def _chromium() -> tuple[str, str]:
    """Debian's chromium and its driver, installed when missing (CI starts without them)."""
    # The embedded and the server pass run at once (`./dev test`): one installs, the other
    # waits for it instead of failing on apt's lock.
    lock = Path(tempfile.gettempdir()) / "verbinders-chromium-install.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
        if browser is None or driver is None:
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"],
                check=True,
                capture_output=True,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
            browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert browser is not None and driver is not None, "chromium could not be installed"
    return browser, driver


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _chromium()
    profile = tempfile.mkdtemp(prefix="verbinders-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _text_becomes(chrome: object, element: str, value: str, timeout: float = 20.0) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(chrome, timeout).until(
        lambda c: c.find_element(By.ID, element).text == value  # type: ignore[attr-defined]
    )


async def test_the_board_in_a_browser_shows_a_response_after_the_command(
    runtime: Runtime, platform: Platform, other_process: str, browser: object
) -> None:
    await admitted(runtime, platform, platform.party)
    async with httpx.AsyncClient(base_url=other_process, timeout=20) as client:
        created = await client.post("/calls", json=CALL, headers=platform.auth("municipality"))
        call_id = created.json()["id"]
        ticket = await client.post(
            f"/calls/{call_id}/board-tickets", headers=platform.auth("municipality")
        )
        board = ticket.json()["board"]
        await asyncio.to_thread(browser.get, f"{other_process}{board}")  # type: ignore[attr-defined]
        await asyncio.to_thread(_text_becomes, browser, "addressed", "1")
        await asyncio.to_thread(_text_becomes, browser, "responded", "0")
        answered = await client.put(
            f"/calls/{call_id}/responses/{platform.party}",
            json={"available": True, "volunteers": 7, "languages": ["ar"]},
            headers=platform.auth("organisation"),
        )
        assert answered.status_code == 200
        await asyncio.to_thread(_text_becomes, browser, "responded", "1")
        await asyncio.to_thread(_text_becomes, browser, "volunteers", "7")
        # The ticket left the address bar (it stays in the tab's session storage).
        assert "ticket" not in browser.current_url  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            logs = browser.get_log("browser")  # type: ignore[attr-defined]
            assert not [entry for entry in logs if "Content Security Policy" in entry["message"]]
    assert uuid.UUID(call_id)
