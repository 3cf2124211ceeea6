"""Reading a read model: live, as of a moment, after a position, within a timeout.

Every route (and command-line listing) that reads a read model goes through `reading`:

    async with reading(runtime, "directory", tenant=t, as_of=at, wait_for=p, timeout=5) as r:
        page = await directory_page(r, tenant, filters)

and the read model's query functions (beside the read model, in `projections/`) take the
`Reading`: `r.fetch`/`r.fetchrow`/`r.fetchval` to run on, `r.table("organisations")` for the
table's name, and `r.valid("o")` for the condition that picks the versions to read: the
current ones live, those true at the position the moment stands for with `as_of`
(`temporal.py`). So the same query answers both, with no replay and no write. As of a moment
the position is the statement's last parameter (`r.fetch` binds it), never part of its text:
the text is the same at every moment, so its prepared statement is reused as the live one's
is (a query with `r.valid` must therefore go through `r.fetch`..., not `r.conn`).

`reading` waits for `wait_for` (a command's `Verbinders-Position`: read your writes) and, as of
a moment, for the read model to have passed the last position recorded by then (so that an
answer as of a moment never misses what was recorded before it); 503 after `timeout`. A
platform quarantined for the read model (`faults.py`) gets 503 naming the fault: its rows
stopped at the event that could not be applied.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verbinders.errors import InvalidCommand, Unavailable
from verbinders.projections.engine import wait_for_projection
from verbinders.projections.temporal import as_of_bound, as_of_ranged, bind_position, live
from verbinders.store.moments import POSITION_AT_SQL

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

    def valid(self, alias: str, *, ranged: bool = False) -> str:
        """The condition on table `alias` for the versions this read sees (as of a position:
        with the position as a parameter, bound by `fetch`, `fetchrow` and `fetchval`).
        `ranged`: as of a position, in the form the table's GiST index serves (a
        `Table(ranged=True)`, see `as_of_ranged`); the same rows."""
        if self.position is None:
            return live(alias)
        return as_of_ranged(alias) if ranged else as_of_bound(alias)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """`conn.fetch` with the position bound (see `valid`)."""
        text, values = bind_position(sql, args, self.position)
        return list(await self.conn.fetch(text, *values))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        """`conn.fetchrow` with the position bound (see `valid`)."""
        text, values = bind_position(sql, args, self.position)
        return await self.conn.fetchrow(text, *values)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        """`conn.fetchval` with the position bound (see `valid`)."""
        text, values = bind_position(sql, args, self.position)
        return await self.conn.fetchval(text, *values)

    @property
    def live(self) -> bool:
        return self.position is None


_STATE_SQL = f"""
SELECT (SELECT c.position FROM projection_generations g
          JOIN checkpoints c ON c.name = g.schema_name
         WHERE g.name = $1 AND g.state = 'active') AS checkpoint,
       CASE WHEN $3::timestamptz IS NOT NULL
            THEN {POSITION_AT_SQL.format(moment="$3::timestamptz")} END AS position,
       f.position AS fault_position, f.error AS fault
  FROM (SELECT) AS one
  LEFT JOIN (projection_faults f JOIN projection_generations fg
             ON fg.schema_name = f.schema_name AND fg.state = 'active' AND fg.name = $1)
    ON f.tenant = $2
"""
"""The read model's checkpoint, the position of the moment asked about, and the platform's
fault in it, in one round trip."""


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
    waited = False
    while True:
        async with runtime.connection() as conn:
            state = await conn.fetchrow(_STATE_SQL, name, tenant, as_of)
            assert state is not None  # one row, always
            position = None if state["position"] is None else int(state["position"])
            needed = max(wait_for or 0, position or 0)
            if (state["checkpoint"] or 0) >= needed:
                if state["fault_position"] is not None:
                    raise Unavailable(
                        f"the {name} read model of this platform stopped at position"
                        f" {state['fault_position']}: {state['fault']}",
                        projection=name,
                        position=int(state["fault_position"]),
                    )
                yield Reading(conn=conn, name=name, position=position)
                return
        # Not there yet: wait without holding a connection, then read once more.
        if waited or not await wait_for_projection(runtime.pool, name, needed, timeout):
            raise Unavailable(
                f"the {name} read model has not reached position {needed}"
                f" within {timeout:g} s; retry later",
                projection=name,
                position=needed,
            )
        waited = True
