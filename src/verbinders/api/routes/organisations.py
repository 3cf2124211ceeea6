"""Organisations: the directory, profiles, strengths ("who can help with X") and contacts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET, UnsetType

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
from verbinders.application import organisations as service
from verbinders.application.context import CommandResult
from verbinders.application.rights import OWN
from verbinders.domain.contacts import ContactChanges
from verbinders.domain.membership import Membership, MembershipStatus, membership_id
from verbinders.domain.organisations import Organisation
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength, StrengthChanges, StrengthKind
from verbinders.domain.vocabulary import OrganisationKind, language_codes
from verbinders.errors import InvalidCommand
from verbinders.projections.directory_queries import organisations_page, strengths_page
from verbinders.projections.reading import reading

__all__ = ["OrganisationsController", "StrengthsController"]


class ProfileFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    description: str = ""
    founding_year: int | None = None
    communities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()
    website: str | None = None
    constituency_size: int | None = None
    active_volunteers: int | None = None


class RegisterOrganisation(ProfileFields, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: OrganisationKind
    name: str
    kvk_number: str | None = None

    def profile(self) -> Profile:
        fields = msgspec.structs.asdict(self)
        for key in ("kind", "name", "kvk_number"):
            del fields[key]
        return Profile(**fields)


class UpdateOrganisation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; `null` clears an optional field."""

    name: str | UnsetType = UNSET
    kvk_number: str | UnsetType | None = UNSET
    description: str | UnsetType = UNSET
    founding_year: int | UnsetType | None = UNSET
    communities: tuple[str, ...] | UnsetType = UNSET
    languages: tuple[str, ...] | UnsetType = UNSET
    themes: tuple[str, ...] | UnsetType = UNSET
    districts: tuple[str, ...] | UnsetType = UNSET
    target_groups: tuple[str, ...] | UnsetType = UNSET
    website: str | UnsetType | None = UNSET
    constituency_size: int | UnsetType | None = UNSET
    active_volunteers: int | UnsetType | None = UNSET

    def changes(self) -> ProfileChanges:
        return ProfileChanges(**msgspec.structs.asdict(self))


class Reason(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str


class OptionalReason(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str = ""


class AddStrength(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: StrengthKind
    title: str
    description: str = ""
    capacity: int | None = None
    languages: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()

    def strength(self) -> Strength:
        return Strength(**msgspec.structs.asdict(self))


class ChangeStrength(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: StrengthKind | UnsetType = UNSET
    title: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    capacity: int | UnsetType | None = UNSET
    languages: tuple[str, ...] | UnsetType = UNSET
    districts: tuple[str, ...] | UnsetType = UNSET

    def changes(self) -> StrengthChanges:
        return StrengthChanges(**msgspec.structs.asdict(self))


class AddContact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    role: str = ""
    email: str | None = None
    phone: str | None = None


class ChangeContact(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    email: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET

    def changes(self) -> ContactChanges:
        return ContactChanges(**msgspec.structs.asdict(self))


class StrengthView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    kind: str
    title: str
    description: str
    capacity: int | None
    languages: tuple[str, ...]
    districts: tuple[str, ...]


class OrganisationView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    name: str
    former_names: tuple[str, ...]
    kvk_number: str | None
    profile: Profile
    registered_at: datetime
    dissolved_at: datetime | None
    membership_status: str
    member_since: datetime | None
    strengths: tuple[StrengthView, ...]
    version: int


class DirectoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    name: str
    description: str
    themes: tuple[str, ...]
    districts: tuple[str, ...]
    languages: tuple[str, ...]
    communities: tuple[str, ...]
    membership_status: str
    member_since: datetime | None
    dissolved_at: datetime | None
    strengths: int


class Page(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Any]
    total: int
    limit: int
    offset: int


class StrengthHit(msgspec.Struct, frozen=True, kw_only=True):
    strength: StrengthView
    organisation_name: str
    organisation_kind: str


def _view(organisation: Organisation, membership: Membership | None) -> OrganisationView:
    return OrganisationView(
        id=organisation.id,
        kind=str(organisation.kind),
        name=organisation.name,
        former_names=tuple(organisation.former_names),
        kvk_number=organisation.kvk_number,
        profile=organisation.profile,
        registered_at=organisation.registered_at,
        dissolved_at=organisation.dissolved_at,
        membership_status=str(membership.status) if membership else "none",
        member_since=membership.member_since if membership else None,
        strengths=tuple(
            StrengthView(
                id=sid,
                organisation_id=organisation.id,
                kind=str(s.kind),
                title=s.title,
                description=s.description,
                capacity=s.capacity,
                languages=tuple(s.languages),
                districts=tuple(s.districts),
            )
            for sid, s in organisation.strengths.items()
        ),
        version=organisation.version,
    )


def _language(code: str | None) -> str | None:
    """A language filter as profiles store it: a known ISO 639 code, lower case (422 else)."""
    return language_codes((code,), field="language")[0] if code else None


MEMBERSHIP_FILTER = ("none", *(status.value for status in MembershipStatus))
"""Membership statuses the directory filters on (`none`: never applied)."""


class OrganisationsController(Controller):
    path = "/organisations"
    tags = ["organisations"]

    @post(
        "/",
        **roles("coordinator", command=True, location="/organisations/{id}"),
        summary="Register an organisation (name and KvK number unique on the platform)",
        status_code=HTTP_201_CREATED,
    )
    async def register(
        self, request: Request[Any, Any, Any], data: RegisterOrganisation
    ) -> Response[CommandResult]:
        return await execute(
            request,
            service.register_organisation,
            kind=data.kind,
            name=data.name,
            kvk_number=data.kvk_number,
            profile=data.profile(),
        )

    @get("/", **roles(*READERS), summary="The directory: search and filter organisations")
    async def directory(
        self,
        request: Request[Any, Any, Any],
        q: Annotated[str | None, Parameter(description="Dutch full-text search")] = None,
        kind: OrganisationKind | None = None,
        theme: str | None = None,
        district: str | None = None,
        language: str | None = None,
        strength: StrengthKind | None = None,
        membership: str | None = None,
        sort: Literal["name", "-name", "registered", "-registered"] = "name",
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Page:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        as_of = moment(as_of)
        language = _language(language)
        if membership and membership not in MEMBERSHIP_FILTER:
            raise InvalidCommand(
                f"membership must be one of {', '.join(MEMBERSHIP_FILTER)}, got {membership!r}",
                field="membership",
                rule="choice",
            )
        async with reading(
            runtime, "directory", tenant=tenant, as_of=as_of, wait_for=wait_for, timeout=timeout
        ) as r:
            total, rows = await organisations_page(
                r,
                tenant,
                q=q,
                kind=str(kind) if kind else None,
                theme=theme,
                district=district,
                language=language,
                strength=str(strength) if strength else None,
                membership=membership,
                sort=sort,
                limit=limit,
                offset=offset,
            )
        items = [
            DirectoryEntry(
                id=r["id"],
                kind=r["kind"],
                name=r["name"],
                description=r["description"],
                themes=tuple(r["themes"]),
                districts=tuple(r["districts"]),
                languages=tuple(r["languages"]),
                communities=tuple(r["communities"]),
                membership_status=r["membership_status"],
                member_since=r["member_since"],
                dissolved_at=r["dissolved_at"],
                strengths=r["strength_count"],
            )
            for r in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{organisation_id:uuid}", **roles(*READERS), summary="One organisation's profile")
    async def show(
        self,
        request: Request[Any, Any, Any],
        organisation_id: uuid.UUID,
        as_of: AsOf = None,
    ) -> Response[OrganisationView]:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        as_of = moment(as_of)
        organisation = await runtime.repository.get(
            Organisation, organisation_id, tenant=tenant, as_of=as_of
        )
        membership = await runtime.repository.find(
            Membership, membership_id(tenant, organisation_id), tenant=tenant, as_of=as_of
        )
        return Response(
            _view(organisation, membership), headers={"ETag": etag(organisation.version)}
        )

    @patch(
        "/{organisation_id:uuid}",
        **roles(*OWN, command=True),
        summary="Change the profile (only the fields sent); renames keep history",
    )
    async def update(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: UpdateOrganisation
    ) -> Response[CommandResult]:
        return await execute(request, service.update_organisation, organisation_id, data.changes())

    @post(
        "/{organisation_id:uuid}/dissolve",
        **roles(*OWN, command=True),
        summary="Dissolve the organisation (its history stays; its membership closes)",
        status_code=200,
    )
    async def dissolve(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: Reason
    ) -> Response[CommandResult]:
        return await execute(
            request, service.dissolve_organisation, organisation_id, reason=data.reason
        )

    @post(
        "/{organisation_id:uuid}/strengths",
        **roles(*OWN, command=True),
        summary="Offer a strength: a venue, interpreters, catering, reach, ...",
        status_code=HTTP_201_CREATED,
    )
    async def add_strength(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: AddStrength
    ) -> Response[CommandResult]:
        return await execute(request, service.add_strength, organisation_id, data.strength())

    @patch(
        "/{organisation_id:uuid}/strengths/{strength_id:uuid}",
        **roles(*OWN, command=True),
        summary="Change a strength (only the fields sent)",
    )
    async def change_strength(
        self,
        request: Request[Any, Any, Any],
        organisation_id: uuid.UUID,
        strength_id: uuid.UUID,
        data: ChangeStrength,
    ) -> Response[CommandResult]:
        return await execute(
            request, service.change_strength, organisation_id, strength_id, data.changes()
        )

    @post(
        "/{organisation_id:uuid}/strengths/{strength_id:uuid}/withdraw",
        **roles(*OWN, command=True),
        summary="Withdraw a strength",
        status_code=200,
    )
    async def withdraw_strength(
        self,
        request: Request[Any, Any, Any],
        organisation_id: uuid.UUID,
        strength_id: uuid.UUID,
        data: OptionalReason,
    ) -> Response[CommandResult]:
        return await execute(
            request, service.withdraw_strength, organisation_id, strength_id, reason=data.reason
        )

    @get(
        "/{organisation_id:uuid}/contacts",
        **roles(*OWN),
        summary="Contact persons (personal data: the coordinator and the organisation only)",
    )
    async def contacts(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID
    ) -> Response[list[service.ContactView]]:
        runtime = runtime_of(request)
        views, version = await service.contacts_of(runtime, get_actor(request), organisation_id)
        return Response(views, headers={"ETag": etag(version)})

    @post(
        "/{organisation_id:uuid}/contacts",
        **roles(*OWN, command=True),
        summary="Add a contact person (stored encrypted, so that it can be forgotten)",
        status_code=HTTP_201_CREATED,
    )
    async def add_contact(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, data: AddContact
    ) -> Response[CommandResult]:
        return await execute(
            request, service.add_contact, organisation_id, **msgspec.structs.asdict(data)
        )

    @patch(
        "/{organisation_id:uuid}/contacts/{person_id:uuid}",
        **roles(*OWN, command=True),
        summary="Change a contact person (only the fields sent)",
    )
    async def change_contact(
        self,
        request: Request[Any, Any, Any],
        organisation_id: uuid.UUID,
        person_id: uuid.UUID,
        data: ChangeContact,
    ) -> Response[CommandResult]:
        return await execute(
            request, service.change_contact, organisation_id, person_id, data.changes()
        )

    @delete(
        "/{organisation_id:uuid}/contacts/{person_id:uuid}",
        **roles(*OWN, command=True),
        summary="Remove a contact person (their data stays in history until forgotten)",
        status_code=200,
    )
    async def remove_contact(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, person_id: uuid.UUID
    ) -> Response[CommandResult]:
        return await execute(request, service.remove_contact, organisation_id, person_id)

    @post(
        "/{organisation_id:uuid}/contacts/{person_id:uuid}/forget",
        **roles(*OWN, command=True),
        summary="Forget a person: their key is destroyed, history stays, the data is gone",
        status_code=200,
    )
    async def forget_contact(
        self, request: Request[Any, Any, Any], organisation_id: uuid.UUID, person_id: uuid.UUID
    ) -> Response[CommandResult]:
        return await execute(request, service.forget_contact, organisation_id, person_id)


class StrengthsController(Controller):
    path = "/strengths"
    tags = ["organisations"]

    @get("/", **roles(*READERS), summary='"Who can help with X": search offered strengths')
    async def search(
        self,
        request: Request[Any, Any, Any],
        q: Annotated[str | None, Parameter(description="Dutch full-text search")] = None,
        kind: StrengthKind | None = None,
        language: str | None = None,
        district: str | None = None,
        organisation_kind: OrganisationKind | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0)] = 0,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> Page:
        runtime = runtime_of(request)
        tenant = get_actor(request).tenant
        as_of = moment(as_of)
        language = _language(language)
        async with reading(
            runtime, "directory", tenant=tenant, as_of=as_of, wait_for=wait_for, timeout=timeout
        ) as r:
            total, rows = await strengths_page(
                r,
                tenant,
                q=q,
                kind=str(kind) if kind else None,
                language=language,
                district=district,
                organisation_kind=str(organisation_kind) if organisation_kind else None,
                limit=limit,
                offset=offset,
            )
        items = [
            StrengthHit(
                strength=StrengthView(
                    id=r["id"],
                    organisation_id=r["organisation_id"],
                    kind=r["kind"],
                    title=r["title"],
                    description=r["description"],
                    capacity=r["capacity"],
                    languages=tuple(r["languages"]),
                    districts=tuple(r["districts"]),
                ),
                organisation_name=r["organisation_name"],
                organisation_kind=r["organisation_kind"],
            )
            for r in rows
        ]
        return Page(items=items, total=total, limit=limit, offset=offset)
