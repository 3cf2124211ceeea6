"""What the benchmarks share: their scratch database, and CPU times read from /proc.

The scratch database is created for one run and dropped after it: on the PostgreSQL server at
`--database-url` a database `verbinders_bench_<random>`; without a URL, the same on an embedded
PostgreSQL 18 in a temporary folder, which goes too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from verbinders.database import EmbeddedPostgres

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name, or None if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used by all its threads) of a process, from /proc."""
    fields = proc_fields(pid)
    if fields is None:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def with_database(dsn: str, name: str) -> str:
    """`dsn` with its database replaced by `name`."""
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


@dataclass(frozen=True)
class Scratch:
    dsn: str
    """The scratch database's."""
    name: str
    embedded: bool
    admin: asyncpg.Connection
    """On the server's database that `--database-url` (or the embedded server) named."""


@contextlib.asynccontextmanager
async def scratch_database(
    database_url: str | None, *, settings: Mapping[str, str] | None = None
) -> AsyncIterator[Scratch]:
    """A new database for one run (with `settings` as its defaults: `ALTER DATABASE ... SET`)."""
    embedded: EmbeddedPostgres | None = None
    folder: Path | None = None
    if database_url:
        admin_dsn = database_url
    else:
        folder = Path(tempfile.mkdtemp(prefix="verbinders-bench-"))
        embedded = EmbeddedPostgres(folder)
        admin_dsn = await asyncio.to_thread(embedded.start)
    name = f"verbinders_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            for setting, value in (settings or {}).items():
                await admin.execute(f'ALTER DATABASE "{name}" SET {setting} = {value}')
            yield Scratch(with_database(admin_dsn, name), name, embedded is not None, admin)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
        if folder is not None:
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
