"""The organisation: its profile, strengths and contact persons, from registration to dissolution.

Uniqueness of the name and the KvK number is not decided here but by `indexes.UniqueIndex`
streams that the application layer saves with the organisation (see `name_key`).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from msgspec import UNSET

from verbinders.domain import rules
from verbinders.domain.contacts import (
    CONTACT_VALIDATORS,
    ContactChanges,
    ContactPerson,
    check_contact,
    validate_contact,
)
from verbinders.domain.indexes import normalise_name
from verbinders.domain.profile import (
    Profile,
    ProfileChanges,
    organisation_name,
    profile_validators,
    validate_profile,
)
from verbinders.domain.profile import kvk_number as valid_kvk_number
from verbinders.domain.strengths import (
    Strength,
    StrengthChanges,
    check_strength,
    strength_validators,
    validate_strength,
)
from verbinders.domain.vocabulary import OrganisationKind, Vocabulary
from verbinders.errors import Conflict, NotFound

__all__ = ["Organisation"]


class Organisation(Aggregate):
    STREAM_TYPE = "Organisation"

    tenant: str
    kind: OrganisationKind
    name: str
    former_names: list[str]
    kvk_number: str | None
    profile: Profile
    registered_at: datetime
    dissolved_at: datetime | None
    strengths: dict[UUID, Strength]
    withdrawn_strengths: list[UUID]
    contacts: dict[UUID, ContactPerson]
    former_contacts: list[UUID]
    """Persons removed as contacts: their data is still in the history, so they can be forgotten."""
    forgotten_contacts: list[UUID]

    # -- registration and profile ---------------------------------------------------------------

    @classmethod
    def register(
        cls,
        *,
        organisation_id: UUID,
        tenant: str,
        kind: OrganisationKind,
        name: str,
        vocabulary: Vocabulary,
        at: datetime,
        kvk_number: str | None = None,
        profile: Profile | None = None,
    ) -> Organisation:
        """A new organisation. The application layer also claims the name (and KvK) index."""
        rules.aware(at)
        return cls(
            id=organisation_id,
            tenant=tenant,
            kind=rules.choice(OrganisationKind, kind, field="kind"),
            name=organisation_name(name),
            kvk_number=valid_kvk_number(kvk_number),
            profile=validate_profile(profile or Profile(), vocabulary, at),
            at=at,
        )

    @event("Registered")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        kind: OrganisationKind,
        name: str,
        kvk_number: str | None,
        profile: Profile,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.kind = kind
        self.name = name
        self.former_names = []
        self.kvk_number = kvk_number
        self.profile = profile
        self.registered_at = at
        self.dissolved_at = None
        self.strengths = {}
        self.withdrawn_strengths = []
        self.contacts = {}
        self.former_contacts = []
        self.forgotten_contacts = []

    @property
    def name_key(self) -> str:
        """The name as uniqueness compares it (see `indexes.normalise_name`)."""
        return normalise_name(self.name)

    @property
    def is_dissolved(self) -> bool:
        return self.dissolved_at is not None

    def _check_active(self, at: datetime) -> None:
        rules.aware(at)
        if self.dissolved_at is not None:
            raise Conflict(
                f"organisation {self.name!r} was dissolved on {self.dissolved_at.date()}"
                " and cannot change any more",
                state="dissolved",
            )
        rules.not_before(at, self.registered_at, what="the registration")

    def update_profile(
        self, changes: ProfileChanges, *, vocabulary: Vocabulary, at: datetime
    ) -> None:
        """Change the given fields only. A new name is recorded as `Renamed` (the old one is kept
        in `former_names`), a new KvK number as `KvkNumberChanged`, the rest as `ProfileUpdated`.
        Values equal to the current ones record nothing. Every field is checked before anything
        is recorded.
        """
        self._check_active(at)
        name = self.name if changes.name is UNSET else organisation_name(changes.name)
        kvk = (
            self.kvk_number if changes.kvk_number is UNSET else valid_kvk_number(changes.kvk_number)
        )
        profile, changed = rules.changed_fields(
            self.profile, changes, profile_validators(vocabulary, at)
        )
        if name != self.name:
            self._renamed(name=name, previous_name=self.name, at=at)
        if kvk != self.kvk_number:
            self._kvk_number_changed(kvk_number=kvk, previous=self.kvk_number, at=at)
        if changed:
            self._profile_updated(profile=profile, changed=changed, at=at)

    @event("Renamed")
    def _renamed(self, name: str, previous_name: str, at: datetime) -> None:
        self.former_names.append(previous_name)
        self.name = name

    @event("KvkNumberChanged")
    def _kvk_number_changed(
        self, kvk_number: str | None, previous: str | None, at: datetime
    ) -> None:
        self.kvk_number = kvk_number

    @event("ProfileUpdated")
    def _profile_updated(self, profile: Profile, changed: tuple[str, ...], at: datetime) -> None:
        self.profile = profile

    def dissolve(self, *, reason: str, decided_by: str, at: datetime) -> None:
        """End the organisation. Afterwards only `forget_contact` is accepted."""
        self._check_active(at)
        self._dissolved(reason=rules.reason(reason), decided_by=rules.party(decided_by), at=at)

    @event("Dissolved")
    def _dissolved(self, reason: str, decided_by: str, at: datetime) -> None:
        self.dissolved_at = at

    # -- strengths ------------------------------------------------------------------------------

    def _strength(self, strength_id: UUID) -> Strength:
        try:
            return self.strengths[strength_id]
        except KeyError:
            raise NotFound(
                f"organisation {self.name!r} has no strength {strength_id}",
                id=str(strength_id),
                state="withdrawn" if strength_id in self.withdrawn_strengths else "unknown",
            ) from None

    def add_strength(
        self, strength_id: UUID, strength: Strength, *, vocabulary: Vocabulary, at: datetime
    ) -> None:
        self._check_active(at)
        if strength_id in self.strengths or strength_id in self.withdrawn_strengths:
            raise Conflict(
                f"strength {strength_id} already exists", state="exists", id=str(strength_id)
            )
        self._strength_added(
            strength_id=strength_id, strength=validate_strength(strength, vocabulary), at=at
        )

    @event("StrengthAdded")
    def _strength_added(self, strength_id: UUID, strength: Strength, at: datetime) -> None:
        self.strengths[strength_id] = strength

    def change_strength(
        self,
        strength_id: UUID,
        changes: StrengthChanges,
        *,
        vocabulary: Vocabulary,
        at: datetime,
    ) -> None:
        """Change the given fields of a strength; the event carries the whole new strength."""
        self._check_active(at)
        strength, changed = rules.changed_fields(
            self._strength(strength_id), changes, strength_validators(vocabulary)
        )
        if changed:
            self._strength_changed(
                strength_id=strength_id, strength=check_strength(strength), changed=changed, at=at
            )

    @event("StrengthChanged")
    def _strength_changed(
        self, strength_id: UUID, strength: Strength, changed: tuple[str, ...], at: datetime
    ) -> None:
        self.strengths[strength_id] = strength

    def withdraw_strength(self, strength_id: UUID, *, at: datetime, reason: str = "") -> None:
        self._check_active(at)
        self._strength(strength_id)
        self._strength_withdrawn(
            strength_id=strength_id,
            reason=rules.optional_reason(reason),
            at=at,
        )

    @event("StrengthWithdrawn")
    def _strength_withdrawn(self, strength_id: UUID, reason: str, at: datetime) -> None:
        del self.strengths[strength_id]
        self.withdrawn_strengths.append(strength_id)

    # -- contact persons ------------------------------------------------------------------------

    def _contact(self, person_id: UUID) -> ContactPerson:
        try:
            return self.contacts[person_id]
        except KeyError:
            raise NotFound(
                f"person {person_id} is not a contact of organisation {self.name!r}",
                id=str(person_id),
            ) from None

    def add_contact(self, contact: ContactPerson, *, at: datetime) -> None:
        """Add a contact person; `contact.subject` is the person's id (also after removal)."""
        self._check_active(at)
        person_id = contact.subject
        if person_id in self.forgotten_contacts:
            raise Conflict(
                f"person {person_id} was forgotten; their data cannot be recorded again",
                state="forgotten",
            )
        if person_id in self.contacts:
            raise Conflict(f"person {person_id} is already a contact", state="contact")
        self._contact_added(contact=validate_contact(contact), at=at)

    @event("ContactAdded")
    def _contact_added(self, contact: ContactPerson, at: datetime) -> None:
        self.contacts[contact.subject] = contact
        if contact.subject in self.former_contacts:
            self.former_contacts.remove(contact.subject)

    def change_contact(self, person_id: UUID, changes: ContactChanges, *, at: datetime) -> None:
        self._check_active(at)
        contact, changed = rules.changed_fields(
            self._contact(person_id), changes, CONTACT_VALIDATORS
        )
        if changed:
            self._contact_changed(contact=check_contact(contact), at=at)

    @event("ContactChanged")
    def _contact_changed(self, contact: ContactPerson, at: datetime) -> None:
        self.contacts[contact.subject] = contact

    def remove_contact(self, person_id: UUID, *, at: datetime) -> None:
        """No longer a contact. The person's data stays (sealed) in history until forgotten."""
        self._check_active(at)
        self._contact(person_id)
        self._contact_removed(person_id=person_id, at=at)

    @event("ContactRemoved")
    def _contact_removed(self, person_id: UUID, at: datetime) -> None:
        del self.contacts[person_id]
        self.former_contacts.append(person_id)

    def forget_contact(self, person_id: UUID, *, at: datetime) -> None:
        """Record that a (current or former) contact person is forgotten.

        Accepted also after dissolution: erasure is a right, not a change of the organisation.
        After saving this event the application layer destroys the person's key
        (`Keyring.forget`), so every earlier event with their data reads as redacted.
        """
        rules.aware(at)
        if person_id in self.forgotten_contacts:
            raise Conflict(f"person {person_id} was already forgotten", state="forgotten")
        if person_id not in self.contacts and person_id not in self.former_contacts:
            raise NotFound(
                f"person {person_id} never was a contact of organisation {self.name!r}",
                id=str(person_id),
            )
        self._contact_forgotten(person_id=person_id, at=at)

    @event("ContactForgotten")
    def _contact_forgotten(self, person_id: UUID, at: datetime) -> None:
        self.contacts.pop(person_id, None)
        if person_id in self.former_contacts:
            self.former_contacts.remove(person_id)
        self.forgotten_contacts.append(person_id)
