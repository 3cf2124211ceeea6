"""Read models built from the feed: each owns its tables and is rebuildable at any time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from verbinders.projections.engine import Projection, ProjectionRunner

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Projection", "ProjectionRunner", "all_projections"]


def all_projections() -> Sequence[Projection]:
    """Every projection the product runs, in one list (new read models are added here)."""
    from verbinders.projections.activity import ActivityProjection
    from verbinders.projections.directory import DirectoryProjection
    from verbinders.projections.meetings import MeetingsProjection
    from verbinders.projections.membership import MembershipProjection
    from verbinders.projections.tokens import TokensProjection

    return [
        ActivityProjection(),
        DirectoryProjection(),
        MembershipProjection(),
        MeetingsProjection(),
        TokensProjection(),
    ]
