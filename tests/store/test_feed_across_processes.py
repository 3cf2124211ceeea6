"""The feed from several processes: writers, readers and a read model each in a process of
its own (`feed_processes.py`), the read model killed with SIGKILL again and again.

Every committed event reaches every reader once, in position order; the read model, restarted
after each kill, ends with exactly the committed events, applied in position order."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from tests.store.feed_processes import LEDGER, LEDGER_DDL

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
WRITERS, READERS, SECONDS = 3, 2, 6.0


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.store.feed_processes", *args, cwd=ROOT
    )


async def test_every_process_reads_every_committed_event_once_in_order_through_kills(
    database: str, tmp_path: Path
) -> None:
    admin = await asyncpg.connect(database)
    await admin.execute(LEDGER_DDL)
    writers = [
        await spawn("writer", database, str(n), str(SECONDS), str(tmp_path / f"writer{n}"))
        for n in range(WRITERS)
    ]
    readers = [
        await spawn("reader", database, str(tmp_path / f"reader{n}")) for n in range(READERS)
    ]
    kills = 0
    rng = random.Random(5)
    ledger = await spawn("ledger", database)
    try:
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(0.2, 0.6))
            ledger.send_signal(signal.SIGKILL)
            await ledger.wait()
            kills += 1
            ledger = await spawn("ledger", database)
        assert [await w.wait() for w in writers] == [0] * WRITERS

        committed = sorted(
            int(line.split()[0])
            for n in range(WRITERS)
            for line in (tmp_path / f"writer{n}").read_text().splitlines()
        )
        print(f"{len(committed)} events committed, the read model killed {kills} times")
        assert len(committed) > 300
        assert len(set(committed)) == len(committed)
        last = committed[-1]
        for _ in range(300):  # everyone catches up with the last committed event
            await asyncio.sleep(0.1)
            read = [_positions(tmp_path / f"reader{n}") for n in range(READERS)]
            checkpoint = await admin.fetchval(
                "SELECT position FROM checkpoints WHERE name = $1", LEDGER
            )
            if all(r and r[-1] >= last for r in read) and checkpoint >= last:
                break
        for n in range(READERS):
            assert _positions(tmp_path / f"reader{n}") == committed
        rows = await admin.fetch("SELECT position FROM ledger ORDER BY applied")
        assert [r["position"] for r in rows] == committed
        assert kills >= 8
    finally:
        for process in [*readers, ledger, *writers]:
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                await process.wait()
        await admin.close()


def _positions(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [int(line) for line in path.read_text().splitlines() if line]
