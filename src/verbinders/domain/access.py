"""Access tokens: who may act on a platform, for which party, in which roles, until when.

Granting and revoking access are events like any other, so auditors can see who could act
when. The token's secret is never recorded: only its SHA-256 hash.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from verbinders.domain import limits, rules, text
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


def _roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    """Known roles, each once, in the order given."""
    known = {r.value for r in Role}
    for index, role in enumerate(roles):
        if role not in known:
            raise InvalidCommand(
                f"unknown role {text.shown(role)}; roles are {', '.join(sorted(known))}",
                field=f"roles[{index}]",
                rule="enum",
            )
    unique = tuple(dict.fromkeys(roles))
    if not unique:
        raise InvalidCommand("a token needs at least one role", field="roles", rule="required")
    return unique


def _expiry(expires_at: datetime, now: datetime) -> datetime:
    """In the future, and at most `limits.TOKEN_LIFETIME_MAX` ahead."""
    rules.moment(expires_at, field="expires_at")
    if expires_at <= now:
        raise InvalidCommand("expires_at must lie in the future", field="expires_at", rule="future")
    if expires_at > now + limits.TOKEN_LIFETIME_MAX:
        raise InvalidCommand(
            f"expires_at must lie at most {limits.TOKEN_LIFETIME_MAX.days} days ahead",
            field="expires_at",
            rule="range",
        )
    return expires_at


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
        rules.aware(now, field="now")
        checked_roles = _roles(roles)
        if party is None and PARTY_ROLES.intersection(checked_roles):
            raise InvalidCommand(
                "roles organisation, municipality and fund act for a party: give its id",
                field="party",
                rule="required",
            )
        return cls._create(
            cls.Issued,
            id=token_id,
            tenant=tenant,
            party=party,
            roles=checked_roles,
            label=rules.single_line(label, field="label", max_length=limits.TOKEN_LABEL_MAX),
            secret_hash=secret_hash,
            expires_at=None if expires_at is None else _expiry(expires_at, now),
            issued_by=rules.party(issued_by, field="issued_by"),
            reason=rules.optional_reason(reason),
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
        self._revoked(rules.party(revoked_by, field="revoked_by"), rules.reason(reason))

    @event("Revoked")
    def _revoked(self, revoked_by: str, reason: str) -> None:
        self.revoked = True
