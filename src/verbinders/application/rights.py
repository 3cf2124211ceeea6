"""Whose resource it is: who may act on, or read, what. Every such rule lives here, once.

The route (or the command line) first admits roles; these rules then decide about the
resource at hand, so that the HTTP API, the command line and policies share them.

What the roles mean:

- `coordinator` runs the platform: acts on every organisation of it and decides on membership.
- `organisation`, `municipality` and `fund` act for a party, an organisation of the
  platform (of any kind for `organisation`; of kind municipality or fund for the other two,
  checked when the token is issued). A token with a party acts for that party wherever the
  organisation itself may, whatever its role: a fund's token edits the fund's own profile,
  strengths, contacts and membership, and records its own attendance. Their roles add what
  they read beyond their own organisation (reports, for municipality and fund).
- `auditor` reads what traces decisions (every membership record with its reasons, the
  events); `analyst` reads events, exports and reports (also membership records, without
  personal data). Neither changes anything.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import msgspec

from verbinders.domain.access import PARTY_ROLES, Role
from verbinders.errors import Forbidden

if TYPE_CHECKING:
    from collections.abc import Collection

    from verbinders.application.context import Actor
    from verbinders.projections.membership_queries import RegisterEntry

__all__ = [
    "ACTIVITY_REPORT_READERS",
    "ACTS_FOR_A_PARTY",
    "CALL_MANAGERS",
    "CALL_REPORT_READERS",
    "FUNDING_READERS",
    "FUNDING_REPORT_READERS",
    "FUND_MANAGERS",
    "OWN",
    "RECORD_READERS",
    "TRAIL_READERS",
    "act_for",
    "acts_for",
    "decide_membership",
    "manage_activity",
    "manage_call",
    "manage_fund",
    "manage_overlap_settings",
    "manages_call",
    "manages_fund",
    "partner_answers",
    "person",
    "read_membership_record",
    "see_application",
    "see_call",
    "see_overlap_case",
    "sees_application",
    "sees_call",
    "sees_decision_reasons",
    "without_hidden_decisions",
]

ACTS_FOR_A_PARTY: tuple[str, ...] = tuple(sorted(role.value for role in PARTY_ROLES))
"""Roles whose tokens act for their party."""
OWN: tuple[str, ...] = (Role.COORDINATOR.value, *ACTS_FOR_A_PARTY)
"""Roles admitted to an organisation's own routes; `act_for` then decides which one."""
TRACERS: tuple[str, ...] = (Role.COORDINATOR.value, Role.AUDITOR.value, Role.ANALYST.value)
"""Who reads every membership record with its decisions and their reasons."""
RECORD_READERS: tuple[str, ...] = (*TRACERS, *ACTS_FOR_A_PARTY)
"""Roles admitted to a membership record; `read_membership_record` then decides."""


def acts_for(actor: Actor, organisation_id: uuid.UUID) -> bool:
    """Whether the actor may act as `organisation_id` itself may: the coordinator for any
    organisation of its platform, a token with a party for that party."""
    if actor.has_any(Role.COORDINATOR.value):
        return True
    return actor.party == organisation_id and actor.has_any(*ACTS_FOR_A_PARTY)


def act_for(actor: Actor, organisation_id: uuid.UUID) -> None:
    """`acts_for`, or `Forbidden` naming the organisation."""
    if not acts_for(actor, organisation_id):
        raise Forbidden(
            "only the coordinator or the organisation itself may do this",
            organisation=str(organisation_id),
        )


def decide_membership(actor: Actor) -> None:
    """Admitting, rejecting, suspending and reinstating are the coordinator's."""
    if not actor.has_any(Role.COORDINATOR.value):
        raise Forbidden("only the coordinator decides on membership")


def read_membership_record(actor: Actor, organisation_id: uuid.UUID) -> None:
    """A membership record (with its decisions and their reasons): those who trace decisions,
    and the organisation itself; `Forbidden` for others."""
    if not sees_decision_reasons(actor, organisation_id):
        raise Forbidden(
            "only the coordinator, auditors, analysts and the organisation itself read its"
            " membership record",
            organisation=str(organisation_id),
        )


def sees_decision_reasons(actor: Actor, organisation_id: uuid.UUID) -> bool:
    """Whether the actor may read why `organisation_id` was rejected or suspended and who
    decided (the record, and the same columns in the register)."""
    return actor.has_any(*TRACERS) or acts_for(actor, organisation_id)


def without_hidden_decisions(actor: Actor, entries: list[RegisterEntry]) -> list[RegisterEntry]:
    """Register entries as `actor` may read them: who decided and why only where
    `sees_decision_reasons` (the coordinator, auditors, analysts, the organisation itself);
    `null` elsewhere, as on a record the actor may not read."""
    if actor.has_any(*TRACERS):
        return entries
    return [
        entry
        if sees_decision_reasons(actor, entry.organisation_id)
        else msgspec.structs.replace(entry, decided_by=None, reason=None)
        for entry in entries
    ]


# -- calls ----------------------------------------------------------------------------------------

CALL_MANAGERS: tuple[str, ...] = (Role.COORDINATOR.value, Role.MUNICIPALITY.value)
"""Who issues calls; `manage_call` then decides which calls each manages."""
CALL_REPORT_READERS: tuple[str, ...] = (
    Role.COORDINATOR.value,
    Role.MUNICIPALITY.value,
    Role.ANALYST.value,
)
"""Who reads the calls' reports (no personal data in them)."""


def manages_call(actor: Actor, issued_by: str) -> bool:
    """The coordinator manages every call of its platform; a municipality token the calls its
    own organisation issued (`issued_by` is the issuing party)."""
    if actor.has_any(Role.COORDINATOR.value):
        return True
    return (
        actor.has_any(Role.MUNICIPALITY.value)
        and actor.party is not None
        and str(actor.party) == issued_by
    )


def manage_call(actor: Actor, issued_by: str) -> None:
    """`manages_call`, or `Forbidden`."""
    if not manages_call(actor, issued_by):
        raise Forbidden(
            "only the coordinator or the municipality that issued the call may manage it",
            issued_by=issued_by,
        )


def sees_call(actor: Actor, issued_by: str, addressees: Collection[uuid.UUID]) -> bool:
    """Whoever manages the call, and the organisations it addresses (acting for themselves)."""
    if manages_call(actor, issued_by):
        return True
    return (
        actor.party is not None and actor.has_any(*ACTS_FOR_A_PARTY) and actor.party in addressees
    )


def see_call(actor: Actor, issued_by: str, addressees: Collection[uuid.UUID]) -> None:
    """`sees_call`, or `Forbidden` (an organisation sees only the calls addressed to it)."""
    if not sees_call(actor, issued_by, addressees):
        raise Forbidden(
            "this call is not addressed to the organisation the token acts for",
            organisation=str(actor.party) if actor.party else None,
        )


# -- funding --------------------------------------------------------------------------------------

FUNDING_READERS: tuple[str, ...] = (*OWN, Role.AUDITOR.value)
"""Roles admitted to funding's reads; `see_application` and `manage_fund` then decide."""
FUND_MANAGERS: tuple[str, ...] = (
    Role.COORDINATOR.value,
    Role.FUND.value,
    Role.MUNICIPALITY.value,
)
"""Who acts for funds; `manage_fund` then decides which fund."""
FUNDING_REPORT_READERS: tuple[str, ...] = (
    Role.COORDINATOR.value,
    Role.MUNICIPALITY.value,
    Role.ANALYST.value,
    Role.AUDITOR.value,
)
TRAIL_READERS: tuple[str, ...] = (Role.COORDINATOR.value, Role.AUDITOR.value)


def person(actor: Actor) -> str:
    """Who acts as a person (a reviewer, a decider): the token, else the policy or operator.
    Conflicts of interest are declared by, and bind, this person."""
    if actor.token_id is not None:
        return f"token:{actor.token_id}"
    if actor.policy is not None:
        return f"policy:{actor.policy}"
    return f"operator:{actor.label or 'cli'}"


def manages_fund(actor: Actor, funder: uuid.UUID) -> bool:
    """The coordinator, and the people of the fund's own funder (a fund or municipality token
    acting for it)."""
    if actor.has_any(Role.COORDINATOR.value):
        return True
    return (
        actor.party == funder
        and actor.party is not None
        and actor.has_any(Role.FUND.value, Role.MUNICIPALITY.value)
    )


def manage_fund(actor: Actor, funder: uuid.UUID) -> None:
    if not manages_fund(actor, funder):
        raise Forbidden(
            "only the fund's own people (or the coordinator) act for this fund",
            funder=str(funder),
        )


def sees_application(
    actor: Actor, funder: uuid.UUID, applicant: uuid.UUID, co_applicants: Collection[uuid.UUID]
) -> bool:
    """Auditors and the coordinator see every application; the fund its own; the applicant
    and its co-applicants theirs."""
    if actor.has_any(Role.AUDITOR.value) or manages_fund(actor, funder):
        return True
    return acts_for(actor, applicant) or any(acts_for(actor, c) for c in co_applicants)


def see_application(
    actor: Actor, funder: uuid.UUID, applicant: uuid.UUID, co_applicants: Collection[uuid.UUID]
) -> None:
    if not sees_application(actor, funder, applicant, co_applicants):
        raise Forbidden(
            "only the applicant, its co-applicants, the fund, auditors and the coordinator see"
            " this application"
        )


# -- activities, hours and overlap cases ---------------------------------------------------------

ACTIVITY_REPORT_READERS: tuple[str, ...] = (
    Role.COORDINATOR.value,
    Role.ANALYST.value,
    Role.AUDITOR.value,
    Role.MUNICIPALITY.value,
    Role.FUND.value,
)
"""Who reads the reports on hours, overlap cases and the collaboration network (figures per
organisation, no personal data)."""


def manage_activity(actor: Actor, organiser: uuid.UUID) -> None:
    """An activity is managed (updated, partners invited, started, completed, cancelled) by
    its organiser and the coordinator; `Forbidden` naming the organiser for anyone else."""
    if not acts_for(actor, organiser):
        raise Forbidden(
            "only the coordinator or the organiser manages this activity",
            organisation=str(organiser),
        )


def partner_answers(actor: Actor, partner: uuid.UUID) -> None:
    """A partner confirms its own participation (accepts, declines, changes its contribution,
    withdraws); the coordinator may record it for the partner."""
    if not acts_for(actor, partner):
        raise Forbidden(
            "only the invited organisation itself (or the coordinator) answers for it",
            organisation=str(partner),
        )


def sees_overlap_case(actor: Actor, organisations: Collection[uuid.UUID]) -> bool:
    """The coordinator sees every case; an organisation the cases about its activities."""
    if actor.has_any(Role.COORDINATOR.value):
        return True
    return (
        actor.party is not None
        and actor.has_any(*ACTS_FOR_A_PARTY)
        and actor.party in organisations
    )


def see_overlap_case(actor: Actor, organisations: Collection[uuid.UUID]) -> None:
    if not sees_overlap_case(actor, organisations):
        raise Forbidden(
            "this overlap case concerns other organisations' activities",
            organisation=str(actor.party) if actor.party else None,
        )


def manage_overlap_settings(actor: Actor) -> None:
    """The threshold from which overlap cases open is the coordinator's to set."""
    if not actor.has_any(Role.COORDINATOR.value):
        raise Forbidden("only the coordinator sets the platform's overlap threshold")
