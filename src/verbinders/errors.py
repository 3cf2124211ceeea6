"""One error hierarchy for the whole product.

Domain rules, the store and the application layer raise these; the HTTP layer maps each kind to
an RFC 9457 problem type in one place, and the CLI prints the message.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Conflict",
    "FeedRefused",
    "Forbidden",
    "InvalidCommand",
    "NotFound",
    "PreconditionFailed",
    "StreamConflict",
    "Unauthorized",
    "Unavailable",
    "VerbindersError",
]


class VerbindersError(Exception):
    """Base of every error the product raises on purpose."""

    kind: str = "error"
    title: str = "Error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidCommand(VerbindersError):
    """A command broke a rule; `field` and `rule` name which one."""

    kind = "invalid-command"
    title = "Invalid command"

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        details: dict[str, Any] = {}
        if field is not None:
            details["field"] = field
        if rule is not None:
            details["rule"] = rule
        super().__init__(message, **details)
        self.field = field
        self.rule = rule


class NotFound(VerbindersError):
    kind = "not-found"
    title = "Not found"


class Conflict(VerbindersError):
    """The command does not fit the current state (which the details name)."""

    kind = "conflict"
    title = "Conflict"


class StreamConflict(Conflict):
    """An append expected a stream version that is no longer current."""

    kind = "concurrency-conflict"
    title = "Concurrent modification"

    def __init__(self, stream_id: object, expected: int, actual: int | None) -> None:
        where = f"is at version {actual}" if actual is not None else "has moved on"
        super().__init__(
            f"stream {stream_id} {where}, not at the expected version {expected}",
            stream_id=str(stream_id),
            expected_version=expected,
            actual_version=actual,
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class StaleRead(StreamConflict):
    """A stream a command took from the aggregate cache without reading it had moved on by
    the time of its append (another process appended to it): nothing was written, and the
    command can run again with the stream read from the store (the pipeline does, once)."""


class PreconditionFailed(VerbindersError):
    kind = "precondition-failed"
    title = "Precondition failed"


class Unavailable(VerbindersError):
    """Not possible right now, but soon (a read model still catching up)."""

    kind = "unavailable"
    title = "Temporarily unavailable"


class FeedRefused(Unavailable):
    """The event feed cannot be read here: the database or the session is not set up as the
    feed needs (an isolation other than READ COMMITTED, a sequence with a cache, a standby).
    The message names what is wrong and how to fix it; `reason` is one of `isolation`,
    `sequence` or `standby`."""

    kind = "feed-refused"
    title = "The event feed cannot be read here"


class Unauthorized(VerbindersError):
    kind = "unauthorized"
    title = "Unauthorized"


class Forbidden(VerbindersError):
    kind = "forbidden"
    title = "Forbidden"
