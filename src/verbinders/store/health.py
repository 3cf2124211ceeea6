"""Is the feed flowing? The judgement `/health/ready` and `verbinders status` share.

A projection's lag is measured against the last *allocated* position, not against the
horizon: a transaction that holds the horizon back keeps others' committed events from every
reader, and a lag measured against that held-back horizon would read 0 while nothing moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from verbinders.store.events import FeedStatus

__all__ = ["feed_problems", "lag_behind"]


def lag_behind(feed: FeedStatus, position: int) -> int:
    """How many positions a reader at `position` is behind the last allocated one."""
    return max(0, feed.allocated - position)


def feed_problems(
    feed: FeedStatus,
    positions: Mapping[str, int],
    *,
    max_lag: int,
    max_held_s: float,
) -> list[str]:
    """What is wrong with the feed and its readers (`positions`: each reader's checkpoint,
    by a label such as "projection directory"), in words naming the cause; empty when all
    is well."""
    problems: list[str] = []
    if feed.unsafe is not None:
        problems.append(f"the event feed cannot be read: {feed.unsafe}")
    if feed.held and (feed.held_for_s or 0.0) > max_held_s:
        problems.append(
            f"the event feed is held at position {feed.horizon} ({feed.withheld} later"
            f" positions withheld) for more than {max_held_s:g} s by {feed.holder()}"
        )
    for name, position in sorted(positions.items()):
        lag = lag_behind(feed, position)
        if lag > max_lag:
            problems.append(
                f"{name} is {lag} positions behind the feed (at {position},"
                f" allocated {feed.allocated}; more than {max_lag})"
            )
    return problems
