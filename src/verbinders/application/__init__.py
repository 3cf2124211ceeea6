"""Application services: every command runs through one pipeline (`unit_of_work.py`), is
declared with `@command` (`commands.py`), and checks whose resource it is in `rights.py`."""

from __future__ import annotations

from verbinders.application.commands import Command, command
from verbinders.application.context import Actor, CommandResult
from verbinders.application.pipeline import Pipeline
from verbinders.application.unit_of_work import CommandRequest, Outcome, UnitOfWork

__all__ = [
    "Actor",
    "Command",
    "CommandRequest",
    "CommandResult",
    "Outcome",
    "Pipeline",
    "UnitOfWork",
    "command",
]
