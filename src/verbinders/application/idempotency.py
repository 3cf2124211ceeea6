"""Safe retries: a command's idempotency key, claimed in the same transaction as its events.

The key is claimed by inserting a row in the command's transaction: a concurrent duplicate
waits on that row (at most `DUPLICATE_WAIT_MS`) and then finds the stored answer; a retry
after a failure (which rolled back, claim and all) runs again; the same key with another
request is refused. Keys belong to a principal (the token, or a policy) within a tenant.

A stored answer never holds a secret: a command whose result carries one (issuing a token)
keeps a version of it without (`CommandResult.for_retry`). Keys are kept for a day
(`forget_old_keys`), except the claims of policies, which are kept for good: a policy must
issue each of its commands once, whenever it runs again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import msgspec

from verbinders.errors import Conflict, InvalidCommand

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = [
    "BEGIN_BOUNDED",
    "KEEP_HOURS",
    "MAX_KEY_LENGTH",
    "MIGRATIONS",
    "Answer",
    "Idempotency",
    "begin_and_claim",
    "forget_old_keys",
    "remember_and_commit",
    "sql_text",
]

MAX_KEY_LENGTH = 200
DUPLICATE_WAIT_MS = 5000
KEEP_HOURS = 24
BEGIN_BOUNDED = f"BEGIN; SET LOCAL lock_timeout = '{DUPLICATE_WAIT_MS}ms'"
"""How a transaction that claims a key begins (one round trip): none of its lock waits, the
claim's above all, lasts longer than `DUPLICATE_WAIT_MS`."""
RETRY_NOTE = (
    "a retry of this request: the token was issued by the first one, whose answer showed its"
    " secret once; it is kept nowhere (revoke the token and issue a new one if it was lost)"
)

MIGRATIONS: list[tuple[int, str, str]] = [
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
    ),
    (
        2,
        "no token secret in a stored answer; the claims of policies kept for good",
        # Answers of POST /tokens were stored with the secret they showed: scrubbed here, as
        # a retry now answers (the token's id, `token: null` and a note).
        f"""
ALTER TABLE idempotency_keys ADD COLUMN permanent boolean NOT NULL DEFAULT false;
UPDATE idempotency_keys
   SET body = convert_to(
           (convert_from(body, 'UTF8')::jsonb
            || jsonb_build_object('token', NULL, 'note', '{RETRY_NOTE}'))::text,
           'UTF8')
 WHERE body IS NOT NULL
   AND position('"token":"vb_' IN convert_from(body, 'UTF8')) > 0;
""",
    ),
]


class Idempotency(msgspec.Struct, frozen=True, kw_only=True):
    """A command's idempotency key and what identifies its request (method, path, body...)."""

    key: str
    fingerprint: str
    permanent: bool = False
    """Kept for good (a policy's claim), not for `KEEP_HOURS`."""

    def __post_init__(self) -> None:
        if not 0 < len(self.key) <= MAX_KEY_LENGTH:
            raise InvalidCommand(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                field="Idempotency-Key",
                rule="length",
            )


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """What a command answered: its encoded result, and for HTTP its status and headers."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = msgspec.field(default_factory=dict)


def sql_text(value: str) -> str:
    """`value` as an SQL string literal, for the statements below that travel with BEGIN or
    COMMIT in one simple query (which takes no parameters): an escape string (E'...'), read
    alike whatever `standard_conforming_strings` says. A NUL cannot be in one: refused."""
    if "\x00" in value:
        raise InvalidCommand(
            "Idempotency-Key must not contain NUL", field="Idempotency-Key", rule="characters"
        )
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _where(tenant: str, principal: str, key: str) -> str:
    return (
        f"tenant = {sql_text(tenant)} AND principal = {sql_text(principal)}"
        f" AND key = {sql_text(key)}"
    )


async def begin_and_claim(
    conn: Connection, tenant: str, principal: str, idempotency: Idempotency
) -> Answer | None:
    """Begin the command's transaction on `conn` and claim the key in it, in one round trip:
    None if claimed now (run the command), else the answer stored by the command that claimed
    it before (the transaction is then still open: the caller rolls it back).

    The transaction bounds its lock waits (`BEGIN_BOUNDED`): a duplicate waits for the first
    request's transaction, but not for ever.
    """
    claim = (
        "INSERT INTO idempotency_keys (tenant, principal, key, fingerprint, permanent)"
        f" VALUES ({sql_text(tenant)}, {sql_text(principal)}, {sql_text(idempotency.key)},"
        f" {sql_text(idempotency.fingerprint)}, {'true' if idempotency.permanent else 'false'})"
        " ON CONFLICT DO NOTHING"
    )
    try:
        status = await conn.execute(f"{BEGIN_BOUNDED}; {claim}")
    except asyncpg.LockNotAvailableError as error:
        raise Conflict(
            "a request with this Idempotency-Key is still being processed; retry soon",
            state="in-progress",
        ) from error
    if status == "INSERT 0 1":
        return None
    row = await conn.fetchrow(
        "SELECT fingerprint, status, body, headers FROM idempotency_keys"
        " WHERE tenant = $1 AND principal = $2 AND key = $3",
        tenant,
        principal,
        idempotency.key,
    )
    if row is None or row["body"] is None:  # pragma: no cover - the claim commits with it
        raise Conflict("this Idempotency-Key's first request left no answer", state="lost")
    if row["fingerprint"] != idempotency.fingerprint:
        raise InvalidCommand(
            "this Idempotency-Key was used for a different request; use a new key for a new"
            " command",
            field="Idempotency-Key",
            rule="reused-for-another-request",
        )
    return Answer(
        body=bytes(row["body"]), status=row["status"] or 200, headers=dict(row["headers"] or {})
    )


async def remember_and_commit(
    conn: Connection, tenant: str, principal: str, key: str, answer: Answer
) -> None:
    """Store the answer beside the claim and commit the command's transaction, in one round
    trip (if the UPDATE fails, PostgreSQL runs nothing after it: the caller rolls back)."""
    headers = _headers_encoder.encode(answer.headers).decode()
    await conn.execute(
        f"UPDATE idempotency_keys SET status = {int(answer.status)},"
        f" body = decode('{answer.body.hex()}', 'hex'), headers = {sql_text(headers)}::jsonb"
        f" WHERE {_where(tenant, principal, key)}; COMMIT"
    )


_headers_encoder = msgspec.json.Encoder()


async def forget_old_keys(pool: asyncpg.Pool, *, older_than_hours: int = KEEP_HOURS) -> int:
    """Keys are kept for a day: a retry later than that is a new command. Policies' claims
    stay (see the module's notes)."""
    async with pool.acquire() as conn:
        status = await conn.execute(
            "DELETE FROM idempotency_keys WHERE NOT permanent"
            " AND created_at < now() - make_interval(hours => $1)",
            older_than_hours,
        )
    return int(status.split()[-1])
