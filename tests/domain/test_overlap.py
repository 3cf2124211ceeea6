"""The overlap score and its explanation (pure: lexemes given as PostgreSQL would give them)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from verbinders.domain.lexicon import (
    CONCEPT_LEXEMES,
    GENERIC_LEXEMES,
    normalise,
    overlap_document,
    split_compound,
)
from verbinders.domain.overlap import (
    CONCEPT_WEIGHT,
    GENERIC_WEIGHT,
    Features,
    coincidence,
    features,
    score,
)
from verbinders.domain.schedule import TimeRange
from verbinders.domain.target_groups import group_keys
from verbinders.projections.overlap_candidates import OverlapCandidatesProjection

TUESDAY = datetime(2026, 3, 3, 18, tzinfo=UTC)


def weekly_ranges(first: datetime, weeks: int, hours: float = 2) -> tuple[TimeRange, ...]:
    return tuple(
        TimeRange(first + timedelta(weeks=n), first + timedelta(weeks=n, hours=hours))
        for n in range(weeks)
    )


def make(**overrides: Any) -> Features:
    fields: dict[str, Any] = {
        "activity_id": uuid4(),
        "organisation_id": uuid4(),
        "themes": ("language", "integration"),
        "target_groups": ("anderstaligen",),
        "districts": ("schalkwijk",),
        "languages": ("nl", "ar"),
        "venue": "Buurthuis De Til",
        "ranges": weekly_ranges(TUESDAY, 10),
        "title_lexemes": ("taalcaf", "tal", "caf", "taaloefen"),
        "lexemes": ("nederland", "oefen", "koffie", "taaloefen", "vrijwilliger"),
    }
    fields.update(overrides)
    return features(**fields)


def test_identical_activities_of_two_organisations_score_1() -> None:
    a = make()
    explanation = score(a, make())
    assert explanation.score == 1.0
    assert explanation.aim.themes == ("integration", "language")
    assert explanation.aim.words[0] == "taaloefen"  # a concept word weighs most
    assert explanation.time.hours == 20 and explanation.time.occurrences == 10
    assert explanation.place.same_venue and explanation.place.districts == ("schalkwijk",)


def test_the_points_of_themes_and_words_add_up_to_the_score() -> None:
    b = make(themes=("language",), title_lexemes=("taalles", "tal", "les", "taaloefen"), venue=None)
    explanation = score(make(), b)
    assert 0 < explanation.score < 1
    assert explanation.aim.theme_points + explanation.aim.word_points == pytest.approx(
        explanation.score, abs=2e-4
    )
    assert explanation.aim.theme_similarity == 0.5
    assert "themes language" in explanation.summary


def test_no_common_time_is_no_overlap_whatever_else_coincides() -> None:
    wednesday = weekly_ranges(TUESDAY + timedelta(days=1), 10)
    explanation = score(make(), make(ranges=wednesday))
    assert explanation.score == 0.0 and explanation.time.factor == 0.0
    assert explanation.summary.startswith("no common time")


def test_nothing_in_common_but_time_and_place_scores_0() -> None:
    b = make(themes=("sport",), title_lexemes=("voetbal",), lexemes=("voetbal", "plein"))
    assert score(make(), b).score == 0.0


def test_a_one_off_on_one_evening_of_a_series_counts_fully_in_time() -> None:
    one_evening = (TimeRange(TUESDAY + timedelta(weeks=4), TUESDAY + timedelta(weeks=4, hours=2)),)
    explanation = score(make(), make(ranges=one_evening))
    assert explanation.time.factor == 1.0 and explanation.time.hours == 2
    assert (explanation.time.occurrences, explanation.time.other_occurrences) == (1, 1)
    assert explanation.time.first == TUESDAY + timedelta(weeks=4)


def test_a_short_coincidence_counts_less_than_a_long_one() -> None:
    quarter = weekly_ranges(TUESDAY + timedelta(hours=1, minutes=45), 10)
    short, long = score(make(), make(ranges=quarter)), score(make(), make())
    assert short.time.hours == 2.5 and short.time.factor < long.time.factor
    assert short.time.factor >= 0.7


@pytest.mark.parametrize(
    ("b", "factor", "note"),
    [
        ({"districts": ("noord",), "venue": None}, 0.2, "other districts"),
        ({"districts": (), "venue": None}, 0.7, "one is city-wide or online"),
        ({"districts": ("noord",), "venue": "buurthuis de til"}, 1.0, ""),
    ],
)
def test_place(b: dict[str, Any], factor: float, note: str) -> None:
    place = score(make(), make(**b)).place
    assert (place.factor, place.note) == (factor, note)


@pytest.mark.parametrize(
    ("a", "b", "factor", "note"),
    [
        ({"languages": ("tr",)}, {"languages": ("ti",)}, 0.1, "no language in common"),
        ({"languages": ("nl", "tr")}, {"languages": ("nl", "ar")}, 0.9, "only Dutch in common"),
        ({"languages": ("nl",)}, {"languages": ("nl", "ar")}, 1.0, None),
        ({"languages": ()}, {"languages": ("ti",)}, 1.0, None),
        ({"target_groups": ("kinderen",)}, {"target_groups": ("ouderen",)}, 0.25, "other ages"),
        (
            {"target_groups": ("Turkse vrouwen",)},
            {"target_groups": ("Eritrese vrouwen",)},
            0.3,
            "other communities",
        ),
        ({"target_groups": ("jongens",)}, {"target_groups": ("meiden",)}, 0.25, "other genders"),
        (
            {"target_groups": ("vrouwen",)},
            {"target_groups": ("volwassenen",)},
            0.9,
            "one is for one gender only",
        ),
        ({"target_groups": ("iedereen",)}, {"target_groups": ("senioren",)}, 1.0, None),
    ],
)
def test_people(a: dict[str, Any], b: dict[str, Any], factor: float, note: str | None) -> None:
    people = score(make(**a), make(**b)).people
    assert people.factor == factor
    assert people.notes == ((note,) if note else ())


def test_senioren_are_ouderen() -> None:
    assert score(
        make(target_groups=("senioren",)), make(target_groups=("ouderen",))
    ).people.groups == ("age:oud",)


def test_coincidence_merges_sorted_ranges() -> None:
    a = weekly_ranges(TUESDAY, 3)
    b = (TimeRange(TUESDAY + timedelta(hours=1), TUESDAY + timedelta(weeks=1, hours=1)),)
    assert coincidence(a, b) == (2.0, 2, 1, TUESDAY + timedelta(hours=1))
    assert coincidence(a, ()) == (0.0, 0, 0, None)


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("taallessen", ("taal", "les")),
        ("huiswerkbegeleiding", ("huiswerk", "begeleiding")),
        ("taalcafe", ("taal", "cafe")),
        ("seniorenmiddag", ("senioren", "middag")),
        ("fietsenwerkplaats", ("fiets", "werkplaats")),
        ("koffieochtend", ("koffie", "ochtend")),
        ("buurtmaaltijd", ("buurt", "maaltijd")),
        ("stichting", ()),
        ("huiswerk", ()),
    ],
)
def test_compounds_split_into_their_parts(word: str, parts: tuple[str, ...]) -> None:
    assert split_compound(word) == parts


def test_normalising_folds_splits_and_names_concepts() -> None:
    assert normalise("Taallessen") == "taallessen taal les taaloefening"
    assert normalise("Taalcafé") == normalise("taalcafe")
    assert "taaloefening" in normalise("Taal café").split()
    assert "suikerfeest" in normalise("Eid al-Fitr viering").split()
    assert "suikerfeest" in normalise("Ramazan Bayramı feest").split()
    assert "huiswerk" in normalise("Huiswerkbegeleiding").split()
    assert "huiswerk" in normalise("Bijles voor kinderen").split()
    assert overlap_document("Iftar", None, "voor de buurt") == normalise("Iftar voor de buurt")


def test_group_keys_read_age_gender_community_and_situation() -> None:
    assert group_keys(["Turkse moeders"]) == {
        "label:turkse moeders",
        "age:volw",
        "gender:v",
        "rol:ouder",
        "community:tr",
    }
    assert group_keys(["statushouders"]) >= {"sit:nieuwkomer"}
    assert group_keys([]) == frozenset()


@pytest.mark.parametrize(
    "b",
    [
        {},
        {"themes": ("language",), "venue": None},
        {"districts": ("noord",), "venue": None},
        {"districts": (), "venue": None},
        {"languages": ("tr",)},
        {"target_groups": ("jongeren",), "title_lexemes": ("voetbal",)},
        {"ranges": weekly_ranges(TUESDAY + timedelta(days=1), 10)},
        {"ranges": weekly_ranges(TUESDAY + timedelta(hours=1), 3)},
        {"lexemes": (), "title_lexemes": ()},
    ],
)
def test_the_ranking_score_is_the_explained_score(b: dict[str, Any]) -> None:
    from verbinders.domain.overlap import _time, explain, score_of

    a, other = make(), make(**b)
    time = _time(a, other)
    assert score_of(a, other, time) == explain(a, other, time).score == score(a, other).score


def test_a_change_of_the_weights_bumps_the_candidate_index():
    """The candidate index stores each activity's word masses (`word_masses`) and the search
    bounds scores with them: a change of the lexicon's weighted lexemes or of their weights
    must rebuild it (a new version of the projection, then a new digest here)."""
    weights = (sorted(CONCEPT_LEXEMES), sorted(GENERIC_LEXEMES), CONCEPT_WEIGHT, GENERIC_WEIGHT)
    digest = hashlib.sha256(repr(weights).encode()).hexdigest()[:16]
    assert (OverlapCandidatesProjection.version, digest) == (7, "1ceb6cb31ecf0c1f")
