"""How a request's bearer token is authenticated: from the token's own events.

A request finds the token's stream by the id its secret carries (`tokens.token_id_of`) and
checks the secret against the SHA-256 hash its `Issued` event recorded (and that no
`Revoked` followed), so a new token works, and a revoked one stops working, the moment its
event is stored; answers are cached for at most a second. Tokens issued before secrets
carried their id are found by their hash in `legacy_token_secrets`, which never grows.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from verbinders.application.context import Actor
from verbinders.application.tokens import SECRET_PREFIX, token_id_of
from verbinders.domain.access import AccessToken
from verbinders.errors import Unauthorized

if TYPE_CHECKING:
    from verbinders.application.pipeline import Pipeline

__all__ = ["Authenticator"]


class Authenticator:
    """Bearer secret -> Actor, from the token's own events (see the module's notes).

    Answers are cached for at most `ttl` seconds, so a revocation takes effect within that
    bound (1 s by default); the cache is keyed by the secret's hash, not the secret. A lookup
    reads on one pooled connection, waited for as a command waits (`Pipeline.connection`).
    """

    def __init__(self, pipeline: Pipeline, *, ttl: float = 1.0) -> None:
        self.pipeline = pipeline
        self.repository = pipeline.repository
        self.ttl = ttl
        self._cache: dict[bytes, tuple[float, Actor | None, datetime | None]] = {}
        self._pending: dict[bytes, asyncio.Future[tuple[Actor | None, datetime | None]]] = {}

    async def authenticate(self, secret: str) -> Actor:
        if not secret.startswith(SECRET_PREFIX):
            raise Unauthorized("the bearer token is malformed")
        key = hashlib.sha256(secret.encode()).digest()
        cached = self._cache.get(key)
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            actor, expires_at = await self._refresh(key, secret)
        else:
            _, actor, expires_at = cached
        if actor is None:
            raise Unauthorized("unknown or revoked token")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise Unauthorized("the token has expired")
        return actor

    async def _refresh(self, key: bytes, secret: str) -> tuple[Actor | None, datetime | None]:
        """One lookup per token at a time: the requests that find the answer expired together
        (every second, under load, all of a busy token's requests in flight) share it."""
        pending = self._pending.get(key)
        if pending is None:
            started = time.monotonic()
            pending = asyncio.ensure_future(self._lookup(secret, key.hex()))
            self._pending[key] = pending

            def done(future: asyncio.Future[tuple[Actor | None, datetime | None]]) -> None:
                self._pending.pop(key, None)
                if not future.cancelled() and future.exception() is None:
                    if len(self._cache) > 10_000:
                        self._cache.clear()
                    self._cache[key] = (started, *future.result())

            pending.add_done_callback(done)
        # Shielded: a request that goes away does not cancel the lookup the others wait for.
        return await asyncio.shield(pending)

    async def _lookup(self, secret: str, digest: str) -> tuple[Actor | None, datetime | None]:
        token_id = token_id_of(secret)
        async with self.pipeline.connection() as conn:
            if token_id is None:
                token_id = await conn.fetchval(
                    "SELECT token_id FROM legacy_token_secrets WHERE secret_hash = $1", digest
                )
                if token_id is None:
                    return None, None
            tenant = await conn.fetchval(
                "SELECT tenant FROM events WHERE stream_id = $1 AND version = 1"
                " AND stream_type = $2",
                token_id,
                AccessToken.STREAM_TYPE,
            )
            if tenant is None:
                return None, None
            token = await self.repository.find(
                AccessToken, token_id, tenant=tenant, connection=conn
            )
        if token is None or token.revoked or not hmac.compare_digest(token.secret_hash, digest):
            return None, None
        actor = Actor(
            tenant=token.tenant,
            roles=token.roles,
            party=token.party,
            token_id=token.id,
            label=token.label,
        )
        return actor, token.expires_at
