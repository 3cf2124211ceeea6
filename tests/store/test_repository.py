"""Aggregates through the store: round trips, history, snapshots, tenants, personal data."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any, Self

import asyncpg
import pytest
from eventsourcing.domain import Aggregate, event

from verbinders.domain.personal import REDACTED, PersonalData
from verbinders.errors import Conflict, NotFound
from verbinders.store.events import Metadata
from verbinders.store.personal import Keyring
from verbinders.store.repository import Repository

pytestmark = pytest.mark.server

META = Metadata(tenant="haarlem", actor="tester")


class Contact(PersonalData, frozen=True, kw_only=True):
    name: str
    email: str

    @classmethod
    def redacted(cls, subject: uuid.UUID) -> Self:
        return cls(subject=subject, name=REDACTED, email=REDACTED)


class Club(Aggregate):
    STREAM_TYPE = "Club"
    name: str
    members: int
    contact: Contact | None
    tags: tuple[str, ...]

    @event("Founded")
    def __init__(self, name: str, founded: datetime) -> None:
        self.name = name
        self.members = 0
        self.contact = None
        self.tags = ()

    @event("Joined")
    def join(self, count: int) -> None:
        self.members += count

    @event("ContactSet")
    def set_contact(self, contact: Contact) -> None:
        self.contact = contact

    class Renamed(Aggregate.Event):
        class_version = 2
        name: str
        reason: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = "unknown"

        def apply(self, aggregate: Any) -> None:
            aggregate.name = self.name

    def rename(self, name: str, reason: str) -> None:
        self.trigger_event(self.Renamed, name=name, reason=reason)


def new_club(name: str = "Stichting Marokkaanse Vrouwen Schalkwijk") -> Club:
    return Club(name=name, founded=datetime(2019, 12, 1, tzinfo=UTC))


async def test_saves_and_loads_an_aggregate(repository: Repository) -> None:
    club = new_club()
    club.join(3)
    positions = await repository.save(club, metadata=META)
    assert len(positions) == 2
    loaded = await repository.get(Club, club.id, tenant="haarlem")
    assert loaded.name == club.name
    assert loaded.members == 3
    assert loaded.version == 2


async def test_loads_history_at_a_version_and_as_of_a_time(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    club = new_club()
    await repository.save(club, metadata=META)
    await asyncio.sleep(0.02)
    async with pool.acquire() as conn:
        between = await conn.fetchval("SELECT now()")
    await asyncio.sleep(0.02)
    club.join(5)
    await repository.save(club, metadata=META)
    assert (await repository.get(Club, club.id, tenant="haarlem", version=1)).members == 0
    assert (await repository.get(Club, club.id, tenant="haarlem", as_of=between)).members == 0
    assert (await repository.get(Club, club.id, tenant="haarlem")).members == 5


async def test_long_streams_load_from_a_snapshot_plus_the_tail(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    club = new_club()
    for _ in range(22):
        club.join(1)
        await repository.save(club, metadata=META)
    # Loading 23 events (more than snapshot_every=5) snapshots the committed state.
    loaded = await repository.get(Club, club.id, tenant="haarlem")
    loaded.join(2)
    loaded.join(3)
    await repository.save(loaded, metadata=META)
    async with pool.acquire() as conn:
        versions = await conn.fetch(
            "SELECT version FROM snapshots WHERE stream_id = $1 ORDER BY version", club.id
        )
    assert [r["version"] for r in versions] == [23]
    from_snapshot = await repository.get(Club, club.id, tenant="haarlem")
    replayed = await Repository(repository.store, repository.keyring, snapshot_every=0).get(
        Club, club.id, tenant="haarlem"
    )
    assert from_snapshot.version == replayed.version == 25
    assert from_snapshot.members == replayed.members == 27
    assert from_snapshot.name == replayed.name
    assert from_snapshot.modified_on == replayed.modified_on
    assert (await repository.get(Club, club.id, tenant="haarlem", version=10)).members == 9


async def test_a_rolled_back_save_leaves_no_snapshot(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    club = new_club()
    for _ in range(6):
        club.join(1)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with repository.store.transaction() as conn:
            await repository.save(club, metadata=META, connection=conn)
            raise Abort
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM snapshots") == 0
    assert await repository.find(Club, club.id, tenant="haarlem") is None


async def test_another_tenant_cannot_load_the_aggregate(repository: Repository) -> None:
    club = new_club()
    await repository.save(club, metadata=META)
    with pytest.raises(NotFound):
        await repository.get(Club, club.id, tenant="zaanstad")


async def test_old_event_versions_are_upcast_on_load(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    club = new_club()
    club.rename("SMVS", reason="shorter")
    await repository.save(club, metadata=META)
    async with pool.acquire() as conn:
        # Write a version-1 payload as an older release would have, through the store.
        from verbinders.store.events import NewEvent

        payload = b'{"timestamp":"2020-01-01T00:00:00Z","name":"SMVS 2020"}'
        await repository.store.append(
            [
                NewEvent(
                    stream_id=club.id,
                    stream_type="Club",
                    version=3,
                    topic=f"{__name__}:Club.Renamed",
                    payload=payload,
                )
            ],
            expected={club.id: 2},
            metadata=META,
            connection=conn,
        )
    loaded = await repository.get(Club, club.id, tenant="haarlem")
    assert loaded.name == "SMVS 2020"


async def test_personal_data_is_sealed_at_rest_and_forgetting_redacts_it(
    repository: Repository, keyring: Keyring, pool: asyncpg.Pool
) -> None:
    person = uuid.uuid4()
    club = new_club()
    club.set_contact(Contact(subject=person, name="Fatima El Amrani", email="fatima@example.nl"))
    for _ in range(5):
        club.join(1)
    await repository.save(club, metadata=META)
    loaded = await repository.get(Club, club.id, tenant="haarlem")  # also takes a snapshot
    assert loaded.contact is not None
    assert loaded.contact.name == "Fatima El Amrani"

    async with pool.acquire() as conn:
        raw = await conn.fetchval(
            "SELECT string_agg(payload::text, ' ') FROM events WHERE stream_id = $1", club.id
        )
        snapshots = await conn.fetchval("SELECT string_agg(state::text, ' ') FROM snapshots")
    assert "Fatima" not in raw and "fatima@example.nl" not in raw
    assert snapshots is not None and "Fatima" not in snapshots

    assert await keyring.forget(person, tenant="haarlem")
    forgotten = await repository.get(Club, club.id, tenant="haarlem")
    assert forgotten.contact == Contact.redacted(person)
    assert forgotten.members == 5
    replayed = await Repository(repository.store, keyring, snapshot_every=0).get(
        Club, club.id, tenant="haarlem"
    )
    assert replayed.contact == Contact.redacted(person)

    club = forgotten
    club.set_contact(Contact(subject=person, name="Fatima El Amrani", email="f@example.nl"))
    with pytest.raises(Conflict):
        await repository.save(club, metadata=META)
    assert not await keyring.forget(person, tenant="haarlem")
