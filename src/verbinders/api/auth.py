"""Authentication (bearer tokens) and authorisation (roles) on every route.

Each route states the roles it admits with `roles(...)`; the one check here (`authorize`, run
before the handler and before its body is read) reads them, authenticates the bearer token,
checks the role and the write rate, and leaves the `Actor` on the request for the handler
(`get_actor`). It runs as a `before_request` hook rather than a Litestar guard: a guard is
handed a fresh copy of the route handler on every request, which cost more than the check.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from verbinders.api.problems import PROBLEM_BASE, Problem, RateLimited
from verbinders.application.context import Actor
from verbinders.domain.access import Role
from verbinders.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from litestar import Request

    from verbinders.api.state import AppState

__all__ = ["ALL_ROLES", "PUBLIC", "READERS", "authorize", "get_actor", "roles"]

ALL_ROLES: tuple[str, ...] = tuple(r.value for r in Role)
READERS: tuple[str, ...] = ALL_ROLES
PUBLIC = "public"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACTOR_KEY = "verbinders.actor"
"""Where `authorize` leaves the request's `Actor` in the ASGI scope (`get_actor` reads it)."""


def _problem(status: int, kind: str, title: str, detail: str, **members: Any) -> ResponseSpec:
    example = {
        "type": f"{PROBLEM_BASE}{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": "/...",
        **members,
    }
    return ResponseSpec(
        data_container=Problem,
        description=f"{title} (RFC 9457 problem document)",
        media_type="application/problem+json",
        generate_examples=False,
        examples=[Example(id=kind, summary=title, value=example)],
    )


GUARDED_RESPONSES = {
    401: _problem(401, "unauthorized", "Unauthorized", "unknown or revoked token"),
    403: _problem(
        403,
        "forbidden",
        "Forbidden",
        "this route admits the roles coordinator; the token has analyst",
        required_roles=["coordinator"],
    ),
}
COMMAND_RESPONSES = {
    409: _problem(409, "conflict", "Conflict", "token ... is already revoked", state="revoked"),
    412: _problem(
        412,
        "precondition-failed",
        "Precondition failed",
        'the resource is at version 3, not "2"',
        current_version=3,
    ),
    422: _problem(
        422,
        "invalid-request",
        "Invalid request",
        "roles: Object missing required field `roles`",
        field="roles",
        rule="required",
    ),
    429: _problem(
        429, "rate-limited", "Too many requests", "this token may send 600 commands a minute"
    ),
}


def roles(
    *names: str, command: bool = False, location: str | None = None, ticket: Any = None
) -> dict[str, Any]:
    """Route-decorator arguments admitting `names` (or `PUBLIC`): the guard, and the OpenAPI
    description, security requirement and problem responses that go with it. `location`: the
    template (`/meetings/{id}`) of the `Location` a command that creates something answers.
    `ticket`: `async (request, ticket) -> Actor`, for a route a browser opens without
    headers (`?ticket=...` instead of the bearer token)."""
    public = names == (PUBLIC,)
    described = "anyone (no token)" if public else ", ".join(names)
    opt: dict[str, Any] = {"roles": names}
    if location is not None:
        opt["location"] = location
    if ticket is not None:
        opt["ticket"] = ticket
    extra: dict[str, Any] = {
        "before_request": authorize,
        "opt": opt,
        "description": f"Roles: {described}.",
    }
    if not public:
        extra["security"] = [{"BearerToken": []}]
        extra["responses"] = {**GUARDED_RESPONSES, **(COMMAND_RESPONSES if command else {})}
    return extra


async def authorize(request: Request[Any, Any, Any]) -> None:
    """Admit the request or raise 401/403/429; leaves its `Actor` for `get_actor`."""
    admitted: tuple[str, ...] = request.route_handler.opt.get("roles", ())
    if admitted == (PUBLIC,):
        return
    header = ""
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            header = value.decode("latin-1")
            break
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    state: AppState = request.app.state.verbinders
    redeem = request.route_handler.opt.get("ticket")
    if not header and redeem is not None and "ticket" in request.query_params:
        # A route that a browser's EventSource opens (it cannot send headers): a ticket.
        actor = await redeem(request, request.query_params["ticket"])
    elif scheme.lower() != "bearer" or not secret:
        raise Unauthorized("send a bearer token: Authorization: Bearer <token>")
    else:
        actor = await state.authenticator.authenticate(secret)
    if not actor.has_any(*admitted):
        raise Forbidden(
            f"this route admits the roles {', '.join(admitted)}; the token has"
            f" {', '.join(actor.roles)}",
            required_roles=list(admitted),
        )
    if request.scope["method"] in WRITE_METHODS:
        wait = state.limiter.take(str(actor.token_id))
        if wait > 0:
            raise RateLimited(
                f"this token may send {state.limiter.per_minute} commands a minute",
                retry_after=max(1, math.ceil(wait)),
            )
    # In the ASGI scope itself: `request.state` builds a new `State` wrapper on every access.
    cast("dict[str, Any]", request.scope)[ACTOR_KEY] = actor


def get_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = cast("dict[str, Any]", request.scope).get(ACTOR_KEY)
    if not isinstance(actor, Actor):  # a route without `roles(...)`: a programming error
        raise Unauthorized("this route has no authorisation configured")
    return actor
