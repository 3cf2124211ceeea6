"""The live picture of a call: as JSON, as a server-sent-events stream, and as a page.

- `GET /calls/{id}/picture`: the picture (`projections/call_picture.py`), `as_of` and
  `wait_for` as every read-model query.
- `GET /calls/{id}/picture/stream`: the picture again whenever it changes, as SSE (`event:
  picture`). One reader per call and process (`_Board`, on a connection of its own) serves
  every stream of that call: it wakes on the store's feed signal (LISTEN/NOTIFY: appends in
  any API process, and the mail worker's progress), waits until the `calls` read model has
  caught up with the feed (so it never sends a picture older than the event that woke it),
  and publishes at most one picture per `MIN_INTERVAL`, only when it differs from the last.
  Each event's id is the feed position of the latest event in the picture: a client that
  reconnects with `Last-Event-ID` gets nothing until an event moves the picture past it (a change of
  "reached" alone, which is mail going out and no event, is sent live with the same id, and
  a resumed client sees it with the next event). Opened with a bearer token, or with a board
  ticket (`?ticket=`) by the page, whose browser `EventSource` cannot send headers. Another
  platform's call is not found.
- `POST /calls/{id}/board-tickets`: a ticket for the page (`application/board_tickets.py`).
- `GET /board/calls/{id}`: the desk's page, plain HTML with one same-origin script
  (`/board/board.js`, an `EventSource`), under a Content-Security-Policy that allows nothing
  from another site.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import time
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_201_CREATED

from verbinders.api.auth import PUBLIC, get_actor, roles
from verbinders.api.board_page import BOARD_SCRIPT, CONTENT_SECURITY_POLICY, board_page
from verbinders.api.routes.common import AsOf, Timeout, WaitFor, moment
from verbinders.api.state import runtime_of
from verbinders.application import rights
from verbinders.application.board_tickets import BoardTicket, issue_ticket, redeem_ticket
from verbinders.application.context import Actor
from verbinders.domain.calls import Call
from verbinders.errors import InvalidCommand, Unavailable
from verbinders.projections.call_picture import CallPicture, call_picture
from verbinders.projections.reading import _STATE_SQL, Reading, reading
from verbinders.store.feed_guards import feed_refusal

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.runtime import Runtime

__all__ = ["CallBoardController"]

KEEP_ALIVE_SECONDS = 15.0
MIN_INTERVAL = 0.1
"""Shortest time between two pictures on one stream (seconds)."""
CATCH_UP_SECONDS = 5.0
_encoder = msgspec.json.Encoder()


async def _ticket(request: Request[Any, Any, Any], ticket: str) -> Actor:
    call_id = request.path_params.get("call_id")
    if not isinstance(call_id, uuid.UUID):
        raise InvalidCommand("a board ticket opens one call's picture", field="ticket")
    return await redeem_ticket(runtime_of(request), ticket, call_id)


async def _managed(request: Request[Any, Any, Any], call_id: uuid.UUID) -> Call:
    actor = get_actor(request)
    call = await runtime_of(request).repository.get(Call, call_id, tenant=actor.tenant)
    rights.manage_call(actor, call.issued_by)
    return call


def _last_event_id(header: str | None) -> int | None:
    """A resumed stream's `Last-Event-ID`: a feed position (request hygiene refused anything
    else already)."""
    return None if header is None else int(header.strip())


async def _read(runtime: Runtime, tenant: str, call_id: uuid.UUID) -> CallPicture:
    async with reading(runtime, "calls", tenant=tenant) as r:
        return await call_picture(r, tenant, call_id)


CATCH_UP_POLL = 0.01
"""How often a board looks whether the read model has reached the feed (seconds)."""


class _Board:
    """One call's picture in this process, read once for every stream that shows it.

    Its reader wakes on the feed signal, waits until the `calls` read model has reached the
    feed's last position, reads the picture and publishes it when it changed (at most once
    per `MIN_INTERVAL`). Streams only wait for the next publication: twenty desks watching
    one call cost one reader, not twenty. The reader stops when the last stream leaves.
    """

    def __init__(self, runtime: Runtime, tenant: str, call_id: uuid.UUID) -> None:
        self.runtime, self.tenant, self.call_id = runtime, tenant, call_id
        self.picture: CallPicture | None = None
        self.error: BaseException | None = None
        self.version = 0
        self.viewers = 0
        self._published = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def join(self) -> None:
        self.viewers += 1
        if self._task is None:
            self._task = asyncio.create_task(self._read())

    def leave(self) -> None:
        self.viewers -= 1
        if self.viewers == 0:
            self._stop.set()
            self._forget()

    def _forget(self) -> None:
        key = (id(self.runtime), self.tenant, self.call_id)
        if _boards.get(key) is self:
            del _boards[key]

    async def next(self, seen: int, timeout: float, stopping: asyncio.Event) -> None:
        """Until a publication after version `seen`, `timeout` or `stopping`."""
        if self.version != seen or self.error is not None:
            return
        waiters = {
            asyncio.ensure_future(self._published.wait()),
            asyncio.ensure_future(stopping.wait()),
        }
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _publish(self) -> None:
        self.version += 1
        published, self._published = self._published, asyncio.Event()
        published.set()

    async def _picture(self, conn: Connection, target: int) -> CallPicture:
        """The picture once the read model has passed `target` (waiting at most
        `CATCH_UP_SECONDS`, then as it stands), refused as `reading` refuses a platform
        whose read model stopped at a fault."""
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while True:
            state = await conn.fetchrow(_STATE_SQL, "calls", self.tenant, None)
            assert state is not None  # one row, always
            if state["fault_position"] is not None:
                raise Unavailable(
                    f"the calls read model of this platform stopped at position"
                    f" {state['fault_position']}: {state['fault']}",
                    projection="calls",
                    position=int(state["fault_position"]),
                )
            reached = state["checkpoint"] or 0
            if reached >= target or time.monotonic() > deadline or self._stop.is_set():
                return await call_picture(
                    Reading(conn=conn, name="calls"), self.tenant, self.call_id
                )
            await asyncio.sleep(CATCH_UP_POLL)

    async def _read(self) -> None:
        """The reader, on a connection of its own (the horizon, the read model's checkpoint and
        the picture): under a stream of commands the pool's connections are theirs, and a
        picture that waited for them came late."""
        signal = self.runtime.signal
        conn: Connection | None = None
        try:
            conn = await self.runtime.connect()
            while not self._stop.is_set():
                pokes = signal.pokes
                with feed_refusal():  # the feed's horizon, as `EventStore.last_position`
                    horizon = int(await conn.fetchval("SELECT feed_horizon()") or 0)
                picture = await self._picture(conn, horizon)
                if picture != self.picture:
                    self.picture = picture
                    self._publish()
                started = time.monotonic()
                stop = asyncio.ensure_future(self._stop.wait())
                poked = asyncio.ensure_future(signal.wait(KEEP_ALIVE_SECONDS, since=pokes))
                try:
                    await asyncio.wait({stop, poked}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stop.cancel()
                    poked.cancel()
                rest = MIN_INTERVAL - (time.monotonic() - started)
                if rest > 0:
                    await asyncio.sleep(rest)
        except Exception as error:  # every stream of the board ends with it
            self.error = error
            self._publish()
        finally:
            self._forget()
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 5)


_boards: dict[tuple[int, str, uuid.UUID], _Board] = {}


def _board(runtime: Runtime, tenant: str, call_id: uuid.UUID) -> _Board:
    key = (id(runtime), tenant, call_id)
    board = _boards.get(key)
    if board is None or board.error is not None:
        board = _boards[key] = _Board(runtime, tenant, call_id)
    return board


async def _live(
    runtime: Runtime,
    tenant: str,
    call_id: uuid.UUID,
    resumed_at: int | None,
    stopping: asyncio.Event,
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """The picture whenever it changes (past `resumed_at`, if resumed); `: keep-alive` when
    idle. Shares its call's `_Board` with every other stream of this process."""
    board = _board(runtime, tenant, call_id)
    board.join()
    try:
        last: CallPicture | None = None
        seen = 0
        quiet_since = time.monotonic()
        while not stopping.is_set():
            await board.next(seen, KEEP_ALIVE_SECONDS, stopping)
            if board.error is not None:
                raise board.error
            picture = board.picture
            if board.version != seen and picture is not None:
                seen = board.version
                fresh = (
                    picture != last
                    if last is not None
                    else (resumed_at is None or picture.position > resumed_at)
                )
                if fresh:
                    last = picture
                    quiet_since = time.monotonic()
                    yield ServerSentEventMessage(
                        data=_encoder.encode(picture).decode(),
                        id=str(picture.position),
                        event="picture",
                    )
            elif time.monotonic() - quiet_since > KEEP_ALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ServerSentEventMessage(comment="keep-alive", data=None)
    finally:
        board.leave()


class CallBoardController(Controller):
    tags = ["calls"]

    @get(
        "/calls/{call_id:uuid}/picture",
        **roles(*rights.CALL_MANAGERS),
        summary="The live picture: reached, acknowledged, responded; offered against needed",
    )
    async def picture(
        self,
        request: Request[Any, Any, Any],
        call_id: uuid.UUID,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> CallPicture:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        await _managed(request, call_id)
        at: datetime | None = moment(as_of)
        async with reading(
            runtime, "calls", tenant=tenant, as_of=at, wait_for=wait_for, timeout=timeout
        ) as r:
            return await call_picture(r, tenant, call_id, as_of=at)

    @get(
        "/calls/{call_id:uuid}/picture/stream",
        **roles(*rights.CALL_MANAGERS, ticket=_ticket),
        summary="The live picture as server-sent events (bearer token or board ticket)",
    )
    async def stream(self, request: Request[Any, Any, Any], call_id: uuid.UUID) -> ServerSentEvent:
        """`event: picture` with the whole picture each time it changes; resumes after
        `Last-Event-ID`. Also opened with `?ticket=` (see `POST .../board-tickets`)."""
        runtime = runtime_of(request)
        await _managed(request, call_id)
        resumed_at = _last_event_id(request.headers.get("last-event-id"))
        stopping: asyncio.Event = request.app.state.verbinders.stopping
        tenant = get_actor(request).tenant
        return ServerSentEvent(_live(runtime, tenant, call_id, resumed_at, stopping))

    @post(
        "/calls/{call_id:uuid}/board-tickets",
        **roles(*rights.CALL_MANAGERS, command=True),
        summary="A ticket for the call's live board page (12 hours, this call only)",
        status_code=HTTP_201_CREATED,
    )
    async def ticket(self, request: Request[Any, Any, Any], call_id: uuid.UUID) -> BoardTicket:
        await _managed(request, call_id)
        return await issue_ticket(runtime_of(request), get_actor(request), call_id)

    @get(
        "/board/calls/{call_id:uuid}",
        **roles(PUBLIC),
        summary="The desk's live page of a call (asks for a token or takes a ticket)",
        media_type="text/html",
    )
    async def page(self, call_id: uuid.UUID) -> Response[bytes]:
        return Response(
            board_page(html.escape(str(call_id))),
            media_type="text/html",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )

    @get(
        "/board/board.js",
        **roles(PUBLIC),
        summary="The board page's script",
        media_type="text/javascript",
    )
    async def script(self) -> Response[bytes]:
        return Response(
            BOARD_SCRIPT,
            media_type="text/javascript; charset=utf-8",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )
