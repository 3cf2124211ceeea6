"""What the API answers, as generic shapes named per use in the OpenAPI document.

`Page[T]` is every paged list; a route answers a named subclass (`OrganisationPage`), so that
generated clients get one typed class per page. `CommandAnswer[D]` is what commands answer (the
application's `CommandResult` as encoded): `CommandResult` for most commands (no `data`), and
named subclasses for those whose `data` says more (`TransitionResult`, ...).
"""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

import msgspec

from verbinders.application.calls import IssuedCall
from verbinders.application.meetings import RecordedDecision
from verbinders.application.membership import Transition

__all__ = [
    "CallIssuedResult",
    "CommandAnswer",
    "CommandResult",
    "DecisionRecordedResult",
    "Liveness",
    "Page",
    "TransitionResult",
]

T = TypeVar("T")
D = TypeVar("D")


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of a list: `items` from `offset`, `total` in the whole list."""

    items: list[T]
    total: int
    limit: int
    offset: int


class CommandAnswer(msgspec.Struct, Generic[D], frozen=True, kw_only=True):
    """A command's answer: the resource, its version, where its events landed, and `data`."""

    id: str
    """The resource (or its part: a strength, a contact person) the command acted on."""
    version: int
    """The resource's version after the command (its `ETag`)."""
    position: int
    """Global position of the command's last event (0: nothing changed); pass it as
    `wait_for` to a query to read your own write."""
    data: D


class CommandResult(CommandAnswer[None], frozen=True, kw_only=True):
    """A command's answer without `data`."""


class TransitionResult(CommandAnswer[Transition], frozen=True, kw_only=True):
    """A membership command's answer: `data` is the new status."""


class CallIssuedResult(CommandAnswer[IssuedCall], frozen=True, kw_only=True):
    """Issuing a call: `data` says how many organisations it addresses."""


class DecisionRecordedResult(CommandAnswer[RecordedDecision], frozen=True, kw_only=True):
    """Recording a meeting's decision: `data` names the decision."""


class Liveness(msgspec.Struct, frozen=True, kw_only=True):
    """The process is up."""

    status: Literal["ok"]
