"""Reports for analysts, from the read models."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get

from verbinders.api.auth import get_actor, roles
from verbinders.api.routes.common import Timeout, WaitFor, wait_for_position
from verbinders.api.state import runtime_of
from verbinders.errors import InvalidCommand

__all__ = ["ReportsController"]


class ActivityRow(msgspec.Struct, frozen=True, kw_only=True):
    month: date
    stream_type: str
    events: int


class ReportsController(Controller):
    path = "/reports"
    tags = ["reports"]

    @get(
        "/activity",
        **roles("coordinator", "analyst", "auditor"),
        summary="Events recorded per month and kind of stream: how the platform grew",
    )
    async def activity(
        self,
        request: Request[Any, Any, Any],
        since: date | None = None,
        until: date | None = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> list[ActivityRow]:
        runtime = runtime_of(request)
        if since is not None and until is not None and since > until:
            raise InvalidCommand("since must not be after until", field="since", rule="order")
        await wait_for_position(runtime, "activity", wait_for, timeout)
        async with runtime.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT date_trunc('month', day)::date AS month, stream_type,"
                " sum(events)::bigint AS events FROM activity.daily_events"
                " WHERE tenant = $1 AND ($2::date IS NULL OR day >= $2)"
                " AND ($3::date IS NULL OR day <= $3)"
                " GROUP BY 1, 2 ORDER BY 1, 2",
                get_actor(request).tenant,
                since,
                until,
            )
        return [ActivityRow(**dict(r)) for r in rows]
