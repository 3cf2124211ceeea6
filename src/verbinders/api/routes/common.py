"""What route modules share: running a command (`execute`) and the query parameters of
reads (`as_of`, `wait_for`, `timeout`: see `projections.reading`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from litestar.params import Parameter

from verbinders.api.commands import etag, execute
from verbinders.domain import rules

if TYPE_CHECKING:
    pass

AsOf = Annotated[
    datetime | None,
    Parameter(
        description="Answer as the platform stood then: only what had been recorded by this"
        " moment (a date-time with time zone, from 1900-01-01 to before 2200-01-01 in UTC)"
    ),
]
"""The `as_of` query parameter of every query that can answer from history."""
WaitFor = Annotated[int | None, Parameter(ge=1, description="Wait until this position is included")]
"""Read-your-writes: a command's `Verbinders-Position` (see `projections.reading`)."""
Timeout = Annotated[float, Parameter(gt=0, le=30)]
"""How long `wait_for` waits, in seconds."""


def moment(value: datetime | None, field: str = "as_of") -> datetime | None:
    """A query's moment with its time zone (422 without: a naive moment is ambiguous), inside
    `limits.MOMENT_EARLIEST`..`MOMENT_LATEST` (422 outside; `hygiene` checks this for every
    route before the handler runs, this again where a handler is called directly)."""
    return None if value is None else rules.moment(value, field=field)


__all__ = ["AsOf", "Timeout", "WaitFor", "etag", "execute", "moment"]
