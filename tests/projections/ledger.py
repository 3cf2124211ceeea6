"""A test projection that notices double application and can be made slow."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from verbinders.projections.engine import Projection

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent


class LedgerProjection(Projection):
    name = "ledger"
    version = 1
    tables = ("applied", "totals")

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def ddl(self) -> str:
        return """
CREATE TABLE applied (position bigint PRIMARY KEY, stream_id uuid NOT NULL, version int NOT NULL);
CREATE TABLE totals (stream_id uuid PRIMARY KEY, events int NOT NULL, last_version int NOT NULL);
"""

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for e in events:
            # A double application would break the primary key or the version chain.
            await conn.execute(
                "INSERT INTO applied (position, stream_id, version) VALUES ($1, $2, $3)",
                e.position,
                e.stream_id,
                e.version,
            )
            status = await conn.execute(
                "INSERT INTO totals AS t (stream_id, events, last_version) VALUES ($1, 1, $2)"
                " ON CONFLICT (stream_id) DO UPDATE SET events = t.events + 1,"
                " last_version = excluded.last_version WHERE t.last_version = $2 - 1",
                e.stream_id,
                e.version,
            )
            if status != "INSERT 0 1":
                raise RuntimeError(f"version chain broken at {e.stream_id} v{e.version}")
            if self.delay:
                await asyncio.sleep(self.delay)
