"""Calls at scale: a call to 2,000 organisations, and the live picture under 200 responses/s.

    .venv/bin/python bench/bench_calls.py [--organisations 2000] [--rate 200] [--seconds 5]
                                          [--connections 1,4,8] [--parts ab]
                                          [--projector process|here]
                                          [--database-url postgresql://...]

(a) Delivery. 2,000 member organisations with one contact person each. The time from issuing
    the call (the command, which writes 2,000 outbox messages with its events) to the last
    message accepted by a real SMTP server on loopback (aiosmtpd, in a process of its own:
    `bench_calls.py smtp`, so that it does not share this process's interpreter lock), with
    the mail worker on each of `--connections` SMTP connections, against a baseline in the
    same run: the same 2,000 messages sent by a bare `smtplib` loop over one connection (no
    database, no outbox).
(b) The live picture. Responses arrive at `--rate` per second (each a command through the
    pipeline, from as many organisations), taken by `--drivers` processes of their own
    (`bench_calls.py drive ...`, each with its own runtime and pool, as API processes are;
    organisation n to driver n mod drivers; 0: the bench's process), each with at most
    `--in-flight` commands at once. A picture stream (the API's `_live` generator, with the
    read models running in `verbinders project`, a process of their own, or with
    `--projector here` in this process) reports, for each response, the delay from the
    command's acknowledgement (its commit) to the first picture whose id (the position of
    its latest event) reaches the response's position: one stream in the bench's process,
    and one in a process of its own (`bench_calls.py watch ...`, its own runtime on the same
    database, woken by LISTEN/NOTIFY). Baselines in the same run: the raw feed's delay to a
    bare subscriber (the store's subscription) in each of the two processes, and the `calls`
    read model's checkpoint, looked at every 10 ms. Times are CLOCK_MONOTONIC, one clock for
    all processes.

Without `--database-url` an embedded PostgreSQL 18 in a temporary folder; with it, a database
of its own created and dropped on that server. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import smtplib
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.calls_support import add_member
from tests.mail.smtp_server import SmtpServer

from verbinders.api.routes.call_board import _live
from verbinders.application import call_responses as answers
from verbinders.application.calls import issue_call
from verbinders.application.context import Actor
from verbinders.application.platforms import create_platform
from verbinders.config import Settings
from verbinders.database import Database, open_pool
from verbinders.domain.call_responses import Response
from verbinders.domain.calls import CallKind, Need, NeedKind
from verbinders.errors import Unavailable
from verbinders.mail.worker import MailWorker
from verbinders.projections.engine import wait_for_projection
from verbinders.runtime import Runtime, open_runtime, runtime_on
from verbinders.store.subscription import subscribe
from verbinders.workers import prepare_workers

TENANT = "bench"
CHECKPOINT_SQL = """
SELECT c.position FROM projection_generations g JOIN checkpoints c ON c.name = g.schema_name
 WHERE g.name = $1 AND g.state = 'active'
"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def members(runtime: Runtime, count: int) -> list[uuid.UUID]:
    made: list[uuid.UUID] = []
    semaphore = asyncio.Semaphore(8)

    async def one(n: int) -> None:
        async with semaphore:
            member = await add_member(runtime, TENANT, f"Vereniging {n:05d}")
            made.append(member.organisation_id)

    await asyncio.gather(*(one(n) for n in range(count)))
    return made


async def issue(runtime: Runtime, title: str) -> uuid.UUID:
    result = await runtime.pipeline.run(
        issue_call,
        Actor.operator(TENANT),
        kind=CallKind.CALAMITY,
        title=title,
        message="Bench",
        respond_by=datetime_in(hours=6),
        needs=(Need(id="v", kind=NeedKind.VOLUNTEERS, description="handen", quantity=500),),
    )
    return uuid.UUID(result.id)


def datetime_in(hours: float):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(hours=hours)


def bare_smtplib(port: int, count: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for n in range(count):
            message = EmailMessage()
            message["From"] = "bench@verbinders.example"
            message["To"] = f"contact0@bench{n}.example"
            message["Subject"] = "Calamiteit: bench"
            message["Message-ID"] = f"<{uuid.uuid4()}@verbinders.example>"
            message.set_content("Bench\n" * 20)
            smtp.send_message(message)
    return time.perf_counter() - started


class SmtpProcess:
    """The SMTP server in a process of its own (`bench_calls.py smtp`), and how many messages
    it has accepted (it says so on its standard output)."""

    def __init__(self) -> None:
        self.arrived = 0
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0
        self._reading: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "smtp", stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdout is not None
        self.port = int(await self.process.stdout.readline())
        self._reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.arrived = int(line)
            self._changed.set()

    async def wait_for(self, count: int) -> None:
        while self.arrived < count:
            self._changed.clear()
            await self._changed.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()
        if self._reading is not None:
            self._reading.cancel()


def serve_smtp() -> None:
    """`bench_calls.py smtp`: prints the port, then the count of messages accepted as it
    grows, until terminated."""
    server = SmtpServer()
    server.start()
    print(server.port, flush=True)
    told = 0
    while True:
        count = len(server.handler.arrived)
        if count != told:
            print(count, flush=True)
            told = count
        time.sleep(0.005)


async def delivery(
    runtime: Runtime, smtp: SmtpProcess, count: int, connections: int
) -> tuple[float, float]:
    """Seconds from issuing to the last message accepted, and the CPU seconds this process
    (the worker, with the command) used meanwhile."""
    runtime_settings = runtime.settings
    object.__setattr__(runtime_settings, "smtp_connections", connections)
    before = smtp.arrived
    worker = MailWorker(runtime)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    started, cpu = time.perf_counter(), time.process_time()
    await issue(runtime, f"Bench {connections}")
    await smtp.wait_for(before + count)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    stop.set()
    await task
    return elapsed, cpu


def delays(acked: dict[int, float], seen: list[tuple[float, int]]) -> list[float]:
    """For each acknowledged response (by its position), the time until a reader first showed
    a position at or past it; a reader that saw it before its acknowledgement was noted (in
    another process) counts 0."""
    found: list[float] = []
    pending = sorted(acked)
    index = 0
    for at, position in sorted(seen, key=lambda s: s[0]):
        while index < len(pending) and pending[index] <= position:
            found.append(max(0.0, at - acked[pending[index]]))
            index += 1
    return found


async def watch(
    runtime: Runtime, call_id: uuid.UUID, after: int, target: int, stopping: asyncio.Event
) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """What a reader of the call's picture stream and a bare subscriber to the feed see: when
    (CLOCK_MONOTONIC) they showed which position (the picture's id; the feed's latest
    response), until `target` responses."""
    pictures: list[tuple[float, int]] = []
    feed: list[tuple[float, int]] = []

    async def pictured() -> None:
        async for message in _live(runtime, TENANT, call_id, None, stopping):
            if message.data is None:
                continue
            picture = json.loads(str(message.data))
            pictures.append((time.monotonic(), int(picture["position"])))
            if picture["responded"] >= target:
                return

    async def fed() -> None:
        seen = 0
        async for batch in subscribe(runtime.store, runtime.signal, after=after, tenant=TENANT):
            now = time.monotonic()
            responses = [e for e in batch if e.topic.endswith("CallResponse.Responded")]
            if responses:
                seen += len(responses)
                feed.append((now, responses[-1].position))
            if seen >= target:
                return

    await asyncio.gather(pictured(), fed())
    return pictures, feed


async def watch_elsewhere(dsn: str, call_id: str, after: int, target: int) -> None:
    """`bench_calls.py watch DSN CALL AFTER TARGET`: `watch` in a process of its own; prints
    `ready`, then `picture|feed MONOTONIC COUNT` lines."""
    settings = Settings(database_url=dsn, snapshot_every=0)
    pool = await open_pool(dsn, settings, min_size=2, max_size=4)
    async with runtime_on(settings, Database(pool=pool, dsn=dsn, embedded=False)) as runtime:
        print("ready", flush=True)
        pictures, feed = await watch(runtime, uuid.UUID(call_id), after, target, asyncio.Event())
    for name, seen in (("picture", pictures), ("feed", feed)):
        for at, count in seen:
            print(name, at, count)


async def drive(
    runtime: Runtime,
    call_id: uuid.UUID,
    organisations: list[uuid.UUID],
    begun: float,
    rate: float,
    in_flight: int,
    *,
    first: int = 0,
    step: int = 1,
) -> dict[int, float]:
    """Respond for `organisations`, the k-th at `begun` + (first + k * step) / rate
    (CLOCK_MONOTONIC), at most `in_flight` at once; each response's position and when its
    command was acknowledged."""
    acked: dict[int, float] = {}
    busy_answers: list[float] = []
    limit = asyncio.Semaphore(in_flight)  # at most as many commands in flight as the API's

    async def respond(organisation: uuid.UUID) -> None:
        async with limit:
            while True:
                try:
                    result = await runtime.pipeline.run(
                        answers.respond_to_call,
                        Actor.operator(TENANT),
                        call_id,
                        organisation,
                        Response(available=True, volunteers=3),
                    )
                    break
                except Unavailable:  # 503 "busy": a client retries shortly
                    busy_answers.append(time.monotonic())
                    await asyncio.sleep(0.1)
        acked[result.position] = time.monotonic()

    sending = []
    for k, organisation in enumerate(organisations):
        delay = begun + (first + k * step) / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sending.append(asyncio.create_task(respond(organisation)))
    await asyncio.gather(*sending)
    if busy_answers:
        print(f"    {len(busy_answers)} commands answered busy (503) and retried", file=sys.stderr)
    return acked


async def drive_elsewhere(argv: list[str]) -> None:
    """`bench_calls.py drive DSN CALL FILE FIRST STEP RATE IN_FLIGHT`: `drive` in a process of
    its own (an API process taking responses); prints `ready`, reads the start moment from
    its standard input, then prints `POSITION MONOTONIC` per response."""
    dsn, call_id, share, first, step, rate, in_flight = argv
    text = await asyncio.to_thread(Path(share).read_text)
    organisations = [uuid.UUID(line) for line in text.split()]
    settings = Settings(database_url=dsn, snapshot_every=0)
    pool = await open_pool(dsn, settings)
    async with runtime_on(settings, Database(pool=pool, dsn=dsn, embedded=False)) as runtime:
        print("ready", flush=True)
        begun = float(await asyncio.to_thread(sys.stdin.readline))
        acked = await drive(
            runtime,
            uuid.UUID(call_id),
            organisations,
            begun,
            float(rate),
            int(in_flight),
            first=int(first),
            step=int(step),
        )
    for position, at in acked.items():
        print(position, at)


async def live(  # type: ignore[no-untyped-def]
    runtime: Runtime,
    organisations: list[uuid.UUID],
    rate: int,
    seconds: float,
    in_flight: int,
    drivers: int,
    folder: Path,
):
    call_id = await issue(runtime, "Live")
    acked: dict[int, float] = {}
    stopping = asyncio.Event()
    target = min(len(organisations), int(rate * seconds))
    start_position = await runtime.store.last_position()
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "watch",
        runtime.database.dsn,
        str(call_id),
        str(start_position),
        str(target),
        stdout=asyncio.subprocess.PIPE,
    )
    assert other.stdout is not None
    assert (await other.stdout.readline()).strip() == b"ready"
    here = asyncio.create_task(watch(runtime, call_id, start_position, target, stopping))
    polled: list[tuple[float, int]] = []
    done = asyncio.Event()

    async def poll_read_model() -> None:  # how far the read model is, every 10 ms
        async with runtime.pool.acquire() as conn:
            while not done.is_set() or not acked or polled[-1][1] < max(acked):
                checkpoint = await conn.fetchval(CHECKPOINT_SQL, "calls")
                polled.append((time.monotonic(), int(checkpoint or 0)))
                await asyncio.sleep(0.01)

    polling = asyncio.create_task(poll_read_model())
    await asyncio.sleep(0.5)
    chosen = organisations[:target]
    if drivers == 0:  # the commands in this process
        begun = time.monotonic() + 0.1
        acked.update(await drive(runtime, call_id, chosen, begun, rate, in_flight))
    else:  # as several API processes: organisation n goes to driver n mod `drivers`
        started = []
        for d in range(drivers):
            share = folder / f"driver-{d}.txt"
            share.write_text("\n".join(str(o) for o in chosen[d::drivers]))
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "drive",
                runtime.database.dsn,
                str(call_id),
                str(share),
                str(d),
                str(drivers),
                str(rate),
                str(in_flight),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert process.stdout is not None
            assert (await process.stdout.readline()).strip() == b"ready"
            started.append(process)
        begun = time.monotonic() + 0.2
        outputs = await asyncio.gather(*(p.communicate(f"{begun}\n".encode()) for p in started))
        for output, _ in outputs:
            for line in output.decode().splitlines():
                position, at = line.split()
                acked[int(position)] = float(at)
    commands_took = max(acked.values()) - begun
    done.set()
    achieved = target / commands_took
    pictures, feed = await asyncio.wait_for(here, 60)
    await asyncio.wait_for(polling, 60)
    stopping.set()
    output, _ = await asyncio.wait_for(other.communicate(), 60)
    elsewhere: dict[str, list[tuple[float, int]]] = {"picture": [], "feed": []}
    for line in output.decode().splitlines():
        name, at, count = line.split()
        elsewhere[name].append((float(at), int(count)))
    first = next(at for at, position in polled if position >= min(acked))
    print(
        f"    the read model applied {target} responses over {polled[-1][0] - first:.1f} s"
        f" after its first; the commands took {commands_took:.1f} s"
    )
    return achieved, {
        "bare feed, bench process (baseline)": delays(acked, feed),
        "bare feed, other process (baseline)": delays(acked, elsewhere["feed"]),
        "read model's checkpoint (every 10 ms)": delays(acked, polled),
        "picture stream, bench process": delays(acked, pictures),
        "picture stream, other process": delays(acked, elsewhere["picture"]),
    }


def busy() -> str:
    with open("/proc/loadavg") as loadavg:
        return "load average " + " ".join(loadavg.read().split()[:3])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organisations", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--in-flight", type=int, default=16, help="(b): most response commands at once, each"
    )
    parser.add_argument(
        "--drivers",
        type=int,
        default=2,
        help="(b): processes taking the responses (0: this one)",
    )
    parser.add_argument("--connections", default="1,4,8", help="SMTP connections to try in (a)")
    parser.add_argument("--parts", default="ab", help="a: delivery, b: the live picture")
    parser.add_argument(
        "--projector",
        choices=("process", "here"),
        default="process",
        help="(b): run the read models in `verbinders project` (as in production) or here",
    )
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    smtp = SmtpProcess()
    await smtp.start()
    folder = Path(tempfile.mkdtemp(prefix="verbinders-bench-calls-"))
    settings = Settings(
        data_dir=folder, database_url=args.database_url, smtp_url=smtp.url, snapshot_every=0
    )
    try:
        async with open_runtime(settings) as runtime:
            await runtime.pipeline.run(
                create_platform,
                Actor.operator(TENANT),
                name="Bench",
                city="Haarlem",
                started_on=date(2019, 12, 1),
            )
            t = time.perf_counter()
            organisations = await members(runtime, args.organisations)
            print(
                f"{len(organisations)} members made in {time.perf_counter() - t:.1f} s ({busy()})"
            )
            if "a" in args.parts:
                cpu = time.process_time()
                bare = await asyncio.to_thread(bare_smtplib, smtp.port, args.organisations)
                per_message = 1000 * (time.process_time() - cpu) / args.organisations
                print(f"(a) a call to {args.organisations} organisations, issue to last accepted:")
                print(
                    f"    bare smtplib loop, 1 connection (baseline): {bare:6.2f} s"
                    f"  (CPU {per_message:.2f} ms a message)"
                )
                for connections in (int(n) for n in args.connections.split(",")):
                    took, cpu = await delivery(runtime, smtp, args.organisations, connections)
                    per_message = 1000 * cpu / args.organisations
                    print(
                        f"    outbox + mail worker, {connections} connection(s): {took:6.2f} s"
                        f"  ({took / bare:.2f}x the baseline; CPU {per_message:.2f} ms a"
                        f" message; {busy()})"
                    )
            if "b" in args.parts:
                await prepare_workers(runtime)
                stop = asyncio.Event()
                projector = None
                if args.projector == "process":  # as in production: `verbinders project`
                    projector = await asyncio.create_subprocess_exec(
                        str(Path(sys.executable).with_name("verbinders")),
                        "project",
                        env={**os.environ, "VERBINDERS_DATABASE_URL": runtime.database.dsn},
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                    at = await runtime.store.last_position()
                    assert await wait_for_projection(runtime.pool, "calls", at, 120)
                    runner = None
                else:
                    runner = asyncio.create_task(runtime.runner.run(stop))
                try:
                    achieved, found = await live(
                        runtime,
                        organisations,
                        args.rate,
                        args.seconds,
                        args.in_flight,
                        args.drivers,
                        folder,
                    )
                finally:
                    stop.set()
                    if runner is not None:
                        await runner
                    if projector is not None:
                        projector.terminate()
                        await projector.wait()
                count = len(found["bare feed, bench process (baseline)"])
                takers = f"{args.drivers} processes" if args.drivers else "the bench process"
                print(
                    f"(b) {count} responses at {achieved:.0f}/s taken by {takers}, read models in"
                    f" {'a process of their own' if projector else 'this process'}"
                    f" ({busy()}): delay from a response's acknowledgement to ..."
                )
                for name, values in found.items():
                    print(
                        f"    {name:36s} n {len(values):5d}"
                        f"  p50 {1000 * statistics.median(values):7.1f} ms"
                        f"  p99 {1000 * pct(values, 99):7.1f} ms"
                        f"  max {1000 * max(values):7.1f} ms"
                    )
    finally:
        await smtp.stop()
        with contextlib.suppress(Exception):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["smtp"]:
        serve_smtp()
    elif sys.argv[1:2] == ["drive"]:
        asyncio.run(drive_elsewhere(sys.argv[2:]))
    elif sys.argv[1:2] == ["watch"]:
        asyncio.run(watch_elsewhere(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    else:
        asyncio.run(main())
