"""The last committed version of recently used aggregates, kept in the process.

A command loads the aggregates it needs, changes one and appends its events. Without this
cache, every load decodes and applies the stream's events since its last snapshot (up to
`snapshot_every` of them). With it, `Repository.find_many(..., cache=...)` takes a stream's
entry (the aggregate and its version) out of the cache and reads, in the same statement as
the streams it does not hold, only the events after that version: the aggregate comes back
exactly as committed now, never stale, whoever appended since (another process, another
runtime). The append's expected-version check stays the guard against a race between the
read and the append, as without the cache.

The rules that keep it right:

- An entry is *taken*, not shared: while a command holds an aggregate, the cache holds nothing
  for its stream, so a command that changes an aggregate and then fails never leaves a changed
  object behind. The cache remembers what it lent: a second command on the same stream at the
  same time gets a *copy* of the lent aggregate (its state encoded and decoded as a snapshot's,
  ~0.1-0.2 ms), but only while the lent one is unchanged (no pending events, still at the
  version it was lent at, so at a committed version); otherwise it loads the stream from the
  store as before. Two commands that both change the stream still meet at the append, where
  one is refused by the version check. (Without the copy, commands that only read a stream
  another command holds, such as every profile update reading the platform, all read it
  from the store under load.) A command that fails gives back what it took (`release`).
- An aggregate goes (back) in only after its command succeeded: its append committed (the
  autocommit statement returned, or the transaction's COMMIT did), so its version is one that
  exists in the store. A load inside a transaction never fills the cache by itself.
- An aggregate that holds personal data (a `PersonalData` value anywhere in its state) is
  never kept: no decrypted personal value outlives the command that read it, so forgetting a
  person needs nothing from the cache. `discard_subject` drops entries naming a subject all
  the same (defence in depth, for an aggregate whose state would hide one).
- Bounded: at most `max_entries`, the least recently kept dropped first.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verbinders.store.mapping import aggregate_subjects, copy_aggregate

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.domain import Aggregate

__all__ = ["AggregateCache", "CachedAggregate", "Loaded"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class CachedAggregate:
    """One stream's aggregate at its last committed version known here."""

    tenant: str
    stream_type: str
    aggregate: Aggregate
    snapshot_version: int
    """The version of the stream's latest snapshot known (0: none): a snapshot is due when
    the aggregate is `snapshot_every` versions past it."""


@dataclass(slots=True)
class Loaded:
    """What a command took (or read) for a stream: the aggregate and its stream's snapshot
    version, to go (back) into the cache when the command succeeded."""

    tenant: str
    stream_type: str
    snapshot_version: int


class AggregateCache:
    """Aggregates by stream id (see the module's notes). Not thread-safe: one event loop."""

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("an aggregate cache holds at least one entry")
        self.max_entries = max_entries
        self._entries: OrderedDict[UUID, CachedAggregate] = OrderedDict()
        self._lent: OrderedDict[UUID, tuple[CachedAggregate, int]] = OrderedDict()
        """Entries taken by commands still running, with the version each was lent at."""
        self.hits = 0
        self.copies = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, stream_id: object) -> bool:
        return stream_id in self._entries

    def take(self, stream_id: UUID, *, tenant: str, stream_type: str) -> CachedAggregate | None:
        """The entry for `stream_id`, removed from the cache, if it is of `tenant` and
        `stream_type` (else None, and the entry stays); while it is lent to another command,
        a copy of it if that one is unchanged (see the module's notes)."""
        entry = self._entries.get(stream_id)
        if entry is None:
            return self._copy_lent(stream_id, tenant, stream_type)
        if entry.tenant != tenant or entry.stream_type != stream_type:
            self.misses += 1
            return None
        del self._entries[stream_id]
        self._lent[stream_id] = (entry, entry.aggregate.version)
        self._lent.move_to_end(stream_id)
        while len(self._lent) > self.max_entries:
            self._lent.popitem(last=False)
        self.hits += 1
        return entry

    def _copy_lent(self, stream_id: UUID, tenant: str, stream_type: str) -> CachedAggregate | None:
        lent = self._lent.get(stream_id)
        if lent is None:
            self.misses += 1
            return None
        entry, version = lent
        aggregate = entry.aggregate
        if (
            entry.tenant != tenant
            or entry.stream_type != stream_type
            or aggregate._pending_events
            or aggregate.version != version
        ):
            self.misses += 1
            return None
        try:
            copy = copy_aggregate(aggregate)  # it holds no personal data (see `keep`)
        except Exception:  # a state a snapshot cannot hold: read it from the store instead
            log.warning("no copy of a lent %s aggregate", stream_type, exc_info=True)
            self.misses += 1
            return None
        self.copies += 1
        return CachedAggregate(
            tenant=tenant,
            stream_type=stream_type,
            aggregate=copy,
            snapshot_version=entry.snapshot_version,
        )

    def release(self, aggregate: Aggregate) -> None:
        """A command that took `aggregate` ended without keeping it (it failed)."""
        lent = self._lent.get(aggregate.id)
        if lent is not None and lent[0].aggregate is aggregate:
            del self._lent[aggregate.id]

    def keep(self, aggregate: Aggregate, loaded: Loaded) -> bool:
        """Put `aggregate` in, at its version, once its command succeeded (see the module's
        notes); the cache owns it from now on. False when it is not kept (events still
        pending, or personal data in its state)."""
        self.release(aggregate)
        if aggregate._pending_events or aggregate_subjects(aggregate):
            self._entries.pop(aggregate.id, None)
            return False
        held = self._entries.get(aggregate.id)
        if held is not None and held.aggregate.version > aggregate.version:
            return False  # a copy's command ended after the original's, which moved it on
        self._entries[aggregate.id] = CachedAggregate(
            tenant=loaded.tenant,
            stream_type=loaded.stream_type,
            aggregate=aggregate,
            snapshot_version=loaded.snapshot_version,
        )
        self._entries.move_to_end(aggregate.id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True

    def discard(self, stream_id: UUID) -> None:
        self._entries.pop(stream_id, None)
        self._lent.pop(stream_id, None)

    def discard_subject(self, subject: UUID) -> int:
        """Drop every entry whose state names `subject` (a person forgotten); returns how many."""
        gone = [
            stream_id
            for stream_id, entry in self._entries.items()
            if subject in aggregate_subjects(entry.aggregate)
        ]
        for stream_id in gone:
            del self._entries[stream_id]
        for stream_id, (entry, _) in list(self._lent.items()):
            if subject in aggregate_subjects(entry.aggregate):
                del self._lent[stream_id]
        return len(gone)

    def clear(self) -> None:
        self._entries.clear()
        self._lent.clear()
