"""Events' public names: stable, short, independent of where the code lives.

The store records each event under its topic, the Python path of its class
(`verbinders.domain.organisations:Organisation.Registered`); that stays as it is, and records
are never rewritten. Clients see a public name instead, derived from the registered aggregates
(`registry.aggregates()`): the aggregate and the event in snake case,
`organisation.registered`, `membership.application_withdrawn`, `need_claim.claimed`. The HTTP
API (`/events`, `/events/stream`) and `verbinders export events` show it; `/events?topic=`
filters by it. docs/api.md lists every name with what the event means.

A topic that no registered class has (an event of code since removed) keeps its topic as its
name, so that nothing recorded becomes unreadable.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import TYPE_CHECKING

import msgspec
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from verbinders.errors import InvalidCommand

if TYPE_CHECKING:
    from verbinders.store.events import RecordedEvent

__all__ = ["event_names", "public_event", "public_name", "stored_topic", "topic_of"]

_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _snake(name: str) -> str:
    return _WORD.sub("_", name).lower()


@functools.cache
def event_names() -> dict[str, str]:
    """Public name -> stored topic, for every event class of every registered aggregate."""
    from verbinders.registry import aggregates

    names: dict[str, str] = {}
    for aggregate in aggregates():
        events = {
            attribute: value
            for attribute, value in sorted(vars(aggregate).items())
            if inspect.isclass(value)
            and issubclass(value, DomainEvent)
            and value.__qualname__ == f"{aggregate.__qualname__}.{attribute}"
        }
        for attribute, value in events.items():
            if any(other is not value and issubclass(other, value) for other in events.values()):
                continue  # a base class (the aggregate's `Event`, a `Created` it refines)
            names[f"{_snake(aggregate.__name__)}.{_snake(attribute)}"] = get_topic(value)
    return names


@functools.cache
def _by_topic() -> dict[str, str]:
    return {topic: name for name, topic in event_names().items()}


def public_name(topic: str) -> str:
    """The public name of a stored topic (the topic itself when no class has it)."""
    return _by_topic().get(topic, topic)


def topic_of(name: str) -> str | None:
    """The stored topic of a public name (None: no such event)."""
    return event_names().get(name)


def public_event(event: RecordedEvent) -> RecordedEvent:
    """The event as clients see it: its `topic` the public name."""
    return msgspec.structs.replace(event, topic=public_name(event.topic))


def stored_topic(name: str, field: str = "topic") -> str:
    """The stored topic of a public name a client filters by (422 naming the known ones)."""
    topic = topic_of(name)
    if topic is None:
        refused = InvalidCommand(
            f"{field} must be an event's public name (e.g. organisation.registered; all are"
            f' listed in docs/api.md under "Events" and in this problem\'s `known`),'
            f" got {name[:80]!r}",
            field=field,
            rule="choice",
        )
        refused.details["known"] = sorted(event_names())
        raise refused
    return topic
