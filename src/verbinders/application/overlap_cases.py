"""Overlap cases: opened and closed by the overlap policy, answered by the organisations;
the platform's threshold; "check before you plan".

- `open_overlap_case` (the policy's): one case per unordered pair of activities, for good.
  It does nothing when the case exists (also when it ended), when either activity is no
  longer planned or running, or when both belong to one organisation. Its append expects the
  case's stream at version 0, so of two openers of one pair (a second worker, a leader that
  lost its lock without noticing) one appends and the other is refused by the store: already
  open. With the case it records the pair in `overlap_case_pairs` (same transaction), which
  is how `close_overlap_cases_of` finds an activity's cases.
- `answer_overlap_case`: an organisation of the case (or the coordinator for it) answers
  join forces, coordinate or not an overlap; when both join forces the case resolves and the
  host activity invites the other organisation in the same unit of work.
- `close_overlap_cases_of` (the policy's): an activity was cancelled or completed, its open
  cases lapse.
- `set_overlap_threshold`: the coordinator's platform setting (`OverlapSettings`).
- `check_draft`: the likely overlaps of a draft activity, saved nowhere.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import msgspec

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.overlap_search import search, threshold_of
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.domain.access import Role
from verbinders.domain.activities import Activity, PartnershipStatus
from verbinders.domain.activity_details import ActivityDetails, validate_details
from verbinders.domain.overlap import Explanation
from verbinders.domain.overlap_cases import (
    Answer,
    CaseStatus,
    ClosedBecause,
    Outcome,
    OverlapCase,
    overlap_case_id,
)
from verbinders.domain.overlap_settings import OverlapSettings, overlap_settings_id
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.schedule import Schedule, check_schedule
from verbinders.errors import Conflict, Forbidden

if TYPE_CHECKING:
    from verbinders.application.context import Actor
    from verbinders.database import Connection
    from verbinders.runtime import Runtime

__all__ = [
    "MIGRATIONS",
    "DraftCheck",
    "LikelyOverlap",
    "answer_overlap_case",
    "check_draft",
    "close_overlap_cases_of",
    "open_overlap_case",
    "set_overlap_threshold",
]

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "which overlap cases each activity is part of",
        """
CREATE TABLE overlap_case_pairs (
    tenant      text NOT NULL,
    activity_id uuid NOT NULL,
    case_id     uuid NOT NULL,
    PRIMARY KEY (activity_id, case_id)
);
""",
    ),
]


def _policy_or_coordinator(uow: UnitOfWork) -> None:
    if not uow.actor.has_any(Role.COORDINATOR.value):
        raise Forbidden("overlap cases are opened and closed by the platform (its policy)")


@command()
async def open_overlap_case(
    uow: UnitOfWork,
    activity_id: uuid.UUID,
    other_id: uuid.UUID,
    *,
    explanation: Explanation,
    threshold: float,
) -> CommandResult:
    """Open the case of the pair (see the module's notes: at most once, for good)."""
    _policy_or_coordinator(uow)
    case_id = overlap_case_id(uow.tenant, activity_id, other_id)
    await uow.preload((Activity, activity_id), (Activity, other_id), (OverlapCase, case_id))
    existing = await uow.find(OverlapCase, case_id)
    if existing is not None:
        return CommandResult.of(existing)
    first = await uow.get(Activity, activity_id)
    second = await uow.get(Activity, other_id)
    if not first.is_open or not second.is_open or first.organisation_id == second.organisation_id:
        return CommandResult(id=str(case_id), version=0)
    case = OverlapCase.open(
        tenant=uow.tenant,
        activity=(first.id, first.organisation_id),
        other=(second.id, second.organisation_id),
        explanation=explanation,
        threshold=threshold,
        at=uow.now(),
    )
    uow.save(
        case,
        on_conflict=lambda: Conflict(
            f"overlap case {case_id} is open already", state="open", id=str(case_id)
        ),
    )
    await uow.connection.execute(
        "INSERT INTO overlap_case_pairs (tenant, activity_id, case_id)"
        " SELECT $1, unnest($2::uuid[]), $3 ON CONFLICT DO NOTHING",
        uow.tenant,
        [first.id, second.id],
        case_id,
    )
    return CommandResult.of(case)


@command()
async def close_overlap_cases_of(
    uow: UnitOfWork, activity_id: uuid.UUID, *, because: ClosedBecause
) -> CommandResult:
    """The activity was cancelled or completed: its open cases lapse (ended ones stay)."""
    _policy_or_coordinator(uow)
    rows = await uow.connection.fetch(
        "SELECT case_id FROM overlap_case_pairs WHERE tenant = $1 AND activity_id = $2"
        " ORDER BY case_id",
        uow.tenant,
        activity_id,
    )
    ids = [row["case_id"] for row in rows]
    await uow.preload(*((OverlapCase, case_id) for case_id in ids))
    closed = 0
    for case_id in ids:
        case = await uow.get(OverlapCase, case_id)
        if case.status is CaseStatus.OPEN:
            case.close(activity_id=activity_id, because=because, at=uow.now())
            closed += 1
    return CommandResult(id=str(activity_id), version=0, data={"closed": closed})


@command(writes_once=True)
async def answer_overlap_case(
    uow: UnitOfWork, case_id: uuid.UUID, organisation_id: uuid.UUID, answer: Answer
) -> CommandResult:
    """`organisation_id`'s answer (the organisation itself or the coordinator). When both
    organisations join forces, the host activity invites the other organisation."""
    case = await uow.target(OverlapCase, case_id)
    rights.see_overlap_case(uow.actor, case.organisations)
    rights.act_for(uow.actor, organisation_id)
    was_open = case.status is CaseStatus.OPEN
    case.answer(organisation_id, answer, answered_by=uow.actor.name, at=uow.now())
    invitation = case.invitation
    if was_open and case.outcome is Outcome.JOINED_FORCES and invitation is not None:
        host = await uow.get(Activity, invitation.activity_id)
        part = host.partners.get(invitation.partner_id)
        free = part is None or part.status in (
            PartnershipStatus.DECLINED,
            PartnershipStatus.WITHDRAWN,
        )
        if host.is_open and free:
            host.invite_partner(
                invitation.partner_id,
                invited_by=uow.actor.name,
                message=f"Together, as agreed in overlap case {case.id}",
                at=max(uow.now(), host.changed_at),
            )
    return CommandResult.of(case)


@command(writes_once=True)
async def set_overlap_threshold(uow: UnitOfWork, *, threshold: float, reason: str) -> CommandResult:
    """The score from which the platform's overlap cases open (the coordinator's)."""
    rights.manage_overlap_settings(uow.actor)
    settings = await uow.find(OverlapSettings, overlap_settings_id(uow.tenant))
    if settings is None:
        settings = OverlapSettings.set_up(
            tenant=uow.tenant,
            threshold=threshold,
            reason=reason,
            decided_by=uow.actor.name,
            at=uow.now(),
        )
        uow.save(settings, reason=reason)
    else:
        settings.change_threshold(threshold, reason=reason, decided_by=uow.actor.name, at=uow.now())
        uow.save(reason=reason)
    return CommandResult.of(settings)


# -- check before you plan ---------------------------------------------------------------------


class LikelyOverlap(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: uuid.UUID
    organisation_id: uuid.UUID
    title: str
    status: str
    score: float
    opens_a_case: bool
    """At or above the platform's threshold: planning the draft would open a case."""
    explanation: Explanation


class DraftCheck(msgspec.Struct, frozen=True, kw_only=True):
    threshold: float
    overlaps: list[LikelyOverlap]


async def check_draft(
    runtime: Runtime,
    actor: Actor,
    conn: Connection,
    *,
    organisation_id: uuid.UUID,
    details: ActivityDetails,
    schedule: Schedule,
    limit: int = 20,
) -> DraftCheck:
    """The likely overlaps of a draft activity of `organisation_id` (the organisation itself
    or the coordinator), checked as planning would check it, best first, with their
    explanations; nothing is saved."""
    rights.act_for(actor, organisation_id)
    platform = await runtime.repository.get(
        Platform, platform_id(actor.tenant), tenant=actor.tenant
    )
    checked = validate_details(details, platform.vocabulary)
    when = check_schedule(schedule)
    found = await search(
        conn,
        actor.tenant,
        organisation_id=organisation_id,
        details=checked,
        schedule=when,
        limit=limit,
    )
    threshold = await threshold_of(conn, actor.tenant)
    return DraftCheck(
        threshold=threshold,
        overlaps=[
            LikelyOverlap(
                activity_id=f.activity_id,
                organisation_id=f.organisation_id,
                title=f.title,
                status=f.status,
                score=f.explanation.score,
                opens_a_case=f.explanation.score >= threshold,
                explanation=f.explanation,
            )
            for f in found
        ],
    )
