"""The transactional outbox: notices written in the same transaction as the call's events.

Three tables (the `mail` component's migrations):

- `mail_notices`: what one notice of a call says (subject, body), once;
- `mail_messages`: the notice for one organisation, one row per addressee;
- `mail_deliveries`: one message for one contact person of that organisation, with its
  delivery state. The worker creates these rows when it expands a message (the contact
  persons as they are *then*: a person added before delivery gets it, a person removed or
  forgotten does not), and marks each as it goes:

      pending ──claim──> sending ──(the end of the DATA sent)──> committing ──250──> sent
         ^                 │                                          │
         └──── 4xx, a broken connection: retried later, with backoff ─┘
      pending/sending ──5xx, or too many attempts──> failed
      pending ──the person forgotten or no longer a contact──> skipped

Nothing here holds an e-mail address: addresses are personal data, sealed in the
organisation's events, and read (decrypted) only by the worker at the moment it sends. A
forgotten person's key is gone, so nothing can be sent to them any more.

The ids are deterministic (`notice_id`, `message_id`): a command that is retried with the same
idempotency key, or a policy's command seen twice, writes the same rows (`ON CONFLICT DO
NOTHING`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from verbinders.mail.notices import render

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.domain.calls import Call

__all__ = ["MIGRATIONS", "OutboxStatus", "enqueue", "message_id", "notice_id", "outbox_status"]

NAMESPACE = uuid.UUID("5d0c7f0e-93c4-5d8b-9f55-2a6e1c0b7d41")

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "the outbox of e-mail notices",
        """
CREATE TABLE mail_notices (
    id         uuid        PRIMARY KEY,
    tenant     text        NOT NULL,
    call_id    uuid        NOT NULL,
    kind       text        NOT NULL,
    subject    text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_notices_by_call ON mail_notices (tenant, call_id);

CREATE TABLE mail_messages (
    id              uuid        PRIMARY KEY,
    notice_id       uuid        NOT NULL REFERENCES mail_notices (id),
    tenant          text        NOT NULL,
    organisation_id uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expanded_at     timestamptz,
    recipients      integer
);
CREATE INDEX mail_messages_to_expand ON mail_messages (created_at) WHERE expanded_at IS NULL;
CREATE INDEX mail_messages_by_notice ON mail_messages (notice_id);

CREATE TABLE mail_deliveries (
    message_id      uuid        NOT NULL REFERENCES mail_messages (id),
    person_id       uuid        NOT NULL,
    tenant          text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'committing', 'sent', 'failed',
                                     'skipped')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    in_doubt        integer     NOT NULL DEFAULT 0,
    claim           uuid,
    sent_at         timestamptz,
    reply           text,
    last_error      text,
    PRIMARY KEY (message_id, person_id)
);
CREATE INDEX mail_deliveries_due ON mail_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX mail_deliveries_in_flight ON mail_deliveries (state)
    WHERE state IN ('sending', 'committing');
""",
    ),
]
"""The outbox's tables (the `mail` component; see `registry.py`)."""


def notice_id(call_id: uuid.UUID, kind: str, key: str) -> uuid.UUID:
    """The notice `kind` of a call; `key` tells notices of one kind apart (the call's version
    for updates, the round for reminders, the organisation for an addressee added)."""
    return uuid.uuid5(NAMESPACE, f"{call_id}/{kind}/{key}")


def message_id(notice: uuid.UUID, organisation_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{notice}/{organisation_id}")


async def enqueue(
    conn: Connection,
    call: Call,
    kind: str,
    key: str,
    organisations: Sequence[uuid.UUID],
    *,
    reason: str = "",
) -> uuid.UUID:
    """Write a notice of `call` for `organisations` in `conn`'s transaction (the command's,
    which appends the call's events before it commits). Returns the notice's id."""
    notice = notice_id(call.id, kind, key)
    subject, body = render(call, kind, reason=reason)
    await conn.execute(
        "INSERT INTO mail_notices (id, tenant, call_id, kind, subject, body)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        notice,
        call.tenant,
        call.id,
        kind,
        subject,
        body,
    )
    if organisations:
        await conn.execute(
            "INSERT INTO mail_messages (id, notice_id, tenant, organisation_id)"
            " SELECT m, $2, $3, o FROM unnest($1::uuid[], $4::uuid[]) AS t(m, o)"
            " ON CONFLICT (id) DO NOTHING",
            [message_id(notice, o) for o in organisations],
            notice,
            call.tenant,
            list(organisations),
        )
    return notice


class OutboxStatus(msgspec.Struct, frozen=True, kw_only=True):
    """How far the outbox has been delivered (all platforms: it is the process's duty)."""

    smtp: str
    """`configured`, or `not configured` (the messages wait in the outbox)."""
    unexpanded: int
    """Messages to organisations not yet turned into deliveries to their contact persons."""
    pending: int
    """Deliveries waiting (for their first attempt or, after a failure, for the next)."""
    in_flight: int
    sent: int
    failed: int
    """Refused for good by the server (5xx) or after too many attempts."""
    skipped: int
    """Persons forgotten, or no longer contacts, before their delivery."""
    in_doubt: int
    """Deliveries sent again after a worker stopped between the server's acceptance and the
    "sent" mark: these may have arrived twice (with the same Message-ID)."""


async def outbox_status(conn: Connection, *, smtp_configured: bool) -> OutboxStatus:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM mail_messages WHERE expanded_at IS NULL) AS unexpanded,"
        " count(*) FILTER (WHERE state = 'pending') AS pending,"
        " count(*) FILTER (WHERE state IN ('sending', 'committing')) AS in_flight,"
        " count(*) FILTER (WHERE state = 'sent') AS sent,"
        " count(*) FILTER (WHERE state = 'failed') AS failed,"
        " count(*) FILTER (WHERE state = 'skipped') AS skipped,"
        " coalesce(sum(in_doubt), 0)::integer AS in_doubt"
        " FROM mail_deliveries"
    )
    assert row is not None
    return OutboxStatus(smtp="configured" if smtp_configured else "not configured", **dict(row))
