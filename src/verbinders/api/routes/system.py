"""Health, the caller's identity and the platform."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, put
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from verbinders.api.auth import PUBLIC, READERS, get_actor, roles
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
from verbinders.policies.runner import PolicyStatus
from verbinders.projections.engine import ProjectionStatus
from verbinders.store.events import FeedStatus

__all__ = ["SystemController"]

log = logging.getLogger(__name__)


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: str
    feed: FeedStatus | None = None
    projections: list[ProjectionStatus] = []
    policies: list[PolicyStatus] = []
    held_back: bool = False
    """True when an open append holds the feed back (see feed.held_by_pid)."""


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


class SystemController(Controller):
    tags = ["system"]

    @get("/health/live", **roles(PUBLIC), summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/health/ready",
        **roles(PUBLIC),
        summary="The database answers; projections' and policies' lag",
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Readiness]:
        runtime = runtime_of(request)
        try:
            async with runtime.connection() as conn:
                await conn.fetchval("SELECT 1")
            feed = await runtime.store.feed_status()
            projections = await runtime.runner.status()
            policies = await runtime.policies.status()
        except Exception as error:  # any failure here means: not ready
            log.warning("not ready: %r", error)
            return Response(
                Readiness(status="unavailable", database=f"error: {type(error).__name__}"),
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        held = feed.horizon < feed.allocated and feed.held_by_pid is not None
        return Response(
            Readiness(
                status="ready",
                database="ok",
                feed=feed,
                projections=projections,
                policies=policies,
                held_back=held,
            ),
            status_code=HTTP_200_OK,
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
