"""Policies: reactions to events that issue commands through the command pipeline, each
exactly once (`policy.py`), run beside the projections (`runner.py`). Every policy is
registered in `verbinders.registry`."""

from __future__ import annotations

from verbinders.policies.policy import Issue, Policy

__all__ = ["Issue", "Policy"]
