"""Overlap detection: when an activity is planned or changed, open a case with each activity
of another organisation it overlaps with; when it is cancelled or completed, its open cases
close.

On `Planned`, `DetailsUpdated` and `Rescheduled` the policy asks the candidate index
(`application/overlap_search.py`) for the activity's candidates *as the index stood at the
event's position* (the index keeps its history: rows valid over ranges of positions), once
the index has reached that position (it waits, then retries the batch), and issues
`open_overlap_case` for each one scoring at or above the platform's threshold then, ordered
by the other activity's id. So `decide` gives the same commands every time it sees the event,
as a policy's must, although it reads a read model: a replay of the index rebuilds the same
versions. Each case opens at most once, for good: its stream id comes from the unordered
pair and its append expects version 0; `open_overlap_case` does nothing for a pair whose case
exists or whose activities are no longer open; the commands' keys
(`policy:overlap_detection:<position>:<n>`) make a command seen again an answer. A pair is
seen from the later of its two activities' events (the earlier one's candidates did not
include it yet).

On `Cancelled` and `Completed`: one `close_overlap_cases_of` (the cases the store records
for the activity at the time it runs).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import TYPE_CHECKING

from verbinders.application.overlap_cases import close_overlap_cases_of, open_overlap_case
from verbinders.application.overlap_search import candidates_of
from verbinders.domain.activities import Activity
from verbinders.domain.overlap_cases import ClosedBecause
from verbinders.policies.policy import Issue, Policy
from verbinders.projections.overlap_candidates import READ_MODEL
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["IndexBehind", "OverlapDetection"]

# The event classes `@event` creates are invisible to type checkers.
_CHANGED = (
    topic_of(Activity.Planned),  # type: ignore[attr-defined]
    topic_of(Activity.DetailsUpdated),  # type: ignore[attr-defined]
    topic_of(Activity.Rescheduled),  # type: ignore[attr-defined]
)
_ENDED = {
    topic_of(Activity.Cancelled): ClosedBecause.CANCELLED,  # type: ignore[attr-defined]
    topic_of(Activity.Completed): ClosedBecause.COMPLETED,  # type: ignore[attr-defined]
}

WAIT_FOR_INDEX_S = 10.0


class IndexBehind(Exception):
    """The candidate index has not reached the event yet: the batch is retried."""


async def index_reached(conn: Connection, position: int, timeout: float) -> bool:
    """Wait until the active candidate index has processed `position`."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        reached = await conn.fetchval(
            "SELECT c.position FROM projection_generations g"
            " JOIN checkpoints c ON c.name = g.schema_name"
            " WHERE g.name = $1 AND g.state = 'active'",
            READ_MODEL,
        )
        if reached is not None and reached >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)


class OverlapDetection(Policy):
    name = "overlap_detection"
    topics = (*_CHANGED, *_ENDED)

    async def decide(self, conn: Connection, event: RecordedEvent) -> list[Issue]:
        at = datetime.fromisoformat(event.payload["at"])
        because = _ENDED.get(event.topic)
        if because is not None:
            return [Issue(close_overlap_cases_of, (event.stream_id,), {"because": because}, at=at)]
        if not await index_reached(conn, event.position, WAIT_FOR_INDEX_S):
            raise IndexBehind(
                f"the {READ_MODEL} read model has not reached position {event.position}"
            )
        found = await candidates_of(conn, event.tenant, event.stream_id, event.position)
        if found is None:  # no longer open
            return []
        candidates, threshold = found
        above = sorted(
            (c for c in candidates if c.explanation.score >= threshold),
            key=lambda c: str(c.activity_id),
        )
        return [
            Issue(
                open_overlap_case,
                (event.stream_id, c.activity_id),
                {"explanation": c.explanation, "threshold": threshold},
                at=at,
            )
            for c in above
        ]
