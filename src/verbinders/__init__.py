"""Verbinders: an event-sourced collaboration backend for city platforms."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
