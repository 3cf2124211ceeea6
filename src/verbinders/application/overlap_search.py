"""Which activities of other organisations a (planned or draft) activity may overlap with.

The query interface of overlap detection over the candidate index
(`projections/overlap_candidates.py`): the overlap policy asks it about an activity that was
planned or changed, "check before you plan" about a draft. One statement (`_SEARCH`) stems the
draft's normalised documents (`to_tsvector('dutch', ...)`) and weighs its words, finds every
open activity of another organisation of the platform that shares an hour with the draft (GIN
`&&` on `hour_slots`, the one index path), whose occurrences meet the draft's (`&&` on the
`tstzmultirange`, rechecked on those rows) and that shares a theme or a lexeme (the score is 0
for any other, see `domain/overlap.py`), meets the draft's words and themes with theirs in one
hash join, and computes for each an upper bound of its score (`bound`: the score with the time
factor 1, the word part exact from the masses the index stores). It returns only those whose
bound reaches a floor (the policy's: the threshold), the highest bound first, the first N if
asked (the check's best 20: `search`), with the time part (multirange intersection) computed
for those rows only, after a first row holding the draft's lexemes. Each returned candidate is
then scored in Python (`score_of`) in bound order, and only those returned are explained
(`explain`). Exact: no candidate whose score could reach the floor or the best N is left
behind (`tests/quality/test_overlap_bound.py`).
"""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.lexicon import CONCEPT_LEXEMES, GENERIC_LEXEMES, overlap_document
from verbinders.domain.overlap import (
    AIM_THEMES,
    AIM_WORDS,
    CITY_WIDE,
    CONCEPT_WEIGHT,
    DEFAULT_THRESHOLD,
    GENERIC_WEIGHT,
    NO_COMMON_LANGUAGE,
    ONE_GENDERED,
    OTHER_AGE,
    OTHER_COMMUNITY,
    OTHER_DISTRICT,
    OTHER_GENDER,
    OTHER_SITUATION,
    TITLE_SHARE,
    Explanation,
    Features,
    TimeExplanation,
    explain,
    features,
    score_of,
    time_explanation,
)
from verbinders.domain.schedule import Schedule, occurrences
from verbinders.domain.target_groups import GROUP_KEYS, group_keys
from verbinders.domain.text import fold
from verbinders.projections.overlap_candidates import hour_slots, multirange
from verbinders.projections.temporal import valid

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = [
    "FETCHED_PER_RESULT",
    "Found",
    "candidates_of",
    "fetch_candidates",
    "fetched_for",
    "score_candidates",
    "search",
    "settled",
    "threshold_of",
]


# The draft's words (`s`): its documents stemmed (`to_tsvector('dutch', ...)`: the title's,
# title and description's, $20-$21) and their union, each with its weight (`overlap.weight`
# from the lexicon's lists, $22-$23) and whether the title has it, and its themes (`d`); their
# masses (`dm`). The statement's first row is the draft's: its lexemes, the rest empty.
#
# `bound`: `overlap.score_of` with the time factor taken as 1 (its largest) and only Dutch in
# common taken as a full language match; every other part as `score_of` computes it, from the
# same weights: the masses the words share (the draft's words met in one hash join with every
# candidate's words: its lexemes and the title's lexemes its document lacks), each title's and
# all words' masses (the draft's, the candidate's as the fold stored them), the themes'
# Jaccard (a candidate's themes are distinct, as checked when planned), the target groups'
# factor from the draft's keys of each kind, the place. Weights are 3, 1 or 1/4, so the masses
# are exact sums. Plus 0.0001 for the score's rounding and the floats' order of operations.
_SEARCH = f"""
WITH s AS MATERIALIZED (
       SELECT t.title_lexemes, t.lexemes,
              ARRAY(SELECT DISTINCT x FROM unnest(t.lexemes || t.title_lexemes) x) AS words
         FROM (SELECT tsvector_to_array(to_tsvector('dutch'::regconfig, $20::text))
                        AS title_lexemes,
                      tsvector_to_array(to_tsvector('dutch'::regconfig, $21::text))
                        AS lexemes) t),
     d AS MATERIALIZED (
       SELECT x.l,
              (CASE WHEN x.l = ANY($22::text[]) THEN {CONCEPT_WEIGHT}
                    WHEN x.l = ANY($23::text[]) THEN {GENERIC_WEIGHT}
                    ELSE 1 END)::float8 AS w,
              x.l = ANY(s.title_lexemes) AS title, false AS theme
         FROM s CROSS JOIN unnest(s.words) x(l)
       UNION ALL
       SELECT t, 0, false, true FROM unnest($5::text[]) t),
     dm AS MATERIALIZED (
       SELECT coalesce(sum(d.w) FILTER (WHERE NOT d.theme), 0) AS mass,
              coalesce(sum(d.w) FILTER (WHERE d.title), 0) AS title_mass
         FROM d),
     c AS MATERIALIZED (
       SELECT c.id, c.organisation_id, c.title, c.status, c.themes, c.groups, c.districts,
              c.languages, c.venue, c.title_lexemes, c.lexemes, c.title_only,
              c.scheduled_hours, c.ranges, c.word_mass, c.title_mass
         FROM overlap_candidates.candidates c
        WHERE c.tenant = $1 AND c.organisation_id <> $2 AND c.id <> $3
          AND c.hour_slots && $6::integer[] AND c.ranges && $4::tstzmultirange
          AND (c.themes && $5::text[] OR c.lexemes && (SELECT s.words FROM s)
               OR c.title_only && (SELECT s.words FROM s))
          AND VALID),
     m AS (
       SELECT h.id,
              coalesce(sum(d.w) FILTER (WHERE NOT d.theme), 0) AS shared,
              coalesce(sum(d.w) FILTER (WHERE d.title), 0) AS my_title_found,
              coalesce(sum(d.w) FILTER (WHERE NOT d.theme AND h.l = ANY(h.title_lexemes)), 0)
                AS title_found,
              count(*) FILTER (WHERE d.theme) AS common_themes
         FROM (SELECT c.id, c.title_lexemes, unnest(c.lexemes || c.title_only) AS l,
                      false AS theme
                 FROM c
               UNION ALL
               SELECT c.id, NULL, unnest(c.themes), true FROM c) h
         JOIN d ON d.l = h.l AND d.theme = h.theme
        GROUP BY h.id)
SELECT true AS draft, NULL::uuid AS id, NULL::uuid AS organisation_id, NULL AS title,
       NULL AS status, NULL::text[] AS themes, NULL::text[] AS groups,
       NULL::text[] AS districts, NULL::text[] AS languages, NULL AS venue,
       s.title_lexemes, s.lexemes, NULL::text[] AS title_only,
       NULL::float8 AS scheduled_hours, NULL::float8 AS bound, NULL::float8 AS together,
       NULL::timestamptz AS first_together, NULL::bigint AS occurrences_hit,
       NULL::bigint AS other_occurrences_hit
  FROM s
UNION ALL
(SELECT false, c.id, c.organisation_id, c.title, c.status, c.themes, c.groups, c.districts,
       c.languages, c.venue, c.title_lexemes, c.lexemes, c.title_only, c.scheduled_hours,
       c.bound,
       (SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0) / 3600
          FROM unnest(c.ranges * $4::tstzmultirange) r) AS together,
       lower(c.ranges * $4::tstzmultirange) AS first_together,
       (SELECT count(*) FROM unnest($4::tstzmultirange) r WHERE r && c.ranges)
         AS occurrences_hit,
       (SELECT count(*) FROM unnest(c.ranges) r WHERE r && $4::tstzmultirange)
         AS other_occurrences_hit
  FROM (
       SELECT c.*, b.bound
         FROM c JOIN m ON m.id = c.id
        CROSS JOIN dm
        CROSS JOIN LATERAL (
              SELECT least(dm.mass, c.word_mass) AS smaller) mm
        CROSS JOIN LATERAL (
              SELECT (CASE WHEN m.shared = 0 THEN 0 ELSE
                        {TITLE_SHARE} * ((CASE WHEN dm.title_mass > 0
                                            THEN m.my_title_found / dm.title_mass ELSE 0 END)
                                       + (CASE WHEN c.title_mass > 0
                                            THEN m.title_found / c.title_mass ELSE 0 END)) / 2
                        + {1 - TITLE_SHARE} * (CASE WHEN mm.smaller > 0
                                  THEN least(1, m.shared / mm.smaller) ELSE 0 END)
                      END) AS words,
                     (CASE WHEN m.common_themes = 0 THEN 0 ELSE m.common_themes::float8
                        / (cardinality(c.themes) + cardinality($5::text[]) - m.common_themes)
                      END)
                       AS themes,
                     (CASE WHEN c.groups && $12::text[] AND NOT c.groups && $13::text[]
                           THEN {OTHER_AGE} ELSE 1 END)
                     * (CASE WHEN c.groups && $14::text[] AND NOT c.groups && $15::text[]
                           THEN {OTHER_COMMUNITY} ELSE 1 END)
                     * (CASE WHEN c.groups && $16::text[] AND NOT c.groups && $17::text[]
                           THEN {OTHER_SITUATION} ELSE 1 END)
                     * (CASE WHEN c.groups && $19::text[] THEN 1
                             WHEN c.groups && $18::text[]
                               THEN (CASE WHEN cardinality($19::text[]) > 0
                                          THEN {OTHER_GENDER} ELSE {ONE_GENDERED} END)
                             WHEN cardinality($19::text[]) > 0 AND cardinality(c.groups) > 0
                               THEN {ONE_GENDERED}
                             ELSE 1 END) AS groups,
                     (CASE WHEN cardinality($9::text[]) = 0 OR cardinality(c.languages) = 0
                             OR c.languages && $9::text[] THEN 1
                           ELSE {NO_COMMON_LANGUAGE} END) AS languages,
                     (CASE WHEN c.venue = $8::text OR c.districts && $7::text[] THEN 1
                           WHEN cardinality($7::text[]) = 0 OR cardinality(c.districts) = 0
                             THEN {CITY_WIDE}
                           ELSE {OTHER_DISTRICT} END) AS place) f
        CROSS JOIN LATERAL (
              SELECT ({AIM_THEMES} * f.themes + {AIM_WORDS} * f.words)
                     * f.groups * f.languages * f.place + 0.0001 AS bound) b
        WHERE b.bound >= $10::float8
        ORDER BY b.bound DESC, c.id
        LIMIT $11::integer
       ) c
)
 ORDER BY draft DESC, bound DESC, id
"""


_CONCEPTS = sorted(CONCEPT_LEXEMES)
_GENERICS = sorted(GENERIC_LEXEMES - CONCEPT_LEXEMES)


@dataclass(frozen=True, kw_only=True)
class Found:
    """A candidate and how much it overlaps."""

    activity_id: uuid.UUID
    organisation_id: uuid.UUID
    title: str
    status: str
    explanation: Explanation


FETCHED_PER_RESULT = 2
"""A search for the best `limit` first fetches `limit * FETCHED_PER_RESULT` candidates (at
least `limit + 20`), those of highest bound (`search`)."""


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
    floor: float = 0.0,
    fetched: int | None = None,
) -> list[Found]:
    """Every open activity of another organisation that scores above 0 (and at least
    `floor`) against the given one (checked details and schedule), the highest score first
    (the best `limit` if given); as the index stood at `position` if given (else live).

    The statement returns only the candidates whose bound (an upper bound of the score,
    `fetch_candidates`) reaches `floor`: the overlap policy's search at the threshold. With a
    `limit` it returns those of highest bound first, `fetched` of them (default
    `fetched_for(limit)`): when the
    `limit`-th best scores above the bound of the last one fetched, no candidate left behind
    can rank before it (each scores at most its bound, and ties go by id: hence "above");
    else the search runs again for every candidate whose bound reaches the `limit`-th best
    score found (exact either way)."""
    if limit is None:
        fetched = None
    elif fetched is None:
        fetched = fetched_for(limit)
    kwargs: dict[str, Any] = {
        "organisation_id": organisation_id,
        "details": details,
        "schedule": schedule,
        "activity_id": activity_id,
        "position": position,
    }
    mine, rows = await fetch_candidates(conn, tenant, limit=fetched, floor=floor, **kwargs)
    found = score_candidates(mine, rows, limit=limit, floor=floor)
    if limit is None or fetched is None or len(rows) < fetched or settled(found, rows, limit):
        return found
    # Not settled: a candidate that ranks among the best `limit` scores at least the
    # `limit`-th best found so far, so its bound does too.
    least = found[limit - 1].explanation.score if len(found) >= limit else floor
    mine, rows = await fetch_candidates(conn, tenant, floor=max(floor, least), **kwargs)
    return score_candidates(mine, rows, limit=limit, floor=floor)


def fetched_for(limit: int) -> int:
    """How many candidates a search for the best `limit` fetches first."""
    return max(limit * FETCHED_PER_RESULT, limit + 20)


def settled(found: list[Found], rows: list[Any], limit: int | None) -> bool:
    """Whether the best `limit` of `rows` (fetched by bound, highest first) are the best of
    all candidates: the last of them scores above the bound of the last row fetched, which
    is at least the bound, so the score, of every candidate not fetched."""
    if limit is None or len(found) < limit or not rows:
        return False
    return found[limit - 1].explanation.score > float(rows[-1]["bound"])


def _group_arrays(groups: frozenset[str]) -> list[list[str]]:
    """The draft's target-group keys as the statement's bound compares them: for age,
    community and situation (then gender) every key of that kind, and the draft's own; both
    empty where the draft has none of that kind (or no group at all), as `overlap._groups`
    applies no factor then."""
    arrays: list[list[str]] = []
    for prefix in ("age:", "community:", "sit:", "gender:"):
        mine = sorted(key for key in groups if key.startswith(prefix))
        every = sorted(
            {key for key in GROUP_KEYS if key.startswith(prefix)} | set(mine)
            if groups and (mine or prefix == "gender:")
            else ()
        )
        arrays += [every, mine]
    return arrays


async def fetch_candidates(
    conn: Connection,
    tenant: str,
    *,
    organisation_id: uuid.UUID,
    details: ActivityDetails,
    schedule: Schedule,
    activity_id: uuid.UUID | None = None,
    position: int | None = None,
    floor: float = 0.0,
    limit: int | None = None,
) -> tuple[Features, list[Any]]:
    """The activity's features (its lexemes stemmed by PostgreSQL) and the candidate rows:
    the one statement of `search`. Each row comes with `bound`, an upper bound of its score
    (`overlap.score_of` with the time factor 1 and the languages counted as fully shared
    when any is, computed in the statement); only rows whose bound reaches `floor` come,
    the highest bound first, the first `limit` of them if given. The time part (hours
    together, occurrences hit) is computed for those rows only."""
    ranges = occurrences(schedule)
    groups = group_keys(details.target_groups)
    venue = fold(details.venue) if details.venue else None
    first, *rows = await conn.fetch(
        _SEARCH.replace("VALID", valid("c", position)),
        tenant,
        organisation_id,
        activity_id or uuid.UUID(int=0),
        multirange(ranges),
        sorted(set(details.themes)),
        hour_slots(ranges),
        sorted(set(details.districts)),
        venue,
        sorted(set(details.languages)),
        floor,
        limit,
        *_group_arrays(groups),
        overlap_document(details.title),
        overlap_document(details.title, details.description),
        _CONCEPTS,
        _GENERICS,
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
        title_lexemes=first["title_lexemes"],
        lexemes=first["lexemes"],
    )
    return mine, rows


def score_candidates(
    mine: Features, rows: list[Any], *, limit: int | None = None, floor: float = 0.0
) -> list[Found]:
    """Each candidate row scored against `mine`, those above 0 (and at least `floor`), the
    highest first (the best `limit` if given). The time part comes computed by the statement
    (multirange intersection); each candidate is ranked by its score alone (`score_of`), and
    only those returned are explained (`explain`: the same score, with its reasons).

    The rows come highest bound first (`fetch_candidates`): with a `limit`, scoring stops at
    the first row whose bound is below the `limit`-th best score so far (neither it nor any
    row after it can rank before that one)."""
    mine_hours = sum(r.hours for r in mine.ranges)
    ranked: list[tuple[float, str, Features, TimeExplanation, Any]] = []
    best: list[float] = []  # with a limit: the `limit` best scores so far, a heap
    for row in rows:
        if limit is not None and len(best) == limit and float(row["bound"]) < best[0]:
            break
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
            lexemes=frozenset(row["lexemes"]).union(row["title_only"] or ()),
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
        if value > 0 and value >= floor:
            ranked.append((-value, str(row["id"]), other, time, row))
            if limit is not None:
                (heapq.heappush if len(best) < limit else heapq.heappushpop)(best, value)
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
    """The candidates of an open activity that score at or above the platform's threshold, as
    the index holds them, live or as it stood at `position` (None when the activity is not
    open there), with that threshold: the overlap policy's search (only the candidates whose
    bound reaches the threshold are fetched)."""
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
    threshold = await threshold_of(conn, tenant, position)
    found = await search(
        conn,
        tenant,
        organisation_id=row["organisation_id"],
        details=details,
        schedule=schedule,
        activity_id=activity_id,
        position=position,
        floor=threshold,
    )
    return found, threshold
