from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest

from verbinders.domain.contacts import ContactChanges
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength, StrengthChanges, StrengthKind
from verbinders.domain.vocabulary import DEFAULT_THEMES, OrganisationKind, Term, Vocabulary
from verbinders.errors import Conflict, InvalidCommand

from .support import COORDINATOR, T0, TENANT, VOCABULARY, at, contact, new_events, organisation


def test_registering_records_a_cleaned_profile() -> None:
    org_id = uuid4()
    org = organisation(
        organisation_id=org_id,
        kind="formal-organisation",
        name="  Stichting   Café Ünal ",
        kvk_number="1234 5678",
        profile=Profile(
            description="  Welzijn voor iedereen.\n\nSinds 1998. ",
            founding_year=1998,
            communities=["Turks", "turks", "Koerdisch"],
            languages=["TR", "nl", "ku"],
            themes=["welfare", "elderly"],
            districts=["Oost"],
            target_groups=["ouderen", "mantelzorgers"],
            website="https://unal.example.nl",
            constituency_size=400,
            active_volunteers=25,
        ),
    )
    assert org.id == org_id
    assert org.tenant == TENANT
    assert org.kind is OrganisationKind.FORMAL_ORGANISATION
    assert org.name == "Stichting Café Ünal"
    assert org.name_key == "stichting cafe unal"
    assert org.kvk_number == "12345678"
    assert org.registered_at == T0
    assert not org.is_dissolved
    assert org.profile == Profile(
        description="Welzijn voor iedereen.\n\nSinds 1998.",
        founding_year=1998,
        communities=("Turks", "Koerdisch"),
        languages=("tr", "nl", "ku"),
        themes=("welfare", "elderly"),
        districts=("oost",),
        target_groups=("ouderen", "mantelzorgers"),
        website="https://unal.example.nl",
        constituency_size=400,
        active_volunteers=25,
    )
    assert org.strengths == {} and org.contacts == {} and org.former_names == []
    assert new_events(org) == ["Registered"]


def test_registering_with_just_a_kind_and_a_name_gives_an_empty_profile() -> None:
    org = organisation(profile=None, kind=OrganisationKind.FUND, name="Fonds 1818")
    assert org.profile == Profile()
    assert org.kvk_number is None


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"kind": "club"}, "kind", "choice"),
        ({"name": " A "}, "name", "min-length"),
        ({"name": "x" * 121}, "name", "max-length"),
        ({"kvk_number": "1234567"}, "kvk_number", "kvk"),
        ({"kvk_number": "1234567a"}, "kvk_number", "kvk"),
        ({"kvk_number": "123456789"}, "kvk_number", "kvk"),
        ({"profile": Profile(founding_year=2020)}, "founding_year", "range"),
        ({"profile": Profile(founding_year=1599)}, "founding_year", "range"),
        ({"profile": Profile(languages=("nl", "dutch"))}, "languages", "iso-639"),
        ({"profile": Profile(themes=("gardening",))}, "themes", "vocabulary"),
        ({"profile": Profile(districts=("west",))}, "districts", "vocabulary"),
        ({"profile": Profile(website="www.alamal.nl")}, "website", "url"),
        ({"profile": Profile(constituency_size=-1)}, "constituency_size", "range"),
        ({"profile": Profile(active_volunteers=-3)}, "active_volunteers", "range"),
        ({"profile": Profile(communities=("",))}, "communities[0]", "required"),
        (
            {"profile": Profile(target_groups=tuple(f"g{i}" for i in range(31)))},
            "target_groups",
            "max-items",
        ),
        ({"profile": Profile(description="x" * 4001)}, "description", "max-length"),
        ({"at": datetime(2019, 12, 2, 19)}, "at", "timezone"),
    ],
)
def test_registering_refuses_invalid_fields(
    overrides: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        organisation(**overrides)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_founding_year_may_be_the_current_year() -> None:
    assert organisation(profile=Profile(founding_year=2019)).profile.founding_year == 2019


def test_themes_and_districts_are_checked_against_the_platforms_lists() -> None:
    vocabulary = Vocabulary(
        districts=(Term(code="zaandam", label="Zaandam"),), themes=DEFAULT_THEMES
    )
    org = organisation(vocabulary=vocabulary, profile=Profile(districts=("zaandam",)))
    assert org.profile.districts == ("zaandam",)
    with pytest.raises(InvalidCommand, match="choose from zaandam"):
        organisation(vocabulary=vocabulary, profile=Profile(districts=("noord",)))


# -- partial updates ----------------------------------------------------------------------------


def test_an_update_changes_only_the_given_fields() -> None:
    org = organisation(
        profile=Profile(languages=("ar",), website="https://alamal.nl", active_volunteers=5)
    )
    org.collect_events()
    org.update_profile(
        ProfileChanges(active_volunteers=12, website=None, themes=("women", "language")),
        vocabulary=VOCABULARY,
        at=at(10),
    )
    assert org.profile.active_volunteers == 12
    assert org.profile.website is None
    assert org.profile.themes == ("women", "language")
    assert org.profile.languages == ("ar",)
    (updated,) = org.collect_events()
    assert type(updated).__name__ == "ProfileUpdated"
    assert updated.changed == ("themes", "website", "active_volunteers")  # type: ignore[attr-defined]
    assert updated.profile == org.profile  # type: ignore[attr-defined]


def test_an_update_with_nothing_new_records_nothing() -> None:
    org = organisation(kvk_number="12345678")
    org.collect_events()
    org.update_profile(ProfileChanges(), vocabulary=VOCABULARY, at=at(1))
    org.update_profile(
        ProfileChanges(name="Stichting  Al Amal", kvk_number="1234.5678", languages=("AR", "nl")),
        vocabulary=VOCABULARY,
        at=at(1),
    )
    assert new_events(org) == []


def test_a_rename_is_recorded_on_its_own_and_keeps_the_former_name() -> None:
    org = organisation()
    org.collect_events()
    org.update_profile(
        ProfileChanges(name="Al Amal Haarlem", description="Nieuw"), vocabulary=VOCABULARY, at=at(1)
    )
    assert org.name == "Al Amal Haarlem"
    assert org.former_names == ["Stichting Al Amal"]
    renamed, updated = org.collect_events()
    assert type(renamed).__name__ == "Renamed"
    assert renamed.name == "Al Amal Haarlem"  # type: ignore[attr-defined]
    assert renamed.previous_name == "Stichting Al Amal"  # type: ignore[attr-defined]
    assert type(updated).__name__ == "ProfileUpdated"
    org.update_profile(ProfileChanges(name="Stichting Al Amal"), vocabulary=VOCABULARY, at=at(2))
    assert org.former_names == ["Stichting Al Amal", "Al Amal Haarlem"]


def test_a_rename_that_only_changes_case_keeps_the_name_key() -> None:
    org = organisation(name="stichting al amal")
    key = org.name_key
    org.collect_events()
    org.update_profile(ProfileChanges(name="Stichting Al Amal"), vocabulary=VOCABULARY, at=at(1))
    assert new_events(org) == ["Renamed"]
    assert org.name_key == key


def test_the_kvk_number_can_be_added_changed_and_cleared() -> None:
    org = organisation()
    org.collect_events()
    org.update_profile(ProfileChanges(kvk_number="87654321"), vocabulary=VOCABULARY, at=at(1))
    org.update_profile(ProfileChanges(kvk_number=None), vocabulary=VOCABULARY, at=at(2))
    assert org.kvk_number is None
    first, second = org.collect_events()
    assert type(first).__name__ == type(second).__name__ == "KvkNumberChanged"
    assert (first.kvk_number, first.previous) == ("87654321", None)  # type: ignore[attr-defined]
    assert (second.kvk_number, second.previous) == (None, "87654321")  # type: ignore[attr-defined]


def test_an_invalid_field_refuses_the_whole_update() -> None:
    org = organisation()
    org.collect_events()
    with pytest.raises(InvalidCommand) as caught:
        org.update_profile(
            ProfileChanges(name="Nieuwe naam", kvk_number="87654321", website="alamal"),
            vocabulary=VOCABULARY,
            at=at(1),
        )
    assert caught.value.field == "website"
    assert (org.name, org.kvk_number) == ("Stichting Al Amal", None)
    assert new_events(org) == []


def test_only_given_fields_are_checked_against_a_changed_vocabulary() -> None:
    org = organisation(profile=Profile(districts=("schalkwijk",)))
    smaller = Vocabulary(districts=(Term(code="centrum", label="Centrum"),), themes=DEFAULT_THEMES)
    org.update_profile(
        ProfileChanges(description="Nog steeds actief"), vocabulary=smaller, at=at(1)
    )
    assert org.profile.districts == ("schalkwijk",)
    with pytest.raises(InvalidCommand):
        org.update_profile(ProfileChanges(districts=("schalkwijk",)), vocabulary=smaller, at=at(2))


def test_an_update_dated_before_the_registration_is_refused() -> None:
    org = organisation()
    with pytest.raises(InvalidCommand) as caught:
        org.update_profile(ProfileChanges(description="x"), vocabulary=VOCABULARY, at=at(-1))
    assert caught.value.rule == "chronology"


# -- dissolution --------------------------------------------------------------------------------


def test_dissolving_records_the_reason_and_who_decided() -> None:
    org = organisation()
    org.collect_events()
    org.dissolve(reason="Bestuur gestopt", decided_by=COORDINATOR, at=at(400))
    assert org.is_dissolved and org.dissolved_at == at(400)
    (dissolved,) = org.collect_events()
    assert type(dissolved).__name__ == "Dissolved"
    assert dissolved.reason == "Bestuur gestopt"  # type: ignore[attr-defined]
    assert dissolved.decided_by == COORDINATOR  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("reason", "decided_by", "field"), [("", "x", "reason"), ("r", "", "decided_by")]
)
def test_dissolving_needs_a_reason_and_who_decided(
    reason: str, decided_by: str, field: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        organisation().dissolve(reason=reason, decided_by=decided_by, at=at(1))
    assert caught.value.field == field


_AFTER_DISSOLUTION = {
    "update_profile": lambda o: o.update_profile(
        ProfileChanges(description="x"), vocabulary=VOCABULARY, at=at(2)
    ),
    "dissolve": lambda o: o.dissolve(reason="again", decided_by=COORDINATOR, at=at(2)),
    "add_strength": lambda o: o.add_strength(
        uuid4(), Strength(kind=StrengthKind.VENUE, title="Zaal"), vocabulary=VOCABULARY, at=at(2)
    ),
    "change_strength": lambda o: o.change_strength(
        next(iter(o.strengths)),
        StrengthChanges(title="Grote zaal"),
        vocabulary=VOCABULARY,
        at=at(2),
    ),
    "withdraw_strength": lambda o: o.withdraw_strength(next(iter(o.strengths)), at=at(2)),
    "add_contact": lambda o: o.add_contact(contact(), at=at(2)),
    "change_contact": lambda o: o.change_contact(
        next(iter(o.contacts)), ContactChanges(role="penningmeester"), at=at(2)
    ),
    "remove_contact": lambda o: o.remove_contact(next(iter(o.contacts)), at=at(2)),
}


@pytest.mark.parametrize("command", sorted(_AFTER_DISSOLUTION))
def test_a_dissolved_organisation_accepts_no_changes(command: str) -> None:
    org = organisation()
    org.add_strength(
        uuid4(), Strength(kind=StrengthKind.VENUE, title="Zaal"), vocabulary=VOCABULARY, at=at(1)
    )
    org.add_contact(contact(), at=at(1))
    org.dissolve(reason="Opgeheven", decided_by=COORDINATOR, at=at(1))
    org.collect_events()
    with pytest.raises(Conflict) as caught:
        _AFTER_DISSOLUTION[command](org)
    assert caught.value.details["state"] == "dissolved"
    assert "dissolved" in caught.value.message
    assert new_events(org) == []
