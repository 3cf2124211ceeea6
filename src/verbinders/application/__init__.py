"""Application services: load aggregates, let them decide, save their events atomically."""

from __future__ import annotations

from verbinders.application.context import Actor, CommandContext, CommandResult

__all__ = ["Actor", "CommandContext", "CommandResult"]
