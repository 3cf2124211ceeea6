"""Which activities of other organisations a (planned or draft) activity may overlap with.

The query interface of overlap detection over the candidate index
(`projections/overlap_candidates.py`): the overlap policy asks it about an activity that was
planned or changed, "check before you plan" about a draft. One statement: PostgreSQL stems
the draft's normalised documents (`to_tsvector('dutch', ...)`) and finds every open activity
of another organisation of the platform that shares an hour with the draft (GIN `&&` on
`hour_slots`, the one index path), whose occurrences meet the draft's (`&&` on the
`tstzmultirange`, rechecked on those rows) and that shares a theme or a lexeme: the score is
0 for any other (see `domain/overlap.py`). The time part (multirange intersection) comes
computed with each row. Each candidate is then ranked by its score (`score_of`) and only
those returned are explained (`explain`): "check before you plan" returns the best 20.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.lexicon import overlap_document
from verbinders.domain.overlap import (
    DEFAULT_THRESHOLD,
    Explanation,
    Features,
    TimeExplanation,
    explain,
    features,
    score_of,
    time_explanation,
)
from verbinders.domain.schedule import Schedule, occurrences
from verbinders.projections.overlap_candidates import hour_slots, multirange
from verbinders.projections.temporal import valid

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = [
    "Found",
    "candidates_of",
    "fetch_candidates",
    "score_candidates",
    "search",
    "threshold_of",
]

_SEARCH = """
WITH d AS (SELECT tsvector_to_array(to_tsvector('dutch', $1::text)) AS title_lexemes,
                  tsvector_to_array(to_tsvector('dutch', $2::text)) AS lexemes)
SELECT d.title_lexemes AS draft_title_lexemes, d.lexemes AS draft_lexemes, c.*
  FROM d LEFT JOIN LATERAL (
       SELECT c.id, c.organisation_id, c.title, c.status, c.themes, c.groups, c.districts,
              c.languages, c.venue, c.title_lexemes, c.lexemes, c.scheduled_hours,
              (SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0) / 3600
                 FROM unnest(c.ranges * $6::tstzmultirange) r) AS together,
              lower(c.ranges * $6::tstzmultirange) AS first_together,
              (SELECT count(*) FROM unnest($6::tstzmultirange) r WHERE r && c.ranges)
                AS occurrences_hit,
              (SELECT count(*) FROM unnest(c.ranges) r WHERE r && $6::tstzmultirange)
                AS other_occurrences_hit
         FROM overlap_candidates.candidates c
        WHERE c.tenant = $3 AND c.organisation_id <> $4 AND c.id <> $5
          AND c.hour_slots && $8::integer[] AND c.ranges && $6::tstzmultirange
          AND (c.themes && $7::text[] OR c.lexemes && d.lexemes)
          AND {valid}
       ) c ON true
"""


@dataclass(frozen=True, kw_only=True)
class Found:
    """A candidate and how much it overlaps."""

    activity_id: uuid.UUID
    organisation_id: uuid.UUID
    title: str
    status: str
    explanation: Explanation


async def search(
    conn: Connection,
    tenant: str,
    *,
    organisation_id: uuid.UUID,
    details: ActivityDetails,
    schedule: Schedule,
    activity_id: uuid.UUID | None = None,
    position: int | None = None,
    limit: int | None = None,
) -> list[Found]:
    """Every open activity of another organisation that scores above 0 against the given
    one (checked details and schedule), the highest score first (the best `limit` if given);
    as the index stood at `position` if given (else live)."""
    mine, rows = await fetch_candidates(
        conn,
        tenant,
        organisation_id=organisation_id,
        details=details,
        schedule=schedule,
        activity_id=activity_id,
        position=position,
    )
    return score_candidates(mine, rows, limit=limit)


async def fetch_candidates(
    conn: Connection,
    tenant: str,
    *,
    organisation_id: uuid.UUID,
    details: ActivityDetails,
    schedule: Schedule,
    activity_id: uuid.UUID | None = None,
    position: int | None = None,
) -> tuple[Features, list[Any]]:
    """The activity's features (its lexemes stemmed by PostgreSQL) and the candidate rows:
    the one statement of `search`."""
    ranges = occurrences(schedule)
    rows = await conn.fetch(
        _SEARCH.format(valid=valid("c", position)),
        overlap_document(details.title),
        overlap_document(details.title, details.description),
        tenant,
        organisation_id,
        activity_id or uuid.UUID(int=0),
        multirange(ranges),
        list(details.themes),
        hour_slots(ranges),
    )
    mine = features(
        activity_id=activity_id or uuid.UUID(int=0),
        organisation_id=organisation_id,
        themes=details.themes,
        target_groups=details.target_groups,
        districts=details.districts,
        languages=details.languages,
        venue=details.venue,
        ranges=ranges,
        title_lexemes=rows[0]["draft_title_lexemes"],
        lexemes=rows[0]["draft_lexemes"],
    )
    return mine, [row for row in rows if row["id"] is not None]


def score_candidates(mine: Features, rows: list[Any], *, limit: int | None = None) -> list[Found]:
    """Each candidate row scored against `mine`, those above 0, the highest first (the best
    `limit` if given). The time part comes computed by the statement (multirange
    intersection); each candidate is ranked by its score alone (`score_of`), and only those
    returned are explained (`explain`: the same score, with its reasons)."""
    mine_hours = sum(r.hours for r in mine.ranges)
    ranked: list[tuple[float, str, Features, TimeExplanation, Any]] = []
    for row in rows:
        other = Features(
            activity_id=row["id"],
            organisation_id=row["organisation_id"],
            themes=frozenset(row["themes"]),
            groups=frozenset(row["groups"]),
            districts=frozenset(row["districts"]),
            languages=frozenset(row["languages"]),
            venue=row["venue"],
            ranges=(),
            title_lexemes=frozenset(row["title_lexemes"]),
            lexemes=frozenset(row["lexemes"]) | frozenset(row["title_lexemes"]),
        )
        first = row["first_together"]
        time = time_explanation(
            hours=float(row["together"]),
            occurrences=int(row["occurrences_hit"]),
            other_occurrences=int(row["other_occurrences_hit"]),
            first=first.astimezone(UTC) if first is not None else None,
            hours_a=mine_hours,
            hours_b=float(row["scheduled_hours"]),
        )
        value = score_of(mine, other, time)
        if value > 0:
            ranked.append((-value, str(row["id"]), other, time, row))
    ranked.sort(key=lambda item: (item[0], item[1]))
    if limit is not None:
        ranked = ranked[:limit]
    return [
        Found(
            activity_id=row["id"],
            organisation_id=row["organisation_id"],
            title=row["title"],
            status=row["status"],
            explanation=explain(mine, other, time),
        )
        for _, _, other, time, row in ranked
    ]


async def threshold_of(conn: Connection, tenant: str, position: int | None = None) -> float:
    """The platform's overlap threshold as the candidate index has it (at `position` if
    given), else the default."""
    value = await conn.fetchval(
        "SELECT s.threshold FROM overlap_candidates.settings s WHERE s.tenant = $1"
        f" AND {valid('s', position)}",
        tenant,
    )
    return DEFAULT_THRESHOLD if value is None else float(value)


async def candidates_of(
    conn: Connection, tenant: str, activity_id: uuid.UUID, position: int | None = None
) -> tuple[list[Found], float] | None:
    """The candidates of an open activity as the index holds it, live or as it stood at
    `position` (None when it is not open there), with the platform's threshold then."""
    row = await conn.fetchrow(
        "SELECT c.organisation_id, c.details, c.schedule FROM overlap_candidates.candidates c"
        f" WHERE c.tenant = $1 AND c.id = $2 AND {valid('c', position)}",
        tenant,
        activity_id,
    )
    if row is None:
        return None
    details = msgspec.convert(row["details"], ActivityDetails, strict=False)
    schedule: Schedule = msgspec.convert(row["schedule"], Schedule, strict=False)
    found = await search(
        conn,
        tenant,
        organisation_id=row["organisation_id"],
        details=details,
        schedule=schedule,
        activity_id=activity_id,
        position=position,
    )
    return found, await threshold_of(conn, tenant, position)
