"""How much two activities of different organisations overlap, and why: a pure function.

A coordinator calls two activities an overlap when they have the same aim, for the same
people, in the same place, at the same time. The score follows that reading:

    score = aim × people × place × time          (each in [0, 1])

- **aim**: `AIM_WORDS` × the similarity of their words (the Dutch lexemes of title and
  description, `lexicon.overlap_document` through `to_tsvector('dutch', ...)`: how much of
  each title is found in the other activity, and how many of all words are shared, generic
  words counting `GENERIC_WEIGHT`, concept words `CONCEPT_WEIGHT`) + `AIM_THEMES` × the
  Jaccard similarity of their themes;
- **people**: target groups (`target_groups.group_keys`: other ages, genders or communities
  lower it) × languages (no language in common: `NO_COMMON_LANGUAGE`; only Dutch in common:
  a little);
- **place**: the same venue or a common district 1, other districts `OTHER_DISTRICT`, one of
  them city-wide or online (no districts) `CITY_WIDE`;
- **time**: 0 when no occurrence coincides (another day is no overlap, whatever else
  coincides), else from `TIME_FLOOR` up to 1 as the coinciding hours reach a quarter of the
  shorter activity's hours.

So the score is 0 unless the activities' times coincide *and* they share a theme or a word:
the candidate search (`application/overlap_search.py`) finds every candidate that can score
above 0 through the hours they share, bounds each one's score from above in PostgreSQL (this
arithmetic with the time factor 1 and the word masses the candidate index stores) and hands
the likely ones' `Features` to `score_of`; so a change here is a change to that bound too,
and a change of the weights a new version of the index. The
`Explanation` says what coincided and how much each counted: the points that themes and
words brought to the score (they add up to it), and the factors that people, place and time
multiplied them by.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from uuid import UUID

import msgspec

from verbinders.domain.lexicon import CONCEPT_LEXEMES, GENERIC_LEXEMES
from verbinders.domain.schedule import TimeRange
from verbinders.domain.target_groups import group_keys
from verbinders.domain.text import fold

__all__ = [
    "AIM_THEMES",
    "AIM_WORDS",
    "DEFAULT_THRESHOLD",
    "AimExplanation",
    "Explanation",
    "Features",
    "PeopleExplanation",
    "PlaceExplanation",
    "TimeExplanation",
    "coincidence",
    "explain",
    "features",
    "mass",
    "score",
    "score_of",
    "time_explanation",
    "weight",
]

DEFAULT_THRESHOLD = 0.35
"""A platform opens an overlap case from this score on (configurable per platform)."""

AIM_WORDS = 0.75
AIM_THEMES = 0.25
TITLE_SHARE = 0.6
"""Of the word similarity: how much of each title is found in the other (the rest: all words)."""
GENERIC_WEIGHT = 0.25
CONCEPT_WEIGHT = 3.0
OTHER_DISTRICT = 0.2
CITY_WIDE = 0.7
NO_COMMON_LANGUAGE = 0.1
ONLY_DUTCH_IN_COMMON = 0.9
OTHER_AGE = 0.25
OTHER_GENDER = 0.25
OTHER_COMMUNITY = 0.3
OTHER_SITUATION = 0.7
ONE_GENDERED = 0.9
TIME_FLOOR = 0.7
TIME_FULL_SHARE = 0.25

_DUTCH = "nl"


@dataclass(frozen=True, kw_only=True)
class Features:
    """What the score compares of one activity (the read model keeps these columns)."""

    activity_id: UUID
    organisation_id: UUID
    themes: frozenset[str]
    groups: frozenset[str]
    """`target_groups.group_keys(target_groups)`."""
    districts: frozenset[str]
    languages: frozenset[str]
    venue: str | None
    """`text.fold(venue)`, or None."""
    ranges: tuple[TimeRange, ...]
    """`schedule.occurrences(schedule)`: sorted, disjoint [start, end) in UTC."""
    title_lexemes: frozenset[str]
    """`tsvector_to_array(to_tsvector('dutch', overlap_document(title)))`."""
    lexemes: frozenset[str]
    """The same of `overlap_document(title, description)`."""


def features(
    *,
    activity_id: UUID,
    organisation_id: UUID,
    themes: Iterable[str],
    target_groups: Iterable[str],
    districts: Iterable[str],
    languages: Iterable[str],
    venue: str | None,
    ranges: Iterable[TimeRange],
    title_lexemes: Iterable[str],
    lexemes: Iterable[str],
) -> Features:
    """`Features` from an activity's details (target groups as labels, venue as given)."""
    return Features(
        activity_id=activity_id,
        organisation_id=organisation_id,
        themes=frozenset(themes),
        groups=group_keys(target_groups),
        districts=frozenset(districts),
        languages=frozenset(languages),
        venue=fold(venue) if venue else None,
        ranges=tuple(sorted(ranges)),
        title_lexemes=frozenset(title_lexemes),
        lexemes=frozenset(lexemes) | frozenset(title_lexemes),
    )


# -- the explanation ------------------------------------------------------------------------------


class AimExplanation(msgspec.Struct, frozen=True, kw_only=True):
    similarity: float
    themes: tuple[str, ...]
    """Themes both have."""
    theme_similarity: float
    theme_points: float
    """What the themes brought to the score."""
    words: tuple[str, ...]
    """Lexemes both have, the weightiest first (generic ones last)."""
    word_similarity: float
    word_points: float


class PeopleExplanation(msgspec.Struct, frozen=True, kw_only=True):
    factor: float
    groups: tuple[str, ...]
    """Target-group keys both have (`target_groups.group_keys`)."""
    group_factor: float
    languages: tuple[str, ...]
    language_factor: float
    notes: tuple[str, ...] = ()


class PlaceExplanation(msgspec.Struct, frozen=True, kw_only=True):
    factor: float
    districts: tuple[str, ...]
    same_venue: bool
    note: str = ""


class TimeExplanation(msgspec.Struct, frozen=True, kw_only=True):
    factor: float
    hours: float
    """Hours during which both take place."""
    occurrences: int
    """Occurrences of the first activity that coincide with the second's."""
    other_occurrences: int
    """Occurrences of the second activity that coincide with the first's."""
    share: float
    """`hours` as a share of the shorter activity's hours."""
    first: datetime | None = None
    """When they first coincide (UTC)."""


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """Why two activities scored what they did; stored with an overlap case."""

    score: float
    aim: AimExplanation
    people: PeopleExplanation
    place: PlaceExplanation
    time: TimeExplanation
    summary: str


# -- the parts -----------------------------------------------------------------------------------


_WEIGHTS = {lexeme: GENERIC_WEIGHT for lexeme in GENERIC_LEXEMES} | {
    lexeme: CONCEPT_WEIGHT for lexeme in CONCEPT_LEXEMES
}


def weight(lexeme: str) -> float:
    """How much a shared lexeme counts: concept words `CONCEPT_WEIGHT`, generic words
    `GENERIC_WEIGHT`, others 1."""
    return _WEIGHTS.get(lexeme, 1.0)


def mass(lexemes: Iterable[str]) -> float:
    """The lexemes' weights summed (3, 1 and 1/4: exact in any order)."""
    return sum(map(_WEIGHTS.get, lexemes, repeat(1.0)))


@functools.lru_cache(maxsize=16384)
def _set_mass(lexemes: frozenset[str]) -> float:
    """`mass` of a set (cached: a search weighs its draft's sets against every candidate's,
    and a platform's documents repeat)."""
    return mass(lexemes)


def _found(title: frozenset[str], other: frozenset[str]) -> float:
    total = _set_mass(title)
    return mass(title & other) / total if total else 0.0


def _word_similarity(a: Features, b: Features, shared: frozenset[str]) -> float:
    titles = (_found(a.title_lexemes, b.lexemes) + _found(b.title_lexemes, a.lexemes)) / 2
    smaller = min(_set_mass(a.lexemes), _set_mass(b.lexemes))
    body = min(1.0, mass(shared) / smaller) if smaller else 0.0
    return TITLE_SHARE * titles + (1 - TITLE_SHARE) * body


def _words(a: Features, b: Features) -> tuple[float, tuple[str, ...]]:
    shared = a.lexemes & b.lexemes
    if not shared:
        return 0.0, ()
    ordered = tuple(sorted(shared, key=lambda lexeme: (-weight(lexeme), lexeme)))
    return _word_similarity(a, b, shared), ordered


_KINDS = ("age:", "community:", "sit:", "gender:")


@functools.lru_cache(maxsize=4096)
def _kinds(keys: frozenset[str]) -> tuple[frozenset[str], ...]:
    """The keys of each kind of `_KINDS` (cached: a platform's groups repeat)."""
    return tuple(frozenset(key for key in keys if key.startswith(kind)) for kind in _KINDS)


def _groups(a: frozenset[str], b: frozenset[str]) -> tuple[float, list[str]]:
    factor, notes = 1.0, list[str]()
    if not a or not b:
        return factor, notes
    kinds_a, kinds_b = _kinds(a), _kinds(b)
    for mine, theirs, other, note in zip(
        kinds_a[:3],
        kinds_b[:3],
        (OTHER_AGE, OTHER_COMMUNITY, OTHER_SITUATION),
        ("other ages", "other communities", "other situations"),
        strict=True,
    ):
        if mine and theirs and not mine & theirs:
            factor *= other
            notes.append(note)
    genders_a, genders_b = kinds_a[3], kinds_b[3]
    if genders_a and genders_b and not genders_a & genders_b:
        factor *= OTHER_GENDER
        notes.append("other genders")
    elif bool(genders_a) != bool(genders_b):
        factor *= ONE_GENDERED
        notes.append("one is for one gender only")
    return factor, notes


def _languages(a: frozenset[str], b: frozenset[str]) -> tuple[float, str]:
    if not a or not b:
        return 1.0, ""
    common = a & b
    if not common:
        return NO_COMMON_LANGUAGE, "no language in common"
    if common == {_DUTCH} and (a - common) and (b - common):
        return ONLY_DUTCH_IN_COMMON, "only Dutch in common"
    return 1.0, ""


def _people(a: Features, b: Features) -> PeopleExplanation:
    group_factor, notes = _groups(a.groups, b.groups)
    language_factor, note = _languages(a.languages, b.languages)
    if note:
        notes.append(note)
    shared = sorted(key for key in a.groups & b.groups if not key.startswith("label:"))
    return PeopleExplanation(
        factor=group_factor * language_factor,
        groups=tuple(shared),
        group_factor=group_factor,
        languages=tuple(sorted(a.languages & b.languages)),
        language_factor=language_factor,
        notes=tuple(notes),
    )


def _place_factor(a: Features, b: Features) -> float:
    if (a.venue is not None and a.venue == b.venue) or not a.districts.isdisjoint(b.districts):
        return 1.0
    if not a.districts or not b.districts:
        return CITY_WIDE
    return OTHER_DISTRICT


def _place(a: Features, b: Features) -> PlaceExplanation:
    districts = tuple(sorted(a.districts & b.districts))
    same_venue = a.venue is not None and a.venue == b.venue
    if same_venue or districts:
        return PlaceExplanation(factor=1.0, districts=districts, same_venue=same_venue)
    if not a.districts or not b.districts:
        return PlaceExplanation(
            factor=CITY_WIDE, districts=(), same_venue=False, note="one is city-wide or online"
        )
    return PlaceExplanation(
        factor=OTHER_DISTRICT, districts=(), same_venue=False, note="other districts"
    )


def coincidence(
    a: tuple[TimeRange, ...], b: tuple[TimeRange, ...]
) -> tuple[float, int, int, datetime | None]:
    """(hours both take place, occurrences of `a` and of `b` that coincide, the first moment
    they coincide) of two sorted lists of disjoint ranges, in one merge."""
    seconds, hit_a, hit_b, first = 0.0, set(), set(), None
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i].start, b[j].start)
        end = min(a[i].end, b[j].end)
        if start < end:
            seconds += (end - start).total_seconds()
            hit_a.add(i)
            hit_b.add(j)
            first = start if first is None else first
        if a[i].end <= b[j].end:
            i += 1
        else:
            j += 1
    return seconds / 3600, len(hit_a), len(hit_b), first


def _time(a: Features, b: Features) -> TimeExplanation:
    hours, hits_a, hits_b, first = coincidence(a.ranges, b.ranges)
    return time_explanation(
        hours=hours,
        occurrences=hits_a,
        other_occurrences=hits_b,
        first=first,
        hours_a=sum(r.hours for r in a.ranges),
        hours_b=sum(r.hours for r in b.ranges),
    )


def time_explanation(
    *,
    hours: float,
    occurrences: int,
    other_occurrences: int,
    first: datetime | None,
    hours_a: float,
    hours_b: float,
) -> TimeExplanation:
    """The time part from what coincides (`coincidence`, or the same computed by the read
    model with multirange intersection) and each activity's total hours."""
    if not hours:
        return TimeExplanation(factor=0.0, hours=0.0, occurrences=0, other_occurrences=0, share=0)
    shorter = min(hours_a, hours_b)
    share = min(1.0, hours / shorter) if shorter else 1.0
    factor = TIME_FLOOR + (1 - TIME_FLOOR) * min(1.0, share / TIME_FULL_SHARE)
    return TimeExplanation(
        factor=round(factor, 4),
        hours=round(hours, 4),
        occurrences=occurrences,
        other_occurrences=other_occurrences,
        share=round(share, 4),
        first=first,
    )


# -- the score ---------------------------------------------------------------------------------


def _summary(
    score: float,
    aim: AimExplanation,
    people: PeopleExplanation,
    place: PlaceExplanation,
    time: TimeExplanation,
) -> str:
    if not time.hours:
        return "no common time: not an overlap, whatever else they share"
    parts = [f"score {score:.2f}"]
    if aim.themes:
        parts.append(f"themes {', '.join(aim.themes)}")
    if aim.words:
        parts.append(f"words {', '.join(aim.words[:6])}")
    parts.append(f"{time.hours:g} h together in {time.occurrences} occurrence(s)")
    if place.districts:
        parts.append(f"in {', '.join(place.districts)}")
    if place.note:
        parts.append(place.note)
    parts.extend(people.notes)
    return "; ".join(parts)


def score(a: Features, b: Features) -> Explanation:
    """How much `a` and `b` overlap, in [0, 1], with the reasons (see the module's notes)."""
    return explain(a, b, _time(a, b))


def score_of(a: Features, b: Features, time: TimeExplanation) -> float:
    """`explain(a, b, time).score` (the same arithmetic, the same float) without the
    explanation: what a search ranks its candidates by before it explains the best."""
    if not time.factor:
        return 0.0
    shared = a.lexemes & b.lexemes
    words = _word_similarity(a, b, shared) if shared else 0.0
    union = len(a.themes | b.themes)
    theme_similarity = len(a.themes & b.themes) / union if union else 0.0
    people = _groups(a.groups, b.groups)[0] * _languages(a.languages, b.languages)[0]
    factors = time.factor * people * _place_factor(a, b)
    return round(AIM_THEMES * theme_similarity * factors + AIM_WORDS * words * factors, 4)


def explain(a: Features, b: Features, time: TimeExplanation) -> Explanation:
    """`score` with the time part given (`time_explanation`): the candidate search computes
    it in PostgreSQL, so a candidate's occurrences need not leave the database."""
    words, shared_words = _words(a, b)
    themes = a.themes & b.themes
    union = a.themes | b.themes
    theme_similarity = len(themes) / len(union) if union else 0.0
    people = _people(a, b)
    place = _place(a, b)
    factors = time.factor * people.factor * place.factor
    theme_points = AIM_THEMES * theme_similarity * factors
    word_points = AIM_WORDS * words * factors
    total = round(theme_points + word_points, 4)
    aim = AimExplanation(
        similarity=round(AIM_THEMES * theme_similarity + AIM_WORDS * words, 4),
        themes=tuple(sorted(themes)),
        theme_similarity=round(theme_similarity, 4),
        theme_points=round(theme_points, 4),
        words=shared_words,
        word_similarity=round(words, 4),
        word_points=round(word_points, 4),
    )
    return Explanation(
        score=total,
        aim=aim,
        people=people,
        place=place,
        time=time,
        summary=_summary(total, aim, people, place, time),
    )
