"""The platform's event feed (coordinator, analysts, auditors): paged, and live over SSE."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from verbinders.api.auth import get_actor, roles
from verbinders.api.state import runtime_of
from verbinders.errors import InvalidCommand
from verbinders.event_names import public_event, stored_topic
from verbinders.store.events import RecordedEvent
from verbinders.store.subscription import subscribe

if TYPE_CHECKING:
    from verbinders.runtime import Runtime

__all__ = ["EventsController"]

_encoder = msgspec.json.Encoder()
KEEP_ALIVE_SECONDS = 15.0
MAX_POSITION = 2**63 - 1
"""The largest position there can be (a bigint)."""


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
        after: Annotated[
            int, Parameter(ge=0, le=MAX_POSITION, description="Position to start after")
        ] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        stream: uuid.UUID | None = None,
        topic: Annotated[
            str | None,
            Parameter(
                description="Only events of this public name (`organisation.registered`; see"
                " docs/api.md), 422 for an unknown one",
                max_length=80,
            ),
        ] = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> EventPage:
        runtime = runtime_of(request)
        if since is not None and until is not None and since > until:
            raise InvalidCommand("since must not be after until", field="since", rule="order")
        tenant = get_actor(request).tenant
        topic = None if topic is None else stored_topic(topic)
        async with runtime.connection() as conn:
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
        events = [public_event(RecordedEvent(**dict(row))) for row in rows]
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
        after: Annotated[int | None, Parameter(ge=0, le=MAX_POSITION)] = None,
    ) -> ServerSentEvent:
        """Each event once, in feed order (`id` its position, `event` its topic), from the
        store's subscription; resumes after `Last-Event-ID` (else `after`, else now). A comment
        line (`: keep-alive`) keeps an idle connection open."""
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        start = _last_event_id(request.headers.get("last-event-id"))
        if start is None:
            start = after
        if start is None:
            start = await runtime.store.last_position()
        stopping: asyncio.Event = request.app.state.verbinders.stopping
        return ServerSentEvent(_live(runtime, tenant, start, stopping))


def _last_event_id(header: str | None) -> int | None:
    """A resumed stream's `Last-Event-ID`: a position (422 for anything else)."""
    if header is None:
        return None
    value = header.strip()
    if not value.isdigit() or int(value) > MAX_POSITION:
        raise InvalidCommand(
            f"Last-Event-ID must be a position (0 to {MAX_POSITION}), got {value[:40]!r}",
            field="Last-Event-ID",
            rule="range",
        )
    return int(value)


async def _live(
    runtime: Runtime, tenant: str, start: int, stopping: asyncio.Event
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """The subscription's batches as messages; `: keep-alive` after `KEEP_ALIVE_SECONDS`
    without one; ends when the server stops (or the client goes)."""
    batches: asyncio.Queue[list[RecordedEvent]] = asyncio.Queue(maxsize=2)

    async def follow() -> None:
        async for batch in subscribe(runtime.store, runtime.signal, after=start, tenant=tenant):
            await batches.put(batch)

    feed = asyncio.create_task(follow())
    stop = asyncio.create_task(stopping.wait())
    getting: asyncio.Future[list[RecordedEvent]] = asyncio.get_running_loop().create_future()
    try:
        while not stopping.is_set():
            getting = asyncio.ensure_future(batches.get())
            done, _ = await asyncio.wait(
                {getting, stop, feed},
                timeout=KEEP_ALIVE_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if getting not in done:
                getting.cancel()
            if feed in done:
                feed.result()  # the subscription failed: end the stream with its error
            if getting in done:
                for event in map(public_event, getting.result()):
                    yield ServerSentEventMessage(
                        data=_encoder.encode(event).decode(),
                        id=str(event.position),
                        event=event.topic,
                    )
            elif not done:
                yield ServerSentEventMessage(comment="keep-alive", data=None)
    finally:
        for task in (feed, stop, getting):
            task.cancel()
        await asyncio.gather(feed, stop, getting, return_exceptions=True)
