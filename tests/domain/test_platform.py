from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.vocabulary import DEFAULT_DISTRICTS, DEFAULT_THEMES, Term
from verbinders.errors import Conflict, InvalidCommand

from .support import COORDINATOR, T0, TENANT, at, new_events


def platform(**overrides: object) -> Platform:
    fields: dict[str, object] = {
        "tenant": TENANT,
        "name": "De Haarlemse Verbinders",
        "city": "Haarlem",
        "started_on": date(2019, 12, 2),
        "at": T0,
    }
    fields.update(overrides)
    return Platform.create(**fields)  # type: ignore[arg-type]


def test_a_platform_starts_with_haarlems_districts_and_themes_and_no_point_of_contact() -> None:
    p = platform()
    assert p.id == platform_id(TENANT)
    assert (p.tenant, p.name, p.city, p.started_on) == (
        TENANT,
        "De Haarlemse Verbinders",
        "Haarlem",
        date(2019, 12, 2),
    )
    assert p.districts == DEFAULT_DISTRICTS
    assert p.themes == DEFAULT_THEMES
    assert p.point_of_contact is None
    assert p.vocabulary.district_codes == {t.code for t in DEFAULT_DISTRICTS}
    assert new_events(p) == ["Created"]


def test_a_platform_can_start_with_its_own_vocabularies_and_point_of_contact() -> None:
    contact = uuid4()
    p = platform(
        tenant="zaanstad",
        city="Zaanstad",
        districts=[Term(code="zaandam", label="Zaandam")],
        themes=[Term(code="Taal", label="Taal")],
        point_of_contact=contact,
    )
    assert p.id == platform_id("zaanstad") != platform_id(TENANT)
    assert p.districts == (Term(code="zaandam", label="Zaandam"),)
    assert p.themes == (Term(code="taal", label="Taal"),)
    assert p.point_of_contact == contact


@pytest.mark.parametrize("tenant", ["Haarlem", "haar lem", "-haarlem", "", "x" * 64])
def test_a_tenant_must_be_a_slug(tenant: str) -> None:
    with pytest.raises(InvalidCommand) as caught:
        platform(tenant=tenant)
    assert (caught.value.field, caught.value.rule) == ("tenant", "slug")


@pytest.mark.parametrize(
    ("field", "value"), [("name", " "), ("city", ""), ("districts", []), ("themes", [])]
)
def test_a_platform_needs_a_name_a_city_and_vocabularies(field: str, value: object) -> None:
    with pytest.raises(InvalidCommand) as caught:
        platform(**{field: value})
    assert caught.value.field == field


def test_creating_needs_a_time_zone() -> None:
    with pytest.raises(InvalidCommand):
        platform(at=T0.replace(tzinfo=None))


def test_details_change_only_when_they_differ() -> None:
    p = platform()
    p.collect_events()
    p.change_details(name=" De  Haarlemse Verbinders ", at=at(1))
    assert new_events(p) == []
    p.change_details(city="Haarlem e.o.", at=at(1))
    assert (p.name, p.city) == ("De Haarlemse Verbinders", "Haarlem e.o.")
    assert new_events(p) == ["DetailsChanged"]
    with pytest.raises(InvalidCommand):
        p.change_details(name="", at=at(2))


def test_districts_are_replaced_as_a_whole() -> None:
    p = platform()
    p.collect_events()
    new = [*DEFAULT_DISTRICTS, Term(code="haarlemmerliede", label="Haarlemmerliede")]
    p.change_districts(new, at=at(1))
    assert p.districts == tuple(new)
    assert new_events(p) == ["DistrictsChanged"]
    p.change_districts(new, at=at(2))
    assert new_events(p) == []


def test_themes_are_replaced_as_a_whole() -> None:
    p = platform()
    p.collect_events()
    p.change_themes([Term(code="language", label="Taal en lezen")], at=at(1))
    assert p.themes == (Term(code="language", label="Taal en lezen"),)
    assert p.vocabulary.theme_codes == {"language"}
    assert new_events(p) == ["ThemesChanged"]
    p.change_themes([Term(code="language", label="Taal en lezen")], at=at(2))
    assert new_events(p) == []


def test_invalid_vocabularies_are_refused_and_nothing_changes() -> None:
    p = platform()
    p.collect_events()
    with pytest.raises(InvalidCommand):
        p.change_districts([Term(code="noord", label="Noord")] * 2, at=at(1))
    with pytest.raises(InvalidCommand):
        p.change_themes([], at=at(1))
    assert new_events(p) == []
    assert p.districts == DEFAULT_DISTRICTS


def test_reassigning_the_point_of_contact_records_who_decided_why_and_the_previous_one() -> None:
    first, second = uuid4(), uuid4()
    p = platform(point_of_contact=first)
    p.collect_events()
    p.reassign_point_of_contact(
        second, reason="Besloten in de bijeenkomst", decided_by=COORDINATOR, at=at(30)
    )
    assert p.point_of_contact == second
    (reassigned,) = p.collect_events()
    assert type(reassigned).__name__ == "PointOfContactReassigned"
    assert reassigned.organisation_id == second  # type: ignore[attr-defined]
    assert reassigned.previous == first  # type: ignore[attr-defined]
    assert reassigned.reason == "Besloten in de bijeenkomst"  # type: ignore[attr-defined]
    assert reassigned.decided_by == COORDINATOR  # type: ignore[attr-defined]
    assert reassigned.at == at(30)  # type: ignore[attr-defined]


def test_the_point_of_contact_can_be_left_vacant() -> None:
    p = platform(point_of_contact=uuid4())
    p.reassign_point_of_contact(None, reason="Aftreden", decided_by=COORDINATOR, at=at(1))
    assert p.point_of_contact is None


def test_reassigning_to_the_current_point_of_contact_conflicts_naming_it() -> None:
    current = uuid4()
    p = platform(point_of_contact=current)
    with pytest.raises(Conflict) as caught:
        p.reassign_point_of_contact(current, reason="x", decided_by=COORDINATOR, at=at(1))
    assert caught.value.details["state"] == str(current)
    with pytest.raises(Conflict) as caught:
        platform().reassign_point_of_contact(None, reason="x", decided_by=COORDINATOR, at=at(1))
    assert caught.value.details["state"] == "none"


@pytest.mark.parametrize(
    ("reason", "decided_by", "field"), [("", "platform", "reason"), ("Omdat", " ", "decided_by")]
)
def test_reassigning_needs_a_reason_and_who_decided(
    reason: str, decided_by: str, field: str
) -> None:
    p = platform()
    with pytest.raises(InvalidCommand) as caught:
        p.reassign_point_of_contact(uuid4(), reason=reason, decided_by=decided_by, at=at(1))
    assert caught.value.field == field
    assert p.point_of_contact is None
