"""Route handlers, one module per resource, registered per domain in `verbinders.registry`."""

from __future__ import annotations

from verbinders import registry

__all__ = ["ROUTES"]

ROUTES = registry.routes()
