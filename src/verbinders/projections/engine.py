"""The projection engine: read models fed from the global feed, exactly once.

A projection declares its name, a code `version`, the event topics it reads and the tables it
owns. Its tables live in a schema of their own per *generation* (`proj_<name>_<n>`); readers
query views in the schema `<name>`, which point at the active generation. The engine:

- feeds each generation the feed in order and writes its rows **and its checkpoint in one
  transaction**, so a crash at any point neither loses nor double-applies an event;
- lets exactly one process work on a generation at a time (a session advisory lock held on the
  worker's own connection: if the process dies, the lock goes with it);
- when a projection's code version changes, builds the new generation beside the old one, which
  keeps serving, and swaps the views over once the new one has caught up;
- builds generations that stop at a position (`replay --until`), for history as it stood.

Reading the feed against one horizon
------------------------------------
A batch is read as "events after the checkpoint, up to the horizon H", and when fewer than a
batch come back the checkpoint moves to H itself (so that a projection reading few topics does
not lag behind events it does not read). That is only right if the rows were read *below that
same H*: the horizon is not monotonic (an append that read the sequence's last value L takes
its lock on L an instant later, and may pull the horizon back below positions others have
already committed), so reading with `EventStore.read_feed`, which fixes a horizon of its own,
could return fewer events than H covers and the checkpoint would pass events never applied.
`step` therefore fixes H once and reads with a statement that starts after it, so it sees every
transaction that had finished when H was computed: both inside one call of the function
`projection_batch` (a volatile PL/pgSQL function, whose every statement takes a new snapshot),
which also reads the checkpoint, so that a batch costs one round trip to read. The checkpoint
moves with the COMMIT, in the same round trip, through `move_checkpoint`, which fails unless
the checkpoint is still where the leader read it. A batch is thus four round trips: read,
BEGIN, the projection's statement(s), checkpoint and COMMIT; a step with nothing of the
projection's topics, one: `projection_batch` then moves the checkpoint to H itself, under the
same condition as `move_checkpoint`.

The in-process runner does not have each read model read the horizon (pg_locks) for each
batch: the process's read models and policies share one read (`SharedHorizon`, at most
20 ms old, or joined while under way) and pass it to `projection_batch`. A horizon read in an
earlier statement is as right as one read inside the function: the events are still read in
a later statement, whose snapshot sees every transaction finished when H was read. Nor does
each read the events: a leader that knows where it left its checkpoint takes its batch from
the process's shared stretch of the feed (`feed.py`), read once for all of them by the same
rule, and moves its checkpoint with the same condition; an idle move then goes with the other
idle readers' in one statement.

Durability
----------
A projection's transactions commit without waiting for their WAL to reach the disk
(`synchronous_commit = off` on the worker's connection): its rows and its checkpoint are
derived from events that were durable before it could read them, and PostgreSQL loses only a
suffix of such commits in a crash, each one whole. After a crash a read model is as it was a
moment earlier, rows and checkpoint together, and its worker applies the lost batches again.
The appends keep their durable commits; the read models stop competing with them for the
disk's flushes.

Leadership and generations
--------------------------
Each runner picks the generation its code should feed (`_target_generation`, under a lock so
that workers starting together agree on one new generation), then takes that generation's
session lock; the others stand by and retry every `standby_interval`. The checkpoint update is
conditional on the position the leader read, so even a leader that lost its lock without
noticing cannot apply a batch twice. A worker whose code is older than the active generation
stands by rather than rebuild its old version over the new one (a rolling deploy). A failure in
one projection (a lost connection, a bug, a generation swapped by a replay) is logged and the
projection retried, with a growing delay; the other projections keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import asyncpg
import msgspec

from verbinders.database import init_connection
from verbinders.projections.faults import (
    ProjectionFault,
    forget,
    is_fault,
    load_quarantine,
    quarantined,
    record_fault,
)
from verbinders.projections.schema import MIGRATIONS
from verbinders.store.events import RecordedEvent
from verbinders.store.eventstore import row_to_event
from verbinders.store.mapping import topic_of, upcast_payload
from verbinders.store.schema import LOCK_NAMESPACE_PROJECTIONS

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.projections.feed import SharedFeed

__all__ = [
    "MIGRATIONS",
    "Generation",
    "Projection",
    "analyze_grown_tables",
    "build_generation",
    "replay",
    "wait_for_projection",
]

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


CHECKPOINT_MOVED = "VB001"
"""SQLSTATE of `move_checkpoint` when the checkpoint is not where its leader left it."""

CURRENT_SCHEMA: contextvars.ContextVar[str] = contextvars.ContextVar("projection_schema")
"""The schema of the generation a batch is written to (set by `step` around a batch)."""


class Projection(ABC):
    """A read model. Subclasses set the class attributes and write `ddl` and the handlers.

    `events` names what the projection reads by event class ({class: method name}); its
    `topics` follow from them. The events come as stored, their payloads brought up to their
    class's current `class_version` by the same upcasters aggregates use (`upcast_payload`).
    """

    name: ClassVar[str]
    """Lower-case identifier; readers query the views in the schema of this name."""
    version: ClassVar[int] = 1
    """Bump when the tables or the handling change: the projection is rebuilt beside."""
    events: ClassVar[Mapping[type, str]] = {}
    """{event class: name of the method handling it}; sets `topics` and `dispatch`."""
    topics: ClassVar[tuple[str, ...] | None] = None
    """Event topics handled (None: every event); derived from `events` when those are given."""
    dispatch: ClassVar[dict[str, str]] = {}
    """{topic: method name}, from `events`."""
    tables: ClassVar[tuple[str, ...]] = ()
    """Tables exposed to readers through views."""
    reads_payload: ClassVar[bool] = True
    reads_metadata: ClassVar[bool] = True
    """False: the events come with an empty payload (metadata), neither read nor decoded."""
    unread: ClassVar[tuple[type, ...]] = ()
    """Event classes (among `events`) whose events come with an empty payload and metadata
    whatever `reads_payload` says: the projection reads what it needs of them in SQL, from
    `events` by position, without sending them through Python (e.g. meetings' attendance)."""
    unread_topics: ClassVar[tuple[str, ...]] = ()
    """Their topics, from `unread`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.events:
            cls.dispatch = {topic_of(c): method for c, method in cls.events.items()}
            cls.topics = tuple(cls.dispatch)
        if cls.unread:
            cls.unread_topics = tuple(topic_of(c) for c in cls.unread)
            if not set(cls.unread_topics) <= set(cls.dispatch):
                raise TypeError(f"{cls.__name__}.unread names events it does not read")

    @abstractmethod
    def ddl(self) -> str:
        """Statements creating the tables, unqualified: they run in the generation's schema."""

    def indexes(self) -> str:
        """Secondary indexes: created with the tables for a new, empty read model, and after
        the bulk load of a rebuild (before it is swapped in). Unqualified, as `ddl`."""
        return ""

    def index_statements(self) -> list[str]:
        """`indexes` one statement each, in an order any of which may run first (a rebuild
        builds them on two connections at once). Default: `indexes` as one statement."""
        text = self.indexes()
        return [text] if text.strip() else []

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Apply a batch inside the projection's transaction (search_path = its schema)."""
        for event in events:
            await self.handle(conn, event)

    async def handle(self, conn: Connection, event: RecordedEvent) -> None:
        """Apply one event: by default the method `dispatch` names for its topic."""
        method = self.dispatch.get(event.topic)
        if method is not None:
            await getattr(self, method)(conn, event)


class Generation(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    generation: int
    version: int
    schema_name: str
    state: str
    until_position: int | None = None
    tenant: str | None = None


class LostLeadership(Exception):
    """Another process moved this generation's checkpoint: stop and re-elect."""


def _row_to_generation(row: asyncpg.Record) -> Generation:
    return Generation(
        name=row["name"],
        generation=row["generation"],
        version=row["version"],
        schema_name=row["schema_name"],
        state=row["state"],
        until_position=row["until_position"],
        tenant=row["tenant"],
    )


_GENERATION_COLUMNS = "name, generation, version, schema_name, state, until_position, tenant"


async def active_generation(conn: Connection, name: str) -> Generation | None:
    row = await conn.fetchrow(
        f"SELECT {_GENERATION_COLUMNS} FROM projection_generations"
        " WHERE name = $1 AND state = 'active'",
        name,
    )
    return _row_to_generation(row) if row else None


async def _lock_generations(conn: Connection, name: str) -> None:
    """Serialise changes to `name`'s generations (creating, choosing, swapping) until commit."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        LOCK_NAMESPACE_PROJECTIONS,
        "create:" + name,
    )


async def create_generation(
    conn: Connection,
    projection: Projection,
    *,
    state: str,
    until_position: int | None = None,
    tenant: str | None = None,
) -> Generation:
    """A new, empty generation: its schema, tables and checkpoint at 0."""
    if not _NAME.match(projection.name):
        raise ValueError(f"projection name {projection.name!r} is not a lower-case identifier")
    async with conn.transaction():
        await _lock_generations(conn, projection.name)
        number = await conn.fetchval(
            "SELECT coalesce(max(generation), 0) + 1 FROM projection_generations WHERE name = $1",
            projection.name,
        )
        schema = f"proj_{projection.name}_{number}"
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(f'SET LOCAL search_path = "{schema}", public')
        await conn.execute(projection.ddl())
        # An empty read model that serves at once gets its indexes now; one that is built
        # beside (a rebuild) after its bulk load (`ensure_indexes`).
        indexed = state == "active" or not projection.indexes()
        if state == "active" and projection.indexes():
            await conn.execute(projection.indexes())
        await conn.execute("RESET search_path")
        await conn.execute(
            "INSERT INTO projection_generations"
            " (name, generation, version, schema_name, state, until_position, tenant,"
            "  activated_at, indexed)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7,"
            "         CASE WHEN $5 = 'active' THEN now() END, $8)",
            projection.name,
            number,
            projection.version,
            schema,
            state,
            until_position,
            tenant,
            indexed,
        )
        await conn.execute(
            "INSERT INTO checkpoints (name, position) VALUES ($1, 0)"
            " ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()",
            schema,
        )
        if state == "active":
            await _point_views(conn, projection, schema)
    return Generation(
        name=projection.name,
        generation=number,
        version=projection.version,
        schema_name=schema,
        state=state,
        until_position=until_position,
        tenant=tenant,
    )


async def _point_views(conn: Connection, projection: Projection, schema: str) -> None:
    await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{projection.name}"')
    for table in projection.tables:
        await conn.execute(f'DROP VIEW IF EXISTS "{projection.name}"."{table}"')
        await conn.execute(
            f'CREATE VIEW "{projection.name}"."{table}" AS SELECT * FROM "{schema}"."{table}"'
        )


async def _unindexed(conn: Connection, generation: Generation) -> bool:
    """Whether the generation's bulk load went without its secondary indexes, still missing."""
    indexed = await conn.fetchval(
        "SELECT indexed FROM projection_generations WHERE name = $1 AND generation = $2",
        generation.name,
        generation.generation,
    )
    return indexed is not None and not indexed


async def ensure_indexes(conn: Connection, projection: Projection, generation: Generation) -> None:
    """Create the generation's secondary indexes if its bulk load went without them."""
    if not await _unindexed(conn, generation):
        return
    async with conn.transaction():
        await conn.execute(f'SET LOCAL search_path = "{generation.schema_name}", public')
        await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        await conn.execute(projection.indexes())
        await conn.execute(
            "UPDATE projection_generations SET indexed = true WHERE name = $1 AND generation = $2",
            generation.name,
            generation.generation,
        )
    for table in projection.tables:  # the planner's statistics after the bulk load
        await conn.execute(f'ANALYZE "{generation.schema_name}"."{table}"')


async def ensure_indexes_beside(
    conn: Connection, helper: Connection, projection: Projection, generation: Generation
) -> None:
    """`ensure_indexes` on two connections at once (`conn` and `helper`, both outside a
    transaction): the index statements shared between them, each in a transaction of its
    own, then the tables' ANALYZE likewise; only then is the generation marked indexed. A
    build interrupted half-way leaves it unmarked (`replay` drops such a generation; the
    statements, `IF NOT EXISTS`, could run again). The server builds two indexes at a time,
    where `ensure_indexes` builds one after the other."""
    if not await _unindexed(conn, generation):
        return
    schema = generation.schema_name
    prefix = f'BEGIN; SET LOCAL search_path = "{schema}", public;'
    indexes = [
        f"{prefix} SET LOCAL maintenance_work_mem = '256MB'; {statement}; COMMIT"
        for statement in projection.index_statements()
    ]
    analyses = [f'ANALYZE "{schema}"."{table}"' for table in projection.tables]

    async def work(on: Connection, queue: list[str]) -> None:
        while queue:
            statement = queue.pop(0)
            try:
                await on.execute(statement)
            except BaseException:
                await _rollback(on)
                raise

    for queue in (indexes, analyses):
        tasks = [asyncio.ensure_future(work(on, queue)) for on in (conn, helper)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # the other connection's statement too, before anyone goes on
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    await conn.execute(
        "UPDATE projection_generations SET indexed = true WHERE name = $1 AND generation = $2",
        generation.name,
        generation.generation,
    )


ANALYZE_MIN_CHANGES = 500
"""Rows changed (inserted, updated, deleted) in a read model's table since its last analyze
before `analyze_grown_tables` analyses it..."""
ANALYZE_GROWTH = 0.2
"""...and that share of the rows it had at its last analyze (any number if it never had one)."""


async def analyze_grown_tables(conn: Connection, generation: Generation) -> list[str]:
    """ANALYZE the tables of `generation` that changed a lot since their last analyze.

    A read model filled event by event has no planner statistics until autovacuum analyses it
    (a minute or more after large growth, never with autovacuum off), and its readers' plans
    meanwhile assume near-empty tables. The runner calls this every few seconds while it writes
    (`ProjectionRunner.analyze_interval`): one look at `pg_stat_user_tables`, and an ANALYZE
    (a sample of each table, in a transaction of its own) of the tables with at least
    `ANALYZE_MIN_CHANGES` rows changed since their last analyze and `ANALYZE_GROWTH` of their
    size then. `conn` must be outside a transaction. Never fails: an error (a lock not granted
    within 0.5 s, because autovacuum analyses the table already; a schema dropped by a replay)
    is logged and the tables are looked at again next time. Returns the tables analysed.
    """
    schema = generation.schema_name
    try:
        if conn.get_server_version().major >= 15:
            # This connection's own counts reach the shared statistics only now and then.
            await conn.execute("SELECT pg_stat_force_next_flush()")
        rows = await conn.fetch(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.schemaname = $1 AND s.n_mod_since_analyze >= $2"
            " AND s.n_mod_since_analyze >= $3 * greatest(c.reltuples, 0)"
            " ORDER BY s.relname",
            schema,
            ANALYZE_MIN_CHANGES,
            ANALYZE_GROWTH,
        )
        tables = [str(row["relname"]) for row in rows]
        if not tables:
            return []
        names = ", ".join(_quoted(schema) + "." + _quoted(table) for table in tables)
        started = time.monotonic()
        await conn.execute(
            "BEGIN; SET LOCAL lock_timeout = '500ms'; SET LOCAL statement_timeout = '60s';"
            f" ANALYZE {names}; COMMIT"
        )
    except asyncpg.PostgresError as error:
        await _rollback(conn)
        log.warning("projection %s: no ANALYZE of %s (%s)", generation.name, schema, error)
        return []
    log.info(
        "projection %s: analysed %s in %s (%.0f ms)",
        generation.name,
        ", ".join(tables),
        schema,
        (time.monotonic() - started) * 1000,
    )
    return tables


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def activate(conn: Connection, projection: Projection, generation: Generation) -> None:
    """Swap the readers' views over to `generation` and retire (drop) the one before.

    Refuses (`LostLeadership`) to replace a newer version than its own: old code, still
    running somewhere during a deploy, must not swap its read model in over the new one.
    """
    async with conn.transaction():
        # Under the lock that `_target_generation` decides under: a worker choosing what to
        # feed sees the generations either before this swap or after it, never half of each
        # (which could make it build yet another generation of this version).
        await _lock_generations(conn, projection.name)
        old = await active_generation(conn, projection.name)
        if old is not None and old.version > generation.version:
            raise LostLeadership(
                f"version {old.version} of {projection.name} is active; not swapping version"
                f" {generation.version} in over it"
            )
        if old is not None:
            await conn.execute(
                "UPDATE projection_generations SET state = 'retired'"
                " WHERE name = $1 AND generation = $2",
                old.name,
                old.generation,
            )
        await conn.execute(
            "UPDATE projection_generations SET state = 'active', activated_at = now()"
            " WHERE name = $1 AND generation = $2",
            generation.name,
            generation.generation,
        )
        await _point_views(conn, projection, generation.schema_name)
        if old is not None:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{old.schema_name}" CASCADE')
            await conn.execute("DELETE FROM checkpoints WHERE name = $1", old.schema_name)
            await conn.execute(
                "DELETE FROM projection_faults WHERE schema_name = $1", old.schema_name
            )
            forget(old.schema_name)
    log.info("projection %s: generation %s is now active", projection.name, generation.generation)


async def discard_generation(conn: Connection, generation: Generation) -> None:
    """Drop a generation that will not be used (never the active one)."""
    async with conn.transaction():
        deleted = await conn.execute(
            "DELETE FROM projection_generations"
            " WHERE name = $1 AND generation = $2 AND state <> 'active'",
            generation.name,
            generation.generation,
        )
        if deleted == "DELETE 1":
            await conn.execute(f'DROP SCHEMA IF EXISTS "{generation.schema_name}" CASCADE')
            await conn.execute("DELETE FROM checkpoints WHERE name = $1", generation.schema_name)
            await conn.execute(
                "DELETE FROM projection_faults WHERE schema_name = $1", generation.schema_name
            )
            forget(generation.schema_name)


async def read_batch(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    batch_size: int,
    horizon: int | None = None,
) -> tuple[int, int, list[RecordedEvent]]:
    """The generation's checkpoint, the feed's horizon fixed before the events are read, and
    the projection's events after the checkpoint up to that horizon (at most `batch_size`),
    in one round trip (`projection_batch`, see the module's notes). Not `store.read_feed`,
    whose own horizon may be lower than this one. `horizon`: one read in an earlier
    statement (`SharedHorizon`), else it is read here. When none of the projection's events
    lie up to the horizon, the checkpoint moves to it in the same statement (and comes back
    equal to the horizon).

    `LostLeadership` if the generation has no checkpoint (it was dropped by a replay), or its
    checkpoint moved under this process.
    """
    arguments = [
        generation.schema_name,
        batch_size,
        list(projection.topics) if projection.topics is not None else None,
        generation.tenant,
        generation.until_position,
        projection.reads_payload,
        projection.reads_metadata,
        horizon,
    ]
    try:
        if projection.unread_topics:
            rows = await conn.fetch(_BATCH_WITH_UNREAD, *arguments, list(projection.unread_topics))
        else:
            rows = await conn.fetch(
                "SELECT * FROM projection_batch($1, $2, $3, $4, $5, $6, $7, $8, true)", *arguments
            )
    except asyncpg.PostgresError as error:
        if error.sqlstate == CHECKPOINT_MOVED:
            raise _moved(generation) from error
        raise
    if not rows:
        raise LostLeadership(f"{generation.schema_name} is no longer in use")
    checkpoint, horizon = int(rows[0][9]), int(rows[0][10])
    if rows[0][0] is None:
        return checkpoint, horizon, []
    events = [row_to_event(row) for row in rows]
    if projection.reads_payload:
        unread = projection.unread_topics
        events = [e if e.topic in unread else _upcast(e) for e in events]
    return checkpoint, horizon, events


_BATCH_WITH_UNREAD = (
    # `projection_batch` with the payload and metadata of the topics in $9 left on the server
    # (`Projection.unread`): one statement, the same snapshots, only less sent and decoded.
    "SELECT b.ev_position, b.ev_tenant, b.ev_stream_id, b.ev_stream_type, b.ev_version,"
    " b.ev_topic,"
    " CASE WHEN b.ev_topic = ANY ($9::text[]) THEN '{}'::jsonb ELSE b.ev_payload END,"
    " CASE WHEN b.ev_topic = ANY ($9::text[]) THEN '{}'::jsonb ELSE b.ev_metadata END,"
    " b.ev_recorded_at, b.ev_checkpoint, b.ev_horizon"
    " FROM projection_batch($1, $2, $3, $4, $5, $6, $7, $8, true) b"
)


def _upcast(event: RecordedEvent) -> RecordedEvent:
    """The event with its payload as its class's current version reads it (as aggregates get
    it: `mapping.upcast_payload`)."""
    payload = upcast_payload(event.topic, event.payload)
    if payload is event.payload:
        return event
    return msgspec.structs.replace(event, payload=payload)


async def step(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    *,
    batch_size: int = 1000,
    isolate: bool | None = True,
    horizon: int | None = None,
    feed: SharedFeed | None = None,
    checkpoint: int | None = None,
) -> tuple[int, int, int]:
    """Process one batch: returns (events read, checkpoint now, horizon seen).

    `horizon`: one read in an earlier statement (see `read_batch`), else read with the batch.
    `feed` with `checkpoint` (where this leader left the generation's checkpoint) and
    `horizon`: the batch is taken from the process's shared stretch of the feed when it
    reaches back to `checkpoint` (`feed.py`), else read as without it. The checkpoint moves
    as always, on the condition that it is still at `checkpoint`.

    `conn` (outside a transaction, with `init_connection`'s codecs) reads the batch and writes
    it with the checkpoint. Events of platforms quarantined for this generation are skipped.
    A batch that fails for a reason of its events (`faults.is_fault`) is applied again event
    by event: with `isolate`, each event that still fails is recorded as a fault and its
    platform quarantined (`faults.py`), and the batch commits without it; with `False` (a
    replay), `ProjectionFault` names the first such event; with `None` the error is raised
    as it is (the runner retries the whole batch first: a failure that passes, such as a
    lost lock or a bug in a dependency that recovers, quarantines nobody).

    Raises `LostLeadership` if the generation is gone (swapped and dropped by a replay) or its
    checkpoint moved under this process.
    """
    taken = None
    if feed is not None and checkpoint is not None and horizon is not None:
        taken = await _take(conn, feed, projection, generation, checkpoint, horizon, batch_size)
    if taken is not None:
        assert checkpoint is not None
        horizon, batch = taken
    else:
        checkpoint, horizon, batch = await read_batch(
            conn, projection, generation, batch_size, horizon
        )
    if checkpoint >= horizon:
        return 0, checkpoint, horizon
    # A short batch means everything up to the horizon was read.
    new_checkpoint = batch[-1].position if len(batch) == batch_size else horizon
    held = await quarantined(conn, generation.schema_name)
    events = [e for e in batch if e.tenant not in held] if held else batch
    if not events:
        # Nothing of this projection's topics: the checkpoint alone moves, in one statement
        # (with the other readers' of the process, from the shared stretch).
        await _move_checkpoint(
            conn, generation, checkpoint, new_checkpoint, feed if taken is not None else None
        )
        return len(batch), new_checkpoint, horizon
    try:
        await _apply_batch(
            conn, projection, generation, events, checkpoint, new_checkpoint, isolate
        )
    except asyncpg.PostgresError as error:
        if error.sqlstate == CHECKPOINT_MOVED:
            raise _moved(generation) from error
        if not isinstance(error, asyncpg.UndefinedTableError | asyncpg.InvalidSchemaNameError):
            raise
        # A replay that swapped the views drops the old generation's schema, also under a
        # batch waiting for its tables. Then this is no failure, only the end of the generation.
        if (
            await conn.fetchval(
                "SELECT position FROM checkpoints WHERE name = $1", generation.schema_name
            )
            is None
        ):
            raise LostLeadership(f"{generation.schema_name} is no longer in use") from error
        raise
    return len(batch), new_checkpoint, horizon


async def _apply_batch(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    events: Sequence[RecordedEvent],
    checkpoint: int,
    new_checkpoint: int,
    isolate: bool | None,
) -> None:
    """The batch with its checkpoint; one that fails for a reason of its events is applied
    again event by event (`isolate` as in `step`; None: the error is raised as it is)."""
    token = CURRENT_SCHEMA.set(generation.schema_name)
    try:
        try:
            await _apply(conn, projection, generation, events, checkpoint, new_checkpoint)
        except Exception as error:
            if isolate is None or not is_fault(error):
                raise
            await _apply_one_by_one(
                conn, projection, generation, events, checkpoint, new_checkpoint, isolate
            )
    finally:
        CURRENT_SCHEMA.reset(token)


async def _take(
    conn: Connection,
    feed: SharedFeed,
    projection: Projection,
    generation: Generation,
    checkpoint: int,
    horizon: int,
    batch_size: int,
) -> tuple[int, list[RecordedEvent]] | None:
    """The batch from the process's shared stretch of the feed, or None (see `step`)."""
    if generation.tenant is not None or generation.until_position is not None:
        return None  # a generation of history: read as it asks
    return await feed.take(
        conn,
        checkpoint,
        horizon,
        batch_size,
        topics=projection.topics,
        payload=projection.reads_payload,
        metadata=projection.reads_metadata,
        unread=projection.unread_topics,
        upcast=projection.reads_payload,
    )


async def _begin(conn: Connection, generation: Generation) -> None:
    # BEGIN, the search path and the commit's durability (see "Durability" in the module's
    # notes) in one round trip (the simple query protocol).
    await conn.execute(
        f'BEGIN; SET LOCAL search_path = "{generation.schema_name}", public;'
        " SET LOCAL synchronous_commit = off"
    )


async def _commit(
    conn: Connection, generation: Generation, checkpoint: int, new_checkpoint: int
) -> None:
    # The checkpoint's move with the COMMIT (the values are integers and the schema's name an
    # identifier checked by `create_generation`).
    await conn.execute(
        f"SELECT move_checkpoint('{generation.schema_name}', {int(checkpoint)},"
        f" {int(new_checkpoint)}); COMMIT"
    )


async def _rollback(conn: Connection) -> None:
    if not conn.is_closed() and conn.is_in_transaction():
        with contextlib.suppress(Exception):
            await conn.execute("ROLLBACK")


async def _apply(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    events: Sequence[RecordedEvent],
    checkpoint: int,
    new_checkpoint: int,
) -> None:
    await _begin(conn, generation)
    try:
        await projection.handle_batch(conn, events)
        await _commit(conn, generation, checkpoint, new_checkpoint)
    except BaseException:
        await _rollback(conn)
        raise


async def _apply_one_by_one(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    events: Sequence[RecordedEvent],
    checkpoint: int,
    new_checkpoint: int,
    isolate: bool,
) -> None:
    """The batch again, each event in a savepoint: what fails is a fault (see `step`)."""
    await _begin(conn, generation)
    try:
        held: set[str] = set()
        for event in events:
            if event.tenant in held:
                continue
            await conn.execute("SAVEPOINT one_event")
            try:
                await projection.handle_batch(conn, [event])
            except Exception as error:
                if not is_fault(error):
                    raise
                await conn.execute("ROLLBACK TO SAVEPOINT one_event")
                if not isolate:
                    raise ProjectionFault(projection.name, event, error) from error
                fault = await record_fault(
                    conn, projection.name, generation.schema_name, event, error
                )
                held.add(event.tenant)
                log.error("%s", fault.describe())
            else:
                await conn.execute("RELEASE SAVEPOINT one_event")
        await _commit(conn, generation, checkpoint, new_checkpoint)
    except BaseException:
        await _rollback(conn)
        forget(generation.schema_name)  # read again: the faults recorded may be rolled back
        raise


async def _move_checkpoint(
    conn: Connection,
    generation: Generation,
    checkpoint: int,
    new_checkpoint: int,
    feed: SharedFeed | None = None,
) -> None:
    """From `checkpoint` (read by this leader) to `new_checkpoint`, or `LostLeadership`;
    with `feed`, in one statement with the process's other readers' (`SharedFeed.move`)."""
    if feed is not None:
        if not await feed.move(conn, generation.schema_name, checkpoint, new_checkpoint):
            raise _moved(generation)
        return
    try:
        await conn.execute(
            "SELECT move_checkpoint($1, $2, $3)",
            generation.schema_name,
            checkpoint,
            new_checkpoint,
        )
    except asyncpg.PostgresError as error:
        if error.sqlstate == CHECKPOINT_MOVED:
            raise _moved(generation) from error
        raise


def _moved(generation: Generation) -> LostLeadership:
    """`move_checkpoint`'s refusal: another leader moved the checkpoint, or it was dropped."""
    return LostLeadership(f"the checkpoint of {generation.schema_name} moved elsewhere")


async def try_lead(conn: Connection, generation: Generation) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            LOCK_NAMESPACE_PROJECTIONS,
            generation.schema_name,
        )
    )


async def build_generation(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    *,
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    isolate: bool = True,
) -> int:
    """Feed `generation` up to the current horizon (or its until-position); returns its checkpoint.

    The caller holds the generation's lock (see `try_lead`). Without `isolate`, the first
    event the projection cannot apply stops it (`ProjectionFault`).
    """
    await init_connection(conn)  # the batches are read on it: json/jsonb through msgspec
    await load_quarantine(conn, generation.schema_name)
    while True:
        applied, checkpoint, horizon = await step(
            conn, projection, generation, batch_size=batch_size, isolate=isolate
        )
        if progress is not None:
            progress(checkpoint, horizon)
        if checkpoint >= horizon and applied < batch_size:
            return checkpoint


REBUILD_BATCH = 20_000
"""Events per batch of a rebuild (`replay`): a batch's rows are loaded, its versions closed and
copied once per batch, so fewer, larger batches cost less (at 302,668 events, 20,000 against
5,000 took meetings 6.0-7.5 s against 8.4-10.6 s; docs/benchmarks.md). Memory stays bounded
by it: two batches at most (one written, the next read ahead) and the rows of one."""

TOPIC_INDEX = "events_topic_position"
"""The btree on `events (hashtext(topic), position)` (the engine's migration 5): a rebuild reads
only its topics' events through it, without walking the rest of the feed. Only statements that
name the hash can use it (`range_sql`): the others' plans stay as they were."""


async def _has_topic_index(conn: Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace",
            TOPIC_INDEX,
        )
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def range_sql(projection: Projection, *, tenant: bool, by_topic: bool) -> str:
    """The statement a rebuild reads a batch with: the projection's events after $1 up to $2
    (a horizon read in an earlier statement), at most $3, of platform $4 if `tenant`, in the
    columns of `row_to_event`, payload and metadata as the projection reads them (empty for
    its `unread` topics).

    `by_topic` (the topic index is there, the projection names its topics, no platform): one
    ordered range of the index per topic, merged by position (a Merge Append that stops after
    $3 rows), so that the server reads only these topics' rows, not the whole feed between.
    Else one range of the primary key (or of the (tenant, position) index) filtered by topic,
    as `projection_batch` reads. The text is the same for every batch of a projection, so
    its prepared statement is reused."""
    unread = set(projection.unread_topics)

    def columns(topic: str | None) -> str:
        if topic is not None and topic in unread:
            payload = metadata = "'{}'::jsonb"
        else:
            payload = "payload" if projection.reads_payload else "'{}'::jsonb"
            metadata = "metadata" if projection.reads_metadata else "'{}'::jsonb"
            if topic is None and unread:
                topics = ", ".join(_literal(t) for t in sorted(unread))
                payload = f"CASE WHEN topic IN ({topics}) THEN '{{}}'::jsonb ELSE {payload} END"
                metadata = f"CASE WHEN topic IN ({topics}) THEN '{{}}'::jsonb ELSE {metadata} END"
        return (
            "position, tenant, stream_id, stream_type, version, topic,"
            f" {payload}, {metadata}, recorded_at"
        )

    topics = projection.topics
    if by_topic and topics is not None and not tenant:
        if not topics:
            return f"SELECT {columns(None)} FROM events WHERE false"
        branches = [
            f"(SELECT {columns(topic)} FROM events"
            f" WHERE hashtext(topic) = hashtext({_literal(topic)}) AND topic = {_literal(topic)}"
            " AND position > $1 AND position <= $2 ORDER BY position LIMIT $3)"
            for topic in topics
        ]
        return (
            "SELECT * FROM (" + " UNION ALL ".join(branches) + ") AS e ORDER BY position LIMIT $3"
        )
    conditions = ["position > $1", "position <= $2"]
    order = "position"
    if tenant:
        conditions.insert(0, "tenant = $4")
        order = "tenant, position"
    if topics is not None:
        conditions.append(f"topic IN ({', '.join(_literal(t) for t in topics) or 'NULL'})")
    return (
        f"SELECT {columns(None)} FROM events WHERE {' AND '.join(conditions)}"
        f" ORDER BY {order} LIMIT $3"
    )


async def rebuild_generation(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    *,
    batch_size: int = REBUILD_BATCH,
    progress: Callable[[int, int], None] | None = None,
    reader: Connection | None = None,
) -> int:
    """`build_generation` for a rebuild (`replay`): the same batches, transactions and
    checkpoint moves, read differently. Returns the checkpoint reached.

    The horizon is read once per pass (a statement of its own, before the events: see the
    module's notes), and the batches up to it are read by position after the previous batch's
    last one (`range_sql`), through the topic index when the store has it. With `reader` (a
    second connection, outside a transaction), the next batch is read on it while this one is
    folded and written on `conn`: the server reads while Python folds. Every batch still
    commits with its checkpoint through `move_checkpoint`, so a rebuild killed at any point
    leaves a consistent generation (and `replay` drops it; the live one serves meanwhile).
    The first event the projection cannot apply stops it (`ProjectionFault`).
    """
    await init_connection(conn)
    if reader is not None:
        await init_connection(reader)
    held = await load_quarantine(conn, generation.schema_name)
    feed = _RangeReader(
        projection,
        generation,
        conn if reader is None else reader,
        batch_size,
        by_topic=generation.tenant is None and await _has_topic_index(conn),
        shared=reader is None,
    )
    checkpoint = await conn.fetchval(
        "SELECT position FROM checkpoints WHERE name = $1", generation.schema_name
    )
    if checkpoint is None:
        raise LostLeadership(f"{generation.schema_name} is no longer in use")
    checkpoint = int(checkpoint)
    pending: asyncio.Future[list[RecordedEvent]] | None = None
    try:
        await feed.start()
        while True:
            horizon = await _horizon(conn, generation)
            if checkpoint >= horizon:
                return checkpoint
            batch = await feed.read(checkpoint, horizon)
            while True:
                full = len(batch) == batch_size
                new_checkpoint = batch[-1].position if full else horizon
                if full and reader is not None:  # the next batch, read meanwhile
                    pending = asyncio.ensure_future(feed.read(new_checkpoint, horizon))
                events = [e for e in batch if e.tenant not in held] if held else batch
                await _apply_rebuild(
                    conn, projection, generation, events, checkpoint, new_checkpoint
                )
                checkpoint = new_checkpoint
                if progress is not None:
                    progress(checkpoint, horizon)
                if not full:
                    break
                if pending is not None:
                    batch, pending = await pending, None
                else:
                    batch = await feed.read(checkpoint, horizon)
    except asyncpg.PostgresError as error:
        if error.sqlstate == CHECKPOINT_MOVED:
            raise _moved(generation) from error
        raise
    finally:
        await _cancel(pending)
        await feed.stop()


async def _horizon(conn: Connection, generation: Generation) -> int:
    """The feed's horizon (at most the generation's until-position), in a statement of its own."""
    horizon = int(await conn.fetchval("SELECT feed_horizon()"))
    if generation.until_position is not None:
        horizon = min(horizon, generation.until_position)
    return horizon


async def _cancel(pending: asyncio.Future[Any] | None) -> None:
    if pending is not None:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending


async def _apply_rebuild(
    conn: Connection,
    projection: Projection,
    generation: Generation,
    events: Sequence[RecordedEvent],
    checkpoint: int,
    new_checkpoint: int,
) -> None:
    """A rebuild's batch with its checkpoint (a fault stops the rebuild: `ProjectionFault`)."""
    if not events:
        await _move_checkpoint(conn, generation, checkpoint, new_checkpoint)
        return
    await _apply_batch(conn, projection, generation, events, checkpoint, new_checkpoint, False)


class _RangeReader:
    """A rebuild's reads (`range_sql`) on `source`. Through the topic index, the statement
    runs with `enable_sort` off: the planner, which may have no statistics on `events` yet
    (or a generic plan's guesses), could otherwise take each topic's whole remaining range
    in a bitmap scan and sort it, for every batch, where the ordered index scans it should
    merge read only what the batch returns. On a connection of its own (`shared` False) the
    setting holds for the rebuild; on the rebuild's own connection only around each read."""

    def __init__(
        self,
        projection: Projection,
        generation: Generation,
        source: Connection,
        batch_size: int,
        *,
        by_topic: bool,
        shared: bool,
    ) -> None:
        self._source = source
        self._batch_size = batch_size
        self._tenant = [generation.tenant] if generation.tenant is not None else []
        self._sql = range_sql(projection, tenant=generation.tenant is not None, by_topic=by_topic)
        self._planned = by_topic
        self._shared = shared
        self._upcast = projection.reads_payload
        self._unread = projection.unread_topics

    async def start(self) -> None:
        if self._planned and not self._shared:
            await self._source.execute("SET enable_sort = off")

    async def stop(self) -> None:
        if self._planned and not self._shared:
            with contextlib.suppress(Exception):
                await self._source.execute("RESET enable_sort")

    async def read(self, after: int, horizon: int) -> list[RecordedEvent]:
        around = self._planned and self._shared
        if around:
            await self._source.execute("SET enable_sort = off")
        try:
            rows = await self._source.fetch(
                self._sql, after, horizon, self._batch_size, *self._tenant
            )
        finally:
            if around:
                await self._source.execute("RESET enable_sort")
        events = [row_to_event(row) for row in rows]
        if self._upcast:
            unread = self._unread
            events = [e if e.topic in unread else _upcast(e) for e in events]
        return events


async def wait_for_projection(pool: asyncpg.Pool, name: str, position: int, timeout: float) -> bool:
    """True once the active generation of `name` has passed `position`; False on timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        async with pool.acquire() as conn:
            reached = await conn.fetchval(
                "SELECT c.position FROM projection_generations g"
                " JOIN checkpoints c ON c.name = g.schema_name"
                " WHERE g.name = $1 AND g.state = 'active'",
                name,
            )
        if reached is not None and reached >= position:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.1)


async def replay(
    conn: Connection,
    projection: Projection,
    *,
    until_position: int | None = None,
    tenant: str | None = None,
    batch_size: int = REBUILD_BATCH,
    progress: Callable[[int, int], None] | None = None,
    reader: Connection | None = None,
) -> Generation:
    """Rebuild `projection` from the first event in a new generation.

    Without `until_position` the new generation replaces the active one once it has caught up
    (a running worker then moves over to it). With it, the generation stops there and stays
    beside the active one as a read model of history as it stood (`historical`).
    `reader`: a second connection (outside a transaction, used by nothing else meanwhile) on
    which the next batch is read while one is written (`rebuild_generation`).
    """
    historical = until_position is not None or tenant is not None
    generation = await create_generation(
        conn,
        projection,
        state="historical" if historical else "building",
        until_position=until_position,
        tenant=tenant,
    )
    if not await try_lead(conn, generation):  # pragma: no cover - a fresh generation is free
        raise LostLeadership(generation.schema_name)
    try:
        await rebuild_generation(
            conn, projection, generation, batch_size=batch_size, progress=progress, reader=reader
        )
        if reader is None:
            await ensure_indexes(conn, projection, generation)
        else:
            await ensure_indexes_beside(conn, reader, projection, generation)
        if not historical:
            await activate(conn, projection, generation)
            generation = msgspec.structs.replace(generation, state="active")
    except BaseException:
        # A failed or interrupted replay leaves no half-built generation behind (nothing would
        # ever finish or drop it). Best effort: the connection may be what failed.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(discard_generation(conn, generation)), 10)
        raise
    finally:
        # A broken connection has released the lock already.
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await conn.execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))",
                LOCK_NAMESPACE_PROJECTIONS,
                generation.schema_name,
            )
    return generation


def __getattr__(name: str) -> object:
    """What moved to `projections.runner` (the runner, its status, its intervals)."""
    if name in ("ProjectionRunner", "ProjectionStatus", "STEP_INTERVAL", "IDLE_STEP_INTERVAL"):
        from verbinders.projections import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
