"""Personal data: sealed per person at rest, clear on load, redacted once forgotten."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from eventsourcing.domain import Aggregate

from tests.store.personal_data_support import Association, Contact
from tests.store.support import META
from verbinders.errors import Conflict, NotFound
from verbinders.store.personal import Keyring
from verbinders.store.repository import Repository

pytestmark = pytest.mark.server

FATIMA = ("Fatima El Amrani", "fatima.elamrani@example.nl")
JAN = ("Jan de Wit", "jan.dewit@example.nl")


def state_of(aggregate: Aggregate) -> dict[str, object]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


async def raw_text(pool: asyncpg.Pool) -> str:
    """Everything the events and snapshots tables hold, as text."""
    async with pool.acquire() as conn:
        events = await conn.fetchval("SELECT string_agg(payload::text, ' ') FROM events")
        snapshots = await conn.fetchval("SELECT string_agg(state::text, ' ') FROM snapshots")
    assert events is not None and snapshots is not None, "expected events and a snapshot"
    return f"{events} {snapshots}"


async def saved_association(
    repository: Repository, fatima: uuid.UUID, jan: uuid.UUID
) -> Association:
    """An association naming both people, long enough that loading it takes a snapshot."""
    association = Association(name="Stichting Samen Schalkwijk")
    association.add_contact(Contact(subject=fatima, name=FATIMA[0], email=FATIMA[1]))
    association.add_contact(Contact(subject=jan, name=JAN[0], email=JAN[1]))
    association.elect_chair(Contact(subject=fatima, name=FATIMA[0], email=FATIMA[1]))
    association.archive(frozenset({Contact(subject=jan, name=JAN[0], email=JAN[1])}))
    association.rename("Samen Schalkwijk")
    await repository.save(association, metadata=META)
    await repository.get(Association, association.id, tenant="haarlem")  # takes a snapshot
    return association


async def test_personal_data_is_sealed_at_rest_and_loads_in_clear(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    fatima, jan = uuid.uuid4(), uuid.uuid4()
    association = await saved_association(repository, fatima, jan)

    text = await raw_text(pool)
    for secret in (*FATIMA, *JAN, "Fatima", "Amrani", "dewit"):
        assert secret not in text
    assert "__personal__" in text and str(fatima) in text
    assert "Samen Schalkwijk" in text  # what is not personal stays readable with SQL
    async with pool.acquire() as conn:
        keys = await conn.fetch("SELECT subject, tenant FROM personal_keys ORDER BY subject")
        snapshot_version = await conn.fetchval("SELECT max(version) FROM snapshots")
    assert {(row["subject"], row["tenant"]) for row in keys} == {
        (fatima, "haarlem"),
        (jan, "haarlem"),
    }
    assert snapshot_version == association.version

    from_snapshot = await repository.get(Association, association.id, tenant="haarlem")
    replayed = await Repository(repository.store, repository.keyring, snapshot_every=0).get(
        Association, association.id, tenant="haarlem"
    )
    assert state_of(from_snapshot) == state_of(replayed) == state_of(association)
    assert from_snapshot.contacts[fatima] == Contact(
        subject=fatima, name=FATIMA[0], email=FATIMA[1]
    )
    assert from_snapshot.former == frozenset({Contact(subject=jan, name=JAN[0], email=JAN[1])})


async def test_a_forgotten_person_reads_as_redacted_and_the_history_stays_whole(
    repository: Repository, keyring: Keyring, pool: asyncpg.Pool
) -> None:
    fatima, jan = uuid.uuid4(), uuid.uuid4()
    association = await saved_association(repository, fatima, jan)

    assert await keyring.forget(fatima, tenant="haarlem")
    assert not await keyring.forget(fatima, tenant="haarlem")  # already forgotten
    replay = Repository(repository.store, keyring, snapshot_every=0)
    for repo in (repository, replay):  # from the snapshot, and from the events alone
        loaded = await repo.get(Association, association.id, tenant="haarlem")
        assert loaded.version == association.version
        assert loaded.name == "Samen Schalkwijk"
        assert loaded.contacts[fatima] == Contact.redacted(fatima)
        assert loaded.chair == Contact.redacted(fatima)
        assert loaded.contacts[jan] == Contact(subject=jan, name=JAN[0], email=JAN[1])
        assert loaded.former == frozenset({Contact(subject=jan, name=JAN[0], email=JAN[1])})
        as_of = await repo.get(Association, association.id, tenant="haarlem", version=2)
        assert as_of.contacts == {fatima: Contact.redacted(fatima)}
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == association.version

    # The aggregate lives on: new events, and new data about people not forgotten.
    loaded = await repository.get(Association, association.id, tenant="haarlem")
    loaded.rename("Verbinders Schalkwijk")
    await repository.save(loaded, metadata=META)
    again = await repository.get(Association, association.id, tenant="haarlem")
    assert again.name == "Verbinders Schalkwijk"
    assert again.chair == Contact.redacted(fatima)


async def test_sealing_new_data_for_a_forgotten_person_is_a_conflict(
    repository: Repository, keyring: Keyring
) -> None:
    fatima, jan = uuid.uuid4(), uuid.uuid4()
    association = await saved_association(repository, fatima, jan)
    await keyring.forget(fatima, tenant="haarlem")

    loaded = await repository.get(Association, association.id, tenant="haarlem")
    loaded.add_contact(Contact(subject=fatima, name=FATIMA[0], email="f@example.nl"))
    with pytest.raises(Conflict) as caught:
        await repository.save(loaded, metadata=META)
    assert caught.value.details == {"subject": str(fatima), "state": "forgotten"}
    assert await repository.store.stream_version(association.id) == association.version
    with pytest.raises(Conflict):
        await keyring.keys_for([fatima], tenant="haarlem", create=True)


async def test_a_person_can_only_be_forgotten_by_their_own_tenant(
    repository: Repository, keyring: Keyring
) -> None:
    fatima, jan = uuid.uuid4(), uuid.uuid4()
    association = await saved_association(repository, fatima, jan)

    with pytest.raises(NotFound):
        await keyring.forget(fatima, tenant="zaanstad")
    loaded = await repository.get(Association, association.id, tenant="haarlem")
    assert loaded.chair == Contact(subject=fatima, name=FATIMA[0], email=FATIMA[1])
    loaded.elect_chair(Contact(subject=fatima, name=FATIMA[0], email="f@example.nl"))
    await repository.save(loaded, metadata=META)  # still not forgotten: data can be sealed

    assert await keyring.forget(fatima, tenant="haarlem")
    reloaded = await repository.get(Association, association.id, tenant="haarlem")
    assert reloaded.chair == Contact.redacted(fatima)
