"""Aggregates with personal data, shared by the store's and the audit's tests."""

from __future__ import annotations

import uuid
from typing import Self

from eventsourcing.domain import Aggregate, event

from verbinders.domain.personal import REDACTED, PersonalData

__all__ = ["Association", "Contact"]


class Contact(PersonalData, frozen=True, kw_only=True):
    name: str
    email: str

    @classmethod
    def redacted(cls, subject: uuid.UUID) -> Self:
        return cls(subject=subject, name=REDACTED, email=REDACTED)


class Association(Aggregate):
    STREAM_TYPE = "Association"
    name: str
    contacts: dict[uuid.UUID, Contact]
    chair: Contact | None
    former: frozenset[Contact]

    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.contacts = {}
        self.chair = None
        self.former = frozenset()

    @event("ContactAdded")
    def add_contact(self, contact: Contact) -> None:
        self.contacts[contact.subject] = contact

    @event("ChairElected")
    def elect_chair(self, chair: Contact) -> None:
        self.chair = chair

    @event("Archived")
    def archive(self, former: frozenset[Contact]) -> None:
        self.former = self.former | former

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name
