"""Commands: safe retries with `Idempotency-Key`, one transaction per command.

The key is claimed by inserting a row in the same transaction as the command's events: a
concurrent duplicate waits on that row and then replays the stored response; a retry after a
failure (which rolled back) executes again; the same key with another request is refused.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import msgspec
from litestar import Response

from verbinders.application.context import CommandContext
from verbinders.errors import Conflict, InvalidCommand
from verbinders.store.schema import register_migrations

if TYPE_CHECKING:
    from litestar import Request

    from verbinders.application.context import Actor
    from verbinders.database import Connection
    from verbinders.runtime import Runtime

__all__ = ["POSITION_HEADER", "forget_old_keys", "run_command"]

T = TypeVar("T")

POSITION_HEADER = "Verbinders-Position"
MAX_KEY_LENGTH = 200
DUPLICATE_WAIT_MS = 5000
KEEP_HOURS = 24

register_migrations(
    "api",
    [
        (
            1,
            "idempotency keys",
            """
CREATE TABLE idempotency_keys (
    tenant      text        NOT NULL,
    principal   text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    status      integer,
    body        bytea,
    headers     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, principal, key)
);
""",
        )
    ],
)

_encoder = msgspec.json.Encoder()


async def _fingerprint(request: Request[Any, Any, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b" ")
    digest.update(request.url.path.encode())
    digest.update(b"?")
    digest.update(request.url.query.encode())
    digest.update(b"\n")
    digest.update(await request.body())
    return digest.hexdigest()


async def _claim(conn: Connection, tenant: str, principal: str, key: str, fingerprint: str) -> bool:
    return bool(
        await conn.fetchval(
            "INSERT INTO idempotency_keys (tenant, principal, key, fingerprint)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
            tenant,
            principal,
            key,
            fingerprint,
        )
    )


async def forget_old_keys(pool: asyncpg.Pool, *, older_than_hours: int = KEEP_HOURS) -> int:
    """Idempotency keys are kept for a day: a retry later than that is a new command."""
    async with pool.acquire() as conn:
        status = await conn.execute(
            "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
            older_than_hours,
        )
    return int(status.split()[-1])


async def run_command(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    actor: Actor,
    command: Callable[[CommandContext], Awaitable[T]],
    *,
    status_code: int = 200,
    headers: Callable[[T], dict[str, str]] | None = None,
    one_write: bool = False,
) -> Response[Any]:
    """Run `command` in one transaction, with the request's idempotency key and correlation.

    `one_write`: the command saves once and writes nothing else, so without an
    `Idempotency-Key` (whose claim must commit with the events) it runs outside a
    transaction, its save being one atomic statement (see `CommandContext`).
    """
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise InvalidCommand(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            field="Idempotency-Key",
            rule="length",
        )
    correlation = request.headers.get("x-request-id") or str(uuid.uuid4())
    principal = str(actor.token_id or actor.name)
    fingerprint = await _fingerprint(request) if key else ""
    if one_write and key is None:
        ctx = CommandContext(
            repository=runtime.repository,
            connection=None,
            actor=actor,
            correlation_id=correlation,
        )
        result = await command(ctx)
        body = _encoder.encode(result)
        response_headers = _response_headers(ctx, correlation, result, headers)
        return Response(
            body, status_code=status_code, headers=response_headers, media_type="application/json"
        )
    async with runtime.store.transaction() as conn:
        if key is not None:
            # A duplicate waits for the first request's transaction, but not for ever.
            await conn.execute(f"SET LOCAL lock_timeout = '{DUPLICATE_WAIT_MS}ms'")
            try:
                claimed = await _claim(conn, actor.tenant, principal, key, fingerprint)
            except asyncpg.LockNotAvailableError as error:
                raise Conflict(
                    "a request with this Idempotency-Key is still being processed; retry soon",
                    state="in-progress",
                ) from error
            await conn.execute("SET LOCAL lock_timeout = 0")
            if not claimed:
                row = await conn.fetchrow(
                    "SELECT fingerprint, status, body, headers FROM idempotency_keys"
                    " WHERE tenant = $1 AND principal = $2 AND key = $3",
                    actor.tenant,
                    principal,
                    key,
                )
                assert row is not None
                if row["fingerprint"] != fingerprint:
                    raise InvalidCommand(
                        "this Idempotency-Key was used for a different request;"
                        " use a new key for a new command",
                        field="Idempotency-Key",
                        rule="reused-for-another-request",
                    )
                replay_headers = dict(row["headers"] or {})
                replay_headers["Idempotency-Replayed"] = "true"
                return Response(
                    bytes(row["body"]),
                    status_code=row["status"],
                    headers=replay_headers,
                    media_type="application/json",
                )
        ctx = CommandContext(
            repository=runtime.repository,
            connection=conn,
            actor=actor,
            correlation_id=correlation,
            idempotency_key=key,
        )
        result = await command(ctx)
        body = _encoder.encode(result)
        response_headers = _response_headers(ctx, correlation, result, headers)
        if key is not None:
            await conn.execute(
                "UPDATE idempotency_keys SET status = $4, body = $5, headers = $6"
                " WHERE tenant = $1 AND principal = $2 AND key = $3",
                actor.tenant,
                principal,
                key,
                status_code,
                body,
                response_headers,
            )
    return Response(
        body, status_code=status_code, headers=response_headers, media_type="application/json"
    )


def _response_headers(
    ctx: CommandContext,
    correlation: str,
    result: T,
    headers: Callable[[T], dict[str, str]] | None,
) -> dict[str, str]:
    response_headers = {"X-Request-ID": correlation}
    if ctx.positions:
        response_headers[POSITION_HEADER] = str(max(ctx.positions))
    if headers is not None:
        response_headers.update(headers(result))
    return response_headers
