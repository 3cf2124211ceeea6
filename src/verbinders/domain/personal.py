"""Personal data in the domain: values that can be forgotten.

A value of a `PersonalData` subclass (a contact person's name, e-mail, phone) is stored encrypted
with a key of its own subject (the person). Forgetting the person destroys that key: events and
snapshots keep their place in history, and the value reads back as `redacted(subject)`.
"""

from __future__ import annotations

from typing import Self
from uuid import UUID

import msgspec

__all__ = ["REDACTED", "PersonalData"]

REDACTED = "[redacted]"


class PersonalData(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every value that holds personal data; `subject` is the person it is about."""

    subject: UUID

    @classmethod
    def redacted(cls, subject: UUID) -> Self:
        """The value as it reads once its subject was forgotten."""
        raise NotImplementedError(f"{cls.__qualname__} must say how it reads when forgotten")

    @property
    def is_redacted(self) -> bool:
        return False
