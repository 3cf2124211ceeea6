"""Calls over HTTP: commands on the `Call`, `CallResponse` and `NeedClaim` aggregates; queries
on the `calls` read model (lists, responses) and on the store (one call, one response).

The coordinator and the municipality issue and manage calls (`rights.manage_call`: a
municipality the calls its organisation issued); organisations see the calls addressed to
them and answer for themselves (`rights.act_for`). Another platform's call is not found.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import Parameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from verbinders.api.auth import get_actor, roles
from verbinders.api.routes.common import (
    AsOf,
    Timeout,
    WaitFor,
    etag,
    execute,
    moment,
)
from verbinders.api.state import runtime_of
from verbinders.application import call_responses as answers
from verbinders.application import calls as service
from verbinders.application import rights
from verbinders.application.context import CommandResult
from verbinders.domain import limits
from verbinders.domain.access import Role
from verbinders.domain.call_responses import CallResponse, NeedClaim, Offer, claim_id, response_id
from verbinders.domain.call_responses import Response as Answer
from verbinders.domain.calls import Audience, Call, CallChanges, CallKind, Need, NeedKind, Urgency
from verbinders.projections.calls_queries import addressees_of, calls_page
from verbinders.projections.reading import reading

__all__ = ["CallsController"]

MANAGERS = rights.CALL_MANAGERS
SEERS = rights.OWN


# -- request bodies ------------------------------------------------------------------------------

NeedId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=limits.NEED_ID_MAX,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        description="Lower-case letters and digits joined by hyphens: catering-schalkwijk",
    ),
]
Text = Annotated[str, msgspec.Meta(max_length=limits.NEED_DESCRIPTION_MAX)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=limits.NEED_QUANTITY_MAX)]


class NeedIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: NeedId | None = None
    """Given, or `need-<n>` by its place in the list."""
    kind: NeedKind
    description: Text
    quantity: Quantity = 1
    district: limits.Code | None = None
    language: limits.LanguageCode | None = None


def _needs(needs: tuple[NeedIn, ...]) -> tuple[Need, ...]:
    return tuple(
        Need(
            id=need.id or f"need-{index + 1}",
            kind=need.kind,
            description=need.description,
            quantity=need.quantity,
            district=need.district,
            language=need.language,
        )
        for index, need in enumerate(needs)
    )


class AudienceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Narrow the addressees (empty: every organisation with an active membership)."""

    districts: limits.Codes = ()
    languages: limits.Languages = ()
    themes: limits.Codes = ()


class IssueCall(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: CallKind
    title: limits.Title
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.CALL_MESSAGE_MAX)]
    respond_by: limits.Moment
    needs: Annotated[tuple[NeedIn, ...], msgspec.Meta(max_length=limits.NEEDS_MAX)] = ()
    districts: limits.Codes = ()
    urgency: Urgency = Urgency.NORMAL
    audience: AudienceIn | None = None

    def fields(self) -> dict[str, Any]:
        audience = self.audience or AudienceIn()
        return {
            "kind": self.kind,
            "title": self.title,
            "message": self.message,
            "respond_by": self.respond_by,
            "needs": _needs(self.needs),
            "districts": self.districts,
            "urgency": self.urgency,
            "audience": Audience(**msgspec.structs.asdict(audience)),
        }


class UpdateCall(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; `needs` replaces the whole list."""

    title: limits.Title | UnsetType = UNSET
    message: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=limits.CALL_MESSAGE_MAX)] | UnsetType
    ) = UNSET
    needs: Annotated[tuple[NeedIn, ...], msgspec.Meta(max_length=limits.NEEDS_MAX)] | UnsetType = (
        UNSET
    )
    districts: limits.Codes | UnsetType = UNSET
    urgency: Urgency | UnsetType = UNSET
    respond_by: limits.Moment | UnsetType = UNSET
    notify: bool = True
    """Tell the addressees (by e-mail) what changed."""

    def changes(self) -> CallChanges:
        fields = {
            name: getattr(self, name)
            for name in CallChanges.__struct_fields__
            if getattr(self, name) is not UNSET
        }
        if "needs" in fields:
            fields["needs"] = _needs(fields["needs"])
        return CallChanges(**fields)


class CloseCall(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: limits.Reason
    notify: bool = True


class AddAddressee(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    reason: limits.Reason


class ForOrganisation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID


class OfferIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: NeedKind
    quantity: Quantity = 1
    description: Annotated[str, msgspec.Meta(max_length=limits.OFFER_DESCRIPTION_MAX)] = ""


class Respond(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole response (a revision replaces the previous one)."""

    available: bool
    volunteers: Annotated[int, msgspec.Meta(ge=0, le=limits.CALL_VOLUNTEERS_MAX)] = 0
    languages: limits.Languages = ()
    districts: limits.Codes = ()
    """Where the organisation can help; empty: anywhere in the city."""
    offers: Annotated[tuple[OfferIn, ...], msgspec.Meta(max_length=limits.OFFERS_MAX)] = ()
    contact_person_id: uuid.UUID | None = None
    """One of the organisation's contact persons, to reach about this call."""
    note: Annotated[str, msgspec.Meta(max_length=limits.CALL_NOTE_MAX)] = ""

    def response(self) -> Answer:
        return Answer(
            available=self.available,
            volunteers=self.volunteers,
            languages=self.languages,
            districts=self.districts,
            offers=tuple(
                Offer(kind=o.kind, quantity=o.quantity, description=o.description)
                for o in self.offers
            ),
            contact_person_id=self.contact_person_id,
            note=self.note,
        )


class Claim(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    note: Annotated[str, msgspec.Meta(max_length=limits.CALL_NOTE_MAX)] = ""


class Release(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    """The organisation that holds the claim."""
    reason: limits.Reason = ""


# -- answers --------------------------------------------------------------------------------


class CallSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    title: str
    urgency: str
    state: str
    respond_by: datetime
    issued_at: datetime
    addressed: int
    responded: int
    version: int


class CallPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[CallSummary]
    total: int
    limit: int
    offset: int


class NeedView(msgspec.Struct, frozen=True, kw_only=True):
    need: Need
    claimed_by: uuid.UUID | None
    claimed_at: datetime | None


class CallView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    title: str
    message: str
    urgency: str
    state: str
    districts: tuple[str, ...]
    respond_by: datetime
    issued_at: datetime
    issued_by: str
    closed_at: datetime | None
    audience: Audience
    addressees: int
    members_as_of: int
    needs: list[NeedView]
    reminders: int
    version: int
    addressed_to_you: bool


class ResponseView(msgspec.Struct, frozen=True, kw_only=True):
    call_id: uuid.UUID
    organisation_id: uuid.UUID
    acknowledged_at: datetime
    responded_at: datetime | None
    revision: int
    response: Answer | None
    version: int


class AddresseeView(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: uuid.UUID
    name: str | None
    kind: str | None
    added: bool
    acknowledged_at: datetime | None
    first_response_at: datetime | None
    last_response_at: datetime | None
    available: bool | None
    volunteers: int
    languages: list[str]
    districts: list[str]
    offers: list[Offer]
    contact_person_id: uuid.UUID | None
    reminders: int


# -- the controller -------------------------------------------------------------------------


async def _call(
    request: Request[Any, Any, Any], call_id: uuid.UUID, as_of: datetime | None
) -> Call:
    runtime = runtime_of(request)
    actor = get_actor(request)
    call = await runtime.repository.get(Call, call_id, tenant=actor.tenant, as_of=as_of)
    rights.see_call(actor, call.issued_by, call.addressees)
    return call


class CallsController(Controller):
    path = "/calls"
    tags = ["calls"]

    @get("/", **roles(*SEERS), summary="Calls: all (coordinator), issued by or addressed to you")
    async def calls(
        self,
        request: Request[Any, Any, Any],
        call_state: Annotated[
            Literal["open", "closed"] | None,
            QueryParameter(name="state", description="open or closed"),
        ] = None,
        kind: CallKind | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=limits.INT32_MAX)] = 0,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> CallPage:
        """Newest first. The coordinator sees every call of the platform; a municipality the
        calls its organisation issued and those addressed to it; an organisation those
        addressed to it."""
        runtime = runtime_of(request)
        actor = get_actor(request)
        async with reading(
            runtime,
            "calls",
            tenant=actor.tenant,
            as_of=moment(as_of),
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            total, rows = await calls_page(
                r,
                actor.tenant,
                state=call_state,
                kind=kind.value if kind else None,
                everything=actor.has_any(Role.COORDINATOR.value),
                party=str(actor.party) if actor.party else None,
                limit=limit,
                offset=offset,
            )
        items = [
            CallSummary(
                id=r["id"],
                kind=r["kind"],
                title=r["title"],
                urgency=r["urgency"],
                state=r["state"],
                respond_by=r["respond_by"],
                issued_at=r["issued_at"],
                addressed=r["addressed"],
                responded=r["responded"],
                version=r["version"],
            )
            for r in rows
        ]
        return CallPage(items=items, total=total, limit=limit, offset=offset)

    @get("/{call_id:uuid}", **roles(*SEERS), summary="One call with its needs and their claims")
    async def show(
        self, request: Request[Any, Any, Any], call_id: uuid.UUID, as_of: AsOf = None
    ) -> Response[CallView]:
        """From the store itself (as of `as_of` if given): always current, with the `ETag`
        that `If-Match` on the call's commands expects."""
        at = moment(as_of)
        call = await _call(request, call_id, at)
        actor = get_actor(request)
        runtime = runtime_of(request)
        needs = []
        for need in call.needs:
            claim = await runtime.repository.find(
                NeedClaim, claim_id(actor.tenant, call.id, need.id), tenant=actor.tenant, as_of=at
            )
            holder = claim.claimant if claim is not None else None
            claimed_at = claim.claimed_at if claim is not None else None
            needs.append(NeedView(need=need, claimed_by=holder, claimed_at=claimed_at))
        view = CallView(
            id=call.id,
            kind=call.kind.value,
            title=call.title,
            message=call.message,
            urgency=call.urgency.value,
            state=call.state.value,
            districts=call.districts,
            respond_by=call.respond_by,
            issued_at=call.issued_at,
            issued_by=call.issued_by,
            closed_at=call.closed_at,
            audience=call.audience,
            addressees=len(call.addressees),
            members_as_of=call.members_as_of,
            needs=needs,
            reminders=call.reminders,
            version=call.version,
            addressed_to_you=actor.party is not None and call.addresses(actor.party),
        )
        return Response(view, headers={"ETag": etag(call.version)})

    @get(
        "/{call_id:uuid}/responses",
        **roles(*MANAGERS),
        summary="Every addressee with its acknowledgement and response",
    )
    async def responses(
        self,
        request: Request[Any, Any, Any],
        call_id: uuid.UUID,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> list[AddresseeView]:
        runtime = runtime_of(request)
        actor = get_actor(request)
        call = await _call(request, call_id, None)  # exists here, and the actor sees it
        rights.manage_call(actor, call.issued_by)
        async with reading(
            runtime,
            "calls",
            tenant=actor.tenant,
            as_of=moment(as_of),
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            rows = await addressees_of(r, actor.tenant, call_id)
        return [
            AddresseeView(
                organisation_id=r["organisation_id"],
                name=r["name"],
                kind=r["kind"],
                added=r["added"],
                acknowledged_at=r["acknowledged_at"],
                first_response_at=r["first_response_at"],
                last_response_at=r["last_response_at"],
                available=r["available"],
                volunteers=r["volunteers"],
                languages=r["languages"],
                districts=r["districts"],
                offers=msgspec.convert(r["offers"], list[Offer]),
                contact_person_id=r["contact_person_id"],
                reminders=r["reminders"],
            )
            for r in rows
        ]

    @get(
        "/{call_id:uuid}/responses/{organisation_id:uuid}",
        **roles(*SEERS),
        summary="One organisation's acknowledgement and response (ETag for revising)",
    )
    async def response(
        self,
        request: Request[Any, Any, Any],
        call_id: uuid.UUID,
        organisation_id: uuid.UUID,
        as_of: AsOf = None,
    ) -> Response[ResponseView]:
        at = moment(as_of)
        call = await _call(request, call_id, at)
        actor = get_actor(request)
        if not rights.manages_call(actor, call.issued_by):
            rights.act_for(actor, organisation_id)
        found = await runtime_of(request).repository.get(
            CallResponse,
            response_id(actor.tenant, call_id, organisation_id),
            tenant=actor.tenant,
            as_of=at,
        )
        view = ResponseView(
            call_id=call_id,
            organisation_id=organisation_id,
            acknowledged_at=found.acknowledged_at,
            responded_at=found.responded_at,
            revision=found.revision,
            response=found.response,
            version=found.version,
        )
        return Response(view, headers={"ETag": etag(found.version)})

    # -- commands -----------------------------------------------------------------------------

    @post(
        "/",
        **roles(*MANAGERS, command=True, location="/calls/{id}"),
        summary="Issue a call to every active member (optionally narrowed); e-mail goes out",
        status_code=HTTP_201_CREATED,
    )
    async def issue(
        self, request: Request[Any, Any, Any], data: IssueCall
    ) -> Response[CommandResult]:
        return await execute(request, service.issue_call, **data.fields())

    @patch(
        "/{call_id:uuid}",
        **roles(*MANAGERS, command=True),
        summary="Change a call (the fields sent); the addressees are told unless notify=false",
    )
    async def update(
        self, request: Request[Any, Any, Any], call_id: uuid.UUID, data: UpdateCall
    ) -> Response[CommandResult]:
        return await execute(
            request, service.update_call, call_id, data.changes(), notify=data.notify
        )

    @post(
        "/{call_id:uuid}/close",
        **roles(*MANAGERS, command=True),
        summary="Close a call: no more responses or claims",
        status_code=200,
    )
    async def close(
        self, request: Request[Any, Any, Any], call_id: uuid.UUID, data: CloseCall
    ) -> Response[CommandResult]:
        return await execute(
            request, service.close_call, call_id, reason=data.reason, notify=data.notify
        )

    @post(
        "/{call_id:uuid}/addressees",
        **roles(*MANAGERS, command=True),
        summary="Address one more organisation (e.g. one that joined after the call went out)",
        status_code=200,
    )
    async def add(
        self, request: Request[Any, Any, Any], call_id: uuid.UUID, data: AddAddressee
    ) -> Response[CommandResult]:
        return await execute(
            request, service.add_addressee, call_id, data.organisation_id, reason=data.reason
        )

    @post(
        "/{call_id:uuid}/acknowledge",
        **roles(*SEERS, command=True),
        summary="Acknowledge receipt (an organisation for itself)",
        status_code=200,
    )
    async def acknowledge(
        self, request: Request[Any, Any, Any], call_id: uuid.UUID, data: ForOrganisation
    ) -> Response[CommandResult]:
        return await execute(request, answers.acknowledge_call, call_id, data.organisation_id)

    @put(
        "/{call_id:uuid}/responses/{organisation_id:uuid}",
        **roles(*SEERS, command=True),
        summary="Respond, or revise the response, until the call closes (for itself)",
        status_code=200,
    )
    async def respond(
        self,
        request: Request[Any, Any, Any],
        call_id: uuid.UUID,
        organisation_id: uuid.UUID,
        data: Respond,
    ) -> Response[CommandResult]:
        return await execute(
            request, answers.respond_to_call, call_id, organisation_id, data.response()
        )

    @post(
        "/{call_id:uuid}/needs/{need_id:str}/claim",
        **roles(*SEERS, command=True),
        summary="Claim a need (409 naming the holder when another organisation has it)",
        status_code=200,
    )
    async def claim(
        self, request: Request[Any, Any, Any], call_id: uuid.UUID, need_id: str, data: Claim
    ) -> Response[CommandResult]:
        return await execute(
            request, answers.claim_need, call_id, need_id, data.organisation_id, note=data.note
        )

    @post(
        "/{call_id:uuid}/needs/{need_id:str}/release",
        **roles(*SEERS, command=True),
        summary="Release a claimed need (its holder, or the call's manager)",
        status_code=200,
    )
    async def release(
        self, request: Request[Any, Any, Any], call_id: uuid.UUID, need_id: str, data: Release
    ) -> Response[CommandResult]:
        return await execute(
            request,
            answers.release_need,
            call_id,
            need_id,
            data.organisation_id,
            reason=data.reason,
        )
