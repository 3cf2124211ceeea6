from __future__ import annotations

import pytest

from verbinders.domain.vocabulary import (
    DEFAULT_DISTRICTS,
    DEFAULT_THEMES,
    KIND_LABELS,
    LANGUAGES,
    OrganisationKind,
    Term,
    Vocabulary,
    language_codes,
    terms,
)
from verbinders.errors import InvalidCommand


def test_there_are_four_kinds_of_organisation_each_with_a_dutch_label() -> None:
    assert {k.value for k in OrganisationKind} == {
        "self-organisation",
        "formal-organisation",
        "municipality",
        "fund",
    }
    assert KIND_LABELS[OrganisationKind.SELF_ORGANISATION] == "Zelforganisatie"
    assert set(KIND_LABELS) == set(OrganisationKind)


def test_haarlems_five_districts_are_the_default() -> None:
    assert [t.label for t in DEFAULT_DISTRICTS] == [
        "Centrum",
        "Noord",
        "Oost",
        "Schalkwijk",
        "Zuid-West",
    ]
    assert terms(DEFAULT_DISTRICTS, field="districts") == DEFAULT_DISTRICTS


def test_default_themes_cover_the_issue_and_have_dutch_labels() -> None:
    codes = {t.code: t.label for t in DEFAULT_THEMES}
    for code in (
        "language",
        "care",
        "welfare",
        "health",
        "education",
        "culture",
        "sport",
        "youth",
        "elderly",
        "women",
        "work",
        "poverty",
        "integration",
    ):
        assert code in codes
    assert codes["language"] == "Taal" and codes["elderly"] == "Ouderen"
    assert terms(DEFAULT_THEMES, field="themes") == DEFAULT_THEMES


def test_vocabulary_exposes_its_codes() -> None:
    vocabulary = Vocabulary(districts=DEFAULT_DISTRICTS, themes=DEFAULT_THEMES)
    assert "schalkwijk" in vocabulary.district_codes
    assert "poverty" in vocabulary.theme_codes


@pytest.mark.parametrize("code", ["nl", "ar", "tr", "ber", "zgh", "prs", "pap", "srn", "dse"])
def test_iso_639_codes_of_haarlems_communities_are_accepted(code: str) -> None:
    assert language_codes([code]) == (code,)


def test_language_codes_are_lower_cased_and_deduplicated_in_order() -> None:
    assert language_codes(["NL", " ar", "nl", "Tr"]) == ("nl", "ar", "tr")


@pytest.mark.parametrize("code", ["xx", "dutch", "", "nld-NL"])
def test_unknown_language_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidCommand) as caught:
        language_codes(["nl", code])
    assert caught.value.field == "languages"
    assert caught.value.rule == "iso-639"


def test_curated_language_codes_are_two_or_three_lower_case_letters() -> None:
    for code in LANGUAGES:
        assert code.isascii() and code.isalpha() and code.islower() and len(code) in (2, 3)


def test_terms_are_cleaned() -> None:
    assert terms([Term(code=" Zuid-West ", label="  Zuid  West ")], field="districts") == (
        Term(code="zuid-west", label="Zuid West"),
    )


@pytest.mark.parametrize(
    ("values", "field", "rule"),
    [
        ([], "districts", "required"),
        (
            [Term(code="noord", label="Noord"), Term(code="NOORD", label="N")],
            "districts[1].code",
            "unique",
        ),
        ([Term(code="noord oost", label="Noord-Oost")], "districts[0].code", "code"),
        ([Term(code="noord_", label="Noord")], "districts[0].code", "code"),
        ([Term(code="x" * 41, label="Lang")], "districts[0].code", "code"),
        ([Term(code="noord", label="  ")], "districts[0].label", "required"),
    ],
)
def test_invalid_vocabularies_are_refused_naming_the_entry(
    values: list[Term], field: str, rule: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        terms(values, field="districts")
    assert (caught.value.field, caught.value.rule) == (field, rule)
