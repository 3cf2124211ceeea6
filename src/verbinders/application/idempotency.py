"""Safe retries: a command's idempotency key, claimed in the same transaction as its events.

The key is claimed by inserting a row in the command's transaction: a concurrent duplicate
waits on that row (at most `DUPLICATE_WAIT_MS`) and then finds the stored answer; a retry
after a failure (which rolled back, claim and all) runs again; the same key with another
request is refused. Keys belong to a principal (the token, or a policy) within a tenant.

A command that writes once (one append, nothing beside it) claims its key in the append's
own statement instead (`claim_with_answer`, a `Companion`): the claim row goes in with the
answer already in it, only if the append wrote its events, and the statement is atomic, so
the events, the claim and the answer commit together or not at all. The answer holds the
append's position (its `position`, a `Verbinders-Position` header), which exists only once
the statement runs: the answer is built with `POSITION_MARK` in its place and cut there
(`AnswerTemplate`), and the statement puts the position in. A duplicate meets the claim on
the key's unique index (waiting for an uncommitted rival at most `DUPLICATE_WAIT_MS`) and the
whole statement fails, writing nothing; the pipeline then runs the request the claim-first
way above, which answers what was stored (see `pipeline.py`).

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
from verbinders.store.events import Companion

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = [
    "BEGIN_BOUNDED",
    "KEEP_HOURS",
    "MAX_KEY_LENGTH",
    "MIGRATIONS",
    "POSITION_MARK",
    "POSITION_MARK_TEXT",
    "Answer",
    "AnswerTemplate",
    "Idempotency",
    "begin_and_claim",
    "claim_with_answer",
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


POSITION_MARK = (1 << 62) - 1
"""Stands for the append's position in an answer built before the append (positions stay
below 2^62, see `store/feed_guards.py`)."""
POSITION_MARK_TEXT = str(POSITION_MARK)
_MARK_BYTES = POSITION_MARK_TEXT.encode()


class AnswerTemplate(msgspec.Struct, frozen=True):
    """An answer with the append's position still to put in: the body around the one place
    the position goes (`suffix` None: it has none), and the headers whose value it is."""

    prefix: bytes
    suffix: bytes | None
    status: int
    headers: dict[str, str]
    position_headers: list[str]

    @classmethod
    def of(cls, answer: Answer, *, has_position: bool) -> AnswerTemplate | None:
        """The template of `answer`, built with `POSITION_MARK` as its position (if the
        result has one): None when the mark is not in exactly one place of the body (a value
        of the request's that looks like it), or is in a header beside the position's."""
        if has_position:
            pieces = answer.body.split(_MARK_BYTES)
            if len(pieces) != 2:
                return None
            prefix, suffix = pieces[0], pieces[1]
        elif _MARK_BYTES in answer.body:
            return None
        else:
            prefix, suffix = answer.body, None
        headers: dict[str, str] = {}
        position_headers: list[str] = []
        for name, value in answer.headers.items():
            if value == POSITION_MARK_TEXT and has_position:
                position_headers.append(name)
            elif POSITION_MARK_TEXT in value:
                return None
            else:
                headers[name] = value
        return cls(prefix, suffix, answer.status, headers, position_headers)

    def fill(self, position: int) -> Answer:
        """The answer with the append's position in it (as the claim's statement stores it)."""
        text = str(position)
        body = self.prefix if self.suffix is None else self.prefix + text.encode() + self.suffix
        headers = dict(self.headers)
        for name in self.position_headers:
            headers[name] = text
        return Answer(body=body, status=self.status, headers=headers)


# The claim with its answer, as a companion of the append (`Companion`: it refers to
# `appended`, so a conflict that appends nothing claims nothing). The answer's position is the
# append's last; `lock_timeout` is set, for the rest of the statement, before the row meets a
# rival's claim on the unique index (the row's WHERE runs before its insert).
CLAIM_WITH_ANSWER = f"""INSERT INTO idempotency_keys
    (tenant, principal, key, fingerprint, permanent, status, body, headers)
SELECT $1, $2, $3, $4, $5, $6,
       CASE WHEN $8::bytea IS NULL THEN $7::bytea
            ELSE $7::bytea || convert_to(a.position::text, 'UTF8') || $8::bytea END,
       $9::jsonb || coalesce((SELECT jsonb_object_agg(h.name, a.position::text)
                                FROM unnest($10::text[]) AS h(name)), '{{}}'::jsonb)
  FROM (SELECT max(position) AS position FROM appended) a
 WHERE a.position IS NOT NULL
   AND set_config('lock_timeout', '{DUPLICATE_WAIT_MS}ms', true) IS NOT NULL"""


def claim_with_answer(
    tenant: str, principal: str, idempotency: Idempotency, answer: AnswerTemplate
) -> Companion | None:
    """The key's claim with its answer, to go into the command's append (see the module's
    notes); None for a key or principal that cannot travel so (a NUL: the claim-first way
    refuses it)."""
    if "\x00" in idempotency.key or "\x00" in principal or "\x00" in idempotency.fingerprint:
        return None
    return Companion(
        CLAIM_WITH_ANSWER,
        (
            tenant,
            principal,
            idempotency.key,
            idempotency.fingerprint,
            idempotency.permanent,
            answer.status,
            answer.prefix,
            answer.suffix,
            answer.headers,
            answer.position_headers,
        ),
    )


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
