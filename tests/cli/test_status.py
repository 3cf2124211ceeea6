"""`verbinders status`: the real lag and who holds the feed; `--max-lag` fails past it."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from click.testing import CliRunner

from verbinders.cli import main
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.eventstore import EventStore

pytestmark = pytest.mark.server

META = Metadata(tenant="haarlem", actor="tests")


async def status(*args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(CliRunner().invoke, main, ["status", *args])
    return result.exit_code, result.stdout, result.stderr


async def append(store: EventStore, connection: asyncpg.Connection | None = None) -> int:
    stream = uuid.uuid4()
    event = NewEvent(stream_id=stream, stream_type="Thing", version=1, topic="t:T", payload=b"{}")
    [position] = await store.append(
        [event], expected={stream: 0}, metadata=META, connection=connection
    )
    return position


@pytest.fixture
def env(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERBINDERS_DATABASE_URL", database)
    monkeypatch.setenv("VERBINDERS_LOG_LEVEL", "WARNING")


@pytest.mark.usefixtures("env")
async def test_status_fails_past_max_lag_while_a_transaction_holds_the_feed(
    store: EventStore, pool: asyncpg.Pool
) -> None:
    assert (await status("--max-lag", "0"))[0] == 0
    held = await pool.acquire()
    try:
        await held.execute("BEGIN")
        low = await append(store, held)
        for _ in range(2):
            await append(store)
        code, out, err = await status("--max-lag", "2")
        assert code == 1, out + err
        horizon = low - 1
        assert "(3 withheld)" in out
        assert f"held at position {horizon} by backend {held.get_server_pid()} (verbinders" in out
        assert "not healthy: 3 positions are withheld (more than 2)" in err
        assert (await status("--max-lag", "3"))[0] == 0
        assert (await status())[0] == 0  # without --max-lag it only reports
        await held.execute("COMMIT")
    finally:
        await pool.release(held)
    code, out, _ = await status("--max-lag", "0")
    assert code == 0, out
    assert "(0 withheld)" in out


@pytest.mark.usefixtures("env")
async def test_status_refuses_a_feed_that_cannot_be_read_naming_the_fix(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("ALTER SEQUENCE event_position_seq CACHE 5")
    code, _, err = await status("--max-lag", "0")
    assert code == 1
    assert err.startswith("error: event_position_seq has INCREMENT 1, CACHE 5, NO CYCLE")
    assert "ALTER SEQUENCE event_position_seq INCREMENT 1 CACHE 1 NO CYCLE" in err


async def test_index_moments_leaves_the_moment_index_in_place_and_says_so(
    env: None, pool: asyncpg.Pool
) -> None:
    """(On a store this small, opening the runtime builds it already; the concurrent build of
    a big store is `ensure_moment_index`'s test in tests/store.)"""
    from verbinders.store.schema import MOMENT_INDEX

    async with pool.acquire() as conn:
        await conn.execute(f"DROP INDEX IF EXISTS {MOMENT_INDEX}")
    result = await asyncio.to_thread(CliRunner().invoke, main, ["index-moments"])
    assert result.exit_code == 0, result.output
    assert f"index {MOMENT_INDEX} is in place" in result.stdout
    async with pool.acquire() as conn:
        valid = await conn.fetchval(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = $1",
            MOMENT_INDEX,
        )
    assert valid is True


async def test_mark_moments_catches_the_marks_up_and_says_how_many(
    env: None, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        # Two events 3 s apart in recorded time: the first one's bucket is final.
        for seconds in (10, 7):
            await conn.execute(
                "INSERT INTO events (position, tenant, stream_id, stream_type, version, topic,"
                " payload, metadata, recorded_at, hash)"
                " VALUES (nextval('event_position_seq'), 't', gen_random_uuid(), 'Thing', 1,"
                " 'x', '{}', '{}', clock_timestamp() - make_interval(secs => $1), '\\x00')",
                seconds,
            )
    result = await asyncio.to_thread(CliRunner().invoke, main, ["mark-moments"])
    assert result.exit_code == 0, result.output
    assert "moment marks written" in result.stdout
    async with pool.acquire() as conn:
        marks = await conn.fetchval("SELECT count(*) FROM feed_moments")
    assert marks >= 1
    assert f"{marks:,} moment marks written" in result.stdout
