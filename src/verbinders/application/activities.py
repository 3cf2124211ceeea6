"""Activities: plan, update, partners (invite, accept, decline, change, withdraw), start,
complete, cancel.

Rights (`rights.py`): the organiser and the coordinator manage an activity
(`manage_activity`); an invited organisation answers for itself (`partner_answers`). The
organiser and every invited partner must be organisations of the platform that are not
dissolved. An invalid transition is the aggregate's `Conflict`, naming the state (409).

The overlap policy (`policies/overlap_detection.py`) reacts to `Planned`, `DetailsUpdated`,
`Rescheduled` (score against other organisations' activities) and to `Cancelled`,
`Completed` (close the open cases of the activity).
"""

from __future__ import annotations

import uuid

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.domain.activities import Activity
from verbinders.domain.activity_details import ActivityChanges, ActivityDetails, Contribution
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.schedule import Schedule
from verbinders.domain.vocabulary import Vocabulary
from verbinders.errors import Conflict, InvalidCommand

__all__ = [
    "accept_invitation",
    "cancel_activity",
    "change_contribution",
    "complete_activity",
    "decline_invitation",
    "invite_partner",
    "plan_activity",
    "start_activity",
    "update_activity",
    "withdraw_partner",
]


async def _vocabulary(uow: UnitOfWork) -> Vocabulary:
    return (await uow.get(Platform, platform_id(uow.tenant))).vocabulary


async def existing_organisation(
    uow: UnitOfWork, organisation_id: uuid.UUID, *, field: str
) -> Organisation:
    """An organisation of the platform that is not dissolved (422 naming `field` otherwise)."""
    organisation = await uow.find(Organisation, organisation_id)
    if organisation is None:
        raise InvalidCommand(
            f"no organisation {organisation_id} on this platform", field=field, rule="unknown"
        )
    if organisation.is_dissolved:
        raise InvalidCommand(
            f"organisation {organisation_id} is dissolved", field=field, rule="dissolved"
        )
    return organisation


async def _managed(uow: UnitOfWork, activity_id: uuid.UUID) -> Activity:
    activity = await uow.target(Activity, activity_id)
    rights.manage_activity(uow.actor, activity.organisation_id)
    return activity


@command(writes_once=True)
async def plan_activity(
    uow: UnitOfWork,
    *,
    organisation_id: uuid.UUID,
    details: ActivityDetails,
    schedule: Schedule,
    activity_id: uuid.UUID | None = None,
) -> CommandResult:
    """A new activity of `organisation_id` (the organisation itself or the coordinator)."""
    rights.manage_activity(uow.actor, organisation_id)
    await uow.preload((Organisation, organisation_id), (Platform, platform_id(uow.tenant)))
    await existing_organisation(uow, organisation_id, field="organisation_id")
    activity = Activity.plan(
        activity_id=activity_id or uuid.uuid4(),
        tenant=uow.tenant,
        organisation_id=organisation_id,
        details=details,
        schedule=schedule,
        vocabulary=await _vocabulary(uow),
        planned_by=uow.actor.name,
        at=uow.now(),
    )
    uow.save(
        activity,
        on_conflict=lambda: Conflict(
            f"activity {activity.id} already exists", state="exists", id=str(activity.id)
        ),
    )
    return CommandResult.of(activity)


@command(writes_once=True)
async def update_activity(
    uow: UnitOfWork, activity_id: uuid.UUID, changes: ActivityChanges
) -> CommandResult:
    """Change the fields given (a new schedule is recorded as `Rescheduled`)."""
    activity = await _managed(uow, activity_id)
    activity.update(changes, vocabulary=await _vocabulary(uow), at=uow.now())
    return CommandResult.of(activity)


@command(writes_once=True)
async def invite_partner(
    uow: UnitOfWork, activity_id: uuid.UUID, partner_id: uuid.UUID, *, message: str = ""
) -> CommandResult:
    """Invite an organisation of any kind (not dissolved) to take part."""
    await uow.preload((Activity, activity_id), (Organisation, partner_id))
    activity = await _managed(uow, activity_id)
    await existing_organisation(uow, partner_id, field="partner_id")
    activity.invite_partner(partner_id, invited_by=uow.actor.name, message=message, at=uow.now())
    return CommandResult.of(activity)


async def _answered(uow: UnitOfWork, activity_id: uuid.UUID, partner_id: uuid.UUID) -> Activity:
    activity = await uow.target(Activity, activity_id)
    rights.partner_answers(uow.actor, partner_id)
    return activity


@command(writes_once=True)
async def accept_invitation(
    uow: UnitOfWork, activity_id: uuid.UUID, partner_id: uuid.UUID, contribution: Contribution
) -> CommandResult:
    """The invited organisation takes part, with its role, pledged hours and resources."""
    activity = await _answered(uow, activity_id, partner_id)
    activity.accept_invitation(partner_id, contribution, at=uow.now())
    return CommandResult.of(activity)


@command(writes_once=True)
async def decline_invitation(
    uow: UnitOfWork, activity_id: uuid.UUID, partner_id: uuid.UUID, *, reason: str = ""
) -> CommandResult:
    activity = await _answered(uow, activity_id, partner_id)
    activity.decline_invitation(partner_id, reason=reason, at=uow.now())
    return CommandResult.of(activity)


@command(writes_once=True)
async def change_contribution(
    uow: UnitOfWork, activity_id: uuid.UUID, partner_id: uuid.UUID, contribution: Contribution
) -> CommandResult:
    activity = await _answered(uow, activity_id, partner_id)
    activity.change_contribution(partner_id, contribution, at=uow.now())
    return CommandResult.of(activity)


@command(writes_once=True)
async def withdraw_partner(
    uow: UnitOfWork, activity_id: uuid.UUID, partner_id: uuid.UUID, *, reason: str = ""
) -> CommandResult:
    """An accepted partner stops taking part (the partner itself or the coordinator)."""
    activity = await _answered(uow, activity_id, partner_id)
    activity.withdraw_partner(partner_id, reason=reason, at=uow.now())
    return CommandResult.of(activity)


@command(writes_once=True)
async def start_activity(uow: UnitOfWork, activity_id: uuid.UUID) -> CommandResult:
    activity = await _managed(uow, activity_id)
    activity.start(at=uow.now())
    return CommandResult.of(activity)


@command(writes_once=True)
async def complete_activity(
    uow: UnitOfWork, activity_id: uuid.UUID, *, actual_participants: int, result: str
) -> CommandResult:
    activity = await _managed(uow, activity_id)
    activity.complete(actual_participants=actual_participants, result=result, at=uow.now())
    return CommandResult.of(activity)


@command(writes_once=True)
async def cancel_activity(uow: UnitOfWork, activity_id: uuid.UUID, *, reason: str) -> CommandResult:
    activity = await _managed(uow, activity_id)
    activity.cancel(reason=reason, decided_by=uow.actor.name, at=uow.now())
    uow.save(reason=reason)
    return CommandResult.of(activity)
