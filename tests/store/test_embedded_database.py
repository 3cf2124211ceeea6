"""The embedded PostgreSQL is shared by the processes that use it, and says so truthfully: a
command run beside a server neither claims to start it nor to stop it, and leaves it up."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import asyncpg
import pytest

from verbinders.database import EmbeddedPostgres

HOLD = (
    "import sys; from pathlib import Path; from verbinders.database import EmbeddedPostgres;"
    " e = EmbeddedPostgres(Path(sys.argv[1])); print(e.start(), flush=True);"
    " sys.stdin.read(); e.stop()"
)


async def test_a_command_beside_a_running_server_leaves_it_up_and_says_nothing_of_stopping(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD,
        str(data),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        dsn = (await asyncio.wait_for(holder.stdout.readline(), 60)).decode().strip()

        # A command of the CLI, as an operator runs it while a server uses the folder.
        env = {**os.environ, "VERBINDERS_DATA_DIR": str(data), "VERBINDERS_LOG_LEVEL": "INFO"}
        env.pop("VERBINDERS_DATABASE_URL", None)
        command = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "verbinders",
            "status",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(command.communicate(), 60)
        assert command.returncode == 0, err.decode()
        assert out.decode().startswith("feed: readable up to position 0")
        assert "embedded PostgreSQL" not in err.decode()

        # The same in this process, with the log records at hand.
        embedded = EmbeddedPostgres(data)
        with caplog.at_level(logging.DEBUG, logger="verbinders.database"):
            await asyncio.to_thread(embedded.start)
            await asyncio.to_thread(embedded.stop)
        said = [(r.levelname, r.getMessage()) for r in caplog.records]
        assert said == [
            ("DEBUG", f"using the embedded PostgreSQL running in {data.resolve()}"),
            ("DEBUG", f"embedded PostgreSQL in {data.resolve()} stays up for other processes"),
        ]
        conn = await asyncpg.connect(dsn)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()

        holder.stdin.close()  # the last user lets go: now it stops
        assert await asyncio.wait_for(holder.wait(), 60) == 0
        assert not embedded.running()
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
