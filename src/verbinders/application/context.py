"""Who acts, in which transaction, and what a command answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from eventsourcing.domain import Aggregate

from verbinders.store.events import Companion, Metadata

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.repository import Repository

__all__ = ["Actor", "CommandContext", "CommandResult"]

A = TypeVar("A", bound=Aggregate)


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """The acting token's tenant, party and roles (or the operator at the command line)."""

    tenant: str
    roles: tuple[str, ...]
    party: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    label: str = ""

    @property
    def name(self) -> str:
        """How decisions name who made them: the party, else the token, else the operator."""
        if self.party is not None:
            return str(self.party)
        if self.token_id is not None:
            return f"token:{self.token_id}"
        return f"operator:{self.label or 'cli'}"

    def has_any(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


@dataclass
class CommandContext:
    """One command: its actor, its transaction, and the metadata its events carry.

    Without a `connection` the command runs outside a transaction: it reads what is committed
    and makes exactly one write, `save` (with its `also`), which is one statement and so
    atomic on its own; the version check refuses it if what the command read has moved on
    meanwhile. A second write is refused as a programming error. For commands that write
    once (issuing a token), this saves the round trips of BEGIN and COMMIT.
    """

    repository: Repository
    connection: Connection | None
    actor: Actor
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    idempotency_key: str | None = None
    positions: list[int] = field(default_factory=list)
    clock: datetime | None = None
    """When set, the moment commands say they happen (loading history, e.g. the demo)."""
    _saved: bool = field(default=False, repr=False)

    @property
    def transaction(self) -> Connection:
        """The command's connection, for writes beside its events (only in a transaction)."""
        if self.connection is None:
            raise RuntimeError("this command runs without a transaction; it may only `save` once")
        return self.connection

    def now(self) -> datetime:
        return self.clock or datetime.now(UTC)

    def metadata(self, reason: str | None = None) -> Metadata:
        return Metadata(
            tenant=self.actor.tenant,
            actor=self.actor.name,
            roles=self.actor.roles,
            token_id=str(self.actor.token_id) if self.actor.token_id else None,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            idempotency_key=self.idempotency_key,
            reason=reason,
        )

    async def get(self, cls: type[A], aggregate_id: uuid.UUID) -> A:
        """Load within this command's tenant and transaction (`NotFound` otherwise)."""
        return await self.repository.get(
            cls, aggregate_id, tenant=self.actor.tenant, connection=self.connection
        )

    async def find(self, cls: type[A], aggregate_id: uuid.UUID) -> A | None:
        return await self.repository.find(
            cls, aggregate_id, tenant=self.actor.tenant, connection=self.connection
        )

    async def save(
        self, *aggregates: Aggregate, reason: str | None = None, also: Companion | None = None
    ) -> list[int]:
        """Append the aggregates' new events atomically (with `also`, see `Companion`)."""
        if self.connection is None:
            if self._saved:
                raise RuntimeError("this command runs without a transaction; it saved already")
            self._saved = True
        positions = await self.repository.save(
            *aggregates, metadata=self.metadata(reason), connection=self.connection, also=also
        )
        self.positions.extend(positions)
        return positions


class CommandResult(msgspec.Struct, frozen=True, kw_only=True):
    """What every command answers: the resource, its version, and where its events landed."""

    id: str
    version: int
    position: int
    """Global position of the command's last event: wait for it to read your own writes."""
    data: Any = None
