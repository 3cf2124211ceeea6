"""Access tokens: who may act on a platform, for which party, in which roles, until when.

Granting and revoking access are events like any other, so auditors can see who could act
when. The token's secret is never recorded: only its SHA-256 hash.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from verbinders.errors import Conflict, InvalidCommand

__all__ = ["AccessToken", "Role"]


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    """Runs the platform."""
    ORGANISATION = "organisation"
    """Represents its own organisation."""
    MUNICIPALITY = "municipality"
    FUND = "fund"
    AUDITOR = "auditor"
    """Reads everything needed to trace decisions; changes nothing."""
    ANALYST = "analyst"
    """Reads events, exports and reports; no personal data."""


PARTY_ROLES = frozenset({Role.ORGANISATION, Role.MUNICIPALITY, Role.FUND})
"""Roles that act for an organisation of the platform, and so need a party."""


class AccessToken(Aggregate):
    STREAM_TYPE = "AccessToken"

    tenant: str
    party: uuid.UUID | None
    roles: tuple[str, ...]
    label: str
    secret_hash: str
    expires_at: datetime | None
    issued_by: str
    revoked: bool

    @classmethod
    def issue(
        cls,
        *,
        token_id: uuid.UUID,
        tenant: str,
        party: uuid.UUID | None,
        roles: tuple[str, ...],
        label: str,
        secret_hash: str,
        expires_at: datetime | None,
        issued_by: str,
        reason: str,
        now: datetime,
    ) -> AccessToken:
        if not roles:
            raise InvalidCommand("a token needs at least one role", field="roles", rule="non-empty")
        known = {r.value for r in Role}
        for role in roles:
            if role not in known:
                raise InvalidCommand(
                    f"unknown role {role!r}; roles are {', '.join(sorted(known))}",
                    field="roles",
                    rule="enum",
                )
        if party is None and PARTY_ROLES.intersection(roles):
            raise InvalidCommand(
                "roles organisation, municipality and fund act for a party: give its id",
                field="party",
                rule="required",
            )
        if expires_at is not None and expires_at <= now:
            raise InvalidCommand(
                "expires_at must lie in the future", field="expires_at", rule="future"
            )
        if not label.strip():
            raise InvalidCommand("label must not be empty", field="label", rule="non-empty")
        return cls._create(
            cls.Issued,
            id=token_id,
            tenant=tenant,
            party=party,
            roles=tuple(dict.fromkeys(roles)),
            label=label.strip(),
            secret_hash=secret_hash,
            expires_at=expires_at,
            issued_by=issued_by,
            reason=reason,
        )

    class Issued(Aggregate.Created):
        tenant: str
        party: uuid.UUID | None
        roles: tuple[str, ...]
        label: str
        secret_hash: str
        expires_at: datetime | None
        issued_by: str
        reason: str

    def __init__(
        self,
        tenant: str,
        party: uuid.UUID | None,
        roles: tuple[str, ...],
        label: str,
        secret_hash: str,
        expires_at: datetime | None,
        issued_by: str,
        reason: str,
    ) -> None:
        self.tenant = tenant
        self.party = party
        self.roles = tuple(roles)
        self.label = label
        self.secret_hash = secret_hash
        self.expires_at = expires_at
        self.issued_by = issued_by
        self.revoked = False

    def revoke(self, *, revoked_by: str, reason: str) -> None:
        if self.revoked:
            raise Conflict(f"token {self.id} is already revoked", state="revoked")
        if not reason.strip():
            raise InvalidCommand("a reason is required", field="reason", rule="non-empty")
        self._revoked(revoked_by, reason.strip())

    @event("Revoked")
    def _revoked(self, revoked_by: str, reason: str) -> None:
        self.revoked = True
