"""The overlap score against the hand-labelled pairs of Haarlem activities.

The lexemes come from PostgreSQL's `dutch` text search configuration in the test's own
database, as the read model will take them; no read model is needed. The held-out part
(`tests/data/overlap_held_out.py`) was written before the scorer and never used to tune it.
`bench/bench_overlap_quality.py` prints the full confusion matrices around the threshold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from verbinders.domain.lexicon import CONCEPT_LEXEMES, CONCEPTS, GENERIC_LEXEMES, GENERIC_WORDS
from verbinders.domain.overlap import DEFAULT_THRESHOLD

from ..data import overlap_dev, overlap_held_out
from ..data.overlap_eval import counts, lexemes, scored

pytestmark = pytest.mark.server

ALL = overlap_dev.PAIRS + overlap_held_out.PAIRS


@pytest.fixture
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database)
    try:
        yield connection
    finally:
        await connection.close()


def test_the_labelled_set_is_large_realistic_and_keeps_a_held_out_part() -> None:
    assert len(ALL) >= 200
    assert len(overlap_held_out.PAIRS) >= 0.3 * len(ALL) - 1
    for pair in ALL:
        assert pair.a.org != pair.b.org, pair.why
        assert pair.why
    share = sum(pair.overlap for pair in ALL) / len(ALL)
    assert 0.25 < share < 0.5  # both labels well represented


@pytest.mark.parametrize(
    ("part", "pairs"),
    [("development", overlap_dev.PAIRS), ("held-out", overlap_held_out.PAIRS)],
)
async def test_precision_and_recall_at_the_default_threshold_are_at_least_0_9(
    conn: asyncpg.Connection, part: str, pairs: list
) -> None:
    found = counts(pairs, await scored(conn, pairs), DEFAULT_THRESHOLD)
    assert found.precision >= 0.9, (part, found)
    assert found.recall >= 0.9, (part, found)


async def test_the_generic_and_concept_lexemes_are_what_postgresql_stems_their_words_to(
    conn: asyncpg.Connection,
) -> None:
    (generic,) = await lexemes(conn, [GENERIC_WORDS])
    assert generic == GENERIC_LEXEMES
    (concepts,) = await lexemes(conn, [" ".join(CONCEPTS)])
    assert concepts == CONCEPT_LEXEMES


async def test_taalles_and_taallessen_meet_once_normalised(conn: asyncpg.Connection) -> None:
    from verbinders.domain.lexicon import overlap_document

    plain = await lexemes(conn, ["taalles", "Taallessen"])
    assert not plain[0] & plain[1]  # the dutch stemmer alone misses it
    normalised = await lexemes(conn, [overlap_document("taalles"), overlap_document("Taallessen")])
    assert "taaloefen" in normalised[0] & normalised[1]


async def test_the_ranking_score_is_the_explained_score_on_every_pair(
    conn: asyncpg.Connection,
) -> None:
    """A search ranks its candidates by `score_of` and explains only those it returns: the
    number must be the explained score, to the last bit, both ways round."""
    from verbinders.domain.overlap import _time, explain, score_of

    from ..data.overlap_eval import _features

    table = await _features(conn, [act for pair in ALL for act in (pair.a, pair.b)])
    for pair in ALL:
        a, b = table[id(pair.a)], table[id(pair.b)]
        for x, y in ((a, b), (b, a)):
            time = _time(x, y)
            assert score_of(x, y, time) == explain(x, y, time).score, pair.why
