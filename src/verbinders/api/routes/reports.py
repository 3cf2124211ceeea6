"""Reports for analysts, from the read models."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get

from verbinders.api.auth import get_actor, roles
from verbinders.api.routes.common import Timeout, WaitFor
from verbinders.api.state import runtime_of
from verbinders.errors import InvalidCommand
from verbinders.projections.activity import monthly
from verbinders.projections.reading import reading

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
        tenant = get_actor(request).tenant
        async with reading(
            runtime, "activity", tenant=tenant, wait_for=wait_for, timeout=timeout
        ) as r:
            rows = await monthly(r, tenant, since, until)
        return [ActivityRow(**dict(r)) for r in rows]
