"""Activity: how many events of each kind each platform recorded per day.

The analysts' first look at growth ("how did collaboration grow since 2019?"), and the simple
projection the catch-up benchmark measures. It reads every event (no payloads) and keeps
counts, no history: nothing asks for it as of a moment.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from verbinders.projections.engine import Projection

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    import asyncpg

    from verbinders.database import Connection
    from verbinders.projections.reading import Reading
    from verbinders.store.events import RecordedEvent

__all__ = ["ActivityProjection", "monthly"]


class ActivityProjection(Projection):
    name = "activity"
    version = 1
    tables = ("daily_events",)
    reads_payload = False
    reads_metadata = False

    def ddl(self) -> str:
        return """
CREATE TABLE daily_events (
    tenant      text    NOT NULL,
    day         date    NOT NULL,
    stream_type text    NOT NULL,
    topic       text    NOT NULL,
    events      bigint  NOT NULL,
    PRIMARY KEY (tenant, day, stream_type, topic)
);
"""

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        counts = Counter((e.tenant, e.recorded_at.date(), e.stream_type, e.topic) for e in events)
        keys = list(counts)
        await conn.execute(
            "INSERT INTO daily_events AS d (tenant, day, stream_type, topic, events)"
            " SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::bigint[])"
            " ON CONFLICT (tenant, day, stream_type, topic)"
            " DO UPDATE SET events = d.events + excluded.events",
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
            [k[3] for k in keys],
            [counts[k] for k in keys],
        )


async def monthly(
    r: Reading, tenant: str, since: date | None, until: date | None
) -> list[asyncpg.Record]:
    """Events per month and kind of stream, between `since` and `until` (days, inclusive)."""
    return list(
        await r.fetch(
            "SELECT date_trunc('month', day)::date AS month, stream_type,"
            f" sum(events)::bigint AS events FROM {r.table('daily_events')}"
            " WHERE tenant = $1 AND ($2::date IS NULL OR day >= $2)"
            " AND ($3::date IS NULL OR day <= $3)"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            tenant,
            since,
            until,
        )
    )
