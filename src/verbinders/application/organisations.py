"""Organisations: registration, profile, dissolution, strengths and contact persons.

Names and KvK numbers are unique per platform through `UniqueIndex` streams saved in the same
atomic append as the organisation. Rights: the coordinator acts on every organisation of its
platform; an `organisation` token only on its own (its party).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from verbinders.application.context import Actor, CommandContext, CommandResult
from verbinders.domain.contacts import ContactChanges, ContactPerson
from verbinders.domain.indexes import (
    IndexScope,
    UniqueIndex,
    claim_index,
    kvk_number_index_id,
    organisation_name_index_id,
)
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength, StrengthChanges
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Conflict, Forbidden, StreamConflict
from verbinders.store.personal import forget_subject

if TYPE_CHECKING:
    from verbinders.runtime import Runtime

__all__ = [
    "ContactView",
    "add_contact",
    "add_strength",
    "authorize_organisation",
    "change_contact",
    "change_strength",
    "contacts_of",
    "dissolve_organisation",
    "forget_contact",
    "register_organisation",
    "remove_contact",
    "update_organisation",
    "withdraw_strength",
]

Check = Callable[[int], None] | None


def authorize_organisation(actor: Actor, organisation_id: uuid.UUID) -> None:
    """The coordinator acts on any organisation; an organisation only on itself."""
    if actor.has_any("coordinator"):
        return
    if actor.has_any("organisation") and actor.party == organisation_id:
        return
    raise Forbidden(
        "only the coordinator or the organisation itself may do this",
        organisation=str(organisation_id),
    )


async def _platform(ctx: CommandContext) -> Platform:
    return await ctx.get(Platform, platform_id(ctx.actor.tenant))


async def _organisation(
    ctx: CommandContext, organisation_id: uuid.UUID, check: Check = None
) -> Organisation:
    authorize_organisation(ctx.actor, organisation_id)
    organisation = await ctx.get(Organisation, organisation_id)
    if check is not None:
        check(organisation.version)
    return organisation


async def _claim(
    ctx: CommandContext, scope: IndexScope, index_id: uuid.UUID, key: str, owner: uuid.UUID
) -> UniqueIndex:
    existing = await ctx.find(UniqueIndex, index_id)
    return claim_index(
        existing, scope=scope, tenant=ctx.actor.tenant, key=key, owner=owner, at=ctx.now()
    )


async def _release(
    ctx: CommandContext, index_id: uuid.UUID, owner: uuid.UUID
) -> UniqueIndex | None:
    index = await ctx.find(UniqueIndex, index_id)
    if index is not None and index.owner == owner:
        index.release(owner, at=ctx.now())
        return index
    return None


async def _save(ctx: CommandContext, *aggregates: object, reason: str | None = None) -> int:
    try:
        positions = await ctx.save(*aggregates, reason=reason)  # type: ignore[arg-type]
    except StreamConflict as error:
        if error.expected == 0:  # an index stream created meanwhile by someone else
            raise Conflict(
                "the name or KvK number was just taken on this platform", state="taken"
            ) from error
        raise
    return positions[-1] if positions else 0


def _result(organisation: Organisation, position: int) -> CommandResult:
    return CommandResult(id=str(organisation.id), version=organisation.version, position=position)


async def register_organisation(
    ctx: CommandContext,
    *,
    kind: OrganisationKind,
    name: str,
    kvk_number: str | None = None,
    profile: Profile | None = None,
    organisation_id: uuid.UUID | None = None,
) -> CommandResult:
    """Register an organisation (coordinator); its name and KvK number must be free."""
    platform = await _platform(ctx)
    organisation = Organisation.register(
        organisation_id=organisation_id or uuid.uuid4(),
        tenant=ctx.actor.tenant,
        kind=kind,
        name=name,
        vocabulary=platform.vocabulary,
        at=ctx.now(),
        kvk_number=kvk_number,
        profile=profile,
    )
    indexes = [
        await _claim(
            ctx,
            IndexScope.ORGANISATION_NAME,
            organisation_name_index_id(ctx.actor.tenant, organisation.name),
            organisation.name_key,
            organisation.id,
        )
    ]
    if organisation.kvk_number:
        indexes.append(
            await _claim(
                ctx,
                IndexScope.KVK_NUMBER,
                kvk_number_index_id(ctx.actor.tenant, organisation.kvk_number),
                organisation.kvk_number,
                organisation.id,
            )
        )
    position = await _save(ctx, organisation, *indexes)
    return _result(organisation, position)


async def update_organisation(
    ctx: CommandContext, organisation_id: uuid.UUID, changes: ProfileChanges, check: Check = None
) -> CommandResult:
    """Partial update of the profile; a new name or KvK number moves its index claim."""
    organisation = await _organisation(ctx, organisation_id, check)
    platform = await _platform(ctx)
    old_key, old_name, old_kvk = organisation.name_key, organisation.name, organisation.kvk_number
    organisation.update_profile(changes, vocabulary=platform.vocabulary, at=ctx.now())
    touched: list[object] = [organisation]
    tenant = ctx.actor.tenant
    if organisation.name_key != old_key:
        released = await _release(
            ctx, organisation_name_index_id(tenant, old_name), organisation.id
        )
        touched += [released] if released else []
        touched.append(
            await _claim(
                ctx,
                IndexScope.ORGANISATION_NAME,
                organisation_name_index_id(tenant, organisation.name),
                organisation.name_key,
                organisation.id,
            )
        )
    if organisation.kvk_number != old_kvk:
        if old_kvk:
            released = await _release(ctx, kvk_number_index_id(tenant, old_kvk), organisation.id)
            touched += [released] if released else []
        if organisation.kvk_number:
            touched.append(
                await _claim(
                    ctx,
                    IndexScope.KVK_NUMBER,
                    kvk_number_index_id(tenant, organisation.kvk_number),
                    organisation.kvk_number,
                    organisation.id,
                )
            )
    position = await _save(ctx, *touched)
    return _result(organisation, position)


async def dissolve_organisation(
    ctx: CommandContext, organisation_id: uuid.UUID, *, reason: str, check: Check = None
) -> CommandResult:
    """Dissolve: the organisation keeps its history; its name becomes free again."""
    organisation = await _organisation(ctx, organisation_id, check)
    organisation.dissolve(reason=reason, decided_by=ctx.actor.name, at=ctx.now())
    released = await _release(
        ctx, organisation_name_index_id(ctx.actor.tenant, organisation.name), organisation.id
    )
    position = await _save(ctx, organisation, *([released] if released else []), reason=reason)
    return _result(organisation, position)


async def add_strength(
    ctx: CommandContext,
    organisation_id: uuid.UUID,
    strength: Strength,
    *,
    strength_id: uuid.UUID | None = None,
    check: Check = None,
) -> CommandResult:
    organisation = await _organisation(ctx, organisation_id, check)
    platform = await _platform(ctx)
    new_id = strength_id or uuid.uuid4()
    organisation.add_strength(new_id, strength, vocabulary=platform.vocabulary, at=ctx.now())
    position = await _save(ctx, organisation)
    return CommandResult(id=str(new_id), version=organisation.version, position=position)


async def change_strength(
    ctx: CommandContext,
    organisation_id: uuid.UUID,
    strength_id: uuid.UUID,
    changes: StrengthChanges,
    check: Check = None,
) -> CommandResult:
    organisation = await _organisation(ctx, organisation_id, check)
    platform = await _platform(ctx)
    organisation.change_strength(strength_id, changes, vocabulary=platform.vocabulary, at=ctx.now())
    position = await _save(ctx, organisation)
    return CommandResult(id=str(strength_id), version=organisation.version, position=position)


async def withdraw_strength(
    ctx: CommandContext,
    organisation_id: uuid.UUID,
    strength_id: uuid.UUID,
    *,
    reason: str = "",
    check: Check = None,
) -> CommandResult:
    organisation = await _organisation(ctx, organisation_id, check)
    organisation.withdraw_strength(strength_id, at=ctx.now(), reason=reason)
    position = await _save(ctx, organisation, reason=reason or None)
    return CommandResult(id=str(strength_id), version=organisation.version, position=position)


class ContactView(msgspec.Struct, frozen=True, kw_only=True):
    person_id: uuid.UUID
    name: str
    role: str
    email: str | None
    phone: str | None


def _contact_view(contact: ContactPerson) -> ContactView:
    return ContactView(
        person_id=contact.subject,
        name=contact.name,
        role=contact.role,
        email=contact.email,
        phone=contact.phone,
    )


async def contacts_of(
    runtime: Runtime, actor: Actor, organisation_id: uuid.UUID
) -> tuple[list[ContactView], int]:
    """Contact persons, read from the organisation itself (decrypted; forgotten ones are gone).
    Only the coordinator and the organisation itself see them."""
    authorize_organisation(actor, organisation_id)
    organisation = await runtime.repository.get(Organisation, organisation_id, tenant=actor.tenant)
    views = [_contact_view(c) for c in organisation.contacts.values() if not c.is_redacted]
    return views, organisation.version


async def add_contact(
    ctx: CommandContext,
    organisation_id: uuid.UUID,
    *,
    name: str,
    role: str = "",
    email: str | None = None,
    phone: str | None = None,
    check: Check = None,
    person_id: uuid.UUID | None = None,
) -> CommandResult:
    """A contact person, under a new id (or `person_id`, for data loaded with fixed ids)."""
    organisation = await _organisation(ctx, organisation_id, check)
    person_id = person_id or uuid.uuid4()
    organisation.add_contact(
        ContactPerson(subject=person_id, name=name, role=role, email=email, phone=phone),
        at=ctx.now(),
    )
    position = await _save(ctx, organisation)
    return CommandResult(id=str(person_id), version=organisation.version, position=position)


async def change_contact(
    ctx: CommandContext,
    organisation_id: uuid.UUID,
    person_id: uuid.UUID,
    changes: ContactChanges,
    check: Check = None,
) -> CommandResult:
    organisation = await _organisation(ctx, organisation_id, check)
    organisation.change_contact(person_id, changes, at=ctx.now())
    position = await _save(ctx, organisation)
    return CommandResult(id=str(person_id), version=organisation.version, position=position)


async def remove_contact(
    ctx: CommandContext, organisation_id: uuid.UUID, person_id: uuid.UUID, check: Check = None
) -> CommandResult:
    organisation = await _organisation(ctx, organisation_id, check)
    organisation.remove_contact(person_id, at=ctx.now())
    position = await _save(ctx, organisation)
    return CommandResult(id=str(person_id), version=organisation.version, position=position)


async def forget_contact(
    ctx: CommandContext,
    organisation_id: uuid.UUID,
    person_id: uuid.UUID,
    check: Check = None,
) -> CommandResult:
    """Record that the person is forgotten and destroy their key, in one transaction: every
    event, snapshot and export keeps its place in history with their data unreadable."""
    organisation = await _organisation(ctx, organisation_id, check)
    try:
        organisation.forget_contact(person_id, at=ctx.now())
        position = await _save(ctx, organisation, reason="right to be forgotten")
    except Conflict as error:
        if error.details.get("state") != "forgotten":
            raise
        position = 0  # recorded before, but the key may have survived: destroy it now
    await forget_subject(ctx.transaction, person_id, tenant=ctx.actor.tenant)
    return CommandResult(id=str(person_id), version=organisation.version, position=position)
