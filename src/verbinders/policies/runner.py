"""Runs policies: each reads the feed from its own checkpoint and issues its commands.

A policy's position is kept like a read model's, with the engine's feed primitives: the
SQL function `projection_batch` reads its checkpoint (`policy:<name>` in `checkpoints`), the
feed's horizon and its events in one round trip, and `move_checkpoint` moves the checkpoint
on only if it is where this leader read it. Once it knows where it left the checkpoint, a
leader takes its batches from the process's shared stretch of the feed instead
(`projections/feed.py`), and a batch with none of its events moves the checkpoint with the
process's other idle readers' in one statement. One process at a time leads a policy (a
session advisory lock on the runner's own connection, as the projections'); the others stand
by. A policy has no generations and is never rebuilt.

A batch: for each event, `decide`, then issue its commands one by one through the pipeline
(see `policy.py` for why each is issued exactly once); then move the checkpoint past the
batch. A crash anywhere leaves the checkpoint before the batch, and the next leader takes it
again: commands already issued answer from their claims and change nothing. A command the
rules refuse (a `VerbindersError`) is logged and counted, and the policy moves on; any other
failure (a lost connection) retries the batch after a growing delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from verbinders.application.context import Actor
from verbinders.application.idempotency import Idempotency
from verbinders.application.unit_of_work import CommandRequest
from verbinders.database import init_connection
from verbinders.errors import Unavailable, VerbindersError
from verbinders.policies.policy import NAME, Issue, Policy
from verbinders.projections.engine import CHECKPOINT_MOVED, LostLeadership
from verbinders.projections.feed import SharedFeed
from verbinders.projections.runner import MAX_STEP_INTERVAL, STEP_INTERVAL, next_step_at, paced
from verbinders.store.eventstore import row_to_event
from verbinders.store.schema import LOCK_NAMESPACE_PROJECTIONS
from verbinders.store.subscription import SharedHorizon

if TYPE_CHECKING:
    from verbinders.application.pipeline import Pipeline
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent
    from verbinders.store.subscription import FeedSignal

__all__ = ["PolicyRunner", "PolicyStatus"]

log = logging.getLogger(__name__)

Connect = Callable[[], Awaitable["asyncpg.Connection"]]
MAX_RETRY_DELAY = 30.0
STOP_GRACE_S = 1.0
"""Seconds a policy's step in flight may take to finish once the worker is told to stop."""


class PolicyStatus(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    position: int
    horizon: int
    lag: int
    refused: int = 0
    """Commands the rules refused since this process started (see the log)."""


class PolicyRunner:
    """Runs policies in this process, each on a connection of its own."""

    def __init__(
        self,
        pipeline: Pipeline,
        signal: FeedSignal,
        policies: Sequence[Policy],
        connect: Connect,
        *,
        batch_size: int = 100,
        standby_interval: float = 2.0,
        step_interval: float = STEP_INTERVAL,
        horizon: SharedHorizon | None = None,
        feed: SharedFeed | None = None,
        max_step_interval: float = MAX_STEP_INTERVAL,
    ) -> None:
        names = [p.name for p in policies]
        if len(set(names)) != len(names):
            raise ValueError(f"policy names must be unique: {names}")
        for name in names:
            if not NAME.match(name):
                raise ValueError(f"policy name {name!r} is not a lower-case identifier")
        self.pipeline = pipeline
        self.signal = signal
        self.policies = {p.name: p for p in policies}
        self.connect = connect
        self.batch_size = batch_size
        self.standby_interval = standby_interval
        self.step_interval = step_interval
        self.max_step_interval = max(step_interval, max_step_interval)
        self.horizon = horizon if horizon is not None else SharedHorizon(signal)
        """The feed's horizon, read once for the process's policies (and read models)."""
        self.feed = feed if feed is not None else SharedFeed()
        """The feed's latest events, read once for the process's policies (and read models)."""
        self._checkpoints: dict[str, int] = {}
        """Policy name -> where this process, leading it, left its checkpoint."""
        self.leading: set[str] = set()
        self.refused: dict[str, int] = dict.fromkeys(names, 0)

    async def prepare(self, conn: Connection) -> None:
        """Give every policy its checkpoint (at the start of the feed, the first time)."""
        await conn.execute(
            "INSERT INTO checkpoints (name, position) SELECT unnest($1::text[]), 0"
            " ON CONFLICT (name) DO NOTHING",
            [p.checkpoint for p in self.policies.values()],
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Run every policy until `stop` is set."""
        async with asyncio.TaskGroup() as group:
            for policy in self.policies.values():
                group.create_task(self._run_one(policy, stop))

    async def _run_one(self, policy: Policy, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self._until_stopped(self._lead(policy, stop), stop)
                failures = 0
                continue
            except LostLeadership as error:
                log.info("policy %s: %s; re-electing", policy.name, error)
                continue
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("policy %s stopped (%s); restarting", policy.name, error)
            except Exception:
                log.exception("policy %s failed; retrying", policy.name)
            failures += 1
            delay = min(self.standby_interval * 2 ** (failures - 1), MAX_RETRY_DELAY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _until_stopped(self, work: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
        """Run `work`; once `stop` is set, give it `STOP_GRACE_S`, then cancel it.

        A step in flight may wait for a read model (the overlap detection waits up to 10 s
        for its candidate index) that stopped with this process: without the cancel, shutting
        down would wait that long. A cancelled step rolls back; its commands carry keys derived
        from the event, so the next worker issues each of them once.
        """
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                await asyncio.wait({task}, timeout=STOP_GRACE_S)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return
            task.result()
        finally:
            stopped.cancel()
            if not task.done():
                task.cancel()

    async def _lead(self, policy: Policy, stop: asyncio.Event) -> None:
        conn = await self.connect()
        try:
            await init_connection(conn)
            # Its checkpoint's moves need not wait for the disk: after a crash that lost one,
            # the batch is taken again and its commands answer from their claims.
            await conn.execute("SET synchronous_commit = off")
            await self.prepare(conn)
            if not await self._try_lead(conn, policy):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.standby_interval)
                return
            self.leading.add(policy.name)
            self._checkpoints.pop(policy.name, None)
            interval = self.step_interval
            while not stop.is_set():
                stepped = time.monotonic()
                # The pokes noted before the shared horizon was read: one meanwhile is not lost.
                horizon, pokes = await self.horizon.read(conn)
                # As its leader, from where it left the checkpoint: the events from the
                # process's shared stretch of the feed when it reaches back there.
                _, caught_up = await self.step(conn, policy, horizon, lead=True)
                if caught_up:
                    streaming = pokes != self.signal.pokes
                    await self.signal.wait(since=pokes, stop=stop)
                    # Under a stream of appends, one batch per `step_interval`, growing while
                    # the stream lasts (as the read models'): not two statements per policy
                    # for every append.
                    interval = paced(
                        interval, self.step_interval, streaming, self.max_step_interval
                    )
                    remaining = next_step_at(stepped + interval) - time.monotonic()
                    if remaining > 0 and not stop.is_set():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), remaining)
        finally:
            self.leading.discard(policy.name)
            self._checkpoints.pop(policy.name, None)
            self.feed.note(policy.checkpoint, None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)
            if not conn.is_closed():
                conn.terminate()

    async def _try_lead(self, conn: Connection, policy: Policy) -> bool:
        return bool(
            await conn.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                LOCK_NAMESPACE_PROJECTIONS,
                policy.checkpoint,
            )
        )

    async def step(
        self, conn: Connection, policy: Policy, horizon: int | None = None, *, lead: bool = False
    ) -> tuple[int, bool]:
        """One batch: (events reacted to, whether the policy has caught up with the feed).

        `conn` is the leader's (holding the policy's lock); the commands run through the
        pipeline on connections of their own. `horizon`: one read in an earlier statement
        (`SharedHorizon`), else read with the batch. `lead`: called by the leader's loop,
        which remembers where it left the checkpoint, so that a later batch can come from
        the process's shared stretch of the feed (`projections/feed.py`); the checkpoint
        moves on the condition that it is still there either way.
        """
        known = self._checkpoints.pop(policy.name, None) if lead else None
        taken = None
        if known is not None and horizon is not None:
            taken = await self.feed.take(
                conn, known, horizon, self.batch_size, topics=policy.topics, upcast=False
            )
        if taken is not None:
            assert known is not None
            checkpoint = known
            complete, events = taken
        else:
            checkpoint, complete, events = await self._read(conn, policy, horizon)
        if checkpoint >= complete:
            self._remember(policy, checkpoint, lead)
            return 0, horizon is None or checkpoint >= horizon
        for event in events:
            await self.react(conn, policy, event)
        full = len(events) == self.batch_size
        moved_to = events[-1].position if full else complete
        if taken is not None and not events:
            # None of its events: moved with the other readers' idle checkpoints.
            if not await self.feed.move(conn, policy.checkpoint, checkpoint, moved_to):
                raise LostLeadership(f"the checkpoint of {policy.checkpoint} moved")
            self._remember(policy, moved_to, lead)
            return 0, horizon is None or moved_to >= horizon
        try:
            await conn.execute(
                "SELECT move_checkpoint($1, $2, $3)", policy.checkpoint, checkpoint, moved_to
            )
        except asyncpg.PostgresError as error:
            if error.sqlstate == CHECKPOINT_MOVED:
                raise LostLeadership(f"the checkpoint of {policy.checkpoint} moved") from error
            raise
        self._remember(policy, moved_to, lead)
        return len(events), not full and (horizon is None or moved_to >= horizon)

    def _remember(self, policy: Policy, checkpoint: int, lead: bool) -> None:
        if lead:
            self._checkpoints[policy.name] = checkpoint
            self.feed.note(policy.checkpoint, checkpoint)

    async def _read(
        self, conn: Connection, policy: Policy, horizon: int | None
    ) -> tuple[int, int, list[RecordedEvent]]:
        # With none of the policy's events up to the horizon, the checkpoint moves to it in
        # the same statement (see the engine's `read_batch`).
        try:
            rows = await conn.fetch(
                "SELECT * FROM projection_batch($1, $2, $3, NULL, NULL, true, true, $4, true)",
                policy.checkpoint,
                self.batch_size,
                list(policy.topics),
                horizon,
            )
        except asyncpg.PostgresError as error:
            if error.sqlstate == CHECKPOINT_MOVED:
                raise LostLeadership(f"the checkpoint of {policy.checkpoint} moved") from error
            raise
        if not rows:
            raise LostLeadership(f"{policy.checkpoint} has no checkpoint")
        checkpoint, horizon = int(rows[0][9]), int(rows[0][10])
        if rows[0][0] is None:
            return checkpoint, horizon, []
        return checkpoint, horizon, [row_to_event(row) for row in rows]

    async def react(self, conn: Connection, policy: Policy, event: RecordedEvent) -> None:
        """Issue the commands `event` calls for, each once (see `policy.py`)."""
        issues = await policy.decide(conn, event)
        actor = Actor(tenant=event.tenant, roles=policy.roles, policy=policy.name)
        for n, issue in enumerate(issues):
            request = CommandRequest(
                actor=actor,
                correlation_id=event.metadata.get("correlation_id"),
                causation_id=str(event.position),
                idempotency=Idempotency(
                    key=f"{policy.checkpoint}:{event.position}:{n}",
                    fingerprint=issue.command.name,
                    permanent=True,
                ),
                clock=issue.at,
            )
            await self._issue(policy, issue, request)

    async def _issue(self, policy: Policy, issue: Issue, request: CommandRequest) -> None:
        try:
            await self.pipeline.execute(issue.command, request, *issue.args, **issue.kwargs)
        except VerbindersError as error:
            self.refused[policy.name] = self.refused.get(policy.name, 0) + 1
            log.warning(
                "policy %s: %s (in answer to position %s) was refused: %s",
                policy.name,
                issue.command.name,
                request.causation_id,
                error,
            )

    async def status(self) -> list[PolicyStatus]:
        """Each policy's checkpoint and lag behind the feed's horizon (a policy that has
        never run here, with no checkpoint yet, is left out, as projections without a
        generation are)."""
        names = [p.checkpoint for p in self.policies.values()]
        async with self.pipeline.connection() as conn:
            horizon = int(await conn.fetchval("SELECT feed_horizon()"))
            rows = await conn.fetch(
                "SELECT name, position FROM checkpoints WHERE name = any($1::text[])", names
            )
        positions = {row["name"]: int(row["position"]) for row in rows}
        return [
            PolicyStatus(
                name=policy.name,
                position=positions[policy.checkpoint],
                horizon=horizon,
                lag=max(0, horizon - positions[policy.checkpoint]),
                refused=self.refused.get(policy.name, 0),
            )
            for policy in self.policies.values()
            if policy.checkpoint in positions
        ]

    async def catch_up(self, timeout: float = 30.0) -> None:
        """Bring every policy up to the feed as it stands now, in this process if no other
        leads it (until a batch finds nothing new), else by waiting for the leader to reach
        the horizon (tests, the command line)."""
        deadline = time.monotonic() + timeout
        for policy in self.policies.values():
            conn = await self.connect()
            try:
                await init_connection(conn)
                await self.prepare(conn)
                if await self._try_lead(conn, policy):
                    # Until a batch finds nothing new (the policy's own commands append too).
                    while (await self.step(conn, policy)) != (0, True):
                        if time.monotonic() > deadline:
                            break
                    continue
            finally:
                await conn.close()
            horizon = (await self.status())[0].horizon
            while {s.name: s.position for s in await self.status()}[policy.name] < horizon:
                if time.monotonic() > deadline:
                    raise Unavailable(
                        f"policy {policy.name} has not reached position {horizon} within"
                        f" {timeout:g} s; retry later",
                        policy=policy.name,
                        position=horizon,
                    )
                await asyncio.sleep(0.05)
