"""When a call's reminders fall due: rows written with the call's events, read by the timer.

A policy must not read the clock (its decisions must be the same however often it sees an
event), so the moment a reminder falls due is turned into an event: the `call_timers` rows
are written in the transaction that issues (or updates) the call, and the timer worker
(`policies/call_timer.py`) records `Call.ReminderDue` once a row's moment has passed. The
reminder policy then reacts to that event.

Rounds: the first halfway between issuing and the respond-by moment, the second when nine
tenths of that time have passed. Changing `respond_by` moves the rounds not yet due.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.domain.calls import Call

__all__ = ["MIGRATIONS", "REMINDER_FRACTIONS", "cancel_timers", "reminder_moments", "set_timers"]

REMINDER_FRACTIONS = (0.5, 0.9)
"""When reminder rounds fall due, as a share of the time from issuing to respond-by."""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "when the reminders of calls fall due",
        """
CREATE TABLE call_timers (
    tenant  text        NOT NULL,
    call_id uuid        NOT NULL,
    round   integer     NOT NULL,
    due_at  timestamptz NOT NULL,
    done_at timestamptz,
    PRIMARY KEY (call_id, round)
);
CREATE INDEX call_timers_due ON call_timers (due_at) WHERE done_at IS NULL;
""",
    ),
]


def reminder_moments(issued_at: datetime, respond_by: datetime) -> list[datetime]:
    span = respond_by - issued_at
    return [issued_at + span * fraction for fraction in REMINDER_FRACTIONS]


async def set_timers(conn: Connection, call: Call) -> None:
    """The call's reminder rounds not yet due, (re)timed from its respond-by moment."""
    moments = reminder_moments(call.issued_at, call.respond_by)
    rounds = [n for n in range(1, len(moments) + 1) if n > call.reminders]
    await conn.execute(
        "INSERT INTO call_timers (tenant, call_id, round, due_at)"
        " SELECT $1, $2, r, d FROM unnest($3::integer[], $4::timestamptz[]) AS t(r, d)"
        " ON CONFLICT (call_id, round) DO UPDATE SET due_at = excluded.due_at"
        " WHERE call_timers.done_at IS NULL",
        call.tenant,
        call.id,
        rounds,
        [moments[n - 1] for n in rounds],
    )


async def cancel_timers(conn: Connection, call_id: uuid.UUID) -> None:
    """A closed call's rounds not yet due will never fall due."""
    await conn.execute(
        "UPDATE call_timers SET done_at = now() WHERE call_id = $1 AND done_at IS NULL", call_id
    )
