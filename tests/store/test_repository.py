"""Aggregates through the store: round trips, history, snapshots, tenants, upcasting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from eventsourcing.domain import Aggregate, event

from tests.store.support import META, Rollback
from verbinders.errors import NotFound, StreamConflict
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.mapping import decode_event
from verbinders.store.repository import Repository

pytestmark = pytest.mark.server

FOUNDED = datetime(2019, 12, 1, tzinfo=UTC)


class Club(Aggregate):
    STREAM_TYPE = "Club"
    name: str
    founded: datetime
    members: int
    tags: tuple[str, ...]
    districts: dict[str, int]

    @event("Founded")
    def __init__(self, name: str, founded: datetime) -> None:
        self.name = name
        self.founded = founded
        self.members = 0
        self.tags = ()
        self.districts = {}

    @event("Joined")
    def join(self, count: int, district: str = "Schalkwijk") -> None:
        self.members += count
        self.districts[district] = self.districts.get(district, 0) + count

    @event("Tagged")
    def tag(self, tag: str) -> None:
        self.tags = (*self.tags, tag)

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


class Venue(Aggregate):
    STREAM_TYPE = "Venue"
    address: str

    @event("Opened")
    def __init__(self, address: str) -> None:
        self.address = address


def new_club(name: str = "Stichting Marokkaanse Vrouwen Schalkwijk") -> Club:
    return Club(name=name, founded=FOUNDED)


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


async def snapshot_versions(pool: asyncpg.Pool, stream: uuid.UUID) -> list[int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT version FROM snapshots WHERE stream_id = $1 ORDER BY version", stream
        )
    return [row["version"] for row in rows]


async def test_saves_and_loads_an_aggregate(repository: Repository) -> None:
    club = new_club()
    club.join(3, district="Centrum")
    club.tag("koken")
    positions = await repository.save(club, metadata=META)
    assert len(positions) == 3
    loaded = await repository.get(Club, club.id, tenant="haarlem")
    assert state_of(loaded) == state_of(club)
    assert loaded.founded == FOUNDED and loaded.tags == ("koken",)
    assert loaded.version == 3

    loaded.join(2)
    await repository.save(loaded, metadata=META)
    again = await repository.get(Club, club.id, tenant="haarlem")
    assert again.members == 5 and again.version == 4
    assert again.districts == {"Centrum": 3, "Schalkwijk": 2}


async def test_saves_several_aggregates_in_one_atomic_append(repository: Repository) -> None:
    club, venue = new_club(), Venue(address="Floris van Adrichemlaan 98")
    positions = await repository.save(club, venue, metadata=META)
    assert len(positions) == 2
    stale = await repository.get(Club, club.id, tenant="haarlem")
    club.join(1)
    await repository.save(club, metadata=META)

    stale.join(5)
    other = Venue(address="Spaarnepoort 1")
    with pytest.raises(StreamConflict) as caught:
        await repository.save(other, stale, metadata=META)
    assert caught.value.stream_id == club.id
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert await repository.find(Venue, other.id, tenant="haarlem") is None
    assert (await repository.get(Club, club.id, tenant="haarlem")).members == 1


async def test_loads_history_at_a_version_and_as_of_a_time(repository: Repository) -> None:
    club = new_club()
    await repository.save(club, metadata=META)
    club.join(5)
    await repository.save(club, metadata=META)
    club.join(7)
    await repository.save(club, metadata=META)
    recorded = await repository.store.read_stream(club.id)

    assert (await repository.get(Club, club.id, tenant="haarlem", version=1)).members == 0
    at_two = await repository.get(Club, club.id, tenant="haarlem", version=2)
    assert (at_two.members, at_two.version) == (5, 2)
    for row, members in zip(recorded, (0, 5, 12), strict=True):
        as_of = await repository.get(Club, club.id, tenant="haarlem", as_of=row.recorded_at)
        assert (as_of.version, as_of.members) == (row.version, members)
    before = recorded[0].recorded_at.replace(year=2000)
    assert await repository.find(Club, club.id, tenant="haarlem", as_of=before) is None
    assert (await repository.get(Club, club.id, tenant="haarlem")).members == 12


async def test_a_long_stream_loads_from_its_latest_snapshot_plus_the_tail(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    assert repository.snapshot_every == 5
    club = new_club()
    for i in range(19):
        club.join(1, district=("Noord", "Oost", "Zuid")[i % 3])
    await repository.save(club, metadata=META)
    # Loading 20 events (at least snapshot_every) snapshots the committed state at version 20.
    loaded = await repository.get(Club, club.id, tenant="haarlem")
    assert await snapshot_versions(pool, club.id) == [20]
    loaded.join(2)
    loaded.tag("dans")
    loaded.rename("SMVS", reason="shorter")
    await repository.save(loaded, metadata=META)

    from_snapshot = await repository.get(Club, club.id, tenant="haarlem")
    assert await snapshot_versions(pool, club.id) == [20]  # a tail of 3 takes no new one
    replayed = await Repository(repository.store, repository.keyring, snapshot_every=0).get(
        Club, club.id, tenant="haarlem"
    )
    assert from_snapshot.version == replayed.version == 23
    assert state_of(from_snapshot) == state_of(replayed)
    assert from_snapshot.members == 21 and from_snapshot.name == "SMVS"

    # Proof that the snapshot is used: mark it (snapshots, unlike events, can be changed).
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE snapshots SET state = jsonb_set(state, '{founded}', '\"2020-02-02T00:00:00Z\"')"
            " WHERE stream_id = $1",
            club.id,
        )
    marked = await repository.get(Club, club.id, tenant="haarlem")
    assert marked.founded == datetime(2020, 2, 2, tzinfo=UTC)
    assert (marked.version, marked.members, marked.tags) == (23, 21, ("dans",))
    at_22 = await repository.get(Club, club.id, tenant="haarlem", version=22)
    assert (at_22.founded.year, at_22.version, at_22.tags) == (2020, 22, ("dans",))
    at_10 = await repository.get(Club, club.id, tenant="haarlem", version=10)
    assert (at_10.founded, at_10.members) == (FOUNDED, 9)  # before the snapshot: a replay
    as_of = await repository.get(Club, club.id, tenant="haarlem", as_of=datetime.now(UTC))
    assert as_of.founded == FOUNDED  # as of a time: always a replay


async def test_a_rolled_back_save_leaves_no_snapshot(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    club = new_club()
    for _ in range(6):
        club.join(1)
    with pytest.raises(Rollback):
        async with repository.store.transaction() as conn:
            await repository.save(club, metadata=META, connection=conn)
            raise Rollback
    assert await snapshot_versions(pool, club.id) == []
    assert await repository.find(Club, club.id, tenant="haarlem") is None


async def test_another_tenant_cannot_load_the_aggregate(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    club = new_club()
    await repository.save(club, metadata=META)
    with pytest.raises(NotFound) as caught:
        await repository.get(Club, club.id, tenant="zaanstad")
    assert str(club.id) in str(caught.value)
    for _ in range(5):
        club.join(1)
    await repository.save(club, metadata=META)
    await repository.get(Club, club.id, tenant="haarlem")
    assert await snapshot_versions(pool, club.id) == [6]
    # Also once a snapshot exists, and also at a version or as of a time.
    assert await repository.find(Club, club.id, tenant="zaanstad") is None
    assert await repository.find(Club, club.id, tenant="zaanstad", version=6) is None
    assert await repository.find(Club, club.id, tenant="zaanstad", version=2) is None
    assert await repository.find(Club, club.id, tenant="zaanstad", as_of=datetime.now(UTC)) is None
    # Nor does an aggregate load as another type.
    assert await repository.find(Venue, club.id, tenant="haarlem") is None
    with pytest.raises(NotFound):
        await repository.get(Venue, club.id, tenant="haarlem")


async def test_old_event_versions_are_upcast_on_load(
    repository: Repository, pool: asyncpg.Pool
) -> None:
    club = new_club()
    club.rename("SMVS", reason="shorter")
    await repository.save(club, metadata=META)
    [_, renamed] = await repository.store.read_stream(club.id)
    assert renamed.payload["class_version"] == 2
    assert renamed.payload["reason"] == "shorter"

    # A version-1 payload, as an older release wrote it (no reason, no class_version).
    await repository.store.append(
        [
            NewEvent(
                stream_id=club.id,
                stream_type="Club",
                version=3,
                topic=renamed.topic,
                payload=b'{"timestamp":"2020-01-01T00:00:00Z","name":"SMVS 2020"}',
            )
        ],
        expected={club.id: 2},
        metadata=Metadata(tenant="haarlem"),
    )
    loaded = await repository.get(Club, club.id, tenant="haarlem")
    assert (loaded.name, loaded.version) == ("SMVS 2020", 3)
    old = (await repository.store.read_stream(club.id))[2]
    upcast = decode_event(old.topic, club.id, old.version, old.payload, {})
    assert isinstance(upcast, Club.Renamed)
    assert (upcast.name, upcast.reason) == ("SMVS 2020", "unknown")
