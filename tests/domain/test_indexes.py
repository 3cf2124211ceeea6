from __future__ import annotations

from uuid import uuid4

import pytest

from verbinders.domain.indexes import (
    IndexScope,
    UniqueIndex,
    claim_index,
    index_id,
    kvk_number_index_id,
    normalise_name,
    organisation_name_index_id,
)
from verbinders.errors import Conflict, InvalidCommand

from .support import T0, TENANT, at, new_events, organisation


def name_index(owner: object = None, name: str = "Stichting Al Amal") -> UniqueIndex:
    return UniqueIndex.create(
        scope=IndexScope.ORGANISATION_NAME,
        tenant=TENANT,
        key=normalise_name(name),
        owner=owner or uuid4(),  # type: ignore[arg-type]
        at=T0,
    )


@pytest.mark.parametrize(
    "variant",
    [
        "Stichting Café Ünal",
        "stichting cafe unal",
        "  STICHTING   CAFÉ\tÜNAL ",
        "Stichting Cafe\u0301 Unal",
    ],
)
def test_names_compare_without_case_accents_or_extra_spaces(variant: str) -> None:
    assert normalise_name(variant) == "stichting cafe unal"


@pytest.mark.parametrize(
    "variant",
    [
        "Stichting\u200b Al Amal",  # zero-width space
        "Stichting Al\u00ad Amal",  # soft hyphen
        "\ufeffStichting Al Amal\u2060",  # byte order mark, word joiner
        "Stichting Al\u200d Amal\ufe0f",  # zero-width joiner, variation selector
        "Stichting\u3000Al\u00a0Amal",  # ideographic and no-break spaces
    ],
)
def test_invisible_characters_do_not_make_a_name_new(variant: str) -> None:
    assert normalise_name(variant) == normalise_name("Stichting Al Amal")
    assert organisation_name_index_id(TENANT, variant) == organisation_name_index_id(
        TENANT, "stichting al amal"
    )


def test_a_registered_name_with_a_zero_width_space_claims_the_same_index() -> None:
    org = organisation(name="Stichting\u200b Al Amal")
    assert org.name_key == "stichting al amal"
    holder = name_index(name="Stichting Al Amal")
    with pytest.raises(Conflict):
        holder.claim(org.id, at=at(1))


def test_compatibility_characters_are_folded() -> None:
    assert normalise_name("ﬁlm Straße") == "film strasse"


def test_names_that_compare_equal_share_one_index_id_per_platform() -> None:
    assert organisation_name_index_id("haarlem", "Café Ünal") == organisation_name_index_id(
        "haarlem", "cafe  unal"
    )
    assert organisation_name_index_id("haarlem", "Café Ünal") != organisation_name_index_id(
        "zaanstad", "Café Ünal"
    )


def test_name_and_kvk_indexes_never_share_an_id() -> None:
    assert organisation_name_index_id(TENANT, "12345678") != kvk_number_index_id(TENANT, "12345678")
    assert kvk_number_index_id(TENANT, "12345678") == index_id(
        IndexScope.KVK_NUMBER, TENANT, "12345678"
    )


def test_a_new_index_is_held_by_its_owner_at_its_deterministic_id() -> None:
    owner = uuid4()
    index = name_index(owner, "Café Ünal")
    assert index.id == organisation_name_index_id(TENANT, "Café Ünal")
    assert (index.owner, index.key, index.scope, index.tenant) == (
        owner,
        "cafe unal",
        IndexScope.ORGANISATION_NAME,
        TENANT,
    )
    assert new_events(index) == ["Created"]


def test_a_taken_value_cannot_be_claimed_by_another_organisation() -> None:
    index = name_index()
    with pytest.raises(Conflict) as caught:
        index.claim(uuid4(), at=at(1))
    assert caught.value.details["state"] == "taken"
    assert caught.value.details["owner"] == str(index.owner)
    assert "already taken" in caught.value.message


def test_claiming_what_one_holds_records_nothing() -> None:
    index = name_index()
    index.collect_events()
    index.claim(index.owner, at=at(1))  # type: ignore[arg-type]
    assert new_events(index) == []


def test_a_released_value_can_be_claimed_by_another_organisation() -> None:
    first, second = uuid4(), uuid4()
    index = name_index(first)
    index.release(first, at=at(1))
    assert index.owner is None
    index.claim(second, at=at(2))
    assert index.owner == second
    assert new_events(index) == ["Created", "Released", "Claimed"]


def test_only_the_holder_can_release() -> None:
    index = name_index()
    with pytest.raises(Conflict) as caught:
        index.release(uuid4(), at=at(1))
    assert caught.value.details["state"] == "taken"
    index.release(index.owner, at=at(1))  # type: ignore[arg-type]
    with pytest.raises(Conflict) as caught:
        index.release(uuid4(), at=at(2))
    assert caught.value.details["state"] == "free"


def test_claim_index_creates_claims_or_conflicts() -> None:
    owner, other = uuid4(), uuid4()
    created = claim_index(
        None, scope=IndexScope.KVK_NUMBER, tenant=TENANT, key="12345678", owner=owner, at=T0
    )
    assert created.id == kvk_number_index_id(TENANT, "12345678")
    created.release(owner, at=at(1))
    reclaimed = claim_index(
        created, scope=IndexScope.KVK_NUMBER, tenant=TENANT, key="12345678", owner=other, at=at(2)
    )
    assert reclaimed is created and created.owner == other
    with pytest.raises(Conflict, match="KvK number '12345678' is already taken"):
        claim_index(
            created, scope=IndexScope.KVK_NUMBER, tenant=TENANT, key="12345678", owner=owner, at=T0
        )


def test_index_commands_need_a_time_zone() -> None:
    with pytest.raises(InvalidCommand):
        name_index().claim(uuid4(), at=T0.replace(tzinfo=None))
