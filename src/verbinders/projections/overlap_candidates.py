"""The overlap candidate index: every planned or running activity, as overlap detection
compares it, with its history (`projections/temporal.py`).

A version per change of each open activity (the row ends when it is completed or
cancelled). Per activity: organisation, status, title, the details and schedule as recorded
(to fold later changes in), `themes`, `groups` (`target_groups.group_keys`), `districts`,
`languages` as arrays, the folded venue, `ranges` (`schedule.occurrences` as a
`tstzmultirange`) with the hours they touch (`hour_slots`), the scheduled hours, and the
normalised documents (`lexicon.overlap_document`) of the title and of title and description
with their Dutch lexemes (`tsvector_to_array(to_tsvector('dutch', ...))`: the projection's
`load` has PostgreSQL stem the batch's documents it has not stemmed before, in one statement,
and the fold writes the lexemes with the row; a version that keeps the details keeps its
row's lexemes), the title's lexemes the document's lack (`title_only`, NULL when none), and
the masses (`overlap.mass`) of all the words and of the title's (`word_masses`: the search's
bound reads them, so a change of the lexicon's weights is a new version of this index).
Also each platform's overlap threshold (`settings`).

One secondary index: GIN on `hour_slots`, the one selective path to the candidates (a score
is 0 unless the occurrences coincide, so every candidate shares an hour). The search
rechecks the multirange and the themes or lexemes on the few rows it finds; GiST on the
multirange (bounding ranges: a weekly series meets every activity of its months) and GIN on
themes (twenty codes) or lexemes found far more rows than the hours do, so the planner's
bitmap AND with them only cost time, and each index cost a rebuild its build.

The fold computes what it can once: the normalised documents per title and description and
their lexemes, the expansion per schedule (`schedule.utc_seconds`: whole seconds, by
arithmetic), the target-group keys per labels (caches: a platform's titles, descriptions and
days repeat).

Because the rows keep their history, the index answers "which candidates did this activity
have at position P" exactly, however far it has moved on since: the overlap policy asks it
as of the position of the event it reacts to, so its decisions are the same every time it
sees the event.

Queries: `application/overlap_search.py`.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from itertools import starmap
from typing import TYPE_CHECKING, Any

import msgspec
from asyncpg import Range

from verbinders.domain.activities import Activity, ActivityStatus
from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.lexicon import overlap_document
from verbinders.domain.overlap import mass
from verbinders.domain.overlap_settings import OverlapSettings
from verbinders.domain.schedule import (
    Schedule,
    TimeRange,
    hours_of,
    occurrences,
    total_hours,
    utc_moment,
    utc_seconds,
)
from verbinders.domain.target_groups import group_keys
from verbinders.domain.text import fold
from verbinders.projections.temporal import Rows, Table, TemporalProjection, as_uuid, events_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = [
    "CANDIDATES",
    "SETTINGS",
    "OverlapCandidatesProjection",
    "hour_slots",
    "multirange",
    "word_masses",
]

READ_MODEL = "overlap_candidates"

CANDIDATES = Table(
    "candidates",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("organisation_id", "uuid"),
        ("status", "text"),
        ("title", "text"),
        ("details", "jsonb"),
        ("schedule", "jsonb"),
        ("themes", "text[]"),
        ("groups", "text[]"),
        ("districts", "text[]"),
        ("languages", "text[]"),
        ("venue", "text"),
        ("ranges", "tstzmultirange"),
        ("hour_slots", "integer[]"),
        ("scheduled_hours", "double precision"),
        ("title_document", "text"),
        ("document", "text"),
        ("title_lexemes", "text[]"),
        ("lexemes", "text[]"),
        ("title_only", "text[]"),
        ("word_mass", "double precision"),
        ("title_mass", "double precision"),
    ),
    indexes=("USING gin (hour_slots)",),
)
SETTINGS = Table(
    "settings",
    keys=(("tenant", "text"),),
    values=(("threshold", "double precision"),),
)


def multirange(ranges: Iterable[TimeRange]) -> list[Range[datetime]]:
    """A `tstzmultirange` value (asyncpg: a list of ranges) of [start, end) ranges."""
    return [Range(r.start.astimezone(UTC), r.end.astimezone(UTC)) for r in ranges]


def hour_slots(ranges: Iterable[TimeRange]) -> list[int]:
    """The hours (since 1970, UTC) that the ranges touch: two activities whose occurrences
    coincide share at least one. GiST on a multirange compares bounding ranges, so a weekly
    series meets every activity of its months and each must be rechecked; GIN on these
    slots finds those at the same hours only (the multirange then decides exactly)."""
    slots: set[int] = set()
    for r in ranges:
        start = int(r.start.timestamp()) // 3600
        end = -(-int(r.end.timestamp()) // 3600)
        slots.update(range(start, end))
    return sorted(slots)


@functools.lru_cache(maxsize=16384)
def _documents(title: str, description: str | None) -> tuple[str, str]:
    """The normalised documents of a title and description (cached: a platform's titles and
    descriptions repeat, and a rebuild normalises each once)."""
    return overlap_document(title), overlap_document(title, description)


@functools.lru_cache(maxsize=4096)
def _groups(labels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(group_keys(labels)))


@functools.lru_cache(maxsize=16384)
def _when(encoded: bytes) -> tuple[tuple[Range[datetime], ...], tuple[int, ...], float]:
    """A schedule's multirange, hour slots and hours, from its JSON (cached: each version of
    an activity that leaves the schedule as it was, and equal schedules, expand once),
    folded from the occurrences' whole seconds (`schedule.utc_seconds`)."""
    schedule: Schedule = msgspec.json.decode(encoded, type=Schedule, strict=False)
    spans = utc_seconds(schedule)
    if spans is None:  # a one-off given to the microsecond
        ranges = occurrences(schedule)
        return tuple(multirange(ranges)), tuple(hour_slots(ranges)), total_hours(ranges)
    return tuple(starmap(_range, spans)), _hour_slots_of(spans), hours_of(spans)


@functools.lru_cache(maxsize=65536)
def _range(start: int, end: int) -> Range[datetime]:
    """[start, end) from whole seconds since 1970 UTC (cached: a platform's activities share
    their hours; a `Range` is immutable)."""
    return Range(utc_moment(start), utc_moment(end))


def _hour_slots_of(spans: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    """`hour_slots` of occurrences as whole seconds (`schedule.utc_seconds`): in one pass, as
    they come in order (each starts at or after the one before), each occurrence's hours
    after the last hour already counted."""
    slots: list[int] = []
    previous = None  # the first hour of the occurrence before
    for start, end in spans:
        first = start // 3600
        if previous is not None and first < previous:  # not in order: count them as a set
            return _hour_slots_sorted(spans)
        previous = first
        if slots and first <= slots[-1]:
            first = slots[-1] + 1
        slots.extend(range(first, -(-end // 3600)))
    return tuple(slots)


def _hour_slots_sorted(spans: tuple[tuple[int, int], ...]) -> tuple[int, ...]:
    slots: set[int] = set()
    for start, end in spans:
        slots.update(range(start // 3600, -(-end // 3600)))
    return tuple(sorted(slots))


STEMMED_MAX = 65536
"""How many documents' lexemes a projection keeps (then it starts afresh)."""


@functools.lru_cache(maxsize=16384)
def word_masses(
    title: tuple[str, ...], lexemes: tuple[str, ...]
) -> tuple[list[str] | None, float, float]:
    """The title's lexemes that the document's lack (None when none: `to_tsvector` stems a
    title's words as the document's), the mass (`overlap.mass`) of both together and of the
    title's (cached: a platform's titles and descriptions repeat)."""
    words = frozenset(lexemes)
    title_only = sorted(frozenset(title) - words)
    return title_only or None, mass(words.union(title)), mass(frozenset(title))


def _documents_of(details: Any) -> tuple[str, str]:
    checked = msgspec.convert(details, ActivityDetails, strict=False)
    return _documents(checked.title, checked.description)


def _row(
    organisation_id: Any,
    status: str,
    details: Any,
    schedule: Any,
    stemmed: dict[str, list[str]],
    lexemes: tuple[list[str], list[str]] | None = None,
) -> dict[str, Any]:
    """The row; `lexemes` (title's, all) as they were when the details are those of the row
    before, else looked up in `stemmed` (what `load` had PostgreSQL stem)."""
    checked = msgspec.convert(details, ActivityDetails, strict=False)
    ranges, slots, hours = _when(msgspec.json.encode(schedule))
    title_document, document = _documents(checked.title, checked.description)
    if lexemes is None:
        lexemes = stemmed[title_document], stemmed[document]
    title_only, word_mass, title_mass = word_masses(tuple(lexemes[0]), tuple(lexemes[1]))
    return {
        "organisation_id": as_uuid(organisation_id),
        "status": status,
        "title": checked.title,
        "details": details,
        "schedule": schedule,
        "themes": list(checked.themes),
        "groups": list(_groups(tuple(checked.target_groups))),
        "districts": list(checked.districts),
        "languages": list(checked.languages),
        "venue": fold(checked.venue) if checked.venue else None,
        "ranges": list(ranges),
        "hour_slots": list(slots),
        "scheduled_hours": hours,
        "title_document": title_document,
        "document": document,
        "title_lexemes": lexemes[0],
        "lexemes": lexemes[1],
        "title_only": title_only,
        "word_mass": word_mass,
        "title_mass": title_mass,
    }


class OverlapCandidatesProjection(TemporalProjection):
    name = READ_MODEL
    version = 7
    versioned = (CANDIDATES, SETTINGS)
    reads_metadata = False
    events = {
        **events_of(
            Activity,
            Planned="planned",
            DetailsUpdated="details_updated",
            Rescheduled="rescheduled",
            Started="started",
            Completed="ended",
            Cancelled="ended",
        ),
        **events_of(OverlapSettings, ThresholdSet="threshold", ThresholdChanged="threshold"),
    }

    def touches(self, event: RecordedEvent) -> Iterable[tuple[Table, tuple[Any, ...]]]:
        if self.dispatch.get(event.topic) == "threshold":
            return [(SETTINGS, (event.tenant,))]
        return [(CANDIDATES, (event.tenant, event.stream_id))]

    @functools.cached_property
    def _stemmed(self) -> dict[str, list[str]]:
        """Per document, its lexemes as PostgreSQL's `dutch` configuration gives them (per
        projection: per database)."""
        return {}

    async def load(self, conn: Connection, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        """The rows, then the lexemes of the batch's new details: one statement for the
        documents not stemmed before (a platform's titles and descriptions repeat; the
        versions of an activity that keep its details take its row's lexemes)."""
        await super().load(conn, rows, events)
        documents: set[str] = set()
        for event in events:
            if self.dispatch.get(event.topic) in ("planned", "details_updated"):
                documents.update(_documents_of(event.payload["details"]))
        stemmed = self._stemmed
        if len(stemmed) + len(documents) > STEMMED_MAX:
            stemmed.clear()
        wanted = [d for d in documents if d not in stemmed]
        if wanted:
            found = await conn.fetch(
                "SELECT d, tsvector_to_array(to_tsvector('dutch'::regconfig, d))"
                " FROM unnest($1::text[]) AS d",
                wanted,
            )
            stemmed.update((document, lexemes) for document, lexemes in found)

    def planned(self, rows: Rows, event: RecordedEvent) -> None:
        p = event.payload
        values = _row(
            p["organisation_id"],
            ActivityStatus.PLANNED.value,
            p["details"],
            p["schedule"],
            self._stemmed,
        )
        rows.put(CANDIDATES, (event.tenant, event.stream_id), values, event)

    def _change(self, rows: Rows, event: RecordedEvent, **changes: Any) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(CANDIDATES, key)
        if row is None:
            return
        merged = {**row, **changes}
        kept = None if "details" in changes else (row["title_lexemes"], row["lexemes"])
        values = _row(
            merged["organisation_id"],
            merged["status"],
            merged["details"],
            merged["schedule"],
            self._stemmed,
            kept,
        )
        rows.put(CANDIDATES, key, values, event)

    def details_updated(self, rows: Rows, event: RecordedEvent) -> None:
        self._change(rows, event, details=event.payload["details"])

    def rescheduled(self, rows: Rows, event: RecordedEvent) -> None:
        self._change(rows, event, schedule=event.payload["schedule"])

    def started(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(CANDIDATES, key)
        if row is not None:
            rows.put(CANDIDATES, key, {**row, "status": ActivityStatus.RUNNING.value}, event)

    def ended(self, rows: Rows, event: RecordedEvent) -> None:
        rows.delete(CANDIDATES, (event.tenant, event.stream_id), event)

    def threshold(self, rows: Rows, event: RecordedEvent) -> None:
        rows.put(SETTINGS, (event.tenant,), {"threshold": float(event.payload["threshold"])}, event)
