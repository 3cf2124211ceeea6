"""The clock of calls: records `Call.ReminderDue` when a reminder round's moment has passed.

Reads `call_timers` (written with the call's events, `application/call_timers.py`); each round
is recorded with the idempotency key `timer:<call>:<round>` (see `due_timer.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verbinders.application.calls import record_reminder_due
from verbinders.policies.due_timer import DueTimer

if TYPE_CHECKING:
    from verbinders.application.commands import Command

__all__ = ["CallTimer"]


class CallTimer(DueTimer):
    lock_name = "call_timer"
    table = "call_timers"
    columns = ("call_id", "round")
    poll = 5.0

    @property
    def command(self) -> Command[Any, Any]:
        return record_reminder_due

    def key(self, *values: Any) -> str:
        call_id, round_ = values
        return f"timer:{call_id}:{round_}"
