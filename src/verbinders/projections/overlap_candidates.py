"""The overlap candidate index: every planned or running activity, as overlap detection
compares it.

A current-state read model (one row per open activity, removed when it is completed or
cancelled), kept apart from the activities' other read models so that it ports to the
temporal read-model framework on its own. Per activity: tenant, organisation, status, title,
the details and schedule as recorded (to fold later changes in), `themes`, `groups`
(`target_groups.group_keys`), `districts`, `languages` as arrays (GIN on themes and
lexemes), the folded venue, `ranges` (`schedule.occurrences` as a `tstzmultirange`, GiST) and
the Dutch lexemes of the title and of title and description
(`tsvector_to_array(to_tsvector('dutch', lexicon.overlap_document(...)))`, computed here
by PostgreSQL). Also each platform's overlap threshold (`settings`).

A batch is applied set-based: the rows of the activities it touches are read once, every
event folded in in Python, and the result written back with one DELETE and one INSERT
whose lexemes PostgreSQL computes from the normalised documents.

Queries: `application/overlap_search.py`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.domain.activities import Activity, ActivityStatus
from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.lexicon import overlap_document
from verbinders.domain.overlap_settings import OverlapSettings
from verbinders.domain.schedule import Schedule, TimeRange, occurrences
from verbinders.domain.target_groups import group_keys
from verbinders.domain.text import fold
from verbinders.projections.engine import Projection
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["OverlapCandidatesProjection", "multirange"]

# The event classes `@event` creates are invisible to type checkers.
PLANNED = topic_of(Activity.Planned)  # type: ignore[attr-defined]
DETAILS = topic_of(Activity.DetailsUpdated)  # type: ignore[attr-defined]
RESCHEDULED = topic_of(Activity.Rescheduled)  # type: ignore[attr-defined]
STARTED = topic_of(Activity.Started)  # type: ignore[attr-defined]
COMPLETED = topic_of(Activity.Completed)  # type: ignore[attr-defined]
CANCELLED = topic_of(Activity.Cancelled)  # type: ignore[attr-defined]
THRESHOLD_SET = topic_of(OverlapSettings.ThresholdSet)  # type: ignore[attr-defined]
THRESHOLD_CHANGED = topic_of(OverlapSettings.ThresholdChanged)  # type: ignore[attr-defined]
ACTIVITY_TOPICS = (PLANNED, DETAILS, RESCHEDULED, STARTED, COMPLETED, CANCELLED)


def multirange(ranges: Iterable[TimeRange]) -> str:
    """A `tstzmultirange` literal of [start, end) ranges."""
    inner = ",".join(
        f"[{r.start.astimezone(UTC).isoformat()},{r.end.astimezone(UTC).isoformat()})"
        for r in ranges
    )
    return "{" + inner + "}"


_INSERT = """
INSERT INTO candidates (tenant, id, organisation_id, status, title, details, schedule, themes,
                        groups, districts, languages, venue, ranges, title_lexemes, lexemes,
                        position)
SELECT r.tenant, r.id, r.organisation_id, r.status, r.title, r.details, r.schedule,
       ARRAY(SELECT jsonb_array_elements_text(r.themes::jsonb)),
       ARRAY(SELECT jsonb_array_elements_text(r.groups::jsonb)),
       ARRAY(SELECT jsonb_array_elements_text(r.districts::jsonb)),
       ARRAY(SELECT jsonb_array_elements_text(r.languages::jsonb)),
       r.venue, r.ranges::tstzmultirange,
       tsvector_to_array(to_tsvector('dutch', r.title_document)),
       tsvector_to_array(to_tsvector('dutch', r.document)),
       r.position
  FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[],
              $7::jsonb[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
              $13::text[], $14::text[], $15::text[], $16::bigint[])
       AS r(tenant, id, organisation_id, status, title, details, schedule, themes, groups,
            districts, languages, venue, ranges, title_document, document, position)
"""


class OverlapCandidatesProjection(Projection):
    name = "overlap_candidates"
    version = 1
    topics = (*ACTIVITY_TOPICS, THRESHOLD_SET, THRESHOLD_CHANGED)
    tables = ("candidates", "settings")

    def ddl(self) -> str:
        return """
CREATE TABLE candidates (
    tenant          text           NOT NULL,
    id              uuid           NOT NULL,
    organisation_id uuid           NOT NULL,
    status          text           NOT NULL,
    title           text           NOT NULL,
    details         jsonb          NOT NULL,
    schedule        jsonb          NOT NULL,
    themes          text[]         NOT NULL,
    groups          text[]         NOT NULL,
    districts       text[]         NOT NULL,
    languages       text[]         NOT NULL,
    venue           text,
    ranges          tstzmultirange NOT NULL,
    title_lexemes   text[]         NOT NULL,
    lexemes         text[]         NOT NULL,
    position        bigint         NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX candidates_ranges ON candidates USING gist (ranges);
CREATE INDEX candidates_themes ON candidates USING gin (themes);
CREATE INDEX candidates_lexemes ON candidates USING gin (lexemes);
CREATE INDEX candidates_organisation ON candidates (tenant, organisation_id);

CREATE TABLE settings (
    tenant    text             PRIMARY KEY,
    threshold double precision NOT NULL,
    position  bigint           NOT NULL
);
"""

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        await self._settings(conn, [e for e in events if e.topic not in ACTIVITY_TOPICS])
        touched = [e for e in events if e.topic in ACTIVITY_TOPICS]
        if not touched:
            return
        keys = list(dict.fromkeys((e.tenant, e.stream_id) for e in touched))
        rows = await conn.fetch(
            "SELECT c.tenant, c.id, c.organisation_id, c.status, c.details, c.schedule"
            " FROM candidates c JOIN unnest($1::text[], $2::uuid[]) AS k(tenant, id)"
            " ON c.tenant = k.tenant AND c.id = k.id",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        state: dict[tuple[str, Any], dict[str, Any] | None] = {
            (r["tenant"], r["id"]): dict(r) for r in rows
        }
        for event in touched:
            _fold(state, event)
        await conn.execute(
            "DELETE FROM candidates c USING unnest($1::text[], $2::uuid[]) AS k(tenant, id)"
            " WHERE c.tenant = k.tenant AND c.id = k.id",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        kept = [row for row in state.values() if row is not None]
        if kept:
            await conn.execute(_INSERT, *_columns(kept))

    async def _settings(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for event in events:
            await conn.execute(
                "INSERT INTO settings (tenant, threshold, position) VALUES ($1, $2, $3)"
                " ON CONFLICT (tenant) DO UPDATE SET threshold = excluded.threshold,"
                " position = excluded.position",
                event.tenant,
                float(event.payload["threshold"]),
                event.position,
            )


def _fold(state: dict[tuple[str, Any], dict[str, Any] | None], event: RecordedEvent) -> None:
    key = (event.tenant, event.stream_id)
    payload = event.payload
    if event.topic == PLANNED:
        state[key] = {
            "tenant": event.tenant,
            "id": event.stream_id,
            "organisation_id": payload["organisation_id"],
            "status": ActivityStatus.PLANNED.value,
            "details": payload["details"],
            "schedule": payload["schedule"],
        }
    row = state.get(key)
    if row is None:  # completed or cancelled: not a candidate any more
        return
    row["position"] = event.position
    if event.topic == DETAILS:
        row["details"] = payload["details"]
    elif event.topic == RESCHEDULED:
        row["schedule"] = payload["schedule"]
    elif event.topic == STARTED:
        row["status"] = ActivityStatus.RUNNING.value
    elif event.topic in (COMPLETED, CANCELLED):
        state[key] = None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _columns(rows: list[dict[str, Any]]) -> list[list[Any]]:
    # Arrays of arrays would be read by asyncpg as two-dimensional: JSON texts instead.
    columns: list[list[Any]] = [[] for _ in range(16)]
    for row in rows:
        raw_details, raw_schedule = _json(row["details"]), _json(row["schedule"])
        details = msgspec.convert(raw_details, ActivityDetails, strict=False)
        schedule = msgspec.convert(raw_schedule, Schedule, strict=False)
        values = (
            row["tenant"],
            row["id"],
            uuid.UUID(str(row["organisation_id"])),
            row["status"],
            details.title,
            raw_details,
            raw_schedule,
            json.dumps(list(details.themes)),
            json.dumps(sorted(group_keys(details.target_groups))),
            json.dumps(list(details.districts)),
            json.dumps(list(details.languages)),
            fold(details.venue) if details.venue else None,
            multirange(occurrences(schedule)),
            overlap_document(details.title),
            overlap_document(details.title, details.description),
            row["position"],
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return columns
