"""Answers stored with idempotency keys before they were kept without secrets are scrubbed
by the migration that stopped storing them."""

from __future__ import annotations

import json

import asyncpg

from verbinders.application.idempotency import RETRY_NOTE
from verbinders.store.schema import install_schema


async def test_the_migration_scrubs_token_secrets_from_stored_answers(database: str) -> None:
    conn = await asyncpg.connect(database)
    try:
        # Back to before the migration, with answers as they used to be stored.
        await conn.execute("ALTER TABLE idempotency_keys DROP COLUMN permanent")
        await conn.execute("DELETE FROM schema_migrations WHERE component = 'api' AND version = 2")
        issued = {
            "id": "0b4f6c1e-3c9a-4c55-9d3e-1f2a3b4c5d6e",
            "token": "vb_C09sHjyaTFWdPh8qO0xdbg.s3cr3t-random-part",
            "roles": ["auditor"],
            "party": None,
            "label": "jaarcontrole",
            "expires_at": None,
            "position": 7,
        }
        revoked = {"id": "0b4f6c1e-3c9a-4c55-9d3e-1f2a3b4c5d6e", "version": 2, "position": 8}
        for key, body in (("issue", issued), ("revoke", revoked)):
            await conn.execute(
                "INSERT INTO idempotency_keys (tenant, principal, key, fingerprint, status,"
                " body, headers) VALUES ('haarlem', 'p', $1, 'f', 201, $2, '{}'::jsonb)",
                key,
                json.dumps(body).replace(": ", ":").replace(", ", ",").encode(),
            )
        versions = await install_schema(conn)
        rows = {
            r["key"]: (json.loads(r["body"]), r["permanent"])
            for r in await conn.fetch("SELECT key, body, permanent FROM idempotency_keys")
        }
    finally:
        await conn.close()
    assert versions["api"] == 2
    assert rows["issue"] == ({**issued, "token": None, "note": RETRY_NOTE}, False)
    assert rows["revoke"] == (revoked, False)
