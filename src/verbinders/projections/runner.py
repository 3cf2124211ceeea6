"""Runs projections in a process: each on a connection of its own, one leader per generation.

See `engine.py` ("Leadership and generations") for how a runner picks the generation its code
feeds, stands by for another process's leader, swaps a rebuilt generation in and retries a
failing projection without stopping the others; `faults.py` for events a read model cannot
apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from verbinders.database import init_connection
from verbinders.errors import Unavailable
from verbinders.projections.engine import (
    _GENERATION_COLUMNS,
    Generation,
    LostLeadership,
    Projection,
    _lock_generations,
    _row_to_generation,
    activate,
    active_generation,
    analyze_grown_tables,
    build_generation,
    create_generation,
    discard_generation,
    ensure_indexes,
    step,
    try_lead,
    wait_for_projection,
)
from verbinders.projections.faults import Fault, faults_of, load_quarantine
from verbinders.projections.feed import SharedFeed
from verbinders.store.subscription import SharedHorizon

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.eventstore import EventStore
    from verbinders.store.subscription import FeedSignal

__all__ = [
    "ANALYZE_INTERVAL",
    "IDLE_STEP_INTERVAL",
    "MAX_STEP_INTERVAL",
    "STEP_INTERVAL",
    "ProjectionRunner",
    "ProjectionStatus",
    "next_step_at",
    "paced",
]

log = logging.getLogger("verbinders.projections.engine")

MAX_RETRY_DELAY = 30.0
"""Longest wait before a projection that keeps failing is tried again (seconds)."""

ISOLATE_AFTER = 2
"""Failed attempts at a batch after which its events are applied one by one, and those that
still fail recorded as faults (their platforms held back); before, the batch is retried whole
after a growing delay."""


class ProjectionStatus(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: int
    schema_name: str
    state: str
    position: int
    horizon: int
    lag: int
    faults: list[Fault] = []
    """Events this generation could not apply; their platforms are quarantined."""


Connect = Callable[[], Awaitable["asyncpg.Connection"]]

STEP_INTERVAL = 0.05
"""Shortest time between two batches of a caught-up projection (see `ProjectionRunner._pace`)."""
IDLE_STEP_INTERVAL = 0.1
"""The same after a batch with none of the projection's topics in it."""
MAX_STEP_INTERVAL = 0.2
"""Longest time between two batches of a reader kept busy by a stream of appends: its
interval doubles (from `STEP_INTERVAL` or `IDLE_STEP_INTERVAL`) after each batch during which
more events were appended, and falls back once it has waited for one (see `paced`)."""


def paced(interval: float, base: float, streaming: bool, longest: float) -> float:
    """The time from this batch to the next: `base` after a quiet spell, and under a stream of
    appends (`streaming`: some arrived while the batch was read and applied) twice the last
    `interval`, up to `longest`. Fewer, larger batches under load: each batch's round trips
    and per-batch statements cost as much for one event as for a hundred, and a reader's lag
    stays within `longest` plus a batch's time."""
    if not streaming:
        return base
    return max(base, min(max(interval, base) * 2, longest))


ANALYZE_INTERVAL = 5.0
"""Shortest time between two looks at whether a read model's tables need an ANALYZE
(`engine.analyze_grown_tables`); only while the read model takes events."""


STEP_GRID = 0.05
"""Paced steps start on this grid of the monotonic clock (see `next_step_at`)."""


def next_step_at(earliest: float) -> float:
    """The first moment on the `STEP_GRID` at or after `earliest` (monotonic clock).

    Read models and policies that a stream of appends keeps busy step at the same moments,
    so that they share one read of the feed's horizon (`SharedHorizon`) instead of each
    reading it at a moment of its own.
    """
    return math.ceil(earliest / STEP_GRID) * STEP_GRID


class ProjectionRunner:
    """Runs projections in this process, each on a connection of its own."""

    def __init__(
        self,
        store: EventStore,
        signal: FeedSignal,
        projections: Sequence[Projection],
        connect: Connect,
        *,
        batch_size: int = 1000,
        standby_interval: float = 2.0,
        step_interval: float = STEP_INTERVAL,
        idle_step_interval: float = IDLE_STEP_INTERVAL,
        horizon: SharedHorizon | None = None,
        analyze_interval: float = ANALYZE_INTERVAL,
        feed: SharedFeed | None = None,
        max_step_interval: float = MAX_STEP_INTERVAL,
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names must be unique: {names}")
        self.store = store
        self.signal = signal
        self.projections = {p.name: p for p in projections}
        self.connect = connect
        self.batch_size = batch_size
        self.standby_interval = standby_interval
        self.step_interval = step_interval
        self.idle_step_interval = max(step_interval, idle_step_interval)
        self.max_step_interval = max(self.idle_step_interval, max_step_interval)
        self.analyze_interval = analyze_interval
        self.horizon = horizon if horizon is not None else SharedHorizon(signal)
        """The feed's horizon, read once for the process's read models (and policies)."""
        self.feed = feed if feed is not None else SharedFeed()
        """The feed's latest events, read once for the process's read models (and policies)."""
        self.leading: dict[str, str] = {}
        """Projection name -> the schema of the generation this process works on now."""
        self._failures: dict[str, int] = {}
        self._outdated: set[str] = set()

    async def prepare(self) -> None:
        """Give every projection a generation to read from, before anything is served.

        On a new database this creates each read model's (empty) tables and the readers'
        views, so that a query right after start answers from a model that is merely behind
        (as `/health/ready` reports) rather than failing for a missing table. Idempotent, and
        safe beside other workers: the generation is chosen under the projection's lock.
        """
        conn = await self.connect()
        try:
            for projection in self.projections.values():
                await self._target_generation(conn, projection)
        finally:
            await _close(conn)

    async def run(self, stop: asyncio.Event) -> None:
        """Run every projection until `stop` is set."""
        async with asyncio.TaskGroup() as group:
            for projection in self.projections.values():
                group.create_task(self._run_one(projection, stop))

    async def _run_one(self, projection: Projection, stop: asyncio.Event) -> None:
        """Lead (or stand by for) one projection until `stop`; never gives up on it.

        Whatever goes wrong is logged and retried after a delay that doubles while the failures
        go on (up to `MAX_RETRY_DELAY`), so that one broken projection neither stops the others
        nor floods the log. Losing the generation (swapped by a replay, or its checkpoint taken
        over) is no failure: the runner re-elects at once.
        """
        name = projection.name
        self._failures[name] = 0
        while not stop.is_set():
            try:
                await self._lead(projection, stop)
                continue
            except LostLeadership as error:
                log.info("projection %s: %s; re-electing", name, error)
                continue
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("projection %s stopped (%s); restarting", name, error)
            except Exception:
                log.exception("projection %s failed; retrying", name)
            finally:
                self.leading.pop(name, None)
            self._failures[name] += 1
            delay = min(
                self.standby_interval * 2 ** (self._failures[name] - 1),
                max(self.standby_interval, MAX_RETRY_DELAY),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _lead(self, projection: Projection, stop: asyncio.Event) -> None:
        conn = await self.connect()
        noted: str | None = None
        try:
            await init_connection(conn)  # the batches are read on it: json/jsonb via msgspec
            # Read models are derived: see "Durability" in the module's notes.
            await conn.execute("SET synchronous_commit = off")
            generation = await self._target_generation(conn, projection)
            if generation is None or not await try_lead(conn, generation):
                # Another process works on it (or this code is outdated); stand by.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.standby_interval)
                return
            self.leading[projection.name] = generation.schema_name
            await load_quarantine(conn, generation.schema_name)
            last_check = last_analyze = time.monotonic()
            written = False
            stepped = 0.0
            # Where this leader left the checkpoint (None until its first batch has read it):
            # with it, batches come from the process's shared stretch of the feed (`feed.py`).
            checkpoint: int | None = None
            interval = self.step_interval
            while not stop.is_set():
                stepped = time.monotonic()
                # The horizon shared by the process's readers, with the pokes noted before it
                # was read: a poke that arrives after that (while this batch is read or
                # applied) makes the wait below return at once instead of being lost.
                horizon, pokes = await self.horizon.read(conn)
                # A batch that failed ISOLATE_AFTER times in a row is taken apart: the events
                # that still fail are faults, their platforms held back (`faults.py`).
                isolate = True if self._failures[projection.name] >= ISOLATE_AFTER else None
                applied, checkpoint, seen = await step(
                    conn,
                    projection,
                    generation,
                    batch_size=self.batch_size,
                    isolate=isolate,
                    horizon=horizon,
                    feed=self.feed,
                    checkpoint=checkpoint,
                )
                noted = generation.schema_name
                self.feed.note(noted, checkpoint)
                # Caught up only with the horizon read (a batch from the shared stretch may
                # stop short of it); a generation built up to a position stops there.
                horizon = seen if generation.until_position is not None else max(horizon, seen)
                self._failures[projection.name] = 0
                written = written or applied > 0
                if written and time.monotonic() - last_analyze >= self.analyze_interval:
                    # Planner statistics for a model filled event by event, without waiting
                    # for autovacuum; between batches, in a transaction of its own.
                    written = False
                    await analyze_grown_tables(conn, generation)
                    last_analyze = time.monotonic()
                caught_up = checkpoint >= horizon and applied < self.batch_size
                if caught_up and generation.state == "building":
                    await ensure_indexes(conn, projection, generation)
                    try:
                        await activate(conn, projection, generation)
                    except LostLeadership:
                        await discard_generation(conn, generation)  # outdated meanwhile
                        raise
                    generation = msgspec.structs.replace(generation, state="active")
                if time.monotonic() - last_check > self.standby_interval:
                    last_check = time.monotonic()
                    current = await self._target_generation(conn, projection, create=False)
                    if current is None or current.schema_name != generation.schema_name:
                        if generation.state == "building":
                            # Replaced by another generation of this version (a replay):
                            # nobody will finish this one.
                            await discard_generation(conn, generation)
                        return  # swapped by someone else: re-elect
                if caught_up:
                    # Appends arrived while this batch was read and applied: a stream.
                    streaming = pokes != self.signal.pokes
                    # Until the feed may have moved on, or `stop`.
                    await self.signal.wait(since=pokes, stop=stop)
                    base = self.step_interval if applied else self.idle_step_interval
                    interval = paced(interval, base, streaming, self.max_step_interval)
                    await self._pace(stop, next_step_at(stepped + interval))
        finally:
            self.leading.pop(projection.name, None)
            if noted is not None:
                self.feed.note(noted, None)
            await _close(conn)

    async def _pace(self, stop: asyncio.Event, until: float) -> None:
        """Under a steady stream of appends, step at most once per `step_interval` (growing
        to `max_step_interval` while the stream lasts, see `paced`).

        Woken by every append, a caught-up projection would otherwise take one batch (and one
        commit) per event, competing with the appends for the database. Waiting out the rest
        of the interval lets the events of that interval arrive as one batch; after a quiet
        spell the projection reacts at once. A projection whose last batch held none of its
        topics (appends it does not read) waits `idle_step_interval`: it only moves its
        checkpoint, and an event it does read reaches it that much later under such load.
        The caller rounds `until` up to the step grid (`next_step_at`), so that the busy
        readers of the process step together and share one read of the horizon.
        """
        remaining = until - time.monotonic()
        if remaining > 0 and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), remaining)

    async def _target_generation(
        self, conn: Connection, projection: Projection, *, create: bool = True
    ) -> Generation | None:
        """The generation this code should feed.

        The active one if it is of this version; else the newest one of this version being
        built, created (with `create`) if there is none. None if a newer version is active:
        this process runs outdated code and must not rebuild its version over the new one.
        Decided under the projection's creation lock, so that workers starting together
        agree on one new generation instead of building one each.
        """
        async with conn.transaction():
            await _lock_generations(conn, projection.name)
            active = await active_generation(conn, projection.name)
            if active is not None and active.version == projection.version:
                return active
            if active is not None and active.version > projection.version:
                if projection.name not in self._outdated:
                    self._outdated.add(projection.name)
                    log.warning(
                        "projection %s: version %s is active, this process runs version %s;"
                        " standing by (upgrade this worker)",
                        projection.name,
                        active.version,
                        projection.version,
                    )
                return None
            row = await conn.fetchrow(
                f"SELECT {_GENERATION_COLUMNS} FROM projection_generations"
                " WHERE name = $1 AND version = $2 AND state = 'building'"
                " ORDER BY generation DESC LIMIT 1",
                projection.name,
                projection.version,
            )
            if row is not None:
                return _row_to_generation(row)
            if not create:
                return None
            state = "active" if active is None else "building"
            return await create_generation(conn, projection, state=state)

    async def status(self) -> list[ProjectionStatus]:
        async with self.store.pool.acquire() as conn:
            horizon = int(await conn.fetchval("SELECT feed_horizon()"))
            rows = await conn.fetch(
                "SELECT g.name, g.version, g.schema_name, g.state, c.position"
                " FROM projection_generations g JOIN checkpoints c ON c.name = g.schema_name"
                " WHERE g.state IN ('active', 'building') AND g.name = any($1::text[])"
                " ORDER BY g.name, g.generation",
                list(self.projections),
            )
            faults = await faults_of(conn, [row["schema_name"] for row in rows])
        by_schema: dict[str, list[Fault]] = {}
        for fault in faults:
            by_schema.setdefault(fault.schema_name, []).append(fault)
        return [
            ProjectionStatus(
                name=row["name"],
                version=row["version"],
                schema_name=row["schema_name"],
                state=row["state"],
                position=row["position"],
                horizon=horizon,
                lag=max(0, horizon - row["position"]),
                faults=by_schema.get(row["schema_name"], []),
            )
            for row in rows
        ]

    async def catch_up(self, name: str, timeout: float = 10.0) -> None:
        """Bring projection `name` up to the feed as it stands now, before reading it.

        For readers in processes that may run no projections (the command line): if no
        process works on the projection, this one feeds it up to the current horizon itself,
        under the same lock a worker would take; if one does, this waits for it (raising
        `Unavailable` after `timeout` seconds).
        """
        projection = self.projections[name]
        conn = await self.connect()
        try:
            await init_connection(conn)
            horizon = int(await conn.fetchval("SELECT feed_horizon()"))
            generation = await self._target_generation(conn, projection)
            if generation is not None and await try_lead(conn, generation):
                await build_generation(conn, projection, generation, batch_size=self.batch_size)
                if generation.state == "building":
                    await ensure_indexes(conn, projection, generation)
                    await activate(conn, projection, generation)
                else:
                    await analyze_grown_tables(conn, generation)
                return
        finally:
            await _close(conn)  # and with it the generation's lock
        if not await self.wait_for(name, horizon, timeout):
            raise Unavailable(
                f"the {name} read model has not reached position {horizon} within"
                f" {timeout:g} s; retry later",
                projection=name,
                position=horizon,
            )

    async def wait_for(self, name: str, position: int, timeout: float) -> bool:
        """Wait until projection `name`'s active generation has processed `position`."""
        return await wait_for_projection(self.store.pool, name, position, timeout)


async def _close(conn: Connection) -> None:
    """Close a connection that may already be broken (its locks go with it either way)."""
    try:
        await asyncio.wait_for(conn.close(), 5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        conn.terminate()
