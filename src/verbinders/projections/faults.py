"""Faults: events a read model could not apply, and the platforms held back for them.

A batch that fails for a reason of its events (a value the table cannot hold, a handler that
meets a payload it does not expect) is retried event by event, each in a savepoint. The
events that still fail are recorded here (projection, generation, platform, position, topic,
error), and the platform is *quarantined* for that generation: its later events are skipped
by that read model, while the read model goes on for every other platform and every other read
model goes on as before. `/health/ready` and `verbinders status` name each fault; a query of a
quarantined platform's read model answers 503 naming it.

Faults belong to a generation: a replay (after the code is fixed) builds a generation without
any, and the faults of the generation it replaces go with that generation. A rebuild that
meets a fault (`verbinders replay`) stops at it instead (`ProjectionFault`): one readable
line with the position and the error.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg
import msgspec

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = [
    "Fault",
    "ProjectionFault",
    "is_fault",
    "load_quarantine",
    "quarantined",
    "record_fault",
]


class Fault(msgspec.Struct, frozen=True, kw_only=True):
    projection: str
    schema_name: str
    tenant: str
    position: int
    topic: str
    error: str
    recorded_at: datetime | None = None

    def describe(self) -> str:
        return (
            f"projection {self.projection} cannot apply position {self.position}"
            f" ({self.topic.rsplit(':', 1)[-1]}) of platform {self.tenant}: {self.error};"
            f" that platform's later events wait (replay {self.projection} after a fix)"
        )


class ProjectionFault(Exception):
    """A rebuild met an event it cannot apply: stop there, naming it."""

    def __init__(self, projection: str, event: RecordedEvent, error: BaseException) -> None:
        self.projection = projection
        self.position = event.position
        self.topic = event.topic
        self.tenant = event.tenant
        self.error = describe_error(error)
        super().__init__(
            f"projection {projection} cannot apply the event at position {event.position}"
            f" ({event.topic.rsplit(':', 1)[-1]}, platform {event.tenant}): {self.error}"
        )


def describe_error(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


_TRANSIENT = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.UndefinedTableError,
    asyncpg.InvalidSchemaNameError,
    asyncpg.QueryCanceledError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
)


def is_fault(error: BaseException) -> bool:
    """Whether `error` says something about the events (retry them one by one and record
    what fails) rather than about the connection, the server or the generation (retry the
    whole batch later, as before)."""
    if not isinstance(error, Exception) or isinstance(error, _TRANSIENT):
        return False
    if isinstance(error, asyncpg.PostgresError) and error.sqlstate in ("VB001", "57P01"):
        return False
    return error.__class__.__name__ != "LostLeadership"


_QUARANTINE: dict[str, set[str]] = {}
"""Generation schema -> the platforms quarantined for it (this process's copy)."""


async def load_quarantine(conn: Connection, schema_name: str) -> set[str]:
    """Read the generation's quarantined platforms (at the start of a leadership)."""
    rows = await conn.fetch(
        "SELECT tenant FROM projection_faults WHERE schema_name = $1", schema_name
    )
    found = {row["tenant"] for row in rows}
    _QUARANTINE[schema_name] = found
    return found


async def quarantined(conn: Connection, schema_name: str) -> set[str]:
    known = _QUARANTINE.get(schema_name)
    if known is None:
        known = await load_quarantine(conn, schema_name)
    return known


async def record_fault(
    conn: Connection,
    projection: str,
    schema_name: str,
    event: RecordedEvent,
    error: BaseException,
) -> Fault:
    """Record the fault (inside the batch's transaction) and quarantine the platform."""
    fault = Fault(
        projection=projection,
        schema_name=schema_name,
        tenant=event.tenant,
        position=event.position,
        topic=event.topic,
        error=describe_error(error),
    )
    await conn.execute(
        "INSERT INTO public.projection_faults"
        " (name, schema_name, tenant, position, topic, error) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (schema_name, tenant) DO NOTHING",
        fault.projection,
        fault.schema_name,
        fault.tenant,
        fault.position,
        fault.topic,
        fault.error,
    )
    _QUARANTINE.setdefault(schema_name, set()).add(event.tenant)
    return fault


def forget(schema_name: str) -> None:
    """Drop this process's copy for a generation (dropped, or to be read again)."""
    _QUARANTINE.pop(schema_name, None)


async def faults_of(conn: Connection, schemas: list[str]) -> list[Fault]:
    rows = await conn.fetch(
        "SELECT name, schema_name, tenant, position, topic, error, recorded_at"
        " FROM projection_faults WHERE schema_name = any($1::text[])"
        " ORDER BY name, position",
        schemas,
    )
    return [
        Fault(
            projection=r["name"],
            schema_name=r["schema_name"],
            tenant=r["tenant"],
            position=r["position"],
            topic=r["topic"],
            error=r["error"],
            recorded_at=r["recorded_at"],
        )
        for r in rows
    ]
