"""Reading a read model: live, as of a moment, after a position, within a timeout.

Every route (and command-line listing) that reads a read model goes through `reading`:

    async with reading(runtime, "directory", tenant=t, as_of=at, wait_for=p, timeout=5) as r:
        page = await directory_page(r, tenant, filters)

and the read model's query functions (beside the read model, in `projections/`) take the
`Reading`: `r.conn` to run on, `r.table("organisations")` for the table's name, and
`r.valid("o")` for the condition that picks the versions to read: the current ones live, those
true at the position the moment stands for with `as_of` (`temporal.py`). So the same query
answers both, with no replay and no write.

`reading` waits for `wait_for` (a command's `Verbinders-Position`: read your writes) and, as of
a moment, for the read model to have passed the last position recorded by then (so that an
answer as of a moment never misses what was recorded before it); 503 after `timeout`. A
platform quarantined for the read model (`faults.py`) gets 503 naming the fault: its rows
stopped at the event that could not be applied.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verbinders.errors import InvalidCommand, Unavailable
from verbinders.projections.engine import wait_for_projection
from verbinders.projections.temporal import valid

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from datetime import datetime

    from verbinders.database import Connection
    from verbinders.runtime import Runtime

__all__ = ["MAX_WAIT_SECONDS", "Reading", "reading"]

MAX_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Reading:
    """One read of a read model: its connection and which versions to read."""

    conn: Connection
    name: str
    """The read model (its views live in the schema of this name)."""
    position: int | None = None
    """None: live; else the position the answer stands at (`as_of`)."""

    def table(self, table: str) -> str:
        return f'"{self.name}"."{table}"'

    def valid(self, alias: str) -> str:
        """The condition on table `alias` for the versions this read sees."""
        return valid(alias, self.position)

    @property
    def live(self) -> bool:
        return self.position is None


async def position_of(runtime: Runtime, as_of: datetime | None) -> int | None:
    return None if as_of is None else await runtime.store.position_at(as_of)


@contextlib.asynccontextmanager
async def reading(
    runtime: Runtime,
    name: str,
    *,
    tenant: str | None,
    as_of: datetime | None = None,
    wait_for: int | None = None,
    timeout: float = 5.0,
) -> AsyncIterator[Reading]:
    """A `Reading` of read model `name` for platform `tenant` (see the module's notes)."""
    if not 0 < timeout <= MAX_WAIT_SECONDS:
        raise InvalidCommand(
            f"timeout must be between 0 and {MAX_WAIT_SECONDS:g} seconds",
            field="timeout",
            rule="range",
        )
    position = await position_of(runtime, as_of)
    needed = max(wait_for or 0, position or 0)
    if needed and not await wait_for_projection(runtime.pool, name, needed, timeout):
        raise Unavailable(
            f"the {name} read model has not reached position {needed}"
            f" within {timeout:g} s; retry later",
            projection=name,
            position=needed,
        )
    async with runtime.connection() as conn:
        if tenant is not None:
            await _refuse_quarantined(conn, name, tenant)
        yield Reading(conn=conn, name=name, position=position)


async def _refuse_quarantined(conn: Connection, name: str, tenant: str) -> None:
    fault = await conn.fetchrow(
        "SELECT f.position, f.topic, f.error FROM projection_faults f"
        " JOIN projection_generations g ON g.schema_name = f.schema_name"
        " WHERE g.name = $1 AND g.state = 'active' AND f.tenant = $2",
        name,
        tenant,
    )
    if fault is not None:
        raise Unavailable(
            f"the {name} read model of this platform stopped at position {fault['position']}:"
            f" {fault['error']}",
            projection=name,
            position=int(fault["position"]),
        )
