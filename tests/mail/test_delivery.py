"""The mail worker against a real SMTP server on loopback (aiosmtpd): what arrives, to whom,
once; a server that refuses for a while; forgotten persons; a worker killed mid-delivery."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from tests.calls_support import add_member, issue
from tests.mail.smtp_server import SmtpServer
from tests.platforms import make_platform
from verbinders.application import organisations as org_service
from verbinders.application.context import Actor
from verbinders.config import Settings
from verbinders.database import Database
from verbinders.mail.outbox import OutboxStatus, outbox_status
from verbinders.mail.worker import MailWorker
from verbinders.runtime import Runtime, runtime_on

WORKER = Path(__file__).with_name("worker_process.py")
TENANT = "haarlem"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def runtime(database: str, pool: asyncpg.Pool, smtp: SmtpServer) -> AsyncIterator[Runtime]:
    settings = Settings(
        snapshot_every=0,
        smtp_url=smtp.url,
        smtp_connections=2,
        mail_from="Verbinders Haarlem <oproep@verbinders.example>",
    )
    async with runtime_on(settings, Database(pool=pool, dsn=database, embedded=False)) as rt:
        await make_platform(rt, TENANT, parties=False)
        yield rt


@asynccontextmanager
async def worker(runtime: Runtime) -> AsyncIterator[MailWorker]:
    mail = MailWorker(runtime)
    mail.base_delay, mail.poll = 0.05, 0.2
    stop = asyncio.Event()
    task = asyncio.create_task(mail.run(stop))
    try:
        yield mail
    finally:
        stop.set()
        await task


async def status(runtime: Runtime) -> OutboxStatus:
    async with runtime.pool.acquire() as conn:
        return await outbox_status(conn, smtp_configured=True)


async def until(runtime: Runtime, done: str, count: int, timeout: float = 30.0) -> OutboxStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = await status(runtime)
        if getattr(current, done) >= count:
            return current
        await asyncio.sleep(0.05)
    raise AssertionError(f"{done} did not reach {count}: {await status(runtime)}")


async def test_every_contact_person_of_every_addressee_gets_the_call_once(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    one = await add_member(runtime, TENANT, "Al Amal", contacts=2)
    two = await add_member(runtime, TENANT, "Buurtvrouwen")
    result = await issue(runtime, Actor.operator(TENANT))
    async with worker(runtime):
        done = await until(runtime, "sent", 3)
    arrived = smtp.handler.arrived
    assert sorted(a.recipient for a in arrived) == sorted([*one.emails, *two.emails])
    assert len({a.message_id for a in arrived}) == 3
    assert {a.call for a in arrived} == {result.id}
    assert all(a.subject == "[CRITICAL] Calamiteit: Wateroverlast Schalkwijk" for a in arrived)
    assert all("De Molenwijk staat onder water" in a.body for a in arrived)
    assert all(a.message_id.endswith("@verbinders.example>") for a in arrived)
    assert (done.sent, done.pending, done.failed, done.in_doubt) == (3, 0, 0, 0)


async def test_a_forgotten_or_removed_person_gets_nothing(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    member = await add_member(runtime, TENANT, "Al Amal", contacts=3)
    operator = Actor.operator(TENANT)
    await issue(runtime, operator)
    forgotten, removed, _ = member.persons
    await runtime.pipeline.run(
        org_service.forget_contact, operator, member.organisation_id, forgotten
    )
    await runtime.pipeline.run(
        org_service.remove_contact, operator, member.organisation_id, removed
    )
    async with worker(runtime):
        done = await until(runtime, "sent", 1)
    assert [a.recipient for a in smtp.handler.arrived] == [member.emails[2]]
    assert (done.sent, done.skipped) == (1, 0)  # the others were no deliveries at all


async def test_a_person_forgotten_after_expansion_is_skipped(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    member = await add_member(runtime, TENANT, "Al Amal", contacts=2)
    operator = Actor.operator(TENANT)
    await issue(runtime, operator)
    smtp.handler.refuse = "451 4.3.0 try again later"
    async with worker(runtime):
        await until(runtime, "pending", 2)
        await runtime.pipeline.run(
            org_service.forget_contact, operator, member.organisation_id, member.persons[0]
        )
        smtp.handler.refuse = None
        done = await until(runtime, "sent", 1)
        done = await until(runtime, "skipped", 1)
    assert [a.recipient for a in smtp.handler.arrived] == [member.emails[1]]
    assert (done.sent, done.skipped) == (1, 1)


async def test_a_server_that_refuses_for_a_while_gets_everything_later_and_nothing_twice(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    members = [await add_member(runtime, TENANT, f"Vereniging {n}") for n in range(5)]
    smtp.handler.refuse = "451 4.3.0 mailbox busy, try again later"
    await issue(runtime, Actor.operator(TENANT))
    async with worker(runtime):
        while smtp.handler.attempts < 10:  # each delivery tried at least twice, on average
            await asyncio.sleep(0.02)
        assert smtp.handler.arrived == []
        smtp.handler.refuse = None
        done = await until(runtime, "sent", 5)
    arrived = smtp.handler.arrived
    assert sorted(a.recipient for a in arrived) == sorted(m.emails[0] for m in members)
    assert Counter(a.message_id for a in arrived).most_common(1)[0][1] == 1
    assert (done.sent, done.pending, done.failed, done.in_doubt) == (5, 0, 0, 0)
    async with runtime.pool.acquire() as conn:
        assert await conn.fetchval("SELECT min(attempts) FROM mail_deliveries") >= 2


async def test_a_permanent_refusal_fails_the_delivery_for_good(
    runtime: Runtime, smtp: SmtpServer
) -> None:
    await add_member(runtime, TENANT, "Onbekend")
    smtp.handler.refuse = "550 5.1.1 no such mailbox"
    await issue(runtime, Actor.operator(TENANT))
    async with worker(runtime):
        done = await until(runtime, "failed", 1)
    assert (done.sent, done.failed) == (0, 1)
    assert smtp.handler.attempts == 1


@pytest.mark.parametrize(
    ("killed_at", "twice"),
    [("rcpt", 0), ("data", 1)],
    ids=["before-the-final-dot", "after-the-final-dot"],
)
async def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_only_what_is_in_doubt(
    runtime: Runtime, smtp: SmtpServer, database: str, killed_at: str, twice: int
) -> None:
    """Killed while the server holds a message at RCPT (the final dot never went out: sent
    again, once) or after the data, before the server's reply (in doubt: sent again with the
    same Message-ID, so it arrives twice under one id). Everything else arrives once."""
    members = [await add_member(runtime, TENANT, f"Club {n}") for n in range(6)]
    await issue(runtime, Actor.operator(TENANT))
    smtp.handler.hold_at = killed_at
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        database,
        smtp.url,
        runtime.settings.mail_from,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        assert (await process.stdout.readline()).strip() == b"ready"
        assert await asyncio.to_thread(smtp.handler.holding.wait, 30)
        async with runtime.pool.acquire() as conn:
            committing = await conn.fetchval(
                "SELECT count(*) FROM mail_deliveries WHERE state = 'committing'"
            )
        assert committing == twice  # only a message whose final dot went out is in doubt
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    smtp.handler.release.set()  # the server goes on with what it held (the client is gone)
    async with worker(runtime):
        done = await until(runtime, "sent", 6)
    arrived = smtp.handler.arrived
    ids = Counter(a.message_id for a in arrived)
    assert sorted({a.recipient for a in arrived}) == sorted(m.emails[0] for m in members)
    assert len(ids) == 6
    assert sum(n - 1 for n in ids.values()) == twice
    assert (done.sent, done.in_doubt) == (6, twice)
