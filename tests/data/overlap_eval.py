"""Scoring the labelled pairs: their lexemes from PostgreSQL's `dutch` configuration, the
scores, and precision and recall at a threshold. Shared by the quality test and the bench."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verbinders.domain.lexicon import overlap_document
from verbinders.domain.overlap import Explanation, Features, features, score
from verbinders.domain.schedule import check_schedule, occurrences

if TYPE_CHECKING:
    import asyncpg

    from .overlap_support import Act, Pair

__all__ = ["Counts", "counts", "lexemes", "scored"]

_LEXEMES = """
SELECT tsvector_to_array(to_tsvector('dutch', document))
  FROM unnest($1::text[]) WITH ORDINALITY AS d(document, n)
 ORDER BY n
"""


async def lexemes(conn: asyncpg.Connection, documents: list[str]) -> list[frozenset[str]]:
    """The lexemes of each document, as the read model's tsvector holds them."""
    rows = await conn.fetch(_LEXEMES, documents)
    return [frozenset(row[0]) for row in rows]


async def _features(conn: asyncpg.Connection, acts: list[Act]) -> dict[int, Features]:
    unique = list({id(act): act for act in acts}.values())
    titles = await lexemes(conn, [overlap_document(act.title) for act in unique])
    texts = await lexemes(conn, [overlap_document(act.title, act.text) for act in unique])
    orgs = {act.org: uuid.uuid5(uuid.NAMESPACE_URL, act.org) for act in unique}
    result = {}
    for act, title, words in zip(unique, titles, texts, strict=True):
        result[id(act)] = features(
            activity_id=uuid.uuid4(),
            organisation_id=orgs[act.org],
            themes=act.themes,
            target_groups=act.groups,
            districts=act.districts,
            languages=act.langs,
            venue=act.venue,
            ranges=occurrences(check_schedule(act.when)),
            title_lexemes=title,
            lexemes=words,
        )
    return result


async def scored(conn: asyncpg.Connection, pairs: list[Pair]) -> list[Explanation]:
    """Each pair's explanation (its score), in order."""
    table = await _features(conn, [act for pair in pairs for act in (pair.a, pair.b)])
    return [score(table[id(pair.a)], table[id(pair.b)]) for pair in pairs]


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def counts(pairs: list[Pair], explanations: list[Explanation], threshold: float) -> Counts:
    tp = fp = fn = tn = 0
    for pair, explanation in zip(pairs, explanations, strict=True):
        found = explanation.score >= threshold
        if found and pair.overlap:
            tp += 1
        elif found:
            fp += 1
        elif pair.overlap:
            fn += 1
        else:
            tn += 1
    return Counts(tp, fp, fn, tn)
