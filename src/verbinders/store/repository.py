"""Loads and saves `eventsourcing` aggregates through the event store."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from verbinders.errors import NotFound
from verbinders.store.aggregate_cache import AggregateCache, Loaded
from verbinders.store.aggregate_cache import CachedAggregate as Cached
from verbinders.store.events import Companion, Metadata, NewEvent
from verbinders.store.mapping import (
    decode_aggregate_state,
    decode_event,
    encode_event,
    encode_snapshot,
    event_subjects,
    personal_subjects,
    sealed_subjects,
    stream_type_of,
    topic_may_be_sealed,
)

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.eventstore import EventStore, StreamEvent
    from verbinders.store.personal import Keyring
    from verbinders.store.snapshots import SnapshotRow

__all__ = ["PendingSnapshot", "Repository"]

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)


class Repository:
    """Aggregates in, events out, and back: the application layer's only way to the store."""

    def __init__(
        self,
        store: EventStore,
        keyring: Keyring,
        *,
        snapshot_every: int = 50,
        cache: AggregateCache | None = None,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.snapshot_every = snapshot_every
        self.cache = cache
        """Commands' aggregates at their last committed version (`aggregate_cache.py`)."""

    async def get(
        self,
        cls: type[A],
        aggregate_id: UUID,
        *,
        tenant: str,
        version: int | None = None,
        as_of: datetime | None = None,
        connection: Connection | None = None,
        snapshots: list[PendingSnapshot] | None = None,
    ) -> A:
        """The aggregate now, at a version, or as it stood at a moment; `NotFound` otherwise.

        With `connection`, events appended earlier in that connection's transaction count too.
        """
        aggregate = await self.find(
            cls,
            aggregate_id,
            tenant=tenant,
            version=version,
            as_of=as_of,
            connection=connection,
            snapshots=snapshots,
        )
        if aggregate is None:
            raise NotFound(
                f"no {stream_type_of(cls)} {aggregate_id}",
                stream_type=stream_type_of(cls),
                id=str(aggregate_id),
            )
        return aggregate

    async def find(
        self,
        cls: type[A],
        aggregate_id: UUID,
        *,
        tenant: str,
        version: int | None = None,
        as_of: datetime | None = None,
        connection: Connection | None = None,
        snapshots: list[PendingSnapshot] | None = None,
    ) -> A | None:
        """As `get`, None when not found. With `connection`, everything (the snapshot, the
        events, the personal-data keys) is read on it, never on another connection.

        A snapshot due is saved at once without `connection`; with it, it is added to
        `snapshots` for the caller to save when its transaction is over (`save_snapshots`):
        saved inside a transaction, it could wait for another transaction's snapshot.
        """
        if version is None and as_of is None:
            found = await self.find_many(
                {aggregate_id: cls}, tenant=tenant, connection=connection, snapshots=snapshots
            )
            return found[aggregate_id]  # type: ignore[return-value]
        snapshot = None
        if as_of is None and self.snapshot_every:
            snapshot = await self.store.latest_snapshot(
                aggregate_id, max_version=version, connection=connection
            )
            if snapshot is not None and (
                snapshot.tenant != tenant or snapshot.stream_type != stream_type_of(cls)
            ):
                return None
        events = await self.store.read_stream(
            aggregate_id,
            after_version=snapshot.version if snapshot else 0,
            to_version=version,
            as_of=as_of,
            tenant=tenant,
            connection=connection,
        )
        if snapshot is None and not events:
            return None
        if events and events[0].stream_type != stream_type_of(cls):
            return None
        subjects = set().union(*(sealed_subjects(e.payload) for e in events))
        if snapshot is not None:
            subjects |= sealed_subjects(snapshot.state)
        keys = await self.keyring.keys_for(subjects, connection=connection) if subjects else {}
        aggregate: Aggregate | None = (
            decode_aggregate_state(snapshot, keys) if snapshot is not None else None
        )
        for row in events:
            event = decode_event(row.topic, row.stream_id, row.version, row.payload, keys)
            aggregate = event.mutate(aggregate)
        if not isinstance(aggregate, cls):
            return None
        return aggregate

    async def find_many(
        self,
        wanted: Mapping[UUID, type[Aggregate]],
        *,
        tenant: str,
        connection: Connection | None = None,
        snapshots: list[PendingSnapshot] | None = None,
        loaded: dict[UUID, Loaded] | None = None,
        unverified: dict[UUID, int] | None = None,
    ) -> dict[UUID, Aggregate | None]:
        """Several aggregates as they are now (id -> class; None for one not found), read in
        one statement and their personal-data keys in one more (when they hold any). Snapshots
        found due are handled as by `find`.

        With `loaded` (a command's, see `UnitOfWork`) and the repository's `cache`: the
        aggregates the cache holds are taken out of it and only their streams' events after
        their cached version are read (in the same statement); what was found is recorded in
        `loaded`, for `keep` to put back once the command succeeded (`aggregate_cache.py`).

        With `unverified` as well: when the cache holds every aggregate wanted, nothing is
        read; their versions go into `unverified`, which the command's append must then find
        unchanged (`Repository.save(unchanged=...)`; `StaleRead` if one moved on)."""
        taken = self._take(wanted, tenant) if loaded is not None else {}
        read: dict[UUID, tuple[SnapshotRow | None, list[StreamEvent]]]
        if unverified is not None and taken and len(taken) == len(wanted):
            read = {stream: (None, []) for stream in wanted}
            unverified.update({stream: entry.aggregate.version for stream, entry in taken.items()})
        else:
            try:
                read = await self.store.read_streams(
                    list(wanted),
                    tenant=tenant,
                    snapshots=bool(self.snapshot_every),
                    after={stream: entry.aggregate.version for stream, entry in taken.items()},
                    connection=connection,
                )
            except BaseException:
                self._put_back(taken)  # nothing was applied to them: still the committed version
                raise
        keys = await self._keys(read.values(), connection)
        found: dict[UUID, Aggregate | None] = {}
        for aggregate_id, cls in wanted.items():
            snapshot, events = read[aggregate_id]
            kind = stream_type_of(cls)
            aggregate, snapshot_version = _assemble(
                kind, snapshot, events, taken.get(aggregate_id), keys
            )
            if not isinstance(aggregate, cls):
                found[aggregate_id] = None
                continue
            found[aggregate_id] = aggregate
            due = (
                self.snapshot_every and aggregate.version - snapshot_version >= self.snapshot_every
            )
            if due and await self._snapshot_due(aggregate, tenant, keys, connection, snapshots):
                snapshot_version = aggregate.version
            if loaded is not None:
                loaded[aggregate_id] = Loaded(tenant, kind, snapshot_version)
        return found

    def _take(self, wanted: Mapping[UUID, type[Aggregate]], tenant: str) -> dict[UUID, Cached]:
        """The cache's entries for `wanted`, taken out of it (see `aggregate_cache.py`)."""
        cache = self.cache
        if cache is None or not len(cache):
            return {}
        taken: dict[UUID, Cached] = {}
        for aggregate_id, cls in wanted.items():
            entry = cache.take(aggregate_id, tenant=tenant, stream_type=stream_type_of(cls))
            if entry is not None:
                taken[aggregate_id] = entry
        return taken

    def _put_back(self, taken: Mapping[UUID, Cached]) -> None:
        if self.cache is not None:
            for entry in taken.values():
                self.cache.keep(
                    entry.aggregate, Loaded(entry.tenant, entry.stream_type, entry.snapshot_version)
                )

    async def _keys(
        self,
        read: Iterable[tuple[SnapshotRow | None, list[StreamEvent]]],
        connection: Connection | None,
    ) -> dict[UUID, bytes]:
        """The personal-data keys of what was read (none read when it seals nothing)."""
        subjects: set[UUID] = set()
        for snapshot, events in read:
            for event in events:
                if topic_may_be_sealed(event.topic):
                    subjects |= sealed_subjects(event.payload)
            if snapshot is not None:
                subjects |= sealed_subjects(snapshot.state)
        return await self.keyring.keys_for(subjects, connection=connection) if subjects else {}

    def keep(
        self,
        aggregates: Iterable[Aggregate],
        loaded: Mapping[UUID, Loaded],
        *,
        tenant: str,
        appended: Set[UUID] = frozenset(),
    ) -> None:
        """Put a command's aggregates (back) into the cache once the command succeeded: its
        append committed, if it had one (see `aggregate_cache.py`). An aggregate it did not
        load through `find_many(loaded=...)` is kept only if its events were just appended
        (`appended`): the append's version check then proved its state the stream's."""
        cache = self.cache
        if cache is None:
            return
        for aggregate in aggregates:
            found = loaded.get(aggregate.id)
            if found is None:
                if aggregate.id not in appended:
                    continue
                found = Loaded(
                    tenant=tenant, stream_type=stream_type_of(type(aggregate)), snapshot_version=0
                )
            cache.keep(aggregate, found)

    def release(self, aggregates: Iterable[Aggregate]) -> None:
        """A command failed: what it took from the cache is no longer lent (and not kept)."""
        if self.cache is not None:
            for aggregate in aggregates:
                self.cache.release(aggregate)

    def forget_subject(self, subject: UUID) -> None:
        """A person was forgotten: nothing cached may name them (see `aggregate_cache.py`)."""
        if self.cache is not None:
            self.cache.discard_subject(subject)

    async def _snapshot_due(
        self,
        aggregate: Aggregate,
        tenant: str,
        keys: dict[UUID, bytes],
        connection: Connection | None,
        snapshots: list[PendingSnapshot] | None,
    ) -> bool:
        """Take the snapshot due (at once, or for the caller to save): whether one was."""
        # Taken on load, of events committed before this load (a unit of work appends only
        # at its end), so that a transaction that later rolls back can never leave a snapshot
        # of a version that does not exist.
        if connection is None:
            return await self._snapshot(aggregate, tenant, keys)
        if snapshots is not None:
            due = self._snapshot_row(aggregate, tenant, keys)
            if due is not None:
                snapshots.append(PendingSnapshot(due))
                return True
        return False

    async def save_snapshots(
        self, pending: list[PendingSnapshot], *, connection: Connection | None = None
    ) -> None:
        """Save the snapshots `find` put aside (outside any transaction)."""
        for item in pending:
            await self.store.save_snapshot(item.row, connection=connection)
        pending.clear()

    async def save(
        self,
        *aggregates: Aggregate,
        metadata: Metadata,
        connection: Connection | None = None,
        also: Companion | None = None,
        unchanged: Mapping[UUID, int] | None = None,
    ) -> list[int]:
        """Append every aggregate's pending events in one atomic append; returns positions.

        `also`: a write that commits with the append and only if it succeeds (`Companion`).
        `unchanged`: streams used without reading them, checked by the append (see
        `EventStore.append`); those appended to are checked by their expected versions.
        """
        pending = [(aggregate, aggregate.collect_events()) for aggregate in aggregates]
        pending = [(aggregate, events) for aggregate, events in pending if events]
        if not pending:
            if also is not None:
                raise ValueError("a companion write needs events to go with")
            return []
        subjects: set[UUID] = set()
        for _, events in pending:
            for event in events:
                subjects |= event_subjects(event)
        keys = (
            await self.keyring.keys_for(
                subjects, tenant=metadata.tenant, create=True, connection=connection
            )
            if subjects
            else {}
        )
        expected: dict[UUID, int] = {}
        new_events: list[NewEvent] = []
        for aggregate, events in pending:
            stream_type = stream_type_of(type(aggregate))
            expected[aggregate.id] = events[0].originator_version - 1
            for event in events:
                topic, payload = encode_event(event, keys)
                new_events.append(
                    NewEvent(
                        stream_id=aggregate.id,
                        stream_type=stream_type,
                        version=event.originator_version,
                        topic=topic,
                        payload=payload,
                    )
                )
        return await self.store.append(
            new_events,
            expected=expected,
            metadata=metadata,
            connection=connection,
            also=also,
            unchanged=unchanged,
        )

    async def _snapshot(self, aggregate: Aggregate, tenant: str, keys: dict[UUID, bytes]) -> bool:
        row = self._snapshot_row(aggregate, tenant, keys)
        if row is None:
            return False
        await self.store.save_snapshot(row)
        return True

    def _snapshot_row(
        self, aggregate: Aggregate, tenant: str, keys: dict[UUID, bytes]
    ) -> SnapshotRow | None:
        """The aggregate's snapshot, sealed with the keys it was loaded with; None if someone
        in it was forgotten (their key is gone: no new snapshot with their data)."""
        if personal_subjects(vars(aggregate).values()) - keys.keys():
            return None
        return encode_snapshot(aggregate, tenant, keys)


def _assemble(
    kind: str,
    snapshot: SnapshotRow | None,
    events: list[StreamEvent],
    entry: Cached | None,
    keys: Mapping[UUID, bytes],
) -> tuple[Aggregate | None, int]:
    """An aggregate from what was read for its stream (and its snapshot's version): the
    cached aggregate, else the snapshot, and the events after; None for a stream that does
    not exist or is of another kind."""
    aggregate: Aggregate | None
    if entry is not None:
        aggregate, snapshot_version = entry.aggregate, entry.snapshot_version
    else:
        if snapshot is None and not events:
            return None, 0
        if (snapshot.stream_type if snapshot else events[0].stream_type) != kind:
            return None, 0
        aggregate = decode_aggregate_state(snapshot, keys) if snapshot is not None else None
        snapshot_version = snapshot.version if snapshot is not None else 0
    for stored in events:
        decoded = decode_event(stored.topic, stored.stream_id, stored.version, stored.payload, keys)
        aggregate = decoded.mutate(aggregate)
    return aggregate, snapshot_version


@dataclass(frozen=True)
class PendingSnapshot:
    """A snapshot `Repository.find` found due while reading on a caller's connection: taken
    as loaded, saved when the caller's transaction is over (`Repository.save_snapshots`)."""

    row: SnapshotRow
