"""Organisations: registration, profile, dissolution, strengths and contact persons.

Names and KvK numbers are unique per platform through `UniqueIndex` streams appended in the
same atomic append as the organisation. Rights (`rights.py`): the coordinator acts on every
organisation of its platform, a token with a party only on its own.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import msgspec

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import Actor, CommandResult
from verbinders.domain.contacts import ContactChanges, ContactPerson
from verbinders.domain.indexes import (
    IndexScope,
    UniqueIndex,
    claim_index,
    kvk_number_index_id,
    normalise_name,
    organisation_name_index_id,
)
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength, StrengthChanges
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.errors import Conflict
from verbinders.store.personal import forget_subject

if TYPE_CHECKING:
    from verbinders.application.unit_of_work import UnitOfWork
    from verbinders.runtime import Runtime

__all__ = [
    "ContactView",
    "add_contact",
    "add_strength",
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


def _taken() -> Conflict:
    """What a claim of a name or KvK number meets when another command took it meanwhile."""
    return Conflict("the name or KvK number was just taken on this platform", state="taken")


async def _platform(uow: UnitOfWork) -> Platform:
    return await uow.get(Platform, platform_id(uow.tenant))


async def _organisation(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, with_platform: bool = False
) -> Organisation:
    """The organisation the command is about (its version checked against If-Match), if the
    actor may act for it; `with_platform`: the platform too, in the same round trip."""
    rights.act_for(uow.actor, organisation_id)
    if with_platform:
        await uow.preload((Organisation, organisation_id), (Platform, platform_id(uow.tenant)))
    return await uow.target(Organisation, organisation_id)


async def _claim(
    uow: UnitOfWork, scope: IndexScope, index_id: uuid.UUID, key: str, owner: uuid.UUID
) -> None:
    existing = await uow.find(UniqueIndex, index_id)
    index = claim_index(
        existing, scope=scope, tenant=uow.tenant, key=key, owner=owner, at=uow.now()
    )
    uow.save(index, on_conflict=_taken)


async def _release(uow: UnitOfWork, index_id: uuid.UUID, owner: uuid.UUID) -> None:
    index = await uow.find(UniqueIndex, index_id)
    if index is not None and index.owner == owner:
        index.release(owner, at=uow.now())


@command(writes_once=True)
async def register_organisation(
    uow: UnitOfWork,
    *,
    kind: OrganisationKind,
    name: str,
    kvk_number: str | None = None,
    profile: Profile | None = None,
    organisation_id: uuid.UUID | None = None,
) -> CommandResult:
    """Register an organisation (coordinator); its name and KvK number must be free."""
    tenant = uow.tenant
    await uow.preload(
        (Platform, platform_id(tenant)),
        (UniqueIndex, organisation_name_index_id(tenant, name)),
        *([(UniqueIndex, kvk_number_index_id(tenant, kvk_number))] if kvk_number else []),
    )
    platform = await _platform(uow)
    organisation = Organisation.register(
        organisation_id=organisation_id or uuid.uuid4(),
        tenant=uow.tenant,
        kind=kind,
        name=name,
        vocabulary=platform.vocabulary,
        at=uow.now(),
        kvk_number=kvk_number,
        profile=profile,
    )
    uow.save(
        organisation,
        on_conflict=lambda: Conflict(
            f"organisation {organisation.id} already exists",
            state="exists",
            id=str(organisation.id),
        ),
    )
    await _claim(
        uow,
        IndexScope.ORGANISATION_NAME,
        organisation_name_index_id(uow.tenant, organisation.name),
        organisation.name_key,
        organisation.id,
    )
    if organisation.kvk_number:
        await _claim(
            uow,
            IndexScope.KVK_NUMBER,
            kvk_number_index_id(uow.tenant, organisation.kvk_number),
            organisation.kvk_number,
            organisation.id,
        )
    return CommandResult.of(organisation)


@command(writes_once=True)
async def update_organisation(
    uow: UnitOfWork, organisation_id: uuid.UUID, changes: ProfileChanges
) -> CommandResult:
    """Partial update of the profile; a new name or KvK number moves its index claim."""
    organisation = await _organisation(uow, organisation_id, with_platform=True)
    platform = await _platform(uow)
    old_name, old_kvk = organisation.name, organisation.kvk_number
    organisation.update_profile(changes, vocabulary=platform.vocabulary, at=uow.now())
    tenant = uow.tenant
    # The same name folds to the same key: folding (~50 us) only when the name changed.
    if organisation.name != old_name and organisation.name_key != normalise_name(old_name):
        await _release(uow, organisation_name_index_id(tenant, old_name), organisation.id)
        await _claim(
            uow,
            IndexScope.ORGANISATION_NAME,
            organisation_name_index_id(tenant, organisation.name),
            organisation.name_key,
            organisation.id,
        )
    if organisation.kvk_number != old_kvk:
        if old_kvk:
            await _release(uow, kvk_number_index_id(tenant, old_kvk), organisation.id)
        if organisation.kvk_number:
            await _claim(
                uow,
                IndexScope.KVK_NUMBER,
                kvk_number_index_id(tenant, organisation.kvk_number),
                organisation.kvk_number,
                organisation.id,
            )
    return CommandResult.of(organisation)


@command(writes_once=True)
async def dissolve_organisation(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, reason: str
) -> CommandResult:
    """Dissolve: the organisation keeps its history; its name becomes free again. (The
    `organisation-dissolved` policy then closes its membership and revokes its tokens.)"""
    organisation = await _organisation(uow, organisation_id)
    organisation.dissolve(reason=reason, decided_by=uow.actor.name, at=uow.now())
    await _release(uow, organisation_name_index_id(uow.tenant, organisation.name), organisation.id)
    uow.save(reason=reason)
    return CommandResult.of(organisation)


@command(writes_once=True)
async def add_strength(
    uow: UnitOfWork,
    organisation_id: uuid.UUID,
    strength: Strength,
    *,
    strength_id: uuid.UUID | None = None,
) -> CommandResult:
    organisation = await _organisation(uow, organisation_id, with_platform=True)
    platform = await _platform(uow)
    new_id = strength_id or uuid.uuid4()
    organisation.add_strength(new_id, strength, vocabulary=platform.vocabulary, at=uow.now())
    return CommandResult.of(organisation, id=new_id)


@command(writes_once=True)
async def change_strength(
    uow: UnitOfWork,
    organisation_id: uuid.UUID,
    strength_id: uuid.UUID,
    changes: StrengthChanges,
) -> CommandResult:
    organisation = await _organisation(uow, organisation_id, with_platform=True)
    platform = await _platform(uow)
    organisation.change_strength(strength_id, changes, vocabulary=platform.vocabulary, at=uow.now())
    return CommandResult.of(organisation, id=strength_id)


@command(writes_once=True)
async def withdraw_strength(
    uow: UnitOfWork, organisation_id: uuid.UUID, strength_id: uuid.UUID, *, reason: str = ""
) -> CommandResult:
    organisation = await _organisation(uow, organisation_id)
    organisation.withdraw_strength(strength_id, at=uow.now(), reason=reason)
    uow.save(reason=reason or None)
    return CommandResult.of(organisation, id=strength_id)


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
    rights.act_for(actor, organisation_id)
    organisation = await runtime.repository.get(Organisation, organisation_id, tenant=actor.tenant)
    views = [_contact_view(c) for c in organisation.contacts.values() if not c.is_redacted]
    return views, organisation.version


# Contacts carry personal data: saving them creates their person's key beside the events,
# so these commands run in a transaction (not `writes_once`).


@command()
async def add_contact(
    uow: UnitOfWork,
    organisation_id: uuid.UUID,
    *,
    name: str,
    role: str = "",
    email: str | None = None,
    phone: str | None = None,
    person_id: uuid.UUID | None = None,
) -> CommandResult:
    """A contact person, under a new id (or `person_id`, for data loaded with fixed ids)."""
    organisation = await _organisation(uow, organisation_id)
    person_id = person_id or uuid.uuid4()
    organisation.add_contact(
        ContactPerson(subject=person_id, name=name, role=role, email=email, phone=phone),
        at=uow.now(),
    )
    return CommandResult.of(organisation, id=person_id)


@command()
async def change_contact(
    uow: UnitOfWork, organisation_id: uuid.UUID, person_id: uuid.UUID, changes: ContactChanges
) -> CommandResult:
    organisation = await _organisation(uow, organisation_id)
    organisation.change_contact(person_id, changes, at=uow.now())
    return CommandResult.of(organisation, id=person_id)


@command(writes_once=True)
async def remove_contact(
    uow: UnitOfWork, organisation_id: uuid.UUID, person_id: uuid.UUID
) -> CommandResult:
    organisation = await _organisation(uow, organisation_id)
    organisation.remove_contact(person_id, at=uow.now())
    return CommandResult.of(organisation, id=person_id)


@command()
async def forget_contact(
    uow: UnitOfWork, organisation_id: uuid.UUID, person_id: uuid.UUID
) -> CommandResult:
    """Record that the person is forgotten and destroy their key, in one transaction: every
    event, snapshot and export keeps its place in history with their data unreadable."""
    organisation = await _organisation(uow, organisation_id)
    try:
        organisation.forget_contact(person_id, at=uow.now())
        uow.save(reason="right to be forgotten")
    except Conflict as error:
        if error.details.get("state") != "forgotten":
            raise
        # Recorded before, but the key may have survived: destroy it now.
    await forget_subject(uow.connection, person_id, tenant=uow.tenant)
    uow.repository.forget_subject(person_id)  # nothing cached may name them (none should)
    return CommandResult.of(organisation, id=person_id)
