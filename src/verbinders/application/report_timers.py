"""When the reminders of accountability reports fall due: rows written with the report's
`ReportDue`, read by the report timer.

As for calls (`call_timers.py`): a policy must not read the clock, so the moments are rows
written in the transaction that sets the report due, and the timer (`policies/report_timer.py`)
records `Accountability.ReminderDue` once a row's moment has passed; the reminder policy
(`policies/report_reminders.py`) reacts to that event. Two reminders per report: a week before
the due date and the day after it (09:00, Europe/Amsterdam), the second only while the report
is still not in (the domain records nothing for a report already submitted).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = ["MIGRATIONS", "reminder_moments", "set_report_timers"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
BEFORE = timedelta(days=7)
AFTER = timedelta(days=1)

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "when the reminders of accountability reports fall due",
        """
CREATE TABLE report_timers (
    tenant     text        NOT NULL,
    ledger_id  uuid        NOT NULL,
    report     integer     NOT NULL,
    reminder   text        NOT NULL CHECK (reminder IN ('before', 'after')),
    due_at     timestamptz NOT NULL,
    done_at    timestamptz,
    PRIMARY KEY (ledger_id, report, reminder)
);
CREATE INDEX report_timers_due ON report_timers (due_at) WHERE done_at IS NULL;
""",
    ),
]


def reminder_moments(due: date) -> dict[str, datetime]:
    nine = time(9, 0)
    return {
        "before": datetime.combine(due - BEFORE, nine, AMSTERDAM),
        "after": datetime.combine(due + AFTER, nine, AMSTERDAM),
    }


async def set_report_timers(
    conn: Connection, tenant: str, ledger_id: uuid.UUID, report: int, due: date
) -> None:
    moments = reminder_moments(due)
    await conn.execute(
        "INSERT INTO report_timers (tenant, ledger_id, report, reminder, due_at)"
        " SELECT $1, $2, $3, w, d FROM unnest($4::text[], $5::timestamptz[]) AS t(w, d)"
        " ON CONFLICT DO NOTHING",
        tenant,
        ledger_id,
        report,
        list(moments),
        list(moments.values()),
    )
