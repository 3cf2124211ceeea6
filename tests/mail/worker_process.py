"""The mail worker in a process of its own, for the tests to kill with SIGKILL.

Usage: python worker_process.py DSN SMTP_URL MAIL_FROM [MARK_WAIT]. Delivers the outbox until
killed; prints `ready` once running. MARK_WAIT: the worker's `mark_wait` (seconds).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from verbinders.config import Settings
from verbinders.database import Database, open_pool
from verbinders.mail.worker import MailWorker
from verbinders.runtime import runtime_on


async def main(dsn: str, smtp_url: str, mail_from: str, mark_wait: float | None) -> None:
    settings = replace(
        Settings(), database_url=dsn, smtp_url=smtp_url, mail_from=mail_from, smtp_connections=1
    )
    pool = await open_pool(dsn, settings, min_size=1, max_size=4)
    async with runtime_on(settings, Database(pool=pool, dsn=dsn, embedded=False)) as runtime:
        worker = MailWorker(runtime)
        worker.standby_interval = 0.05
        if mark_wait is not None:
            worker.mark_wait = mark_wait
        print("ready", flush=True)
        await worker.run(asyncio.Event())


if __name__ == "__main__":
    wait = float(sys.argv[4]) if len(sys.argv) > 4 else None
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], wait))
