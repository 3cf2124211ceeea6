"""Uniqueness through index aggregates with deterministic ids.

An organisation's name (compared case- and accent-insensitively) and its KvK number are unique
per platform. Each claimed value has a `UniqueIndex` stream whose id is derived from the tenant,
the scope and the normalised value. The application layer saves the index in the same atomic
append as the organisation, so two racing registrations of one name cannot both succeed: the
second either sees the index taken (`Conflict`) or loses the race on the index stream's version
(`StreamConflict`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from verbinders.domain import rules, text
from verbinders.domain.ids import stable_id
from verbinders.errors import Conflict

__all__ = [
    "IndexScope",
    "UniqueIndex",
    "claim_index",
    "index_id",
    "kvk_number_index_id",
    "normalise_name",
    "organisation_name_index_id",
]


class IndexScope(StrEnum):
    ORGANISATION_NAME = "organisation-name"
    KVK_NUMBER = "kvk-number"


_WHAT = {IndexScope.ORGANISATION_NAME: "name", IndexScope.KVK_NUMBER: "KvK number"}


def normalise_name(name: str) -> str:
    """The form in which names are compared (`text.fold`): NFKD, accents and invisible
    characters dropped, casefolded, spaces collapsed.

    'Stichting  Café Ünal', 'stichting cafe unal' and 'Stichting Caf\u200be Unal' are the same
    name. Names that held invisible characters before they were dropped here keep the index key
    they were registered under until they are renamed.
    """
    return text.fold(name)


def index_id(scope: IndexScope, tenant: str, key: str) -> UUID:
    return stable_id(tenant, scope.value, key)


def organisation_name_index_id(tenant: str, name: str) -> UUID:
    return index_id(IndexScope.ORGANISATION_NAME, tenant, normalise_name(name))


def kvk_number_index_id(tenant: str, kvk_number: str) -> UUID:
    """`kvk_number` as the organisation holds it (8 digits, already validated)."""
    return index_id(IndexScope.KVK_NUMBER, tenant, kvk_number)


class UniqueIndex(Aggregate):
    """Who holds a unique value on a platform (`owner`), or nobody once released."""

    STREAM_TYPE = "UniqueIndex"

    tenant: str
    scope: IndexScope
    key: str
    owner: UUID | None

    @classmethod
    def create(
        cls, *, scope: IndexScope, tenant: str, key: str, owner: UUID, at: datetime
    ) -> UniqueIndex:
        """A new index held by `owner`; `key` must already be normalised."""
        rules.aware(at)
        return cls(
            id=index_id(scope, tenant, key), tenant=tenant, scope=scope, key=key, owner=owner, at=at
        )

    @event("Created")
    def __init__(
        self, id: UUID, tenant: str, scope: IndexScope, key: str, owner: UUID, at: datetime
    ) -> None:
        self.tenant = tenant
        self.scope = scope
        self.key = key
        self.owner = owner

    def claim(self, owner: UUID, *, at: datetime) -> None:
        """Take a released value; claiming what one already holds changes nothing."""
        rules.aware(at)
        if self.owner == owner:
            return
        if self.owner is not None:
            raise Conflict(
                f"the {_WHAT[self.scope]} {self.key!r} is already taken on this platform",
                state="taken",
                field=self.scope.value,
                owner=str(self.owner),
            )
        self._claimed(owner=owner, at=at)

    @event("Claimed")
    def _claimed(self, owner: UUID, at: datetime) -> None:
        self.owner = owner

    def release(self, owner: UUID, *, at: datetime) -> None:
        """Give the value up; only its holder can."""
        rules.aware(at)
        if self.owner != owner:
            raise Conflict(
                f"the {_WHAT[self.scope]} {self.key!r} is not held by {owner}",
                state="taken" if self.owner else "free",
            )
        self._released(owner=owner, at=at)

    @event("Released")
    def _released(self, owner: UUID, at: datetime) -> None:
        self.owner = None


def claim_index(
    existing: UniqueIndex | None,
    *,
    scope: IndexScope,
    tenant: str,
    key: str,
    owner: UUID,
    at: datetime,
) -> UniqueIndex:
    """The index of `key` held by `owner`: a new one, or `existing` claimed (`Conflict` if taken).

    `existing` is what the repository found under `index_id(scope, tenant, key)`.
    """
    if existing is None:
        return UniqueIndex.create(scope=scope, tenant=tenant, key=key, owner=owner, at=at)
    existing.claim(owner, at=at)
    return existing
