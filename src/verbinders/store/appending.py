"""The append statements a call of `EventStore.append` becomes, and its checks."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from verbinders.errors import InvalidCommand
from verbinders.store.events import NewEvent
from verbinders.store.schema import (
    APPEND_MANY,
    APPEND_MANY_IN_TRANSACTION,
    APPEND_ONE,
    APPEND_ONE_IN_TRANSACTION,
    CALL_APPEND_EVENTS,
    HORIZON_CTE,
    HORIZON_CTE_IN_TRANSACTION,
    INSERT_MANY,
    INSERT_ONE,
    INSERT_ONE_UNCHANGED,
)

__all__ = ["append_statement", "check_batch", "companion_statement", "conflicting_stream"]


def check_batch(events: Sequence[NewEvent], expected: Mapping[UUID, int]) -> None:
    """Every stream's new versions must follow its expected version without gaps."""
    next_version = {stream: version + 1 for stream, version in expected.items()}
    for event in events:
        want = next_version.get(event.stream_id)
        if want is None:
            raise InvalidCommand(
                f"no expected version given for stream {event.stream_id}", field="expected"
            )
        if event.version != want:
            raise InvalidCommand(
                f"event for stream {event.stream_id} has version {event.version}, expected {want}",
                field="version",
            )
        next_version[event.stream_id] = want + 1


def append_statement(kind: str) -> str:
    """A single-stream append without a companion (`kind`: see `_PLAIN_APPENDS`)."""
    return _PLAIN_APPENDS[kind]


# Single-stream appends: on the store's own autocommit connections, or in a caller's
# transaction (which takes the horizon's lock once, see `feed_enter` in feed_guards.py).
_PLAIN_APPENDS = {
    "one": APPEND_ONE,
    "many": APPEND_MANY,
    "one in transaction": APPEND_ONE_IN_TRANSACTION,
    "many in transaction": APPEND_MANY_IN_TRANSACTION,
}

_APPENDS = {
    "one": (f"{HORIZON_CTE}, appended AS ({INSERT_ONE})", 7),
    "many": (f"{HORIZON_CTE}, appended AS ({INSERT_MANY})", 7),
    "one in transaction": (f"{HORIZON_CTE_IN_TRANSACTION}, appended AS ({INSERT_ONE})", 7),
    "many in transaction": (f"{HORIZON_CTE_IN_TRANSACTION}, appended AS ({INSERT_MANY})", 7),
    # One event that also checks streams used unread ($8 streams, $9 versions; see schema.py).
    "one unchanged": (f"{HORIZON_CTE}, appended AS ({INSERT_ONE_UNCHANGED})", 9),
    "one unchanged in transaction": (
        f"{HORIZON_CTE_IN_TRANSACTION}, appended AS ({INSERT_ONE_UNCHANGED})",
        9,
    ),
    "streams": (f"appended AS (SELECT p AS position FROM {CALL_APPEND_EVENTS} AS p)", 9),
}


@functools.lru_cache(maxsize=64)
def companion_statement(kind: str, companion: str) -> str:
    """An append of `kind` and a companion write (its parameters renumbered) as one statement."""
    ctes, count = _APPENDS[kind]
    shifted = re.sub(r"\$(\d+)", lambda m: f"${int(m.group(1)) + count}", companion)
    return f"WITH {ctes}, also AS ({shifted}) SELECT position FROM appended ORDER BY position"


def conflicting_stream(error: asyncpg.PostgresError, events: Sequence[NewEvent]) -> UUID:
    """The stream a unique violation's detail names (else the append's first)."""
    detail = error.detail or ""
    for event in events:
        if str(event.stream_id) in detail:
            return event.stream_id
    return events[0].stream_id
