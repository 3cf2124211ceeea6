"""The clock of accountability reports: records `Accountability.ReminderDue` when a reminder's
moment has passed (`application/report_timers.py`), with the permanent idempotency key
`report-timer:<ledger>:<report>:<reminder>` (see `due_timer.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verbinders.application.funding import record_report_reminder_due
from verbinders.policies.due_timer import DueTimer

if TYPE_CHECKING:
    from verbinders.application.commands import Command

__all__ = ["ReportTimer"]


class ReportTimer(DueTimer):
    lock_name = "report_timer"
    table = "report_timers"
    columns = ("ledger_id", "report", "reminder")
    poll = 30.0

    @property
    def command(self) -> Command[Any, Any]:
        return record_report_reminder_due

    def key(self, *values: Any) -> str:
        ledger_id, report, reminder = values
        return f"report-timer:{ledger_id}:{report}:{reminder}"
