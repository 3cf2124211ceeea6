"""Imports every module that owns tables, so that their migrations are registered."""

from __future__ import annotations

import importlib

__all__ = ["load"]

MODULES_WITH_TABLES = (
    "verbinders.projections.engine",
    "verbinders.application.access",
    "verbinders.api.idempotency",
)


def load() -> None:
    for module in MODULES_WITH_TABLES:
        importlib.import_module(module)
