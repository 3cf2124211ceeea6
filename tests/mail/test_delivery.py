"""The mail worker against a real SMTP server on loopback (aiosmtpd): what arrives, to whom,
once; a server that refuses for a while; forgotten persons; a worker killed mid-delivery."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
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
from verbinders.mail.marks import Mark, MarkWriter
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


async def _kill_while_held(
    runtime: Runtime,
    smtp: SmtpServer,
    database: str,
    *,
    hold_at: str,
    hold_after: int = 0,
    mark_wait: float | None = None,
    settled: dict[str, int] | None = None,
) -> dict[str, int]:
    """Start a worker process (one SMTP connection), wait until the server holds a message
    (the `hold_after`+1-th at `hold_at`) and, if `settled` is given, until the deliveries'
    states are those; kill it with SIGKILL and return the states it left."""
    smtp.handler.hold_at, smtp.handler.hold_after = hold_at, hold_after
    arguments = [database, smtp.url, runtime.settings.mail_from]
    if mark_wait is not None:
        arguments.append(str(mark_wait))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )

    async def states() -> dict[str, int]:
        async with runtime.pool.acquire() as conn:
            rows = await conn.fetch("SELECT state, count(*) FROM mail_deliveries GROUP BY state")
        return {row["state"]: row["count"] for row in rows}

    try:
        assert process.stdout is not None
        assert (await process.stdout.readline()).strip() == b"ready"
        assert await asyncio.to_thread(smtp.handler.holding.wait, 30)
        left = await states()
        deadline = time.monotonic() + 10
        while settled is not None and any(left.get(k, 0) != n for k, n in settled.items()):
            assert time.monotonic() < deadline, left
            await asyncio.sleep(0.02)
            left = await states()
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    smtp.handler.release.set()  # the server goes on with what it held (the client is gone)
    return left


async def _all_sent_after_a_new_worker(
    runtime: Runtime, smtp: SmtpServer, emails: list[str], twice: int
) -> None:
    async with worker(runtime):
        done = await until(runtime, "sent", len(emails))
    arrived = smtp.handler.arrived
    ids = Counter(a.message_id for a in arrived)
    assert sorted({a.recipient for a in arrived}) == sorted(emails)
    assert len(ids) == len(emails)
    assert sum(n - 1 for n in ids.values()) == twice
    assert (done.sent, done.in_doubt) == (len(emails), twice)


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
    left = await _kill_while_held(runtime, smtp, database, hold_at=killed_at)
    assert left.get("committing", 0) == twice  # only a message whose final dot went out
    await _all_sent_after_a_new_worker(runtime, smtp, [m.emails[0] for m in members], twice)


async def test_an_accepted_message_is_marked_sent_while_the_next_one_is_slow(
    runtime: Runtime, smtp: SmtpServer, database: str
) -> None:
    """A message's `sent` mark goes out with the next message's `committing` mark; when the
    server is slow with the next envelope (here: holds its RCPT) the first is marked on its
    own after `mark_wait`, so a worker killed then sends nothing twice."""
    members = [await add_member(runtime, TENANT, f"Club {n}") for n in range(6)]
    await issue(runtime, Actor.operator(TENANT))
    left = await _kill_while_held(
        runtime,
        smtp,
        database,
        hold_at="rcpt",
        hold_after=1,
        mark_wait=0.05,
        settled={"sent": 1, "committing": 0},
    )
    assert (left.get("sent"), left.get("committing", 0), left.get("sending")) == (1, 0, 5)
    assert len(smtp.handler.arrived) == 1
    await _all_sent_after_a_new_worker(runtime, smtp, [m.emails[0] for m in members], 0)


async def test_a_worker_killed_between_a_reply_and_its_mark_sends_that_message_in_doubt(
    runtime: Runtime, smtp: SmtpServer, database: str
) -> None:
    """The server accepted a message, but the worker died before it wrote `sent` (which waits
    for the next message's envelope, held here at RCPT for longer than any `mark_wait`): the
    delivery is left `committing` and is treated as after a crash at the final dot: sent again
    with the same Message-ID and counted in doubt. Nothing else is repeated."""
    members = [await add_member(runtime, TENANT, f"Club {n}") for n in range(6)]
    await issue(runtime, Actor.operator(TENANT))
    left = await _kill_while_held(
        runtime, smtp, database, hold_at="rcpt", hold_after=1, mark_wait=3600
    )
    assert (left.get("sent", 0), left.get("committing"), left.get("sending")) == (0, 1, 5)
    assert len(smtp.handler.arrived) == 1
    await _all_sent_after_a_new_worker(runtime, smtp, [m.emails[0] for m in members], 1)


async def test_the_marks_of_several_connections_go_into_one_statement_and_only_take_on_claims(
    runtime: Runtime,
) -> None:
    """Marks handed in together are written in one statement; a mark takes only on a delivery
    still claimed by this worker and in the state it expects."""
    mine, other = uuid.uuid4(), uuid.uuid4()
    notice = uuid.uuid4()
    messages = [uuid.uuid4() for _ in range(5)]
    async with runtime.pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO mail_notices (id, tenant, call_id, kind, subject, body)"
            " VALUES ($1, $2, $3, 'issued', 's', 'b')",
            notice,
            TENANT,
            uuid.uuid4(),
        )
        for n, message in enumerate(messages):
            await conn.execute(
                "INSERT INTO mail_messages (id, notice_id, tenant, organisation_id)"
                " VALUES ($1, $2, $3, $4)",
                message,
                notice,
                TENANT,
                uuid.uuid4(),
            )
            await conn.execute(
                "INSERT INTO mail_deliveries (message_id, person_id, tenant, state, claim)"
                " VALUES ($1, $2, $3, $4, $5)",
                message,
                uuid.uuid4(),
                TENANT,
                "committing" if n == 4 else "sending",
                other if n == 3 else mine,
            )
        rows = await conn.fetch("SELECT * FROM mail_deliveries ORDER BY message_id")
        writer = MarkWriter(conn, mine)
        marks = [Mark(row, "committing", expected="sending") for row in rows]
        took = await asyncio.gather(*(writer.write([mark]) for mark in marks))
        assert writer.statements == 1
        expected = {
            mark.key
            for mark in marks
            if mark.row["claim"] == mine and mark.row["state"] == "sending"
        }
        assert all(result == expected for result in took)
        assert len(expected) == 3
        states = await conn.fetch("SELECT state, claim FROM mail_deliveries")
        assert Counter((r["state"], r["claim"] == mine) for r in states) == {
            ("committing", True): 4,
            ("sending", False): 1,
        }
