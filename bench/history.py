"""A deterministic, realistic history of N events for the read-model benchmarks.

The demo's shape scaled up: a few platforms (Haarlem's vocabulary), thousands of organisations
of the four kinds (the demo's organisations as templates) with profile changes, strengths and
contact persons; membership applications and the coordinator's decisions (admit, reject,
suspend, reinstate, leave); a general meeting every month and a thematic one with attendance,
decisions and minutes; a token per member, revoked when it leaves or is rotated; and, every
`calls_every` months (default 2), a call to the members, with responses and claims.
Months run from January 2020 until N events are written.

How the events are made: every command is the product's own application service
(`register_organisation`, `apply`, `admit`, `record_attendance`, `issue_token`, ...), run in a
unit of work (`HeldUnit`) that finds the aggregates in memory instead of reading them from the
store, so the events, their topics, versions and payloads are exactly the product's. Their
pending events are appended through the store's real path, in big batches: personal data
sealed with keys from the real `Keyring`, encoded by `store.mapping.encode_event`, appended by
`EventStore.append` (`append_events`: one statement per batch of up to `batch` events over at
most `max_streams` streams). A batch's events share their metadata (tenant, actor, roles,
reason): consecutive commands with the same metadata go into one append, and the batch's
correlation id names the batch, not the command. A call is issued and closed through the
command pipeline itself, after what came before was appended (`issue_call` decides its
addressees from the store's history and writes its notices and timers; `close_call` drops
its timers); its responses and claims are batched commands like the rest. The time the
calls take is reported apart (`call_seconds`, `pipeline_seconds`).

The store stamps `recorded_at` itself (the clock at the append), so recorded times span the
generation, not 2020–2026; the events' own times (`at`, `timestamp`) span the months. Given
the same N, seed and platforms each platform's story is the same, except the ids and secrets
of tokens (`issue_token` draws them). By default each platform is told by a process of its
own (`generate(..., processes=True)`), so the platforms' events interleave in the feed as
the processes happen to run; `--one-process` tells them in turn, month by month.

    .venv/bin/python bench/history.py --events 100000 [--database-url URL] [--one-process]

generates into a scratch database (see common.py) and reports the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from history_story import (
    AMSTERDAM,
    CITIES,
    EVENTS_PER_ORGANISATION,
    SHARES,
    Story,
    Tenant,
)
from verbinders.application.context import Actor
from verbinders.application.platforms import create_platform
from verbinders.application.unit_of_work import CommandRequest, UnitOfWork
from verbinders.domain.platform import Platform, platform_id
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.mapping import encode_event, event_subjects, stream_type_of

if TYPE_CHECKING:
    from verbinders.application.commands import Command
    from verbinders.runtime import Runtime

__all__ = ["GeneratedHistory", "HistoryGenerator", "generate"]


class HeldUnit(UnitOfWork):
    """A unit of work whose aggregates are held in memory (`world`), never read from the
    store: the application services run unchanged, and their events stay pending."""

    def __init__(self, generator: HistoryGenerator, request: CommandRequest) -> None:
        super().__init__(
            generator.runtime.repository,
            None,  # type: ignore[arg-type] - nothing is read or written through it
            request,
            in_transaction=False,
        )
        self.world = generator.world

    async def preload(self, *wanted: tuple[type[Aggregate], uuid.UUID]) -> None:
        for cls, aggregate_id in wanted:
            if aggregate_id in self._held or aggregate_id in self._absent:
                continue
            aggregate = self.world.get(aggregate_id)
            if isinstance(aggregate, cls):
                self._held[aggregate_id] = aggregate
            else:
                self._absent.add(aggregate_id)

    def pending(self) -> list[tuple[Aggregate, list[Any]]]:
        """Every held aggregate's new events (taken out of it)."""
        found = []
        for aggregate in self._held.values():
            events = aggregate.collect_events()
            if events:
                self.world[aggregate.id] = aggregate
                found.append((aggregate, events))
        return found


@dataclass
class Batch:
    """Consecutive commands' events with the same metadata: one append."""

    key: tuple[str, str | None, tuple[str, ...], str | None]
    entries: list[tuple[type[Aggregate], uuid.UUID, list[Any]]] = field(default_factory=list)
    events: int = 0
    streams: set[uuid.UUID] = field(default_factory=set)


@dataclass(frozen=True)
class GeneratedHistory:
    events: int
    seconds: float
    tenants: tuple[str, ...]
    tokens: dict[str, str]
    """Each platform's coordinator bearer token."""
    organisations: int
    months: int
    appends: int
    pipeline_commands: int
    members: dict[str, list[tuple[uuid.UUID, bool]]]
    """Each platform's members at the end (id, suspended)."""
    call_seconds: float = 0.0
    """Wall time spent on calls (summed over the processes)."""
    pipeline_seconds: dict[str, float] = field(default_factory=dict)
    """Time in the pipeline by command (concurrent responses summed; over the processes)."""


class HistoryGenerator(Story):
    def __init__(
        self,
        runtime: Runtime,
        events: int,
        *,
        platforms: int = 3,
        only: int | None = None,
        seed: int = 12,
        batch: int = 5000,
        max_streams: int = 1000,
        calls: bool = True,
        calls_every: int = 2,
        progress: bool = True,
    ) -> None:
        self.runtime = runtime
        self.total = events
        self.only = only
        self.seed = seed
        self.batch_size = batch
        self.max_streams = max_streams
        self.with_calls = calls
        self.calls_every = calls_every
        self.show_progress = progress
        self.world: dict[uuid.UUID, Aggregate] = {}
        self.platforms: list[Tenant] = []
        self.shares = [s / sum(SHARES[:platforms]) for s in SHARES[:platforms]]
        self.target = events if only is None else round(events * self.shares[only])
        self.batch: Batch | None = None
        self.queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=2)
        self.appended = 0
        self.queued = 0
        self.appends = 0
        self.pipeline_commands = 0
        self.months = 0
        self.pipeline_events = 0
        self.call_seconds = 0.0
        """Wall time of the calls (issue, responses, claims, close), drains included."""
        self.pipeline_seconds: dict[str, float] = {}
        """Seconds spent in the pipeline, by command (calls are timed apart)."""

    # -- running commands ----------------------------------------------------------------

    async def run(
        self, cmd: Command[..., Any], actor: Actor, at: datetime, *a: Any, **k: Any
    ) -> Any:
        """One command in a `HeldUnit`; its events join the current batch."""
        request = CommandRequest(actor=actor, correlation_id="history", clock=at)
        unit = HeldUnit(self, request)
        result = await cmd.fn(unit, *a, **k)
        pending = unit.pending()
        if not pending:
            return result
        meta = unit.metadata()
        key = (meta.tenant, meta.actor, meta.roles, meta.reason)
        count = sum(len(events) for _, events in pending)
        batch = self.batch
        if batch is not None and (
            batch.key != key
            or batch.events + count > self.batch_size
            or len(batch.streams) >= self.max_streams
        ):
            await self.seal()
            batch = None
        if batch is None:
            batch = self.batch = Batch(key)
        for aggregate, events in pending:
            batch.entries.append((type(aggregate), aggregate.id, events))
            batch.streams.add(aggregate.id)
        batch.events += count
        self.queued += count
        return result

    async def seal(self) -> None:
        """Hand the current batch to the appender (and let it run)."""
        if self.batch is not None:
            await self.queue.put(self.batch)
            self.batch = None
        await asyncio.sleep(0)

    async def drain(self) -> None:
        """Everything so far appended (before a command that reads the store)."""
        await self.seal()
        await self.queue.join()

    def hold(self, aggregate: Aggregate) -> None:
        self.world[aggregate.id] = aggregate

    async def appender(self) -> None:
        store, keyring = self.runtime.store, self.runtime.keyring
        while (batch := await self.queue.get()) is not None:
            try:
                tenant, actor, roles, reason = batch.key
                subjects: set[uuid.UUID] = set()
                for _, _, events in batch.entries:
                    for event in events:
                        subjects |= event_subjects(event)
                keys = (
                    await keyring.keys_for(subjects, tenant=tenant, create=True) if subjects else {}
                )
                expected: dict[uuid.UUID, int] = {}
                new_events = []
                for cls, aggregate_id, events in batch.entries:
                    stream_type = stream_type_of(cls)
                    expected.setdefault(aggregate_id, events[0].originator_version - 1)
                    for event in events:
                        topic, payload = encode_event(event, keys)
                        new_events.append(
                            NewEvent(
                                stream_id=aggregate_id,
                                stream_type=stream_type,
                                version=event.originator_version,
                                topic=topic,
                                payload=payload,
                            )
                        )
                self.appends += 1
                metadata = Metadata(
                    tenant=tenant,
                    actor=actor,
                    roles=roles,
                    correlation_id=f"history/{self.appends}",
                    reason=reason,
                )
                await store.append(new_events, expected=expected, metadata=metadata)
                self.appended += len(new_events)
            finally:
                self.queue.task_done()
        self.queue.task_done()

    async def pipeline(
        self, cmd: Command[..., Any], actor: Actor, at: datetime, *a: Any, **k: Any
    ) -> Any:
        """A command through the product's pipeline (reads and writes the store)."""
        self.pipeline_commands += 1
        request = CommandRequest(actor=actor, correlation_id="history", clock=at)
        started = time.monotonic()
        try:
            return await self.runtime.pipeline.run(cmd, request, *a, **k)
        finally:
            name = cmd.fn.__name__
            spent = time.monotonic() - started
            self.pipeline_seconds[name] = self.pipeline_seconds.get(name, 0.0) + spent

    # -- the story -----------------------------------------------------------------------

    async def generate(self) -> GeneratedHistory:
        started = time.monotonic()
        task = asyncio.create_task(self.appender())
        try:
            await self._platforms()
            month = date(2020, 1, 1)
            while self.queued + self.pipeline_events < self.target:
                for platform in self.platforms:
                    await self._month(platform, month, self.months)
                    if self.queued + self.pipeline_events >= self.target:
                        break
                self.months += 1
                month = (month.replace(day=28) + timedelta(days=5)).replace(day=1)
                if self.show_progress and self.months % 12 == 0:
                    rate = self.appended / (time.monotonic() - started)
                    who = ", ".join(p.tenant for p in self.platforms)
                    print(
                        f"  {who} {month:%Y-%m}: {self.appended:,} events appended ({rate:,.0f}/s)",
                        file=sys.stderr,
                        flush=True,
                    )
            await self.drain()
        finally:
            if not task.done():
                await self.queue.put(None)
            await task
        async with self.runtime.pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM events")
        return GeneratedHistory(
            events=int(total),
            seconds=time.monotonic() - started,
            tenants=tuple(p.tenant for p in self.platforms),
            tokens={p.tenant: p.token for p in self.platforms},
            organisations=sum(p.registered for p in self.platforms),
            months=self.months,
            appends=self.appends,
            pipeline_commands=self.pipeline_commands,
            call_seconds=self.call_seconds,
            pipeline_seconds=dict(self.pipeline_seconds),
            members={
                p.tenant: [
                    (m.id, m.status == "suspended")
                    for m in p.members
                    if m.status in ("member", "suspended")
                ]
                for p in self.platforms
            },
        )

    async def _platforms(self) -> None:
        per_org = EVENTS_PER_ORGANISATION
        for n, share in enumerate(self.shares):
            if self.only is not None and n != self.only:
                continue
            tenant = f"bench-{CITIES[n]}"
            operator = Actor.operator(tenant, "history")
            created = await self.runtime.pipeline.run(
                create_platform,
                CommandRequest(actor=operator, clock=datetime(2019, 12, 1, 12, tzinfo=AMSTERDAM)),
                name=f"Verbinders {CITIES[n].title()} (bench)",
                city="Haarlem",
                started_on=date(2019, 12, 1),
            )
            self.pipeline_events += 2
            self.world[platform_id(tenant)] = await self.runtime.repository.get(
                Platform, platform_id(tenant), tenant=tenant
            )
            coordinator = Actor(tenant=tenant, roles=("coordinator",), label="coordinator")
            assert created.token.token is not None
            self.platforms.append(
                Tenant(
                    tenant=tenant,
                    actor=coordinator,
                    token=created.token.token,
                    organisations=max(20, round(self.total * share / per_org)),
                    random=random.Random(f"{self.seed}/{n}"),
                )
            )


async def generate(
    runtime: Runtime, events: int, *, processes: bool = False, **options: Any
) -> GeneratedHistory:
    """Write a history of about `events` events into the runtime's store; with `processes`,
    each platform's story in a process of its own (the same stories, told side by side)."""
    if not processes:
        return await HistoryGenerator(runtime, events, **options).generate()
    platforms = options.pop("platforms", 3)
    progress = options.pop("progress", True)
    started = time.monotonic()
    command = [sys.executable, str(Path(__file__)), "--worker-dsn", runtime.database.dsn]
    command += ["--events", str(events), "--platforms", str(platforms)]
    command += ["--seed", str(options.get("seed", 12)), "--batch", str(options.get("batch", 5000))]
    command += ["--calls-every", str(options.get("calls_every", 2))]
    if not options.get("calls", True):
        command.append("--no-calls")
    workers = [
        await asyncio.create_subprocess_exec(
            *command,
            "--only",
            str(n),
            stdout=asyncio.subprocess.PIPE,
            stderr=None if progress else asyncio.subprocess.DEVNULL,
        )
        for n in range(platforms)
    ]
    outputs = await asyncio.gather(*(w.communicate() for w in workers))
    parts = []
    for worker, (out, _) in zip(workers, outputs, strict=True):
        if worker.returncode != 0:
            raise RuntimeError(f"a history worker failed ({worker.returncode})")
        parts.append(json.loads(out.decode().strip().splitlines()[-1]))
    async with runtime.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM events")
    return GeneratedHistory(
        events=int(total),
        seconds=time.monotonic() - started,
        tenants=tuple(t for p in parts for t in p["tenants"]),
        tokens={t: v for p in parts for t, v in p["tokens"].items()},
        organisations=sum(p["organisations"] for p in parts),
        months=max(p["months"] for p in parts),
        appends=sum(p["appends"] for p in parts),
        pipeline_commands=sum(p["pipeline_commands"] for p in parts),
        call_seconds=sum(p["call_seconds"] for p in parts),
        pipeline_seconds={
            name: sum(p["pipeline_seconds"].get(name, 0.0) for p in parts)
            for name in sorted({n for p in parts for n in p["pipeline_seconds"]})
        },
        members={
            t: [(uuid.UUID(m), s) for m, s in v] for p in parts for t, v in p["members"].items()
        },
    )


async def worker(args: argparse.Namespace) -> None:
    """One platform's story (`--only`) into the database at `--worker-dsn`; prints its
    `GeneratedHistory` as the last line of JSON."""
    from verbinders.config import Settings
    from verbinders.runtime import open_runtime

    # `issue_call` reads its addressees from the whole history: on a big history on a busy
    # machine that can take longer than the API's 30 s statement timeout.
    settings = Settings(
        database_url=args.worker_dsn,
        run_projections=False,
        append_connections=0,
        statement_timeout_s=600,
    )
    async with open_runtime(settings, min_size=1, max_size=10) as runtime:
        history = await HistoryGenerator(
            runtime,
            args.events,
            platforms=args.platforms,
            only=args.only,
            seed=args.seed,
            batch=args.batch,
            calls=not args.no_calls,
            calls_every=args.calls_every,
        ).generate()
    print(json.dumps(asdict(history), default=str))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded PG 18)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--platforms", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--batch", type=int, default=5000, help="events per append at most")
    parser.add_argument("--no-calls", action="store_true", help="no calls (pipeline commands)")
    parser.add_argument(
        "--calls-every", type=int, default=2, help="months between a platform's calls"
    )
    parser.add_argument(
        "--one-process", action="store_true", help="all platforms in this process, in turn"
    )
    parser.add_argument("--worker-dsn", help=argparse.SUPPRESS)
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


async def main() -> None:
    from common import scratch_database
    from verbinders.config import Settings
    from verbinders.runtime import open_runtime

    args = parse_args()
    if args.worker_dsn:
        await worker(args)
        return
    async with scratch_database(args.database_url) as scratch:
        settings = Settings(database_url=scratch.dsn, run_projections=False)
        async with open_runtime(settings) as runtime:
            history = await generate(
                runtime,
                args.events,
                processes=not args.one_process,
                platforms=args.platforms,
                seed=args.seed,
                batch=args.batch,
                calls=not args.no_calls,
                calls_every=args.calls_every,
            )
    print(
        f"{history.events:,} events ({history.organisations:,} organisations,"
        f" {history.months} months, {history.appends:,} appends, {history.pipeline_commands:,}"
        f" commands through the pipeline) in {history.seconds:.1f} s:"
        f" {history.events / history.seconds:,.0f} events/s; calls {history.call_seconds:.1f} s"
        f" (summed over the processes)"
    )
    for name, seconds in history.pipeline_seconds.items():
        print(f"  {name}: {seconds:.1f} s in the pipeline")


if __name__ == "__main__":
    asyncio.run(main())
