"""Read models built from the feed: each owns its tables and is rebuildable at any time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from verbinders.projections.engine import Projection
from verbinders.projections.runner import ProjectionRunner

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Projection", "ProjectionRunner", "all_projections"]


def all_projections() -> Sequence[Projection]:
    """Every projection the product runs (registered in `verbinders.registry`)."""
    from verbinders import registry

    return registry.projections()
