"""The unit of work: how every command runs, from HTTP, the command line, the demo, imports
and policies alike.

A command is an application service declared with `@command` (see `commands.py`); the
`Pipeline` (`pipeline.py`) runs it in a `UnitOfWork`:

1. It takes one pooled connection, waiting at most `wait` seconds (then `Unavailable`: 503
   with `Retry-After` over HTTP). Everything the command reads (aggregates, their snapshots,
   personal-data keys) goes through that connection: a unit of work never holds a
   connection while it waits for another, so a burst larger than the pool only queues.
2. A command that writes once (`@command(writes_once=True)`) runs without a transaction:
   its one append is a single statement, atomic on its own, and the version checks refuse
   it if what it read has moved on; with an idempotency key, the key's claim and answer go
   into that statement (`idempotency.py`; the pipeline falls back to the transaction below
   whenever that cannot answer by itself). Every other command runs in a transaction, which
   also claims the idempotency key.
3. The command loads aggregates through the unit (`get`, `find`; `target` for the resource
   the request's `If-Match` names, whose version it checks; `preload` for several at once, in
   one round trip) and mutates them; new aggregates join with `save`. Every event of every
   aggregate the unit holds goes out in ONE atomic append at the end, with the unit's
   metadata (actor, correlation, causation, idempotency key, reason). Appends to several
   streams lock them in one global order (see the store), so units of work never deadlock
   on each other's streams.
4. The result gets the append's last position (`position`), is presented as an `Answer`
   (stored with the idempotency key, without secrets: `for_retry`), the transaction
   commits, and snapshots found due while loading are saved outside it.
5. Once the command succeeded, its aggregates go into the repository's aggregate cache at
   their committed versions (`settle`; see `store/aggregate_cache.py`): the next command on
   the same stream reads only the events after that version. A command that fails leaves
   nothing there (what it loaded was taken out of the cache).
6. When the cache holds every aggregate a load wants, the pipeline's first attempt reads
   nothing: the aggregates are used at their cached versions, and the command's append
   checks, in its own statement, that each is still at that version (those it appends to by
   their expected versions, the others by the append's `unchanged` condition); a command that
   appends nothing, or fails with an error of its own, checks them with one statement. If
   one moved on (another process appended to it), nothing was written and the check raises
   `StaleRead`; the pipeline then runs the command once more, reading every stream from the
   store (the entries it used are out of the cache by then). So a stale cache costs a retry,
   never a wrong answer, and in the common case a command on cached aggregates is one
   statement: its append.
"""

from __future__ import annotations

import inspect
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

import msgspec
from eventsourcing.domain import Aggregate

from verbinders.application.idempotency import Answer, Idempotency
from verbinders.errors import (
    PreconditionFailed,
    StreamConflict,
    VerbindersError,
)
from verbinders.store.events import Companion, Metadata

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from verbinders.application.context import Actor
    from verbinders.database import Connection
    from verbinders.store.aggregate_cache import Loaded
    from verbinders.store.repository import PendingSnapshot, Repository

__all__ = ["Answer", "CommandRequest", "Outcome", "UnitOfWork"]

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
P = ParamSpec("P")

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, kw_only=True)
class CommandRequest:
    """Everything about one command that is not its arguments."""

    actor: Actor
    correlation_id: str | None = None
    """Ties the events of one request (or one story) together; generated when absent."""
    causation_id: str | None = None
    """What caused the command: for a policy, the position of the event it reacted to."""
    idempotency: Idempotency | None = None
    expected_version: frozenset[int] | None = None
    """Versions the target may be at (from `If-Match`); None: any."""
    clock: datetime | None = None
    """The moment the command happens, when it is not now (loading history)."""
    present: Callable[[Any], Answer] | None = None
    """How a result becomes an answer (HTTP: status and headers); default: its JSON."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What running a command gave: its result, its answer, its position, and whether it
    was a replay of an earlier run with the same idempotency key (then nothing ran)."""

    result: T
    answer: Answer
    position: int
    replayed: bool = False


class UnitOfWork:
    """One command's connection, the aggregates it holds, and what its events will carry."""

    def __init__(
        self,
        repository: Repository,
        connection: Connection,
        request: CommandRequest,
        *,
        in_transaction: bool,
        trust_cache: bool = False,
    ) -> None:
        self.repository = repository
        self.request = request
        self.actor = request.actor
        self.correlation_id = request.correlation_id or str(uuid.uuid4())
        self._connection = connection
        self._in_transaction = in_transaction
        self._now = request.clock or datetime.now(UTC)
        self._held: dict[uuid.UUID, Aggregate] = {}
        self._absent: set[uuid.UUID] = set()
        self._reason: str | None = None
        self._on_conflict: dict[
            uuid.UUID, Callable[[], VerbindersError | Awaitable[VerbindersError]]
        ] = {}
        self._snapshots: list[PendingSnapshot] = []
        self._loaded: dict[uuid.UUID, Loaded] = {}
        self._appended: frozenset[uuid.UUID] = frozenset()
        self._unverified: dict[uuid.UUID, int] | None = {} if trust_cache else None
        """Streams taken from the aggregate cache without a read, at their versions: the
        append checks them (see step 6 of the module's notes)."""

    @property
    def tenant(self) -> str:
        return self.actor.tenant

    def now(self) -> datetime:
        """The command's moment (one for the whole command): now, or the request's clock."""
        return self._now

    @property
    def connection(self) -> Connection:
        """The command's transaction, for writes beside its events (declared commands only:
        a command that writes once has none)."""
        if not self._in_transaction:
            raise RuntimeError("this command writes once and runs without a transaction")
        return self._connection

    # -- loading ---------------------------------------------------------------------------

    async def preload(self, *wanted: tuple[type[Aggregate], uuid.UUID]) -> None:
        """Load the aggregates a command will need in one round trip (`get`, `find` and
        `target` then find them held). Those held already are not read again."""
        missing = {
            aggregate_id: cls
            for cls, aggregate_id in wanted
            if aggregate_id not in self._held and aggregate_id not in self._absent
        }
        if not missing:
            return
        found = await self.repository.find_many(
            missing,
            tenant=self.tenant,
            connection=self._connection,
            snapshots=self._snapshots,
            loaded=self._loaded,
            unverified=self._unverified,
        )
        for aggregate_id, aggregate in found.items():
            if aggregate is None:
                self._absent.add(aggregate_id)
            else:
                self._held[aggregate_id] = aggregate

    async def find(self, cls: type[A], aggregate_id: uuid.UUID) -> A | None:
        """The aggregate in the actor's tenant, or None; loaded once per unit."""
        if aggregate_id not in self._held and aggregate_id not in self._absent:
            await self.preload((cls, aggregate_id))
        held = self._held.get(aggregate_id)
        return held if isinstance(held, cls) else None

    async def get(self, cls: type[A], aggregate_id: uuid.UUID) -> A:
        """As `find`, `NotFound` when absent."""
        aggregate = await self.find(cls, aggregate_id)
        if aggregate is None:
            from verbinders.errors import NotFound
            from verbinders.store.mapping import stream_type_of

            kind = stream_type_of(cls)
            raise NotFound(f"no {kind} {aggregate_id}", stream_type=kind, id=str(aggregate_id))
        return aggregate

    async def target(self, cls: type[A], aggregate_id: uuid.UUID) -> A:
        """The resource the command is about: loaded, and its version checked against the
        request's expected version (`If-Match`; 412 when it is elsewhere)."""
        aggregate = await self.get(cls, aggregate_id)
        self.expect(aggregate.version)
        return aggregate

    async def target_or_none(self, cls: type[A], aggregate_id: uuid.UUID) -> A | None:
        """As `target` for a resource that may not exist yet (its version is then 0)."""
        aggregate = await self.find(cls, aggregate_id)
        self.expect(aggregate.version if aggregate is not None else 0)
        return aggregate

    def expect(self, version: int) -> None:
        """Check the target's version against the request's expected version."""
        expected = self.request.expected_version
        if expected is not None and version not in expected:
            wanted = ", ".join(f'"{v}"' for v in sorted(expected)) or "another version"
            raise PreconditionFailed(
                f"the resource is at version {version}, not {wanted}", current_version=version
            )

    # -- saving ----------------------------------------------------------------------------

    def save(
        self,
        *aggregates: Aggregate,
        reason: str | None = None,
        on_conflict: Callable[[], VerbindersError | Awaitable[VerbindersError]] | None = None,
    ) -> None:
        """Add new aggregates to the unit (loaded ones are in it already) and give the reason
        its events record. Nothing is written before the command ends.

        `on_conflict` makes the error to raise instead of `StreamConflict` if one of these
        streams moved on before the append (a name just taken, an id that exists); it may be
        a coroutine function, which can read what the winner wrote (`reload`) to say who won.
        """
        for aggregate in aggregates:
            self._held.setdefault(aggregate.id, aggregate)
            self._absent.discard(aggregate.id)
            if on_conflict is not None:
                self._on_conflict[aggregate.id] = on_conflict
        if reason:
            self._reason = reason

    async def translate(self, error: StreamConflict) -> VerbindersError | None:
        """What `save(..., on_conflict=...)` asked to raise for this conflict, if anything
        (called once the command's transaction, if any, has rolled back)."""
        stream = error.stream_id
        translate = self._on_conflict.get(stream) if isinstance(stream, uuid.UUID) else None
        if translate is None:
            return None
        made = translate()
        return await made if inspect.isawaitable(made) else made

    async def reload(self, cls: type[A], aggregate_id: uuid.UUID) -> A | None:
        """The aggregate as committed now, read again on the unit's connection (not the one
        the unit holds): after a conflict, what the winner wrote."""
        found = await self.repository.find_many(
            {aggregate_id: cls}, tenant=self.tenant, connection=self._connection
        )
        aggregate = found[aggregate_id]
        return aggregate if isinstance(aggregate, cls) else None

    @property
    def pending(self) -> bool:
        """Whether an aggregate the unit holds has events to append."""
        return any(aggregate._pending_events for aggregate in self._held.values())

    async def flush(self, *, also: Companion | None = None) -> int:
        """Append the pending events of every aggregate held, in one atomic append; returns
        the last position (0 when there was nothing to append). The pipeline calls it once,
        when the command has returned; `also` goes into the append's statement (the
        idempotency claim of a command that writes once)."""
        self._appended = frozenset(a.id for a in self._held.values() if a._pending_events)
        unverified = self._unverified
        positions = await self.repository.save(
            *self._held.values(),
            metadata=self.metadata(),
            connection=self._connection,
            unchanged=unverified,
            also=also,
        )
        if not positions and unverified:
            # Nothing appended: what the command answers still rests on the cached state.
            await self.check_unverified()
        return positions[-1] if positions else 0

    @property
    def unverified(self) -> frozenset[uuid.UUID]:
        """The streams this unit took from the aggregate cache without reading them."""
        return frozenset(self._unverified or ())

    async def check_unverified(self) -> None:
        """`StaleRead` if a stream taken from the cache without a read has moved on (one
        statement; none when there is no such stream)."""
        if self._unverified:
            await self.repository.store.check_unchanged(
                self._unverified, connection=self._connection
            )

    def metadata(self) -> Metadata:
        actor = self.actor
        return Metadata(
            tenant=actor.tenant,
            actor=actor.name,
            roles=actor.roles,
            token_id=str(actor.token_id) if actor.token_id else None,
            correlation_id=self.correlation_id,
            causation_id=self.request.causation_id,
            idempotency_key=self.request.idempotency.key if self.request.idempotency else None,
            reason=self._reason,
        )

    async def save_snapshots(self) -> None:
        """Save the snapshots found due while loading (the pipeline, after the transaction)."""
        if self._snapshots:
            await self.repository.save_snapshots(self._snapshots, connection=self._connection)

    def release(self) -> None:
        """The command failed: what it took from the aggregate cache is given up."""
        if self._held:
            self.repository.release(self._held.values())

    def settle(self) -> None:
        """The command succeeded and its append, if any, committed: its aggregates go (back)
        into the repository's cache at their versions (see `store/aggregate_cache.py`)."""
        if self._held:
            self.repository.keep(
                self._held.values(), self._loaded, tenant=self.tenant, appended=self._appended
            )
