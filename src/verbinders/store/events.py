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
    """How far the feed can be read, what holds it back and since when."""

    horizon: int
    """Every position up to here belongs to a finished transaction."""
    allocated: int
    """The last position handed out (committed or not)."""
    withheld: int = 0
    """Positions handed out above the horizon: not yet readable (allocated - horizon)."""
    held_by_pid: int | None = None
    """The backend of the transaction that holds the horizon back, if one does."""
    held_by_gid: str | None = None
    """Or the gid of the prepared transaction that holds it (no backend then)."""
    held_by_application: str | None = None
    held_by_client: str | None = None
    held_by_state: str | None = None
    """The holder's `pg_stat_activity` state: `active`, `idle in transaction`, ..."""
    held_since: datetime | None = None
    """When the holder's transaction started (a prepared one: when it was prepared)."""
    held_for_s: float | None = None
    holders: int = 0
    """Transactions in flight that hold the horizon (the first is named above)."""
    unsafe: str | None = None
    """Why the feed cannot be read here (isolation, sequence, standby) and the fix, if so."""

    @property
    def held(self) -> bool:
        """A transaction in flight keeps positions that others committed from readers."""
        return self.withheld > 0 and self.holders > 0

    def holder(self) -> str | None:
        """The holder in words, e.g. `backend 812 (verbinders, local socket, idle in
        transaction) since 2026-12-01 10:00:00+00:00, 12.3 s`."""
        if self.held_by_pid is None and self.held_by_gid is None:
            return None
        if self.held_by_gid is not None:
            who = (
                f"prepared transaction {self.held_by_gid!r} (finish it with COMMIT PREPARED"
                f" or ROLLBACK PREPARED {self.held_by_gid!r})"
            )
        else:
            about = ", ".join(
                part
                for part in (self.held_by_application, self.held_by_client, self.held_by_state)
                if part
            )
            who = f"backend {self.held_by_pid}" + (f" ({about})" if about else "")
        since = f" since {self.held_since}" if self.held_since is not None else ""
        held_for = f", {self.held_for_s:.1f} s" if self.held_for_s is not None else ""
        return who + since + held_for
