from __future__ import annotations

from datetime import datetime

import msgspec
import pytest
from msgspec import UNSET, UnsetType

from verbinders.domain import rules
from verbinders.errors import InvalidCommand

from .support import T0


def test_a_moment_without_time_zone_is_refused() -> None:
    with pytest.raises(InvalidCommand) as caught:
        rules.aware(datetime(2020, 1, 1, 12, 0))
    assert (caught.value.field, caught.value.rule) == ("at", "timezone")
    assert rules.aware(T0) is T0


def test_single_line_text_is_stripped_and_whitespace_collapsed() -> None:
    assert rules.single_line("  De\tBrug \n Haarlem ", field="name", max_length=50) == (
        "De Brug Haarlem"
    )


@pytest.mark.parametrize(("value", "rule"), [("  ", "required"), ("x" * 11, "max-length")])
def test_single_line_text_limits(value: str, rule: str) -> None:
    with pytest.raises(InvalidCommand) as caught:
        rules.single_line(value, field="title", max_length=10)
    assert (caught.value.field, caught.value.rule) == ("title", rule)


def test_minimum_length_is_named_in_the_error() -> None:
    with pytest.raises(InvalidCommand) as caught:
        rules.single_line("A", field="name", max_length=10, min_length=2)
    assert caught.value.rule == "min-length"


def test_multi_line_text_keeps_its_lines() -> None:
    assert rules.multi_line(" a\n\nb ", field="description", max_length=10) == "a\n\nb"
    assert rules.multi_line("   ", field="description", max_length=10) == ""
    with pytest.raises(InvalidCommand):
        rules.multi_line("   ", field="reason", max_length=10, required=True)


def test_reasons_and_deciding_parties_are_required() -> None:
    with pytest.raises(InvalidCommand) as caught:
        rules.reason(" ")
    assert caught.value.field == "reason"
    with pytest.raises(InvalidCommand) as caught:
        rules.party("")
    assert caught.value.field == "decided_by"


def test_labels_drop_duplicates_whatever_their_case() -> None:
    assert rules.labels(
        ["Marokkaans", "marokkaans ", "Turks"], field="communities", max_items=5, max_length=20
    ) == ("Marokkaans", "Turks")
    with pytest.raises(InvalidCommand) as caught:
        rules.labels(["a", "b", "c"], field="communities", max_items=2, max_length=20)
    assert caught.value.rule == "max-items"


def test_codes_must_come_from_the_allowed_list_and_the_error_lists_the_choices() -> None:
    assert rules.codes(["Noord", "oost", "noord"], allowed={"noord", "oost"}, field="d") == (
        "noord",
        "oost",
    )
    with pytest.raises(InvalidCommand) as caught:
        rules.codes(["west"], allowed={"noord", "oost"}, field="districts")
    assert caught.value.rule == "vocabulary"
    assert "'west'" in caught.value.message and "noord, oost" in caught.value.message


@pytest.mark.parametrize("url", ["https://alamal.nl", "http://www.example.org/over-ons?x=1"])
def test_web_addresses_with_http_or_https_are_accepted(url: str) -> None:
    assert rules.web_url(f" {url} ", field="website") == url


@pytest.mark.parametrize(
    "url", ["alamal.nl", "ftp://alamal.nl", "https://localhost", "https://al amal.nl", "https://"]
)
def test_other_web_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidCommand) as caught:
        rules.web_url(url, field="website")
    assert (caught.value.field, caught.value.rule) == ("website", "url")


def test_counts_have_a_range_and_none_passes() -> None:
    assert rules.count(None, field="n") is None
    assert rules.count(0, field="n") == 0
    with pytest.raises(InvalidCommand) as caught:
        rules.count(-1, field="n")
    assert caught.value.rule == "range"
    with pytest.raises(InvalidCommand):
        rules.count(0, field="n", minimum=1)
    with pytest.raises(InvalidCommand):
        rules.count(True, field="n")


def test_a_moment_before_the_previous_one_is_refused() -> None:
    with pytest.raises(InvalidCommand) as caught:
        rules.not_before(T0, T0.replace(year=2020), what="the application")
    assert caught.value.rule == "chronology"
    assert "the application" in caught.value.message


class _Thing(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    size: int | None = None


class _ThingChanges(msgspec.Struct, frozen=True, kw_only=True):
    title: str | UnsetType = UNSET
    size: int | UnsetType | None = UNSET
    other: str | UnsetType = UNSET


def test_changed_fields_applies_only_given_values_that_differ() -> None:
    thing = _Thing(title="A", size=3)
    validators = {"title": str.strip}
    assert rules.changed_fields(thing, _ThingChanges(), validators) == (thing, ())
    assert rules.changed_fields(thing, _ThingChanges(title=" A "), validators) == (thing, ())
    new, changed = rules.changed_fields(
        thing, _ThingChanges(title=" B", size=None, other="ignored"), validators
    )
    assert new == _Thing(title="B", size=None)
    assert changed == ("title", "size")
