"""Membership of the platform over HTTP: applying, the coordinator's decisions, the register
and its growth.

Commands answer a `CommandResult` (its `data` the new status) with the membership's `ETag` and
accept `If-Match` (`"0"` before the first application). A token with a party acts only on its
own organisation's membership (403 otherwise); the coordinator on every one of its platform
(`application/rights.py`). A membership's record is read by the coordinator, auditors,
analysts and the organisation itself.

Two kinds of time in the queries (see docs/architecture.md). `as_of`, as on every route, is a
moment of recording: the answer the platform could have given then, from the read model's
versions true at the last position recorded by then (`projections.temporal`), no replay.
`effective_at` is a moment in the world, by when transitions took effect (the events' `at`):
"the register on 1 March 2021", also for history loaded later (the demo, imports). They
combine; the growth report's months run to `effective_at`, else `as_of`, else now.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from verbinders.api.auth import READERS, get_actor, roles
from verbinders.api.routes.common import (
    AsOf,
    Timeout,
    WaitFor,
    etag,
    execute,
    moment,
)
from verbinders.api.state import runtime_of
from verbinders.application import membership as service
from verbinders.application.context import CommandResult
from verbinders.application.membership_record import MembershipView, membership_of
from verbinders.application.rights import OWN, RECORD_READERS
from verbinders.domain.membership import MembershipStatus
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.projections.membership_queries import (
    GrowthReport,
    RegisterEntry,
    growth,
    register_page,
)
from verbinders.projections.reading import reading

__all__ = ["MembershipController"]

GROWTH_READERS = ("coordinator", "analyst", "auditor", "municipality", "fund")
PROJECTION = "membership"
MEMBERSHIP = "/organisations/{organisation_id:uuid}/membership"

EffectiveAt = Annotated[
    datetime | None,
    Parameter(
        description="Statuses in effect at this moment, judged by when transitions took"
        " effect rather than when they were recorded (a date-time with time zone)"
    ),
]


class Apply(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    motivation: str


class OptionalReason(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str = ""


class Decision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str
    meeting_id: uuid.UUID | None = None
    """The platform meeting where it was decided, if any."""

    def fields(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


class RegisterPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[RegisterEntry]
    total: int
    limit: int
    offset: int


class MembershipController(Controller):
    path = "/"
    tags = ["membership"]

    @post(
        MEMBERSHIP + "/apply",
        **roles(*OWN, command=True),
        summary="Apply for membership (again after rejection, withdrawal or leaving)",
        status_code=200,
    )
    async def apply(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: Apply
    ) -> Response[CommandResult]:
        return await execute(request, service.apply, organisation_id, motivation=data.motivation)

    @post(
        MEMBERSHIP + "/withdraw",
        **roles(*OWN, command=True),
        summary="Withdraw a pending application",
        status_code=200,
    )
    async def withdraw(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: OptionalReason
    ) -> Response[CommandResult]:
        return await execute(request, service.withdraw, organisation_id, reason=data.reason)

    @post(
        MEMBERSHIP + "/leave",
        **roles(*OWN, command=True),
        summary="Leave the platform (also while suspended)",
        status_code=200,
    )
    async def leave(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: OptionalReason
    ) -> Response[CommandResult]:
        return await execute(request, service.leave, organisation_id, reason=data.reason)

    @post(
        MEMBERSHIP + "/admit",
        **roles("coordinator", command=True),
        summary="Admit an applicant (with the reason, and optionally the deciding meeting)",
        status_code=200,
    )
    async def admit(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: Decision
    ) -> Response[CommandResult]:
        return await execute(request, service.admit, organisation_id, **data.fields())

    @post(
        MEMBERSHIP + "/reject",
        **roles("coordinator", command=True),
        summary="Reject an application (with the reason, and optionally the deciding meeting)",
        status_code=200,
    )
    async def reject(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: Decision
    ) -> Response[CommandResult]:
        return await execute(request, service.reject, organisation_id, **data.fields())

    @post(
        MEMBERSHIP + "/suspend",
        **roles("coordinator", command=True),
        summary="Suspend a member (it stays a member until it leaves)",
        status_code=200,
    )
    async def suspend(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: Decision
    ) -> Response[CommandResult]:
        return await execute(request, service.suspend, organisation_id, **data.fields())

    @post(
        MEMBERSHIP + "/reinstate",
        **roles("coordinator", command=True),
        summary="End a member's suspension",
        status_code=200,
    )
    async def reinstate(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: Decision
    ) -> Response[CommandResult]:
        return await execute(request, service.reinstate, organisation_id, **data.fields())

    @get(
        MEMBERSHIP,
        **roles(*RECORD_READERS),
        summary="An organisation's membership: status, member since, periods, decisions",
    )
    async def show(
        self,
        request: Request[Any, Any, Any],
        organisation_id: uuid.UUID,
        as_of: AsOf = None,
        effective_at: EffectiveAt = None,
    ) -> Response[MembershipView]:
        """Read from the membership's own events, so always current: its `ETag` is what
        `If-Match` on the membership commands compares with (`"0"` before any application)."""
        view = await membership_of(
            runtime_of(request),
            get_actor(request),
            organisation_id,
            as_of=moment(as_of, "as_of"),
            effective_at=moment(effective_at, "effective_at"),
        )
        return Response(view, headers={"ETag": etag(view.version)})

    @get("/membership", **roles(*READERS), summary="The membership register")
    async def register(
        self,
        request: Request[Any, Any, Any],
        status: Annotated[
            list[MembershipStatus] | None,
            Parameter(description="Only these statuses (repeat the parameter for several)"),
        ] = None,
        kind: Annotated[
            list[OrganisationKind] | None,
            Parameter(description="Only these kinds of organisation (repeat for several)"),
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        as_of: AsOf = None,
        effective_at: EffectiveAt = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> RegisterPage:
        """Every organisation that ever applied, with its status, sorted by name."""
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        known = moment(as_of, "as_of")
        at = moment(effective_at, "effective_at")
        async with reading(
            runtime, PROJECTION, tenant=tenant, as_of=known, wait_for=wait_for, timeout=timeout
        ) as r:
            total, items = await register_page(
                r,
                tenant,
                at=at,
                statuses=[s.value for s in status or ()],
                kinds=[k.value for k in kind or ()],
                limit=limit,
                offset=offset,
            )
        return RegisterPage(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/reports/membership-growth",
        **roles(*GROWTH_READERS),
        tags=["reports"],
        summary="Members per month since the platform started; joins and leaves per year",
    )
    async def growth(
        self,
        request: Request[Any, Any, Any],
        as_of: AsOf = None,
        effective_at: EffectiveAt = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> GrowthReport:
        """Members at the end of each month (Amsterdam time) since the platform started,
        and joins (admissions) and leaves per year, each by kind of organisation. A suspended
        organisation is still a member; a readmission counts as a join again. Counted by when
        things took effect; the months run to `effective_at`, else `as_of`, else now."""
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        known = moment(as_of, "as_of")
        at = moment(effective_at, "effective_at") or known
        async with reading(
            runtime, PROJECTION, tenant=tenant, as_of=known, wait_for=wait_for, timeout=timeout
        ) as r:
            return await growth(r, tenant, at=at)
