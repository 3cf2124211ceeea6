"""The mail worker: delivers the outbox after commit, one process at a time.

Runs under `verbinders serve` and `verbinders project` (one leads, the others stand by), only
when `VERBINDERS_SMTP_URL` names a server; without one the messages wait in the outbox and
`/health/ready` says so. Each round:

1. **Expand** messages not yet expanded: one delivery per contact person of the organisation
   who has an e-mail address, as the organisation's events stand now.
2. **Claim** due deliveries (`pending`, `next_attempt_at` passed, the person not forgotten):
   `sending`, one attempt more, marked with this leader's session id. Deliveries of persons
   forgotten meanwhile become `skipped`.
3. **Send** them over `smtp_connections` connections at once, each: read the person's address
   from the organisation's events (sealed personal data: a forgotten person's key is gone, a
   removed contact is no longer there: `skipped`), `begin` (everything but the final dot),
   mark `committing`, `finish` (the dot and the reply), mark `sent` with the reply. A 4xx or a
   broken connection: `pending` again after a backoff (`base_delay` · 2^(attempts-1), at most
   `max_delay`); a 5xx or `max_attempts` attempts: `failed`.

Never twice: a delivery is sent by one leader (its session id guards every update), and is
sent again only if it is not `sent`. What remains is the moment between the server's
acceptance and the `sent` mark, which no protocol can make atomic: if the process dies (or
its database connection breaks) after the final dot and before that mark, the delivery is
`committing` and the next leader sends it again, counting it in `in_doubt`, with the same
`Message-ID` (`<message.person@domain>`), so that mail systems that recognise duplicates by
their Message-ID show it once. A delivery interrupted before the final dot (`sending`) is
sent again safely: the server discards an unfinished transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

from verbinders.domain.organisations import Organisation
from verbinders.leadership import LeaderWorker
from verbinders.mail.smtp import SmtpConnection, SmtpError, parse_smtp_url

if TYPE_CHECKING:
    import asyncpg

    from verbinders.database import Connection
    from verbinders.runtime import Runtime

__all__ = ["MailWorker"]

log = logging.getLogger(__name__)

CLAIM_SQL = """
UPDATE mail_deliveries d
   SET state = 'sending', attempts = d.attempts + 1, claim = $1
  FROM (SELECT message_id, person_id FROM mail_deliveries
         WHERE state = 'pending' AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
 WHERE d.message_id = due.message_id AND d.person_id = due.person_id
RETURNING d.message_id, d.person_id, d.tenant, d.attempts,
          (SELECT m.organisation_id FROM mail_messages m WHERE m.id = d.message_id)
              AS organisation_id,
          (SELECT m.notice_id FROM mail_messages m WHERE m.id = d.message_id) AS notice_id
"""


class MailWorker(LeaderWorker):
    lock_name = "mail_outbox"
    base_delay = 1.0
    max_delay = 300.0
    max_attempts = 12
    poll = 5.0

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        settings = runtime.settings
        self.server = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        self.sender = settings.mail_from
        _, self.sender_address = parseaddr(settings.mail_from)
        self.domain = self.sender_address.rpartition("@")[2] or "localhost"
        self.connections = settings.smtp_connections
        self.timeout = settings.smtp_timeout_s
        self.session = uuid.uuid4()
        self._executor: ThreadPoolExecutor | None = None
        self._idle: list[SmtpConnection] = []

    async def run(self, stop: asyncio.Event) -> None:
        if self.server is None:
            log.warning(
                "no SMTP server configured (VERBINDERS_SMTP_URL): calls' e-mail waits in the outbox"
            )
            await stop.wait()
            return
        await super().run(stop)

    async def lead(self, conn: Connection, stop: asyncio.Event) -> None:
        self.session = uuid.uuid4()
        self._executor = ThreadPoolExecutor(self.connections, thread_name_prefix="smtp")
        try:
            await self.recover()
            while not stop.is_set():
                pokes = self.runtime.signal.pokes
                worked = await self.step(conn)
                if worked:
                    continue
                nearest = await conn.fetchval(
                    "SELECT min(next_attempt_at) FROM mail_deliveries WHERE state = 'pending'"
                )
                wait = self.poll
                if nearest is not None:
                    wait = max(0.02, min(wait, (nearest - datetime.now(UTC)).total_seconds()))
                await self.nap(stop, wait, pokes)
        finally:
            for connection in self._idle:
                with contextlib.suppress(Exception):
                    await asyncio.get_running_loop().run_in_executor(
                        self._executor, connection.close
                    )
            self._idle.clear()
            self._executor.shutdown(wait=False, cancel_futures=True)

    # -- the steps ------------------------------------------------------------------------------

    async def recover(self) -> int:
        """Deliveries a former leader left in flight: `sending` ones are safe to send again,
        `committing` ones are in doubt (sent again, counted). Returns how many."""
        async with self.runtime.connection() as conn:
            status = await conn.execute(
                "UPDATE mail_deliveries SET"
                " in_doubt = in_doubt + (state = 'committing')::integer,"
                " state = 'pending', next_attempt_at = now()"
                " WHERE state IN ('sending', 'committing') AND claim IS DISTINCT FROM $1",
                self.session,
            )
        count = int(status.split()[-1])
        if count:
            log.warning("mail: %d deliveries a former worker left in flight are sent again", count)
        return count

    async def step(self, conn: Connection) -> bool:
        """One round: expand, claim, send. True if there was anything to do."""
        expanded = await self.expand()
        await conn.execute("SELECT 1")  # still leading (the lock's connection is alive)
        async with self.runtime.connection() as pooled:
            await pooled.execute(
                "UPDATE mail_deliveries SET state = 'skipped', last_error = 'person forgotten'"
                " WHERE state = 'pending' AND person_id IN (SELECT subject FROM"
                " forgotten_subjects)"
            )
            claimed = await pooled.fetch(CLAIM_SQL, self.session, self.connections * 16)
        if claimed:
            await self.send_all(claimed)
        return bool(expanded or claimed)

    async def expand(self, limit: int = 200) -> int:
        """Deliveries for messages not yet expanded (see the module's notes)."""
        async with self.runtime.connection() as conn:
            rows = await conn.fetch(
                "SELECT id, tenant, organisation_id FROM mail_messages"
                " WHERE expanded_at IS NULL ORDER BY created_at LIMIT $1",
                limit,
            )
            if not rows:
                return 0
            organisations = await self._organisations(rows, conn)
            ids, persons, tenants, counts = [], [], [], {}
            for row in rows:
                organisation = organisations.get(row["organisation_id"])
                reachable = _reachable(organisation)
                counts[row["id"]] = len(reachable)
                for person in reachable:
                    ids.append(row["id"])
                    persons.append(person)
                    tenants.append(row["tenant"])
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO mail_deliveries (message_id, person_id, tenant)"
                    " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])"
                    " ON CONFLICT DO NOTHING",
                    ids,
                    persons,
                    tenants,
                )
                await conn.execute(
                    "UPDATE mail_messages m SET expanded_at = now(), recipients = c.n"
                    " FROM unnest($1::uuid[], $2::integer[]) AS c(id, n) WHERE m.id = c.id",
                    list(counts),
                    list(counts.values()),
                )
        return len(rows)

    async def _organisations(
        self, rows: list[asyncpg.Record], conn: Connection
    ) -> dict[uuid.UUID, Organisation]:
        by_tenant: dict[str, set[uuid.UUID]] = defaultdict(set)
        for row in rows:
            by_tenant[row["tenant"]].add(row["organisation_id"])
        found: dict[uuid.UUID, Organisation] = {}
        for tenant, ids in by_tenant.items():
            loaded = await self.runtime.repository.find_many(
                dict.fromkeys(ids, Organisation), tenant=tenant, connection=conn
            )
            found.update({k: v for k, v in loaded.items() if isinstance(v, Organisation)})
        return found

    async def send_all(self, claimed: list[asyncpg.Record]) -> None:
        async with self.runtime.connection() as conn:
            notices = {
                row["id"]: row
                for row in await conn.fetch(
                    "SELECT id, call_id, subject, body FROM mail_notices WHERE id = any($1)",
                    list({row["notice_id"] for row in claimed}),
                )
            }
            organisations = await self._organisations(claimed, conn)
        queue: asyncio.Queue[asyncpg.Record] = asyncio.Queue()
        for row in claimed:
            queue.put_nowait(row)

        async def sender() -> None:
            connection = self._idle.pop() if self._idle else self._connection()
            try:
                while not queue.empty():
                    row = queue.get_nowait()
                    organisation = organisations.get(row["organisation_id"])
                    await self.deliver(connection, row, notices[row["notice_id"]], organisation)
            finally:
                self._idle.append(connection)

        await asyncio.gather(*(sender() for _ in range(min(self.connections, len(claimed)))))

    def _connection(self) -> SmtpConnection:
        assert self.server is not None
        return SmtpConnection(self.server, timeout=self.timeout, local_hostname=self.domain)

    # -- one delivery ---------------------------------------------------------------------------

    async def deliver(
        self,
        connection: SmtpConnection,
        row: asyncpg.Record,
        notice: asyncpg.Record,
        organisation: Organisation | None,
    ) -> None:
        contact = organisation.contacts.get(row["person_id"]) if organisation else None
        if contact is None or contact.is_redacted or not contact.email:
            await self._mark(row, "skipped", error="no longer a contact with an e-mail address")
            return
        message = self.compose(row, notice, contact.name, contact.email)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self._executor, connection.begin, self.sender_address, contact.email, message
            )
        except SmtpError as error:
            await self._failed(row, error)
            return
        if not await self._mark(row, "committing", expected="sending"):
            await loop.run_in_executor(self._executor, connection.abort)  # no longer ours
            return
        try:
            code, reply = await loop.run_in_executor(self._executor, connection.finish)
        except SmtpError as error:
            await self._failed(row, error, in_doubt=True)
            return
        if code == 250:
            await self._mark(row, "sent", expected="committing", reply=f"{code} {reply}")
        else:
            await self._failed(row, SmtpError(f"{code} {reply}", code))

    def compose(self, row: asyncpg.Record, notice: asyncpg.Record, name: str, email: str) -> bytes:
        """The message, with a Message-ID that is the same for every attempt."""
        message = EmailMessage(policy=SMTP)
        message["From"] = self.sender
        local, _, domain = email.rpartition("@")
        message["To"] = Address(display_name=name, username=local, domain=domain)
        message["Subject"] = notice["subject"]
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = f"<{row['message_id']}.{row['person_id']}@{self.domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message["X-Verbinders-Call"] = str(notice["call_id"])
        message.set_content(notice["body"])
        return message.as_bytes()

    async def _mark(
        self,
        row: asyncpg.Record,
        state: str,
        *,
        expected: str | None = None,
        reply: str | None = None,
        error: str | None = None,
    ) -> bool:
        async with self.runtime.connection() as conn:
            status = await conn.execute(
                "UPDATE mail_deliveries SET state = $4, reply = coalesce($5, reply),"
                " last_error = coalesce($6, last_error),"
                " sent_at = CASE WHEN $4 = 'sent' THEN now() ELSE sent_at END"
                " WHERE message_id = $1 AND person_id = $2 AND claim = $3"
                " AND ($7::text IS NULL OR state = $7)",
                row["message_id"],
                row["person_id"],
                self.session,
                state,
                reply,
                error,
                expected,
            )
        return status.endswith(" 1")

    async def _failed(
        self, row: asyncpg.Record, error: SmtpError, *, in_doubt: bool = False
    ) -> None:
        attempts = int(row["attempts"])
        final = error.permanent or attempts >= self.max_attempts
        delay = min(self.base_delay * 2 ** (attempts - 1), self.max_delay)
        log.log(
            logging.WARNING if final else logging.INFO,
            "mail: delivery %s/%s attempt %d %s: %s",
            row["message_id"],
            row["person_id"],
            attempts,
            "failed for good" if final else f"failed, again in {delay:g} s",
            error,
        )
        async with self.runtime.connection() as conn:
            await conn.execute(
                "UPDATE mail_deliveries SET state = $4, last_error = $5,"
                " in_doubt = in_doubt + $6::integer,"
                " next_attempt_at = now() + make_interval(secs => $7)"
                " WHERE message_id = $1 AND person_id = $2 AND claim = $3",
                row["message_id"],
                row["person_id"],
                self.session,
                "failed" if final else "pending",
                str(error)[:500],
                1 if in_doubt else 0,
                delay,
            )


def _reachable(organisation: Organisation | None) -> list[uuid.UUID]:
    """The organisation's contact persons with an e-mail address (not forgotten)."""
    if organisation is None or organisation.is_dissolved:
        return []
    return [
        person
        for person, contact in organisation.contacts.items()
        if contact.email and not contact.is_redacted
    ]
