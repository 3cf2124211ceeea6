"""The HTTP API (Litestar)."""

from __future__ import annotations

from verbinders.api.app import create_app

__all__ = ["create_app"]
