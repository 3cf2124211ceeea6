from __future__ import annotations

from uuid import uuid4

import pytest

from verbinders.domain.strengths import Strength, StrengthChanges, StrengthKind
from verbinders.errors import Conflict, InvalidCommand, NotFound

from .support import VOCABULARY, at, new_events, organisation

VENUE = Strength(
    kind=StrengthKind.VENUE,
    title=" Zaal met  keuken ",
    description="Op de begane grond, rolstoeltoegankelijk.",
    capacity=80,
    districts=("Schalkwijk",),
)
INTERPRETERS = Strength(
    kind=StrengthKind.INTERPRETERS, title="Tolken", languages=("ar", "ber", "tr")
)


def test_all_kinds_of_strength() -> None:
    assert {k.value for k in StrengthKind} == {
        "venue",
        "interpreters",
        "catering",
        "transport",
        "expertise",
        "reach",
        "other",
    }


def test_adding_a_strength_records_it_cleaned() -> None:
    org = organisation()
    org.collect_events()
    sid = uuid4()
    org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(1))
    assert org.strengths[sid] == Strength(
        kind=StrengthKind.VENUE,
        title="Zaal met keuken",
        description="Op de begane grond, rolstoeltoegankelijk.",
        capacity=80,
        districts=("schalkwijk",),
    )
    (added,) = org.collect_events()
    assert type(added).__name__ == "StrengthAdded"
    assert added.strength_id == sid  # type: ignore[attr-defined]


def test_interpreters_need_at_least_one_language() -> None:
    org = organisation()
    with pytest.raises(InvalidCommand) as caught:
        org.add_strength(
            uuid4(),
            Strength(kind=StrengthKind.INTERPRETERS, title="Tolken"),
            vocabulary=VOCABULARY,
            at=at(1),
        )
    assert (caught.value.field, caught.value.rule) == ("languages", "required")
    org.add_strength(uuid4(), INTERPRETERS, vocabulary=VOCABULARY, at=at(1))


@pytest.mark.parametrize(
    ("strength", "field", "rule"),
    [
        (Strength(kind="boat", title="Boot"), "kind", "choice"),  # type: ignore[arg-type]
        (Strength(kind=StrengthKind.VENUE, title=""), "title", "required"),
        (Strength(kind=StrengthKind.VENUE, title="Zaal", capacity=0), "capacity", "range"),
        (
            Strength(kind=StrengthKind.REACH, title="Bereik", districts=("west",)),
            "districts",
            "vocabulary",
        ),
        (
            Strength(kind=StrengthKind.OTHER, title="Iets", languages=("xx",)),
            "languages",
            "iso-639",
        ),
        (
            Strength(kind=StrengthKind.OTHER, title="Iets", description="x" * 2001),
            "description",
            "max-length",
        ),
    ],
)
def test_invalid_strengths_are_refused(strength: Strength, field: str, rule: str) -> None:
    org = organisation()
    with pytest.raises(InvalidCommand) as caught:
        org.add_strength(uuid4(), strength, vocabulary=VOCABULARY, at=at(1))
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert org.strengths == {}


def test_a_strength_id_is_used_once_even_after_withdrawal() -> None:
    org = organisation()
    sid = uuid4()
    org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(1))
    with pytest.raises(Conflict) as caught:
        org.add_strength(sid, INTERPRETERS, vocabulary=VOCABULARY, at=at(1))
    assert caught.value.details["state"] == "exists"
    org.withdraw_strength(sid, at=at(2))
    with pytest.raises(Conflict):
        org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(3))


def test_changing_a_strength_records_the_whole_new_strength_and_what_changed() -> None:
    org = organisation()
    sid = uuid4()
    org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(1))
    org.collect_events()
    org.change_strength(
        sid, StrengthChanges(capacity=120, districts=("oost",)), vocabulary=VOCABULARY, at=at(2)
    )
    assert org.strengths[sid].capacity == 120
    assert org.strengths[sid].title == "Zaal met keuken"
    (changed,) = org.collect_events()
    assert type(changed).__name__ == "StrengthChanged"
    assert changed.strength == org.strengths[sid]  # type: ignore[attr-defined]
    assert changed.changed == ("capacity", "districts")  # type: ignore[attr-defined]


def test_a_change_to_the_same_values_records_nothing() -> None:
    org = organisation()
    sid = uuid4()
    org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(1))
    org.collect_events()
    org.change_strength(
        sid, StrengthChanges(title="Zaal met keuken", capacity=80), vocabulary=VOCABULARY, at=at(2)
    )
    assert new_events(org) == []


def test_a_change_is_checked_across_fields() -> None:
    org = organisation()
    sid = uuid4()
    org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(1))
    with pytest.raises(InvalidCommand) as caught:
        org.change_strength(
            sid, StrengthChanges(kind=StrengthKind.INTERPRETERS), vocabulary=VOCABULARY, at=at(2)
        )
    assert caught.value.field == "languages"
    assert org.strengths[sid].kind is StrengthKind.VENUE
    org.change_strength(
        sid,
        StrengthChanges(kind=StrengthKind.INTERPRETERS, languages=("so",)),
        vocabulary=VOCABULARY,
        at=at(2),
    )
    assert org.strengths[sid].kind is StrengthKind.INTERPRETERS


def test_withdrawing_removes_the_strength_and_remembers_its_id() -> None:
    org = organisation()
    sid = uuid4()
    org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(1))
    org.collect_events()
    org.withdraw_strength(sid, at=at(2), reason=" Zaal verkocht ")
    assert sid not in org.strengths
    assert org.withdrawn_strengths == [sid]
    (withdrawn,) = org.collect_events()
    assert type(withdrawn).__name__ == "StrengthWithdrawn"
    assert withdrawn.reason == "Zaal verkocht"  # type: ignore[attr-defined]


def test_unknown_or_withdrawn_strengths_are_not_found() -> None:
    org = organisation()
    with pytest.raises(NotFound) as caught:
        org.withdraw_strength(uuid4(), at=at(1))
    assert caught.value.details["state"] == "unknown"
    sid = uuid4()
    org.add_strength(sid, VENUE, vocabulary=VOCABULARY, at=at(1))
    org.withdraw_strength(sid, at=at(2))
    with pytest.raises(NotFound) as caught:
        org.change_strength(sid, StrengthChanges(title="x"), vocabulary=VOCABULARY, at=at(3))
    assert caught.value.details["state"] == "withdrawn"
    with pytest.raises(NotFound):
        org.withdraw_strength(sid, at=at(3))
