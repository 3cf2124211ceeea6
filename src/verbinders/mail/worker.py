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
   `max_delay`); a 5xx or `max_attempts` attempts: `failed`. One trip to the connection's
   thread finishes a message and begins the next; the next one's `committing` mark and the
   former's outcome go into one statement, and the statements of all connections that are
   ready at the same moment into one (`marks.py`).

Never twice: a delivery is sent by one leader (its session id guards every update), and is
sent again only if it is not `sent`. What remains is the moment between the server's
acceptance and the `sent` mark, which no protocol can make atomic: if the process dies (or
its database connection breaks) after the final dot and before that mark, the delivery is
`committing` and the next leader sends it again, counting it in `in_doubt`, with the same
`Message-ID` (`<message.person@domain>`), so that mail systems that recognise duplicates by
their Message-ID show it once. That moment is the server's reply to the final dot, the next
message's envelope on the same connection (MAIL, RCPT, DATA and the data, which the server
answers at once; if it takes longer than `mark_wait`, the `sent` mark is written on its own
meanwhile) and one UPDATE. A delivery interrupted before the final dot (`sending`) is sent
again safely: the server discards an unfinished transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

from verbinders.domain.organisations import Organisation
from verbinders.leadership import LeaderWorker
from verbinders.mail.marks import Mark, MarkWriter
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
    claim_batch = 64
    """Deliveries claimed per SMTP connection and round."""
    mark_wait = 0.05
    """Longest a message's `sent` mark waits for the next message's envelope (seconds)."""
    mark_batch = 64
    """Most skips and failures one connection holds before it writes them."""

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
            claimed = await pooled.fetch(
                CLAIM_SQL, self.session, self.connections * self.claim_batch
            )
        if claimed:
            await self.send_all(claimed, MarkWriter(conn, self.session))
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

    async def send_all(self, claimed: list[asyncpg.Record], marks: MarkWriter) -> None:
        async with self.runtime.connection() as conn:
            notices = {
                row["id"]: row
                for row in await conn.fetch(
                    "SELECT id, call_id, subject, body FROM mail_notices WHERE id = any($1)",
                    list({row["notice_id"] for row in claimed}),
                )
            }
            organisations = await self._organisations(claimed, conn)
        queue = deque(claimed)

        def next_message(buffered: list[Mark]) -> tuple[asyncpg.Record, str, bytes] | None:
            """The next delivery to begin, and its recipient and message; the ones whose person
            is no longer a contact with an address are `skipped` (in `buffered`)."""
            while queue:
                row = queue.popleft()
                organisation = organisations.get(row["organisation_id"])
                contact = organisation.contacts.get(row["person_id"]) if organisation else None
                if contact is None or contact.is_redacted or not contact.email:
                    buffered.append(
                        Mark(row, "skipped", error="no longer a contact with an e-mail address")
                    )
                    continue
                notice = notices[row["notice_id"]]
                return row, contact.email, self.compose(row, notice, contact.name, contact.email)
            return None

        async def lane() -> None:
            connection = self._idle.pop() if self._idle else self._connection()
            try:
                await self._lane(connection, next_message, marks)
            finally:
                self._idle.append(connection)

        await asyncio.gather(*(lane() for _ in range(min(self.connections, len(claimed)))))

    def _connection(self) -> SmtpConnection:
        assert self.server is not None
        return SmtpConnection(self.server, timeout=self.timeout, local_hostname=self.domain)

    # -- one connection -------------------------------------------------------------------------

    async def _lane(
        self,
        connection: SmtpConnection,
        next_message: Callable[[list[Mark]], tuple[asyncpg.Record, str, bytes] | None],
        marks: MarkWriter,
    ) -> None:
        """Deliver over one connection until the round's queue is empty.

        Each trip to the connection's thread sends the final dot of the message begun before
        (if any) and begins the next; then one statement marks the next `committing` and
        writes the outcome of the one before. The window of doubt of a message accepted by
        the server is therefore its reply, the next message's envelope and that statement; if
        the next message's envelope takes longer than `mark_wait` (a slow server), the outcome
        is written on its own meanwhile. Skips and failures (nothing in doubt: a crash before
        they are written leaves their delivery `sending`, sent again safely) wait for the next
        statement, at most `mark_batch` of them."""
        loop = asyncio.get_running_loop()
        buffered: list[Mark] = []
        current: asyncpg.Record | None = None  # begun and marked `committing`
        while True:
            upcoming = next_message(buffered)
            if current is None and upcoming is None:
                break
            finished: asyncio.Future[tuple[int, str] | SmtpError] = loop.create_future()

            def report(
                outcome: tuple[int, str] | SmtpError,
                finished: asyncio.Future[tuple[int, str] | SmtpError] = finished,
            ) -> None:
                loop.call_soon_threadsafe(_settle, finished, outcome)

            trip = loop.run_in_executor(
                self._executor,
                connection.advance,
                current is not None,
                upcoming[1:] if upcoming else None,
                self.sender_address,
                report,
            )
            if current is not None and upcoming is not None:
                done, _ = await asyncio.wait({trip}, timeout=self.mark_wait)
                if not done:  # the next envelope is slow: write this outcome meanwhile
                    either: set[asyncio.Future[object]] = {finished, trip}  # type: ignore[arg-type]
                    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                    if finished.done():
                        buffered.append(self._outcome(current, finished.result()))
                        current = None
                        await marks.write(buffered)
                        buffered = []
            outcome, begun = await trip
            if current is not None and outcome is not None:
                buffered.append(self._outcome(current, outcome))
                current = None
            if upcoming is not None:
                row = upcoming[0]
                if begun is not None:
                    buffered.append(self._failure(row, begun))
                else:
                    committing = Mark(row, "committing", expected="sending")
                    took = await marks.write([*buffered, committing])
                    buffered = []
                    if committing.key in took:
                        current = row
                    else:  # no longer ours
                        await loop.run_in_executor(self._executor, connection.abort)
                    continue
            if len(buffered) >= self.mark_batch or any(m.state == "sent" for m in buffered):
                await marks.write(buffered)
                buffered = []
        await marks.write(buffered)

    def _outcome(self, row: asyncpg.Record, outcome: tuple[int, str] | SmtpError) -> Mark:
        """The mark for a message whose final dot went out."""
        if isinstance(outcome, SmtpError):  # the connection broke: nobody knows
            return self._failure(row, outcome, in_doubt=True)
        code, reply = outcome
        if code == 250:
            return Mark(row, "sent", reply=f"{code} {reply}", expected="committing")
        return self._failure(row, SmtpError(f"{code} {reply}", code))

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

    def _failure(self, row: asyncpg.Record, error: SmtpError, *, in_doubt: bool = False) -> Mark:
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
        return Mark(
            row,
            "failed" if final else "pending",
            error=str(error)[:500],
            doubt=1 if in_doubt else 0,
            delay=delay,
        )


def _settle(future: asyncio.Future[tuple[int, str] | SmtpError], outcome: object) -> None:
    if not future.done():
        future.set_result(outcome)  # type: ignore[arg-type]


def _reachable(organisation: Organisation | None) -> list[uuid.UUID]:
    """The organisation's contact persons with an e-mail address (not forgotten)."""
    if organisation is None or organisation.is_dissolved:
        return []
    return [
        person
        for person, contact in organisation.contacts.items()
        if contact.email and not contact.is_redacted
    ]
