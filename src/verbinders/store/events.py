"""The records the store takes and gives back."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

__all__ = ["Companion", "FeedStatus", "Metadata", "NewEvent", "RecordedEvent"]


class Companion(msgspec.Struct, frozen=True):
    """A write that commits with an append, and only if the append wrote its events.

    For a table kept in step with the events inside the command (access tokens, which must
    work the moment they are issued). `sql` is one INSERT, UPDATE or DELETE with parameters
    $1, $2, ... (`args`); the store runs it in the append's own statement, as a CTE beside
    `appended` (the append's positions, one row per event), which it must refer to, e.g.
    `INSERT ... SELECT $1, $2 WHERE EXISTS (SELECT FROM appended)`, so that an append that
    writes nothing (a conflict) makes it write nothing either, with or without a transaction.
    """

    sql: str
    args: tuple[object, ...]


class Metadata(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who caused an append, and in answer to what. Stored with every event of the append."""

    tenant: str
    actor: str | None = None
    """The acting party (an organisation id), or `platform` for platform-wide roles."""
    roles: tuple[str, ...] = ()
    token_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    idempotency_key: str | None = None
    reason: str | None = None


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event to append: `payload` is JSON already encoded by msgspec."""

    stream_id: UUID
    stream_type: str
    version: int
    topic: str
    payload: bytes


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as stored: its global position, and its payload decoded as plain JSON values."""

    position: int
    tenant: str
    stream_id: UUID
    stream_type: str
    version: int
    topic: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime


class FeedStatus(msgspec.Struct, frozen=True, kw_only=True):
    """How far the feed can be read, and what holds it back."""

    horizon: int
    """Every position up to here belongs to a finished transaction."""
    allocated: int
    """The last position handed out (committed or not)."""
    held_by_pid: int | None = None
    """The backend whose open append holds the horizon back, if any."""
    held_since: datetime | None = None
