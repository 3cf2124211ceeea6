"""Contact persons: personal data, sealed per person so that a person can be forgotten."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any, Self
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules, text
from verbinders.domain.personal import REDACTED, PersonalData
from verbinders.errors import InvalidCommand

__all__ = ["ContactChanges", "ContactPerson", "validate_contact"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]+$")


class ContactPerson(PersonalData, frozen=True, kw_only=True):
    """A person to contact at an organisation; `subject` is the person's id."""

    name: str
    role: str = ""
    email: str | None = None
    phone: str | None = None

    @classmethod
    def redacted(cls, subject: UUID) -> Self:
        return cls(subject=subject, name=REDACTED, role=REDACTED)

    @property
    def is_redacted(self) -> bool:
        return self.name == REDACTED


class ContactChanges(msgspec.Struct, frozen=True, kw_only=True):
    name: str | UnsetType = UNSET
    role: str | UnsetType = UNSET
    email: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    email = text.clean(value, field="email", multi_line=False).strip()
    if len(email) > limits.EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise InvalidCommand(
            f"email {text.shown(value)} is not an e-mail address", field="email", rule="email"
        )
    return email


def _phone(value: str | None) -> str | None:
    if value is None:
        return None
    phone = " ".join(value.split())
    digits = sum(c.isdigit() for c in phone)
    if len(phone) > limits.PHONE_MAX or not _PHONE.fullmatch(phone) or not 6 <= digits <= 15:
        raise InvalidCommand(
            f"phone {text.shown(value)} must be 6 to 15 digits, optionally with +, spaces,"
            " hyphens, brackets",
            field="phone",
            rule="phone",
        )
    return phone


CONTACT_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "name": partial(rules.single_line, field="name", max_length=limits.CONTACT_NAME_MAX),
    "role": partial(
        rules.single_line, field="role", max_length=limits.CONTACT_ROLE_MAX, min_length=0
    ),
    "email": _email,
    "phone": _phone,
}


def check_contact(contact: ContactPerson) -> ContactPerson:
    """Rules across fields: a contact person must be reachable."""
    if contact.email is None and contact.phone is None:
        raise InvalidCommand(
            "a contact person needs an e-mail address or a phone number",
            field="email",
            rule="reachable",
        )
    return contact


def validate_contact(contact: ContactPerson) -> ContactPerson:
    cleaned = msgspec.structs.replace(
        contact,
        **{name: check(getattr(contact, name)) for name, check in CONTACT_VALIDATORS.items()},
    )
    return check_contact(cleaned)
