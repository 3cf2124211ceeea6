"""Volunteer hours: log an entry, correct it, retract it.

Rights: an organisation logs, corrects and retracts its own hours; the coordinator those of
every organisation (`rights.act_for`). An entry may name an activity the organisation
organises or has accepted to take part in. The entry's id comes from the request's
idempotency key when there is one (a retried request logs once, also past the key's day),
else it is new.
"""

from __future__ import annotations

import uuid
from datetime import date

from msgspec import UNSET, UnsetType

from verbinders.application import rights
from verbinders.application.activities import existing_organisation
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.domain.activities import Activity, PartnershipStatus
from verbinders.domain.hours import HoursEntry, HoursFigure
from verbinders.domain.ids import stable_id
from verbinders.domain.organisations import Organisation
from verbinders.errors import Conflict, InvalidCommand

__all__ = ["correct_hours", "log_hours", "retract_hours"]


async def _check_activity(
    uow: UnitOfWork, organisation_id: uuid.UUID, activity_id: uuid.UUID | None
) -> None:
    if activity_id is None:
        return
    activity = await uow.find(Activity, activity_id)
    if activity is None:
        raise InvalidCommand(
            f"no activity {activity_id} on this platform", field="activity_id", rule="unknown"
        )
    part = activity.partners.get(organisation_id)
    taking_part = part is not None and part.status in (
        PartnershipStatus.ACCEPTED,
        PartnershipStatus.WITHDRAWN,
    )
    if activity.organisation_id != organisation_id and not taking_part:
        raise InvalidCommand(
            f"organisation {organisation_id} neither organises activity {activity_id} nor"
            " takes part in it",
            field="activity_id",
            rule="own-activity",
        )


def _entry_id(uow: UnitOfWork) -> uuid.UUID:
    idempotency = uow.request.idempotency
    if idempotency is None:
        return uuid.uuid4()
    return stable_id(uow.tenant, "hours-entry", f"{uow.actor.name}/{idempotency.key}")


@command(writes_once=True)
async def log_hours(
    uow: UnitOfWork,
    *,
    organisation_id: uuid.UUID,
    figure: HoursFigure,
    entry_id: uuid.UUID | None = None,
) -> CommandResult:
    """Hours `organisation_id`'s volunteers gave on a day."""
    rights.act_for(uow.actor, organisation_id)
    wanted: list[tuple[type, uuid.UUID]] = [(Organisation, organisation_id)]
    if figure.activity_id is not None:
        wanted.append((Activity, figure.activity_id))
    await uow.preload(*wanted)
    await existing_organisation(uow, organisation_id, field="organisation_id")
    await _check_activity(uow, organisation_id, figure.activity_id)
    entry = HoursEntry.log(
        entry_id=entry_id or _entry_id(uow),
        tenant=uow.tenant,
        organisation_id=organisation_id,
        figure=figure,
        logged_by=uow.actor.name,
        at=uow.now(),
    )
    uow.save(
        entry,
        on_conflict=lambda: Conflict(
            f"hours entry {entry.id} already exists", state="exists", id=str(entry.id)
        ),
    )
    return CommandResult.of(entry)


async def _own(uow: UnitOfWork, entry_id: uuid.UUID) -> HoursEntry:
    entry = await uow.target(HoursEntry, entry_id)
    rights.act_for(uow.actor, entry.organisation_id)
    return entry


@command(writes_once=True)
async def correct_hours(
    uow: UnitOfWork,
    entry_id: uuid.UUID,
    *,
    reason: str,
    day: date | UnsetType = UNSET,
    hours: float | UnsetType = UNSET,
    volunteers: int | UnsetType = UNSET,
    activity_id: uuid.UUID | UnsetType | None = UNSET,
    note: str | UnsetType = UNSET,
) -> CommandResult:
    """A correction of an earlier entry (the fields given); reports count the corrected
    figure from then on, and the figure known then as of earlier moments."""
    entry = await _own(uow, entry_id)
    if isinstance(activity_id, uuid.UUID):
        await _check_activity(uow, entry.organisation_id, activity_id)
    entry.correct(
        reason=reason,
        corrected_by=uow.actor.name,
        at=uow.now(),
        day=day,
        hours=hours,
        volunteers=volunteers,
        activity_id=activity_id,
        note=note,
    )
    uow.save(reason=reason)
    return CommandResult.of(entry)


@command(writes_once=True)
async def retract_hours(uow: UnitOfWork, entry_id: uuid.UUID, *, reason: str) -> CommandResult:
    """An entry logged by mistake counts for nothing from now on."""
    entry = await _own(uow, entry_id)
    entry.retract(reason=reason, decided_by=uow.actor.name, at=uow.now())
    uow.save(reason=reason)
    return CommandResult.of(entry)
