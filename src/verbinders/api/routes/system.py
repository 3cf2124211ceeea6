"""Health, the caller's identity and the platform."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, put
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from verbinders.api.auth import PUBLIC, READERS, get_actor, roles
from verbinders.api.problems import problem_response
from verbinders.api.routes.common import AsOf, etag, execute, moment
from verbinders.api.state import runtime_of
from verbinders.application.context import Actor, CommandResult
from verbinders.application.platforms import (
    PlatformView,
    change_platform,
    get_platform,
    reassign_point_of_contact,
)
from verbinders.domain.vocabulary import Term
from verbinders.errors import FeedRefused
from verbinders.mail.outbox import OutboxStatus, outbox_status
from verbinders.policies.runner import PolicyStatus
from verbinders.projections.runner import ProjectionStatus
from verbinders.runtime import Runtime
from verbinders.store.events import FeedStatus
from verbinders.store.feed_guards import feed_refusal
from verbinders.store.health import feed_problems, lag_behind

__all__ = ["SystemController"]

log = logging.getLogger(__name__)


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    """`ready` (200); when not ready, a problem document (503) names why."""
    database: str
    feed: FeedStatus | None = None
    projections: list[ProjectionStatus] = []
    """Each projection; its `lag` is counted from the last allocated position."""
    policies: list[PolicyStatus] = []
    """Each policy; its `lag` is counted from the last allocated position."""
    held_back: bool = False
    """True when a transaction in flight holds the feed back (see feed.held_by_pid/_gid)."""
    mail: OutboxStatus | None = None
    """The calls' e-mail outbox: what waits, what went out, what failed."""
    notes: list[str] = []
    """What an operator should know that does not make the service unready (e-mail kept in
    the outbox for want of an SMTP server, deliveries that failed for good)."""


class Me(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    party: str | None
    roles: tuple[str, ...]
    token_id: str | None
    label: str


class ChangePlatform(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str | None = None
    city: str | None = None
    districts: tuple[Term, ...] | None = None
    themes: tuple[Term, ...] | None = None


class PointOfContact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID | None
    """The organisation that becomes the single point of contact (null: nobody)."""
    reason: str


async def _consumers(
    runtime: Runtime, feed: FeedStatus
) -> tuple[list[ProjectionStatus], list[PolicyStatus]]:
    """Each projection and policy, its lag counted from the last allocated position (none
    when the feed cannot be read here: `feed.unsafe` says why)."""
    try:
        with feed_refusal():
            projections = await runtime.runner.status()
            policies = await runtime.policies.status()
    except FeedRefused:
        return [], []
    return (
        [msgspec.structs.replace(p, lag=lag_behind(feed, p.position)) for p in projections],
        [msgspec.structs.replace(p, lag=lag_behind(feed, p.position)) for p in policies],
    )


async def _mail(runtime: Runtime) -> OutboxStatus:
    async with runtime.connection() as conn:
        return await outbox_status(conn, smtp_configured=runtime.settings.smtp_url is not None)


def _notes(mail: OutboxStatus) -> list[str]:
    """Mail that cannot go out is said, not a reason for 503: the API serves (and calls are
    recorded, their notices kept) whether or not a mail server is there."""
    notes = []
    waiting = mail.unexpanded + mail.pending
    if mail.smtp != "configured":
        notes.append(
            "no SMTP server is configured (VERBINDERS_SMTP_URL): calls' e-mail is kept in the"
            f" outbox ({mail.unexpanded} messages to organisations, {mail.pending} deliveries"
            " waiting)"
        )
    elif waiting:
        notes.append(f"{waiting} e-mail messages or deliveries wait in the outbox")
    if mail.failed:
        notes.append(f"{mail.failed} e-mail deliveries failed for good (see the log)")
    return notes


_READY = roles(PUBLIC)
_READY["description"] += (
    " 200 when ready. 503, as a problem document (`not-ready`) whose `problems` name each"
    " cause, when the database does not answer, the event feed cannot be read here, one"
    " transaction has held the feed back longer than VERBINDERS_READY_MAX_HELD_S, an"
    " active projection lags more than VERBINDERS_READY_MAX_LAG positions behind the last"
    " allocated position, or a read model could not apply an event (its projection, the"
    " platform held back, the position and the error; see `projections[].faults`)."
)


class SystemController(Controller):
    tags = ["system"]

    @get("/health/live", **roles(PUBLIC), summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/health/ready",
        **_READY,
        summary="The database answers, the event feed flows, projections and policies keep up",
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Any]:
        runtime = runtime_of(request)
        try:
            async with runtime.connection() as conn:
                await conn.fetchval("SELECT 1")
            feed = await runtime.store.feed_status()
            projections, policies = await _consumers(runtime, feed)
            mail = await _mail(runtime)
        except Exception as error:  # any failure here means: not ready
            log.warning("not ready: %r", error)
            return problem_response(
                request,
                kind="not-ready",
                title="Not ready",
                status=HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"the database does not answer ({type(error).__name__})",
                readiness="unavailable",
                database=f"error: {type(error).__name__}",
                problems=[f"the database does not answer ({type(error).__name__})"],
            )
        readiness = Readiness(
            status="ready",
            database="ok",
            feed=feed,
            projections=projections,
            policies=policies,
            held_back=feed.held,
            mail=mail,
            notes=_notes(mail),
        )
        settings = runtime.settings
        problems = feed_problems(
            feed,
            {
                **{f"projection {p.name}": p.position for p in projections if p.state == "active"},
                **{f"policy {p.name}": p.position for p in policies},
            },
            max_lag=settings.ready_max_lag,
            max_held_s=settings.ready_max_held_s,
        )
        problems += [fault.describe() for p in projections for fault in p.faults]
        if not problems:
            return Response(readiness, status_code=HTTP_200_OK)
        body = msgspec.to_builtins(readiness)
        del body["status"]
        return problem_response(
            request,
            kind="not-ready",
            title="Not ready",
            status=HTTP_503_SERVICE_UNAVAILABLE,
            detail="; ".join(problems),
            readiness="degraded",
            problems=problems,
            **body,
        )

    @get("/me", **roles(*READERS), summary="Who the token acts for")
    async def me(self, request: Request[Any, Any, Any]) -> Me:
        actor: Actor = get_actor(request)
        return Me(
            tenant=actor.tenant,
            party=str(actor.party) if actor.party else None,
            roles=actor.roles,
            token_id=str(actor.token_id) if actor.token_id else None,
            label=actor.label,
        )

    @get("/platform", **roles(*READERS), summary="The platform: districts, themes, contact")
    async def platform(
        self, request: Request[Any, Any, Any], as_of: AsOf = None
    ) -> Response[PlatformView]:
        runtime = runtime_of(request)
        view = await get_platform(runtime, get_actor(request).tenant, as_of=moment(as_of))
        return Response(view, headers={"ETag": etag(view.version)})

    @patch(
        "/platform",
        **roles("coordinator", command=True),
        summary="Rename the platform or change its districts and themes",
    )
    async def change_platform(
        self, request: Request[Any, Any, Any], data: ChangePlatform
    ) -> Response[CommandResult]:
        return await execute(request, change_platform, **msgspec.structs.asdict(data))

    @put(
        "/platform/point-of-contact",
        **roles("coordinator", command=True),
        summary="Reassign the platform's single point of contact (aanspreekpunt)",
    )
    async def point_of_contact(
        self, request: Request[Any, Any, Any], data: PointOfContact
    ) -> Response[CommandResult]:
        return await execute(
            request, reassign_point_of_contact, data.organisation_id, reason=data.reason
        )
