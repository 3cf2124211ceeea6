"""Read models as the platform stood at a past moment (`as_of` queries).

A historical generation of a projection is built from the tenant's events up to the last
position recorded by then, in a schema beside the live one, and cached: asking again for the
same moment (or any moment with the same last position) reuses it. The oldest are dropped
beyond `KEEP` per projection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from verbinders.projections.engine import replay
from verbinders.store.schema import LOCK_NAMESPACE_PROJECTIONS

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg

    from verbinders.runtime import Runtime

__all__ = ["schema_as_of"]

KEEP = 20


async def schema_as_of(
    runtime: Runtime, projection_name: str, tenant: str, as_of: datetime | None
) -> str:
    """The schema to read `projection_name` from: its live views, or history as of `as_of`."""
    if as_of is None:
        return projection_name
    projection = runtime.runner.projections[projection_name]
    position = await runtime.store.position_at(as_of)
    conn = await runtime.connect()
    try:
        key = f"asof:{projection_name}:{tenant}:{position}"
        await conn.execute(
            "SELECT pg_advisory_lock($1, hashtext($2))", LOCK_NAMESPACE_PROJECTIONS, key
        )
        try:
            found = await conn.fetchval(
                "SELECT g.schema_name FROM projection_generations g"
                " JOIN checkpoints c ON c.name = g.schema_name"
                " WHERE g.name = $1 AND g.state = 'historical' AND g.tenant = $2"
                " AND g.until_position = $3 AND g.version = $4 AND c.position >= $3",
                projection_name,
                tenant,
                position,
                projection.version,
            )
            if found is not None:
                return str(found)
            generation = await replay(conn, projection, until_position=position, tenant=tenant)
            await _drop_oldest(conn, projection_name)
            return generation.schema_name
        finally:
            await conn.execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))", LOCK_NAMESPACE_PROJECTIONS, key
            )
    finally:
        await conn.close()


async def _drop_oldest(conn: asyncpg.Connection, projection_name: str) -> None:
    old = await conn.fetch(
        "SELECT generation, schema_name FROM projection_generations"
        " WHERE name = $1 AND state = 'historical' ORDER BY created_at DESC OFFSET $2",
        projection_name,
        KEEP,
    )
    for row in old:
        async with conn.transaction():
            await conn.execute(f'DROP SCHEMA IF EXISTS "{row["schema_name"]}" CASCADE')
            await conn.execute("DELETE FROM checkpoints WHERE name = $1", row["schema_name"])
            await conn.execute(
                "DELETE FROM projection_generations WHERE name = $1 AND generation = $2",
                projection_name,
                row["generation"],
            )
