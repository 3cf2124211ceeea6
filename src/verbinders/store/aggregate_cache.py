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
  for its stream (a second command on the same stream at the same time loads it from the
  store as before, and one of the two appends is refused by the version check). So a command
  that changes an aggregate and then fails never leaves a changed object behind.
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

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verbinders.store.mapping import aggregate_subjects

if TYPE_CHECKING:
    from uuid import UUID

    from eventsourcing.domain import Aggregate

__all__ = ["AggregateCache", "CachedAggregate", "Loaded"]


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
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, stream_id: object) -> bool:
        return stream_id in self._entries

    def take(self, stream_id: UUID, *, tenant: str, stream_type: str) -> CachedAggregate | None:
        """The entry for `stream_id`, removed from the cache, if it is of `tenant` and
        `stream_type` (else None, and the entry stays)."""
        entry = self._entries.get(stream_id)
        if entry is None or entry.tenant != tenant or entry.stream_type != stream_type:
            self.misses += 1
            return None
        del self._entries[stream_id]
        self.hits += 1
        return entry

    def keep(self, aggregate: Aggregate, loaded: Loaded) -> bool:
        """Put `aggregate` in, at its version, once its command succeeded (see the module's
        notes); the cache owns it from now on. False when it is not kept (events still
        pending, or personal data in its state)."""
        if aggregate._pending_events or aggregate_subjects(aggregate):
            self._entries.pop(aggregate.id, None)
            return False
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

    def discard_subject(self, subject: UUID) -> int:
        """Drop every entry whose state names `subject` (a person forgotten); returns how many."""
        gone = [
            stream_id
            for stream_id, entry in self._entries.items()
            if subject in aggregate_subjects(entry.aggregate)
        ]
        for stream_id in gone:
            del self._entries[stream_id]
        return len(gone)

    def clear(self) -> None:
        self._entries.clear()
