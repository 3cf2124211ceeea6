"""What a text may hold, and the limit types the API's request bodies can reuse."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest

from verbinders.domain import limits, text
from verbinders.errors import InvalidCommand


def test_clean_normalises_to_nfc_and_line_ends_to_line_feeds() -> None:
    assert text.clean("Cafe\u0301", field="name", multi_line=False) == "Café"
    assert text.clean("a\r\nb\rc", field="minutes", multi_line=True) == "a\nb\nc"


@pytest.mark.parametrize(
    ("character", "described"),
    [
        ("\x00", "U+0000 NUL"),
        ("\x1b", "U+001B ESC"),
        ("\x7f", "U+007F DEL"),
        ("\x9b", "U+009B"),
        ("\ud800", "U+D800"),
        ("\U0010ffff", "U+10FFFF"),
        ("\ufdd0", "U+FDD0"),
    ],
)
def test_control_characters_surrogates_and_noncharacters_are_refused_by_code(
    character: str, described: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        text.clean(f"ab{character}", field="description", multi_line=True)
    assert (caught.value.field, caught.value.rule) == ("description", "characters")
    assert described in caught.value.message and "position 2" in caught.value.message


def test_bidirectional_controls_are_refused_on_one_line_and_named() -> None:
    with pytest.raises(InvalidCommand) as caught:
        text.clean("abc\u202edef", field="name", multi_line=False)
    assert caught.value.rule == "characters"
    assert "bidirectional" in caught.value.message
    assert "RIGHT-TO-LEFT OVERRIDE" in caught.value.message
    assert text.clean("abc\u202edef", field="minutes", multi_line=True) == "abc\u202edef"


def test_invisible_characters_do_not_count_as_content() -> None:
    assert text.visible_length(" \u200b\u00ad\ufeff ") == 0
    assert text.visible_length("a\u200bb") == 2
    assert text.strip_edges("\u200b Al Amal \u2060\n") == "Al Amal"
    assert text.is_invisible("\u200c") and not text.is_invisible("a")


def test_fold_compares_names_as_people_read_them() -> None:
    assert text.fold("  İSTANBUL\u200b  Café ") == text.fold("istanbul cafe")
    assert text.fold("Ａｌ Ａｍａｌ") == "al amal"  # full-width forms


def test_long_values_are_shortened_when_echoed() -> None:
    assert text.shown("x" * 1000, 20) == "'" + "x" * 18 + "…"
    assert text.shown("ok") == "'ok'"


class Body(msgspec.Struct, forbid_unknown_fields=True):
    name: limits.OrganisationName
    volunteers: limits.ActiveVolunteers = 0
    starts_at: limits.Moment | None = None
    website: limits.WebAddress | None = None
    minutes: limits.Minutes | None = None


def decode(raw: str) -> Body:
    return msgspec.json.decode(raw, type=Body)


def test_the_limit_types_accept_what_the_domain_accepts() -> None:
    body = decode(
        '{"name": "Al Amal", "volunteers": 100000, "starts_at": "2024-03-01T19:00:00+01:00",'
        ' "website": "https://alamal.nl", "minutes": "regel 1\\r\\nregel 2\\tx"}'
    )
    assert body.volunteers == limits.ACTIVE_VOLUNTEERS_MAX
    assert isinstance(body.starts_at, datetime)


@pytest.mark.parametrize(
    ("raw", "path", "says"),
    [
        ('{"name": "' + "x" * (limits.NAME_MAX + 1) + '"}', "$.name", "length <= 120"),
        ('{"name": "A"}', "$.name", "length >= 2"),
        ('{"name": "Fonds\\u0000X"}', "$.name", "regex"),
        ('{"name": "Al Amal", "volunteers": 2147483648}', "$.volunteers", "<= 100000"),
        ('{"name": "Al Amal", "volunteers": -1}', "$.volunteers", ">= 0"),
        ('{"name": "Al Amal", "starts_at": "2024-03-01T19:00:00"}', "$.starts_at", "timezone"),
        ('{"name": "Al Amal", "website": "ftp://x.nl"}', "$.website", "regex"),
    ],
)
def test_the_limit_types_refuse_values_past_the_bounds(raw: str, path: str, says: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        decode(raw)
    assert path in str(caught.value) and says in str(caught.value)


def test_the_limit_types_state_their_bounds_in_json_schema() -> None:
    schema = msgspec.json.schema(Body)["$defs"]["Body"]["properties"]
    assert schema["name"]["maxLength"] == limits.NAME_MAX
    assert schema["name"]["minLength"] == limits.NAME_MIN
    assert "pattern" in schema["name"]
    assert schema["volunteers"]["maximum"] == limits.ACTIVE_VOLUNTEERS_MAX


class Lists(msgspec.Struct):
    communities: limits.Labels = ()
    roles: limits.Roles = ("analyst",)


def test_the_list_types_bound_their_length() -> None:
    too_many = msgspec.json.encode({"communities": ["a"] * (limits.LABELS_MAX + 1)})
    with pytest.raises(msgspec.ValidationError, match=r"length <= 30.*\$\.communities"):
        msgspec.json.decode(too_many, type=Lists)
    with pytest.raises(msgspec.ValidationError, match=r"length >= 1.*\$\.roles"):
        msgspec.json.decode(b'{"roles": []}', type=Lists)
    assert msgspec.json.decode(b'{"roles": ["analyst", "auditor"]}', type=Lists).roles == (
        "analyst",
        "auditor",
    )
