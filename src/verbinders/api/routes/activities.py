"""Activities over HTTP: plan, update, partners, start, complete, cancel (commands on the
`Activity` aggregate); one activity from the store (`ETag`, `as_of`); and "check before you
plan" (`POST /activities/overlap-check`): the likely overlaps of a draft, saved nowhere.

Rights (`rights.py`): the organiser and the coordinator manage an activity; an invited
organisation answers for itself; every role reads an activity of its platform (activities
are what organisations look for partners in). Another platform's activity is not found.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from verbinders.api.auth import get_actor, roles
from verbinders.api.results import CommandResult
from verbinders.api.routes.common import AsOf, Timeout, WaitFor, etag, execute, moment
from verbinders.api.state import runtime_of
from verbinders.application import activities as service
from verbinders.application import rights
from verbinders.application.overlap_cases import DraftCheck, check_draft
from verbinders.domain import limits
from verbinders.domain.access import Role
from verbinders.domain.activities import Activity, Partnership
from verbinders.domain.activity_details import ActivityChanges, ActivityDetails, Contribution
from verbinders.domain.schedule import PLATFORM_TIME_ZONE, OneOff, Schedule, Weekday, Weekly
from verbinders.projections.activities_queries import list_activities
from verbinders.projections.reading import reading

__all__ = ["ActivitiesController"]

READERS = tuple(role.value for role in Role)
OWN = rights.OWN


# -- request bodies ------------------------------------------------------------------------------


class OneOffIn(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="one-off"
):
    """One period (at most a week) between two moments with their time zone."""

    starts_at: limits.Moment
    ends_at: limits.Moment


class WeeklyIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="weekly"):
    """On `weekdays`, from `starts` to `ends` local time (an end at or before the start: the
    next day), from `first_day` to `last_day`, every `every_weeks` weeks, except on dates."""

    weekdays: Annotated[tuple[Weekday, ...], msgspec.Meta(min_length=1, max_length=7)]
    starts: time
    ends: time
    first_day: date
    last_day: date
    every_weeks: Annotated[int, msgspec.Meta(ge=1, le=limits.EVERY_WEEKS_MAX)] = 1
    except_on: Annotated[tuple[date, ...], msgspec.Meta(max_length=limits.EXCEPTION_DATES_MAX)] = ()
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] = PLATFORM_TIME_ZONE


ScheduleIn = OneOffIn | WeeklyIn


def _schedule(value: ScheduleIn) -> Schedule:
    if isinstance(value, OneOffIn):
        return OneOff(starts_at=value.starts_at, ends_at=value.ends_at)
    return Weekly(**msgspec.structs.asdict(value))


Text = Annotated[str, msgspec.Meta(max_length=limits.DESCRIPTION_MAX)]
Note = Annotated[str, msgspec.Meta(max_length=limits.NOTE_MAX)]
Count = Annotated[int, msgspec.Meta(ge=0, le=limits.PARTICIPANTS_MAX)]


class DetailsIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: limits.Title
    description: Text = ""
    themes: limits.Codes = ()
    target_groups: limits.Labels = ()
    districts: limits.Codes = ()
    """None: city-wide or online."""
    languages: limits.Languages = ()
    venue: limits.Venue | None = None
    expected_participants: Count | None = None

    def details(self) -> ActivityDetails:
        return ActivityDetails(
            title=self.title,
            description=self.description,
            themes=self.themes,
            target_groups=self.target_groups,
            districts=self.districts,
            languages=self.languages,
            venue=self.venue,
            expected_participants=self.expected_participants,
        )


class PlanActivity(DetailsIn, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    """The organiser: the token's own organisation (the coordinator names any)."""
    schedule: ScheduleIn


class DraftActivity(PlanActivity, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A draft: what `POST /activities` would take; nothing is saved."""


class UpdateActivity(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Only the fields sent change; null clears `venue` and `expected_participants`."""

    title: limits.Title | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    themes: limits.Codes | UnsetType = UNSET
    target_groups: limits.Labels | UnsetType = UNSET
    districts: limits.Codes | UnsetType = UNSET
    languages: limits.Languages | UnsetType = UNSET
    venue: limits.Venue | UnsetType | None = UNSET
    expected_participants: Count | UnsetType | None = UNSET
    schedule: ScheduleIn | UnsetType = UNSET

    def changes(self) -> ActivityChanges:
        fields = {
            name: getattr(self, name)
            for name in ActivityChanges.__struct_fields__
            if getattr(self, name) is not UNSET
        }
        if "schedule" in fields:
            fields["schedule"] = _schedule(fields["schedule"])
        return ActivityChanges(**fields)


class Invite(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    partner_id: uuid.UUID
    message: Note = ""


class ContributionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.PARTNER_ROLE_MAX)]
    pledged_hours: Annotated[
        float,
        msgspec.Meta(ge=0, le=limits.PLEDGED_HOURS_MAX, multiple_of=limits.HOURS_QUANTUM),
    ] = 0.0
    resources: Annotated[
        tuple[Annotated[str, msgspec.Meta(max_length=limits.RESOURCE_MAX)], ...],
        msgspec.Meta(max_length=limits.RESOURCES_MAX),
    ] = ()

    def contribution(self) -> Contribution:
        return Contribution(
            role=self.role, pledged_hours=self.pledged_hours, resources=self.resources
        )


class Accept(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    contribution: ContributionIn


class PartnerReason(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: limits.Reason = ""


class Complete(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    actual_participants: Count
    result: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.RESULT_MAX)]


class Cancel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: limits.Reason


# -- answers -------------------------------------------------------------------------------------


class PartnerView(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: uuid.UUID
    partnership: Partnership


class ActivityView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    status: str
    details: ActivityDetails
    schedule: Schedule
    occurrences: int
    first_occurrence: datetime | None
    last_occurrence: datetime | None
    partners: list[PartnerView]
    collaboration: bool
    planned_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    actual_participants: int | None
    result: str
    cancel_reason: str
    version: int


def _view(activity: Activity) -> ActivityView:
    ranges = activity.occurrences
    return ActivityView(
        id=activity.id,
        organisation_id=activity.organisation_id,
        status=activity.status.value,
        details=activity.details,
        schedule=activity.schedule,
        occurrences=len(ranges),
        first_occurrence=ranges[0].start if ranges else None,
        last_occurrence=ranges[-1].end if ranges else None,
        partners=[
            PartnerView(organisation_id=k, partnership=v) for k, v in activity.partners.items()
        ],
        collaboration=activity.is_collaboration,
        planned_at=activity.planned_at,
        started_at=activity.started_at,
        ended_at=activity.ended_at,
        actual_participants=activity.actual_participants,
        result=activity.result,
        cancel_reason=activity.cancel_reason,
        version=activity.version,
    )


class ActivitySummary(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    organisation_id: uuid.UUID
    status: str
    title: str
    themes: list[str]
    districts: list[str]
    languages: list[str]
    first_at: datetime | None
    last_at: datetime | None
    occurrences: int
    scheduled_hours: float
    expected_participants: int | None
    actual_participants: int | None
    collaboration: bool
    partners: list[uuid.UUID]
    """Accepted partners."""


class ActivityPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ActivitySummary]
    total: int
    limit: int
    offset: int


# -- the controller ------------------------------------------------------------------------------


class ActivitiesController(Controller):
    path = "/activities"
    tags = ["activities"]

    @get(
        "/", **roles(*READERS), summary="Activities: by organisation, status, theme, district, year"
    )
    async def list(
        self,
        request: Request[Any, Any, Any],
        organisation_id: uuid.UUID | None = None,
        status: Literal["planned", "running", "completed", "cancelled"] | None = None,
        theme: limits.Code | None = None,
        district: limits.Code | None = None,
        year: Annotated[int | None, Parameter(ge=1990, le=2199)] = None,
        collaboration: bool | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=limits.INT32_MAX)] = 0,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> ActivityPage:
        """The first occurrence latest first; `organisation_id`: those it organises or takes
        part in; `collaboration`: with at least one accepted partner (or none); `year`: of
        the first occurrence (Europe/Amsterdam)."""
        tenant = get_actor(request).tenant
        async with reading(
            runtime_of(request),
            "activities",
            tenant=tenant,
            as_of=moment(as_of),
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            total, rows = await list_activities(
                r,
                tenant,
                organisation=organisation_id,
                status=status,
                theme=theme,
                district=district,
                year=year,
                collaboration=collaboration,
                limit=limit,
                offset=offset,
            )
        items = [
            ActivitySummary(
                **{name: row[name] for name in ActivitySummary.__struct_fields__ if name != "id"},
                id=row["id"],
            )
            for row in rows
        ]
        return ActivityPage(items=items, total=total, limit=limit, offset=offset)

    @get("/{activity_id:uuid}", **roles(*READERS), summary="One activity with its partners")
    async def show(
        self, request: Request[Any, Any, Any], activity_id: uuid.UUID, as_of: AsOf = None
    ) -> Response[ActivityView]:
        """From the store itself (as of `as_of` if given), with the `ETag` that `If-Match` on
        the activity's commands expects."""
        actor = get_actor(request)
        activity = await runtime_of(request).repository.get(
            Activity, activity_id, tenant=actor.tenant, as_of=moment(as_of)
        )
        return Response(_view(activity), headers={"ETag": etag(activity.version)})

    @post(
        "/overlap-check",
        **roles(*OWN, command=True),
        summary="Check before you plan: the likely overlaps of a draft, with their explanations",
        status_code=200,
    )
    async def overlap_check(
        self, request: Request[Any, Any, Any], data: DraftActivity
    ) -> DraftCheck:
        """Scores the draft against every planned or running activity of other organisations
        as planning would (nothing is saved), best first; `opens_a_case` marks those at or
        above the platform's threshold."""
        runtime = runtime_of(request)
        async with runtime.connection() as conn:
            return await check_draft(
                runtime,
                get_actor(request),
                conn,
                organisation_id=data.organisation_id,
                details=data.details(),
                schedule=_schedule(data.schedule),
            )

    @post(
        "/",
        **roles(*OWN, command=True, location="/activities/{id}"),
        summary="Plan an activity (one-off or weekly, in the platform's time zone)",
        status_code=HTTP_201_CREATED,
    )
    async def plan(
        self, request: Request[Any, Any, Any], data: PlanActivity
    ) -> Response[CommandResult]:
        return await execute(
            request,
            service.plan_activity,
            organisation_id=data.organisation_id,
            details=data.details(),
            schedule=_schedule(data.schedule),
        )

    @patch(
        "/{activity_id:uuid}",
        **roles(*OWN, command=True),
        summary="Change an activity's details or schedule (the fields sent)",
    )
    async def update(
        self, request: Request[Any, Any, Any], activity_id: uuid.UUID, data: UpdateActivity
    ) -> Response[CommandResult]:
        return await execute(request, service.update_activity, activity_id, data.changes())

    @post(
        "/{activity_id:uuid}/partners",
        **roles(*OWN, command=True),
        summary="Invite an organisation (of any kind) to take part",
        status_code=200,
    )
    async def invite(
        self, request: Request[Any, Any, Any], activity_id: uuid.UUID, data: Invite
    ) -> Response[CommandResult]:
        return await execute(
            request, service.invite_partner, activity_id, data.partner_id, message=data.message
        )

    @post(
        "/{activity_id:uuid}/partners/{partner_id:uuid}/accept",
        **roles(*OWN, command=True),
        summary="Accept an invitation with a contribution (the partner itself)",
        status_code=200,
    )
    async def accept(
        self,
        request: Request[Any, Any, Any],
        activity_id: uuid.UUID,
        partner_id: uuid.UUID,
        data: Accept,
    ) -> Response[CommandResult]:
        return await execute(
            request,
            service.accept_invitation,
            activity_id,
            partner_id,
            data.contribution.contribution(),
        )

    @post(
        "/{activity_id:uuid}/partners/{partner_id:uuid}/decline",
        **roles(*OWN, command=True),
        summary="Decline an invitation (the partner itself)",
        status_code=200,
    )
    async def decline(
        self,
        request: Request[Any, Any, Any],
        activity_id: uuid.UUID,
        partner_id: uuid.UUID,
        data: PartnerReason,
    ) -> Response[CommandResult]:
        return await execute(
            request, service.decline_invitation, activity_id, partner_id, reason=data.reason
        )

    @put(
        "/{activity_id:uuid}/partners/{partner_id:uuid}/contribution",
        **roles(*OWN, command=True),
        summary="Change an accepted partner's contribution (the partner itself)",
        status_code=200,
    )
    async def contribution(
        self,
        request: Request[Any, Any, Any],
        activity_id: uuid.UUID,
        partner_id: uuid.UUID,
        data: ContributionIn,
    ) -> Response[CommandResult]:
        return await execute(
            request, service.change_contribution, activity_id, partner_id, data.contribution()
        )

    @post(
        "/{activity_id:uuid}/partners/{partner_id:uuid}/withdraw",
        **roles(*OWN, command=True),
        summary="Withdraw as a partner (the partner itself)",
        status_code=200,
    )
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        activity_id: uuid.UUID,
        partner_id: uuid.UUID,
        data: PartnerReason,
    ) -> Response[CommandResult]:
        return await execute(
            request, service.withdraw_partner, activity_id, partner_id, reason=data.reason
        )

    @post(
        "/{activity_id:uuid}/start",
        **roles(*OWN, command=True),
        summary="Start a planned activity",
        status_code=200,
    )
    async def start(
        self, request: Request[Any, Any, Any], activity_id: uuid.UUID
    ) -> Response[CommandResult]:
        return await execute(request, service.start_activity, activity_id)

    @post(
        "/{activity_id:uuid}/complete",
        **roles(*OWN, command=True),
        summary="Complete a running activity: actual participants and a short result",
        status_code=200,
    )
    async def complete(
        self, request: Request[Any, Any, Any], activity_id: uuid.UUID, data: Complete
    ) -> Response[CommandResult]:
        return await execute(
            request,
            service.complete_activity,
            activity_id,
            actual_participants=data.actual_participants,
            result=data.result,
        )

    @post(
        "/{activity_id:uuid}/cancel",
        **roles(*OWN, command=True),
        summary="Cancel a planned or running activity (with a reason)",
        status_code=200,
    )
    async def cancel(
        self, request: Request[Any, Any, Any], activity_id: uuid.UUID, data: Cancel
    ) -> Response[CommandResult]:
        return await execute(request, service.cancel_activity, activity_id, reason=data.reason)
