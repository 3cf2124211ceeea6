"""Volunteer hours over HTTP: log an entry, correct it, retract it; one entry from the store.

Rights: an organisation logs and corrects its own hours, the coordinator anyone's
(`rights.act_for`); an entry is read by the same. `Idempotency-Key` on `POST /hours` also
fixes the entry's id (a retried request logs once).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from verbinders.api.auth import get_actor, roles
from verbinders.api.results import CommandResult
from verbinders.api.routes.common import AsOf, etag, execute, moment
from verbinders.api.state import runtime_of
from verbinders.application import hours as service
from verbinders.application import rights
from verbinders.domain import limits
from verbinders.domain.hours import HoursEntry, HoursFigure

__all__ = ["HoursController"]

OWN = rights.OWN
Note = Annotated[str, msgspec.Meta(max_length=limits.NOTE_MAX)]
Volunteers = Annotated[int, msgspec.Meta(ge=1, le=limits.ACTIVE_VOLUNTEERS_MAX)]


class LogHours(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    day: date
    hours: limits.Hours
    """All volunteers' hours together, in quarter hours."""
    volunteers: Volunteers
    activity_id: uuid.UUID | None = None
    """An activity the organisation organises or takes part in."""
    note: Note = ""

    def figure(self) -> HoursFigure:
        return HoursFigure(
            day=self.day,
            hours=self.hours,
            volunteers=self.volunteers,
            activity_id=self.activity_id,
            note=self.note,
        )


class CorrectHours(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The fields sent replace the entry's; `reason` is required."""

    reason: limits.Reason
    day: date | UnsetType = UNSET
    hours: limits.Hours | UnsetType = UNSET
    volunteers: Volunteers | UnsetType = UNSET
    activity_id: uuid.UUID | UnsetType | None = UNSET
    note: Note | UnsetType = UNSET


class Retract(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: limits.Reason


class EntryView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    figure: HoursFigure
    counted_hours: float
    revision: int
    logged_at: datetime
    logged_by: str
    retracted_at: datetime | None
    version: int


class HoursController(Controller):
    path = "/hours"
    tags = ["hours"]

    @get("/{entry_id:uuid}", **roles(*OWN), summary="One hours entry as it stands (or stood)")
    async def show(
        self, request: Request[Any, Any, Any], entry_id: uuid.UUID, as_of: AsOf = None
    ) -> Response[EntryView]:
        actor = get_actor(request)
        entry = await runtime_of(request).repository.get(
            HoursEntry, entry_id, tenant=actor.tenant, as_of=moment(as_of)
        )
        rights.act_for(actor, entry.organisation_id)
        view = EntryView(
            id=entry.id,
            organisation_id=entry.organisation_id,
            figure=entry.figure,
            counted_hours=entry.counted_hours,
            revision=entry.revision,
            logged_at=entry.logged_at,
            logged_by=entry.logged_by,
            retracted_at=entry.retracted_at,
            version=entry.version,
        )
        return Response(view, headers={"ETag": etag(entry.version)})

    @post(
        "/",
        **roles(*OWN, command=True, location="/hours/{id}"),
        summary="Log volunteer hours given on a day",
        status_code=HTTP_201_CREATED,
    )
    async def log(self, request: Request[Any, Any, Any], data: LogHours) -> Response[CommandResult]:
        return await execute(
            request, service.log_hours, organisation_id=data.organisation_id, figure=data.figure()
        )

    @post(
        "/{entry_id:uuid}/corrections",
        **roles(*OWN, command=True),
        summary="Correct an earlier entry (reports count the corrected figure)",
        status_code=200,
    )
    async def correct(
        self, request: Request[Any, Any, Any], entry_id: uuid.UUID, data: CorrectHours
    ) -> Response[CommandResult]:
        fields = {
            name: getattr(data, name)
            for name in ("day", "hours", "volunteers", "activity_id", "note")
            if getattr(data, name) is not UNSET
        }
        return await execute(request, service.correct_hours, entry_id, reason=data.reason, **fields)

    @post(
        "/{entry_id:uuid}/retract",
        **roles(*OWN, command=True),
        summary="Retract an entry logged by mistake (it counts for nothing)",
        status_code=200,
    )
    async def retract(
        self, request: Request[Any, Any, Any], entry_id: uuid.UUID, data: Retract
    ) -> Response[CommandResult]:
        return await execute(request, service.retract_hours, entry_id, reason=data.reason)
