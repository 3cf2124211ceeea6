"""The candidate search's bound is an upper bound of the score, so that fetching by it loses
nothing: on the labelled Haarlem activities and on random ones made of their parts, each
activity searched among all the others in the real candidate index.

`overlap_search.fetch_candidates` returns each candidate with `bound`, computed in the
statement; "check before you plan" fetches the highest bounds first and the overlap policy
only the candidates whose bound reaches the threshold. Both must give exactly what scoring
every candidate gives.
"""

from __future__ import annotations

import random
import uuid

import asyncpg
import pytest

from verbinders.application.overlap_search import fetch_candidates, score_candidates, search
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.lexicon import overlap_document
from verbinders.domain.overlap import DEFAULT_THRESHOLD
from verbinders.domain.schedule import check_schedule, occurrences, total_hours
from verbinders.domain.target_groups import group_keys
from verbinders.domain.text import fold
from verbinders.projections.overlap_candidates import hour_slots, multirange, word_masses
from verbinders.runtime import runtime_on

from ..data import overlap_dev, overlap_held_out
from ..data.overlap_support import Act, vary

pytestmark = pytest.mark.server

TENANT = "haarlem"
ALL = overlap_dev.PAIRS + overlap_held_out.PAIRS

_INSERT = """
INSERT INTO overlap_candidates.candidates
       (tenant, id, organisation_id, status, title, details, schedule, themes, groups,
        districts, languages, venue, ranges, hour_slots, scheduled_hours, title_document,
        document, title_lexemes, lexemes, title_only, word_mass, title_mass, valid_from,
        valid_to)
VALUES ($1, $2, $3, 'planned', $4, '{}', '{}', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
        $15, $16, $17, $18, $19, 0, NULL)
"""
_STEM = "SELECT tsvector_to_array(to_tsvector('dutch', $1::text))"


def labelled() -> list[Act]:
    return list({id(act): act for pair in ALL for act in (pair.a, pair.b)}.values())


def mixed(acts: list[Act], count: int, seed: int) -> list[Act]:
    """Activities made of the labelled ones' parts: one's title and text, another's themes,
    groups, districts, languages, venue and schedule (so most meet many others in time)."""
    rng = random.Random(seed)
    made = []
    for n in range(count):
        words, rest, when = rng.choice(acts), rng.choice(acts), rng.choice(acts[:12])
        made.append(
            vary(
                rest,
                org=f"mixed {n % 40}",
                title=words.title,
                text=words.text,
                when=when.when,
                venue=rng.choice([rest.venue, words.venue, None]),
            )
        )
    return made


def details_of(act: Act) -> ActivityDetails:
    return ActivityDetails(
        title=act.title,
        description=act.text,
        themes=act.themes,
        target_groups=act.groups,
        districts=act.districts,
        languages=act.langs,
        venue=act.venue,
    )


def org_of(act: Act) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, act.org)


@pytest.fixture
async def indexed(database: str, pool: asyncpg.Pool) -> tuple[asyncpg.Pool, dict[uuid.UUID, Act]]:
    """The candidate index holding every labelled activity and 300 mixed ones."""
    acts = labelled()
    acts += mixed(acts, 300, seed=13)
    ids = {uuid.UUID(int=n + 1): act for n, act in enumerate(acts)}
    async with runtime_on(Settings(snapshot_every=0), Database(pool, database, False)) as rt:
        await rt.runner.prepare()
    rows = []
    async with pool.acquire() as conn:
        for activity_id, act in ids.items():
            ranges = occurrences(check_schedule(act.when))
            title, document = overlap_document(act.title), overlap_document(act.title, act.text)
            title_lexemes = await conn.fetchval(_STEM, title)
            lexemes = await conn.fetchval(_STEM, document)
            title_only, word_mass, title_mass = word_masses(tuple(title_lexemes), tuple(lexemes))
            rows.append(
                (
                    TENANT,
                    activity_id,
                    org_of(act),
                    act.title,
                    list(act.themes),
                    sorted(group_keys(act.groups)),
                    list(act.districts),
                    list(act.langs),
                    fold(act.venue) if act.venue else None,
                    multirange(ranges),
                    hour_slots(ranges),
                    total_hours(ranges),
                    title,
                    document,
                    title_lexemes,
                    lexemes,
                    title_only,
                    word_mass,
                    title_mass,
                )
            )
        await conn.executemany(_INSERT, rows)
        await conn.execute("ANALYZE")
    return pool, ids


async def test_the_bound_is_at_least_the_score_and_the_searches_lose_nothing(
    indexed: tuple[asyncpg.Pool, dict[uuid.UUID, Act]],
) -> None:
    pool, ids = indexed
    pairs = settled = 0
    async with pool.acquire() as conn:
        for n, (activity_id, act) in enumerate(ids.items()):
            draft = {
                "organisation_id": org_of(act),
                "details": details_of(act),
                "schedule": check_schedule(act.when),
                "activity_id": activity_id,
            }
            mine, rows = await fetch_candidates(conn, TENANT, **draft)
            every = score_candidates(mine, rows)
            bounds = {row["id"]: float(row["bound"]) for row in rows}
            for found in every:
                assert found.explanation.score <= bounds[found.activity_id], (act, found)
            pairs += len(rows)
            if n % 3:
                continue
            limit = (1, 5, 20)[n % 9 // 3]
            for fetched in (None, limit + 1):  # the default, and so few that it fetches again
                best = await search(conn, TENANT, limit=limit, fetched=fetched, **draft)
                assert [(f.activity_id, f.explanation) for f in best] == [
                    (f.activity_id, f.explanation) for f in every[:limit]
                ]
            settled += len(rows) > limit + 1
            above = await search(conn, TENANT, floor=DEFAULT_THRESHOLD, **draft)
            assert [(f.activity_id, f.explanation) for f in above] == [
                (f.activity_id, f.explanation)
                for f in every
                if f.explanation.score >= DEFAULT_THRESHOLD
            ]
    assert pairs > 5000  # many pairs met in time, beyond the labelled ones
    assert settled > 20  # and many searches had more candidates than they returned
