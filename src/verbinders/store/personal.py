"""Per-person keys for personal data (crypto-shredding).

Personal values are sealed with AES-256-GCM under a key of their subject before they reach the
events or snapshots tables; forgetting a subject deletes the key and records the subject as
forgotten, so no new data can be sealed for it and what was sealed reads as redacted.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from verbinders.errors import Conflict, NotFound

if TYPE_CHECKING:
    import asyncpg

    from verbinders.database import Connection

__all__ = ["ENVELOPE_KEY", "Keyring", "forget_subject", "open_envelope", "seal"]

ENVELOPE_KEY = "__personal__"


def seal(key: bytes, subject: UUID, topic: str, plaintext: bytes) -> dict[str, Any]:
    """An envelope that stands in a payload where a personal value stood."""
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, subject.bytes)
    return {
        ENVELOPE_KEY: topic,
        "subject": str(subject),
        "sealed": base64.b64encode(nonce + ciphertext).decode("ascii"),
    }


def open_envelope(key: bytes, envelope: dict[str, Any]) -> bytes:
    data = base64.b64decode(envelope["sealed"])
    subject = UUID(envelope["subject"])
    return AESGCM(key).decrypt(data[:12], data[12:], subject.bytes)


class Keyring:
    """Reads, creates and destroys subjects' keys."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def keys_for(
        self,
        subjects: Iterable[UUID],
        *,
        tenant: str | None = None,
        create: bool = False,
        connection: Connection | None = None,
    ) -> dict[UUID, bytes]:
        """The keys of `subjects`; with `create`, new subjects get a key (tenant required).

        A forgotten subject has no key: sealing new data for it raises `Conflict`. With
        `connection`, read (and created) on it, in its transaction if it has one.
        """
        wanted = sorted(set(subjects))
        if not wanted:
            return {}
        if connection is not None:
            return await self._keys_for(connection, wanted, tenant, create)
        async with self.pool.acquire() as conn:
            return await self._keys_for(conn, wanted, tenant, create)

    async def _keys_for(
        self, conn: Connection, wanted: list[UUID], tenant: str | None, create: bool
    ) -> dict[UUID, bytes]:
        if create:
            assert tenant is not None
            forgotten = await conn.fetch(
                "SELECT subject FROM forgotten_subjects WHERE subject = any($1::uuid[])",
                wanted,
            )
            if forgotten:
                raise Conflict(
                    f"person {forgotten[0]['subject']} was forgotten;"
                    " their data cannot be recorded again under the same id",
                    subject=str(forgotten[0]["subject"]),
                    state="forgotten",
                )
            await conn.execute(
                "INSERT INTO personal_keys (subject, tenant, key)"
                " SELECT s, $2, k FROM unnest($1::uuid[], $3::bytea[]) AS t(s, k)"
                " ON CONFLICT (subject) DO NOTHING",
                wanted,
                tenant,
                [AESGCM.generate_key(bit_length=256) for _ in wanted],
            )
        rows = await conn.fetch(
            "SELECT subject, key FROM personal_keys WHERE subject = any($1::uuid[])", wanted
        )
        return {row["subject"]: bytes(row["key"]) for row in rows}

    async def forget(self, subject: UUID, *, tenant: str) -> bool:
        """Destroy the subject's key. Returns False if it was already forgotten."""
        async with self.pool.acquire() as conn, conn.transaction():
            return await forget_subject(conn, subject, tenant=tenant)


async def forget_subject(conn: Connection, subject: UUID, *, tenant: str) -> bool:
    """Destroy the subject's key within `conn`'s transaction (with the event that says so).

    Only the tenant that holds the subject's key can forget it: `NotFound` for another tenant,
    which would otherwise mark the subject forgotten while its key, and its data, lived on.
    """
    deleted = await conn.fetchval(
        "DELETE FROM personal_keys WHERE subject = $1 AND tenant = $2 RETURNING subject",
        subject,
        tenant,
    )
    if deleted is None and await conn.fetchval(
        "SELECT EXISTS (SELECT FROM personal_keys WHERE subject = $1)", subject
    ):
        raise NotFound(f"no person {subject} in tenant {tenant}", subject=str(subject))
    status = await conn.execute(
        "INSERT INTO forgotten_subjects (subject, tenant) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        subject,
        tenant,
    )
    return bool(status.endswith(" 1"))
