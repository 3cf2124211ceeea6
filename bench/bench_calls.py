"""Calls at scale: a call to 2,000 organisations, and the live picture under 200 responses/s.

    .venv/bin/python bench/bench_calls.py [--organisations 2000] [--rate 200] [--seconds 5]
                                          [--database-url postgresql://...]

(a) Delivery. 2,000 member organisations with one contact person each. The time from issuing
    the call (the command, which writes 2,000 outbox messages with its events) to the last
    message accepted by a real SMTP server on loopback (aiosmtpd), with the mail worker on 1
    and on 4 SMTP connections, against a baseline in the same run: the same 2,000 messages sent
    by a bare `smtplib` loop over one connection (no database, no outbox).
(b) The live picture. Responses arrive at `--rate` per second (each a command through the
    pipeline, from as many organisations); a picture stream (the API's `_live` generator, with
    the calls read model running in this process) reports, for each response, the delay from
    the command's acknowledgement to the first picture that counts it. Baseline in the same
    run: the raw feed's delay to a subscriber (the store's subscription).

Without `--database-url` an embedded PostgreSQL 18 in a temporary folder; with it, a database
of its own created and dropped on that server. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
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
from verbinders.domain.call_responses import Response
from verbinders.domain.calls import CallKind, Need, NeedKind
from verbinders.mail.worker import MailWorker
from verbinders.runtime import Runtime, open_runtime
from verbinders.store.subscription import subscribe
from verbinders.workers import prepare_workers

TENANT = "bench"


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


async def delivery(runtime: Runtime, smtp: SmtpServer, count: int, connections: int) -> float:
    runtime_settings = runtime.settings
    object.__setattr__(runtime_settings, "smtp_connections", connections)
    before = len(smtp.handler.arrived)
    worker = MailWorker(runtime)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    started = time.perf_counter()
    await issue(runtime, f"Bench {connections}")
    while len(smtp.handler.arrived) < before + count:  # noqa: ASYNC110 (another thread's list)
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return elapsed


async def live(runtime: Runtime, organisations: list[uuid.UUID], rate: int, seconds: float):  # type: ignore[no-untyped-def]
    call_id = await issue(runtime, "Live")
    acked: dict[int, float] = {}
    picture_delays: list[float] = []
    feed_delays: list[float] = []
    stopping = asyncio.Event()
    target = min(len(organisations), int(rate * seconds))
    start_position = await runtime.store.last_position()

    async def watch_picture() -> None:
        counted = 0
        async for message in _live(runtime, TENANT, call_id, None, stopping):
            import json

            if message.data is None:
                continue
            responded = json.loads(str(message.data))["responded"]
            now = time.perf_counter()
            for n in range(counted + 1, responded + 1):
                if n in acked:
                    picture_delays.append(now - acked[n])
            counted = max(counted, responded)
            if counted >= target:
                return

    async def watch_feed() -> None:
        seen = 0
        async for batch in subscribe(
            runtime.store, runtime.signal, after=start_position, tenant=TENANT
        ):
            now = time.perf_counter()
            for event in batch:
                if event.topic.endswith("CallResponse.Responded"):
                    seen += 1
                    if seen in acked:
                        feed_delays.append(now - acked[seen])
            if seen >= target:
                return

    picture_task = asyncio.create_task(watch_picture())
    feed_task = asyncio.create_task(watch_feed())
    await asyncio.sleep(0.5)
    interval = 1.0 / rate
    begun = time.perf_counter()
    order = 0
    lock = asyncio.Lock()

    limit = asyncio.Semaphore(16)  # at most as many commands in flight as a busy API has

    async def respond(organisation: uuid.UUID) -> None:
        nonlocal order
        async with limit:
            await runtime.pipeline.run(
                answers.respond_to_call,
                Actor.operator(TENANT),
                call_id,
                organisation,
                Response(available=True, volunteers=3),
            )
        async with lock:
            order += 1
            acked[order] = time.perf_counter()

    sending = []
    for n, organisation in enumerate(organisations[:target]):
        delay = begun + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sending.append(asyncio.create_task(respond(organisation)))
    await asyncio.gather(*sending)
    achieved = target / (time.perf_counter() - begun)
    await asyncio.wait_for(asyncio.gather(picture_task, feed_task), 60)
    stopping.set()
    return achieved, picture_delays, feed_delays


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--organisations", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    smtp = SmtpServer()
    smtp.start()
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
            print(f"{len(organisations)} members made in {time.perf_counter() - t:.1f} s")
            bare = await asyncio.to_thread(bare_smtplib, smtp.port, args.organisations)
            one = await delivery(runtime, smtp, args.organisations, 1)
            four = await delivery(runtime, smtp, args.organisations, 4)
            print(f"(a) a call to {args.organisations} organisations, issue to last accepted:")
            print(f"    bare smtplib loop, 1 connection (baseline): {bare:6.2f} s")
            print(
                f"    outbox + mail worker, 1 connection:         {one:6.2f} s"
                f"  ({one / bare:.2f}x the baseline)"
            )
            print(
                f"    outbox + mail worker, 4 connections:        {four:6.2f} s"
                f"  ({four / bare:.2f}x the baseline)"
            )
            await prepare_workers(runtime)
            stop = asyncio.Event()
            runner = asyncio.create_task(runtime.runner.run(stop))
            achieved, picture, feed = await live(runtime, organisations, args.rate, args.seconds)
            stop.set()
            await runner
            print(
                f"(b) {len(picture)} responses at {achieved:.0f}/s: delay from a response's"
                " acknowledgement to ..."
            )
            for name, values in (("the raw feed (baseline)", feed), ("the live picture", picture)):
                print(
                    f"    {name:24s} p50 {1000 * statistics.median(values):6.1f} ms"
                    f"  p99 {1000 * pct(values, 99):6.1f} ms  max {1000 * max(values):6.1f} ms"
                )
            ratio = statistics.median(picture) / statistics.median(feed)
            print(f"    picture/feed p50 ratio: {ratio:.1f}x")
    finally:
        smtp.stop()
        with contextlib.suppress(Exception):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
