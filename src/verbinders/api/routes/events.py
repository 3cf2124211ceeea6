"""The platform's event feed (coordinator, analysts, auditors): paged, and live over SSE."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from verbinders.api.auth import get_actor, roles
from verbinders.api.state import runtime_of
from verbinders.errors import InvalidCommand
from verbinders.store.events import RecordedEvent

__all__ = ["EventsController"]

_encoder = msgspec.json.Encoder()
KEEP_ALIVE_SECONDS = 15.0


class EventPage(msgspec.Struct, frozen=True, kw_only=True):
    events: list[RecordedEvent]
    next_after: int
    """Pass as `after` for the next page (equal to `after` when nothing new yet)."""


class EventsController(Controller):
    path = "/events"
    tags = ["events"]

    @get(
        "/",
        **roles("coordinator", "analyst", "auditor"),
        summary="The platform's events, paged by position",
    )
    async def page(
        self,
        request: Request[Any, Any, Any],
        after: Annotated[int, Parameter(ge=0, description="Position to start after")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        stream: uuid.UUID | None = None,
        topic: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> EventPage:
        runtime = runtime_of(request)
        if since is not None and until is not None and since > until:
            raise InvalidCommand("since must not be after until", field="since", rule="order")
        tenant = get_actor(request).tenant
        async with runtime.pool.acquire() as conn:
            # The horizon first, in its own statement: rows are read in a later snapshot.
            horizon = await conn.fetchval("SELECT feed_horizon()")
            rows = await conn.fetch(
                "SELECT position, tenant, stream_id, stream_type, version, topic, payload,"
                " metadata, recorded_at FROM events"
                " WHERE tenant = $1 AND position > $2 AND position <= $3"
                " AND ($4::uuid IS NULL OR stream_id = $4)"
                " AND ($5::text IS NULL OR topic = $5)"
                " AND ($6::timestamptz IS NULL OR recorded_at >= $6)"
                " AND ($7::timestamptz IS NULL OR recorded_at <= $7)"
                " ORDER BY position LIMIT $8",
                tenant,
                after,
                horizon,
                stream,
                topic,
                since,
                until,
                limit,
            )
        events = [RecordedEvent(**dict(row)) for row in rows]
        # A short page holds every match up to the horizon: the next one starts there.
        next_after = events[-1].position if len(events) == limit else max(after, int(horizon))
        return EventPage(events=events, next_after=next_after)

    @get(
        "/stream",
        **roles("coordinator", "analyst", "auditor"),
        summary="The platform's events as they are recorded (server-sent events)",
    )
    async def stream(
        self,
        request: Request[Any, Any, Any],
        after: Annotated[int | None, Parameter(ge=0)] = None,
    ) -> ServerSentEvent:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        last_event_id = request.headers.get("last-event-id")
        start = after
        if last_event_id is not None and last_event_id.isdigit():
            start = int(last_event_id)
        if start is None:
            start = await runtime.store.last_position()

        stopping = request.app.state.verbinders.stopping

        async def events() -> AsyncGenerator[ServerSentEventMessage, None]:
            position, idle_since = start, time.monotonic()
            while not stopping.is_set():
                batch = await runtime.store.read_feed(position, 500, tenant=tenant)
                for event in batch:
                    yield ServerSentEventMessage(
                        data=_encoder.encode(event).decode(),
                        id=str(event.position),
                        event=event.topic,
                    )
                if batch:
                    position, idle_since = batch[-1].position, time.monotonic()
                    continue
                if time.monotonic() - idle_since > KEEP_ALIVE_SECONDS:
                    idle_since = time.monotonic()
                    yield ServerSentEventMessage(comment="keep-alive")
                await runtime.signal.wait()  # a poke, or the poll interval

        return ServerSentEvent(events())
