"""`verbinders audit`: seal, verify (exit 1 naming the first altered event), export a trail
that verifies offline."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
import msgspec
import pytest
from click.testing import CliRunner

from tests.funding_support import funding, submitted, verify_offline
from tests.platforms import make_platform
from verbinders.application.authentication import Authenticator
from verbinders.cli import main
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.runtime import runtime_on
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server


@pytest.fixture
def env(database: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("VERBINDERS_DATABASE_URL", database)
    monkeypatch.setenv("VERBINDERS_LOG_LEVEL", "WARNING")
    return {**os.environ, "VERBINDERS_DATABASE_URL": database}


async def run(*args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


async def test_seal_and_verify_name_the_first_altered_event(
    env: dict[str, str], store: EventStore, pool: asyncpg.Pool
) -> None:
    stream = uuid.uuid4()
    events = [
        NewEvent(
            stream_id=stream,
            stream_type="Thing",
            version=i + 1,
            topic="t:Happened",
            payload=msgspec.json.encode({"i": i, "text": 'één \u2028 "quoted"\n\\'}),
        )
        for i in range(5)
    ]
    await store.append(events, expected={stream: 0}, metadata=Metadata(tenant="haarlem"))
    code, out, _ = await run("audit", "seal")
    assert code == 0 and out.startswith("seal 1: positions 1-5, 5 events"), out
    code, out, _ = await run("audit", "seal")
    assert code == 0 and "nothing to seal" in out
    code, out, _ = await run("audit", "verify")
    assert code == 0 and "verified 5 events in 1 streams and 1 seals" in out and "intact" in out
    code, out, _ = await run("audit", "verify", "--tenant", "elsewhere")
    assert code == 0 and "verified 0 events" in out

    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
        await conn.execute(
            "UPDATE events SET payload = '{\"i\": 99}' WHERE stream_id = $1 AND version = 3",
            stream,
        )
        await conn.execute("ALTER TABLE events ENABLE TRIGGER USER")
    code, out, _ = await run("audit", "verify")
    assert code == 1
    assert f"ALTERED: first at position 3, stream {stream} version 3: stored hash" in out


async def test_export_writes_an_applications_trail_that_verifies_offline(
    env: dict[str, str], database: str, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    async with runtime_on(
        Settings(snapshot_every=0), Database(pool=pool, dsn=database, embedded=False)
    ) as runtime:
        platform = await make_platform(runtime, "haarlem")
        authenticator = Authenticator(runtime.pipeline)
        fund = await authenticator.authenticate(platform.tokens["fund"])
        applicant = await authenticator.authenticate(platform.tokens["organisation"])
        f = await funding(runtime, fund, platform)
        app_id = await submitted(runtime, applicant, f.round_id)
    assert (await run("audit", "seal"))[0] == 0
    target = tmp_path / "trail.json"
    code, out, err = await run("audit", "export", "--application", str(app_id), "-o", str(target))
    assert code == 0, err
    assert out.startswith(f"wrote {target}:")
    trail = msgspec.json.decode(target.read_bytes())
    assert trail["subject"]["application_id"] == str(app_id)
    result = verify_offline(target)
    assert result.returncode == 0 and "intact" in result.stdout, result.stdout
    code, _, err = await run("audit", "export", "--application", "nope", "-o", str(target))
    assert code == 1 and "not a UUID" in err
    code, _, err = await run(
        "audit", "export", "--application", str(uuid.uuid4()), "-o", str(target)
    )
    assert code == 2 and "no application" in err
