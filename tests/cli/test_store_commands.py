"""`verbinders export events`, `verbinders replay` and `verbinders project` against the test
database, as an operator or analyst runs them."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import asyncpg
import msgspec
import pytest
from click.testing import CliRunner

from tests.projections.ledger import leader_pids
from verbinders.cli import main
from verbinders.projections.activity import ActivityProjection
from verbinders.projections.engine import replay, wait_for_projection
from verbinders.store.events import Metadata, NewEvent, RecordedEvent
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server


@pytest.fixture
def env(database: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("VERBINDERS_DATABASE_URL", database)
    monkeypatch.setenv("VERBINDERS_LOG_LEVEL", "WARNING")
    return {**os.environ, "VERBINDERS_DATABASE_URL": database, "VERBINDERS_LOG_LEVEL": "WARNING"}


async def run(*args: str) -> tuple[int, str, str]:
    """The command in a thread (it runs its own event loop), as `verbinders ARGS`."""
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


async def append(store: EventStore, tenant: str, n: int, topic: str = "t:Happened") -> list[int]:
    stream = uuid.uuid4()
    events = [
        NewEvent(
            stream_id=stream,
            stream_type="Thing",
            version=i + 1,
            topic=topic,
            payload=msgspec.json.encode({"i": i, "text": 'één \u2028 "quoted"\n'}),
        )
        for i in range(n)
    ]
    return await store.append(
        events, expected={stream: 0}, metadata=Metadata(tenant=tenant, actor="tester")
    )


async def db_now(pool: asyncpg.Pool) -> datetime:
    async with pool.acquire() as conn:
        moment = await conn.fetchval("SELECT clock_timestamp()")
    assert isinstance(moment, datetime)
    return moment


def decode(text: str) -> list[RecordedEvent]:
    return [msgspec.json.decode(line, type=RecordedEvent) for line in text.splitlines()]


def positions(events: Sequence[RecordedEvent]) -> list[int]:
    return [e.position for e in events]


async def test_export_writes_the_feed_as_ndjson_with_its_filters(
    env: dict[str, str], store: EventStore, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    first = await append(store, "haarlem", 5)
    await asyncio.sleep(0.002)
    moment = await db_now(pool)
    await asyncio.sleep(0.002)
    zaanstad = await append(store, "zaanstad", 3, topic="t:Other")
    last = await append(store, "haarlem", 2)
    everything = await store.read_feed(0, 100)
    assert len(everything) == 10

    target = tmp_path / "events.ndjson"
    code, out, err = await run("export", "events", "-o", str(target))
    assert code == 0, err
    assert out == ""
    assert "exported 10 events" in err
    # Every line decodes to exactly the event the store holds, in feed order.
    assert decode(target.read_text(encoding="utf-8")) == everything
    assert all(line.startswith("{") for line in target.read_text().split("\n")[:-1])

    code, out, _ = await run("export", "events")
    assert code == 0
    assert out == target.read_text(encoding="utf-8")

    async def exported(*options: str) -> list[int]:
        code, out, err = await run("export", "events", *options)
        assert code == 0, err
        events = decode(out)
        assert f"exported {len(events)} events" in err
        return positions(events)

    assert await exported("--after", str(first[-1])) == zaanstad + last
    assert await exported("--until", str(first[2])) == first[:3]
    assert await exported("--until", moment.isoformat()) == first
    assert await exported("--until", moment.isoformat().replace("+00:00", "Z")) == first
    assert await exported("--tenant", "zaanstad") == zaanstad
    assert await exported("--tenant", "haarlem", "--after", str(first[1])) == first[2:] + last
    assert await exported("--tenant", "haarlem", "--until", str(zaanstad[-1])) == first
    assert await exported("--after", str(last[-1])) == []
    assert await exported("--tenant", "nowhere") == []

    # A bad --until is a readable error (exit code 2), and no file is left behind.
    bad = tmp_path / "bad.ndjson"
    for value, message in (
        ("yesterday", "neither a position nor an ISO 8601 time"),
        ("2024-05-01T10:00", "needs a timezone"),
    ):
        code, out, err = await run("export", "events", "--until", value, "-o", str(bad))
        assert code == 2
        assert message in err and "Traceback" not in err
        assert not bad.exists()


async def test_export_streams_a_feed_larger_than_its_batches(
    env: dict[str, str], store: EventStore, tmp_path: Path
) -> None:
    written: list[int] = []
    for tenant in ("haarlem", "zaanstad", "haarlem", "utrecht", "haarlem"):
        written += await append(store, tenant, 900)  # 4,500 events: three read batches
    target = tmp_path / "all.ndjson"
    code, _, err = await run("export", "events", "-o", str(target))
    assert code == 0, err
    events = decode(target.read_text(encoding="utf-8"))
    assert positions(events) == written
    assert "exported 4500 events" in err
    after = written[1000]
    code, out, _ = await run("export", "events", "--tenant", "haarlem", "--after", str(after))
    assert code == 0
    assert positions(decode(out)) == [
        e.position for e in events if e.tenant == "haarlem" and e.position > after
    ]


async def generations(pool: asyncpg.Pool) -> list[tuple[str, str, int | None]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT schema_name, state, until_position FROM projection_generations"
            " WHERE name = 'activity' ORDER BY generation"
        )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def events_in(pool: asyncpg.Pool, schema: str) -> int:
    async with pool.acquire() as conn:
        return int(
            await conn.fetchval(f'SELECT coalesce(sum(events), 0) FROM "{schema}".daily_events')
        )


async def test_replay_rebuilds_with_progress_and_swaps(
    env: dict[str, str], store: EventStore, pool: asyncpg.Pool
) -> None:
    await append(store, "haarlem", 7)
    await append(store, "zaanstad", 5)
    code, out, err = await run("replay", "activity")
    assert code == 0, err
    assert "replaying activity" in err  # the progress bar, on standard error
    assert out.strip() == "rebuilt activity; readers now use schema proj_activity_1"
    assert await generations(pool) == [("proj_activity_1", "active", None)]
    assert await events_in(pool, "activity") == 12

    await append(store, "haarlem", 3)
    code, out, err = await run("replay", "activity")
    assert code == 0, err
    assert out.strip() == "rebuilt activity; readers now use schema proj_activity_2"
    assert await generations(pool) == [
        ("proj_activity_1", "retired", None),
        ("proj_activity_2", "active", None),
    ]
    assert await events_in(pool, "activity") == 15
    async with pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT EXISTS (SELECT FROM information_schema.schemata"
            " WHERE schema_name = 'proj_activity_1')"
        )


async def test_replay_until_a_position_or_a_time_builds_history_beside(
    env: dict[str, str], store: EventStore, pool: asyncpg.Pool
) -> None:
    first = await append(store, "haarlem", 4)
    await asyncio.sleep(0.002)
    moment = await db_now(pool)
    await asyncio.sleep(0.002)
    second = await append(store, "zaanstad", 6)
    assert (await run("replay", "activity"))[0] == 0

    code, out, err = await run("replay", "activity", "--until", str(second[1]))
    assert code == 0, err
    schema = "proj_activity_2"
    assert out.strip() == (
        f"built activity as of position {second[1]} in schema {schema}"
        " (query it with SQL; the live read model is unchanged)"
    )
    assert await events_in(pool, schema) == 6

    code, out, err = await run("replay", "activity", "--until", moment.isoformat())
    assert code == 0, err
    assert f"as of {moment.isoformat()} (position {first[-1]}) in schema proj_activity_3" in out
    assert await events_in(pool, "proj_activity_3") == 4

    assert await generations(pool) == [
        ("proj_activity_1", "active", None),
        (schema, "historical", second[1]),
        ("proj_activity_3", "historical", first[-1]),
    ]
    assert await events_in(pool, "activity") == 10  # the live model is unchanged


async def test_replay_names_bad_input_readably(env: dict[str, str], pool: asyncpg.Pool) -> None:
    code, _, err = await run("replay", "activity", "--until", "yesterday")
    assert code == 2
    assert "--until 'yesterday' is neither a position nor an ISO 8601 time" in err
    assert "Traceback" not in err

    code, _, err = await run("replay", "activity", "--until", "2024-05-01 10:00")
    assert code == 2
    assert "needs a timezone" in err

    code, _, err = await run("replay", "nothing")
    assert code == 2
    assert "no projection 'nothing'; known: activities, activity, " in err
    assert "Traceback" not in err
    assert await generations(pool) == []


async def test_replay_with_older_code_than_the_active_version_is_refused_readably(
    env: dict[str, str], store: EventStore, pool: asyncpg.Pool
) -> None:
    class ActivityV2(ActivityProjection):
        version = 2

    await append(store, "haarlem", 3)
    async with pool.acquire() as conn:
        newer = await replay(conn, ActivityV2())
    code, out, err = await run("replay", "activity")
    assert code == 1
    assert "cannot replay activity: version 2 of activity is active" in err
    assert "Traceback" not in err and out == ""
    assert await generations(pool) == [(newer.schema_name, "active", None)]


async def test_project_runs_as_a_worker_and_stops_cleanly_on_sigterm(
    env: dict[str, str], store: EventStore, pool: asyncpg.Pool
) -> None:
    first = await append(store, "haarlem", 5)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "verbinders", "project", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert worker.stderr is not None
    try:
        line = await asyncio.wait_for(worker.stderr.readline(), 30)
        assert line.startswith(b"running projections: activities, activity, ")
        assert await wait_for_projection(pool, "activity", first[-1], timeout=20)
        # Events appended now, by another process, reach the worker (NOTIFY, or polling).
        later = await append(store, "zaanstad", 3)
        assert await wait_for_projection(pool, "activity", later[-1], timeout=10)
        assert await events_in(pool, "activity") == 8
        stopping = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 10) == 0
        assert time.monotonic() - stopping < 2.0
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    # Its connections are gone with it: nothing keeps a projection's lock.
    async with pool.acquire() as conn:
        for _ in range(100):
            held = await leader_pids(conn)
            if not held:
                break
            await asyncio.sleep(0.02)
    assert held == []
