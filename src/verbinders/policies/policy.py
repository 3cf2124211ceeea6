"""A policy: a reaction to events of the feed that issues commands.

    class OrganisationDissolved(Policy):
        name = "organisation_dissolved"
        topics = (topic_of(Organisation.Dissolved),)

        async def decide(self, conn, event):
            return [Issue(close_for_dissolution, (event.stream_id,), {"reason": ...})]

`decide` says which commands an event calls for, in a fixed order; the runner
(`runner.py`) issues each through the command pipeline, as the policy (`Actor.policy`,
with the policy's `roles`), with the event's position as causation id and the idempotency key
`policy:<name>:<position>:<n>` for its n-th command, claimed for good (never forgotten after a
day). So a command is issued exactly once, however often the event is seen again: by a second
worker, after a crash mid-batch, after any replay of the read models (a policy has its own
checkpoint and no generations: it is never rebuilt).

For that, `decide` must give the same commands every time it sees the same event: it decides
from the event and from history up to the event's position (`conn` reads the store), never
from read models (which a replay may be rebuilding) or the clock. The commands it issues
should hold however often their outcome is already in place (close a membership unless it
is closed), so that a decision taken by hand in the meantime is no failure.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from verbinders.domain.access import Role

if TYPE_CHECKING:
    from verbinders.application.commands import Command
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["Issue", "Policy"]

NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class Issue:
    """A command a policy issues: the command, its arguments, and when it happens."""

    command: Command[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    """The moment the command says it happens (e.g. the event's own); None: now."""


class Policy(ABC):
    """Subclasses set `name` and `topics` and write `decide` (see the module's notes)."""

    name: ClassVar[str]
    """Lower-case identifier: its checkpoint is `policy:<name>`, its actor `policy:<name>`."""
    topics: ClassVar[tuple[str, ...]]
    """The topics it reacts to (name them with `store.mapping.topic_of(EventClass)`)."""
    roles: ClassVar[tuple[str, ...]] = (Role.COORDINATOR.value,)
    """The roles it acts in: its commands are checked against them like anyone's."""

    @property
    def checkpoint(self) -> str:
        return f"policy:{self.name}"

    @abstractmethod
    async def decide(self, conn: Connection, event: RecordedEvent) -> list[Issue]:
        """The commands `event` calls for, the same every time (see the module's notes)."""
