"""Who acts, and what a command answers."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from eventsourcing.domain import Aggregate

__all__ = ["Actor", "CommandResult"]


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who acts: a token's tenant, party and roles; a policy; or the operator at the command
    line."""

    tenant: str
    roles: tuple[str, ...]
    party: uuid.UUID | None = None
    """The organisation the token acts for (see `rights.py` for what that allows)."""
    token_id: uuid.UUID | None = None
    label: str = ""
    policy: str | None = None
    """Set when a policy acts (its name): its decisions are recorded as the policy's."""

    @property
    def name(self) -> str:
        """How decisions name who made them: the party, else the token, else the policy,
        else the operator."""
        if self.party is not None:
            return str(self.party)
        if self.token_id is not None:
            return f"token:{self.token_id}"
        if self.policy is not None:
            return f"policy:{self.policy}"
        return f"operator:{self.label or 'cli'}"

    def has_any(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @classmethod
    def operator(cls, tenant: str, label: str = "cli") -> Actor:
        """The operator at the command line (or a loader: the demo, an import), acting as
        the coordinator of platform `tenant`."""
        from verbinders.domain.platform import tenant_slug

        return cls(tenant=tenant_slug(tenant), roles=("coordinator",), label=label)


class CommandResult(msgspec.Struct, frozen=True, kw_only=True):
    """What most commands answer: the resource, its version, and where its events landed."""

    id: str
    version: int
    position: int = 0
    """Global position of the command's last event: wait for it to read your own writes.
    Set by the unit of work once the events are appended (0: the command changed nothing)."""
    data: Any = None

    @classmethod
    def of(cls, aggregate: Aggregate, *, id: object = None, data: Any = None) -> CommandResult:
        """The result of a command on `aggregate` (`id`: a part of it, e.g. a strength)."""
        return cls(id=str(aggregate.id if id is None else id), version=aggregate.version, data=data)
