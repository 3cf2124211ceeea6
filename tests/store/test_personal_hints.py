"""Which event classes the store scans for personal data, by their declared field types."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from verbinders.domain.contacts import ContactPerson
from verbinders.store.mapping import event_subjects, may_hold_personal_data


class Colour(StrEnum):
    RED = "red"


class Plain:
    name: str
    founded: date
    ids: tuple[uuid.UUID, ...]
    tags: list[str]
    colour: Colour
    mode: Literal["a", "b"]
    note: Annotated[str, "a note"]
    maybe: int | None


class WithContact:
    name: str
    contact: ContactPerson


class WithOptionalContact:
    contact: ContactPerson | None


class WithContacts:
    contacts: tuple[ContactPerson, ...]


class WithAnything:
    extra: dict[str, Any]


class WithBareList:
    items: list


class WithUnknownName:
    thing: NotDefinedAnywhere  # noqa: F821


def test_fields_that_cannot_hold_personal_data_are_not_scanned() -> None:
    assert not may_hold_personal_data(Plain)
    # A personal value where the declared types say none can be: a scan would find it.
    plain = Plain()
    plain.name = "x"
    plain.maybe = ContactPerson(subject=uuid.uuid4(), name="Fatima")  # type: ignore[assignment]
    assert event_subjects(plain) == set()
    holder = WithContact()
    holder.contact = plain.maybe  # type: ignore[assignment]
    assert event_subjects(holder) == {holder.contact.subject}


def test_fields_that_can_or_might_hold_personal_data_are_scanned() -> None:
    for cls in (
        WithContact,
        WithOptionalContact,
        WithContacts,
        WithAnything,
        WithBareList,
        WithUnknownName,
    ):
        assert may_hold_personal_data(cls), cls.__name__
    subject = uuid.uuid4()
    holder = WithContacts()
    holder.contacts = (ContactPerson(subject=subject, name="Fatima"),)
    assert event_subjects(holder) == {subject}
