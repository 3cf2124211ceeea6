"""The demo's activities, 2020–2026: collaborations of self-organisations, formal
organisations, the municipality and funds, volunteer hours, and real overlaps.

Each activity is planned at a fixed moment by its organiser, its partners invited and
accepting, then started, completed (or cancelled) at its own dates, through the application
services with the pipeline's clock; hours are logged after the last occurrence. Between
planning and the rest, the candidate index and the overlap policy catch up, so the overlap
cases are opened by the policy itself; some are then answered (joined forces, coordinated,
not an overlap), one lapses when its activity ends, one stays open. Every step looks at the
stream's state first, so a second run adds nothing.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from verbinders.application import activities as service
from verbinders.application import hours
from verbinders.application import overlap_cases as cases
from verbinders.application.unit_of_work import CommandRequest
from verbinders.demo_activities_data import (
    AMSTERDAM,
    CASE_ANSWERS,
    DEMO_ACTIVITIES,
    DemoActivity,
    demo_key_id,
)
from verbinders.domain.activities import Activity, ActivityStatus, PartnershipStatus
from verbinders.domain.activity_details import Contribution
from verbinders.domain.hours import HoursEntry, HoursFigure
from verbinders.domain.overlap_cases import (
    Answer,
    CaseStatus,
    Coordinate,
    JoinForces,
    NotAnOverlap,
    OverlapCase,
    overlap_case_id,
)
from verbinders.domain.schedule import occurrences

if TYPE_CHECKING:
    from verbinders.application.context import Actor
    from verbinders.runtime import Runtime

__all__ = ["DEMO_ACTIVITIES", "activity_id", "load_activities"]


def activity_id(key: str) -> uuid.UUID:
    return demo_key_id("activity", key)


class _Story:
    def __init__(self, runtime: Runtime, actor: Actor, tenant: str, org_ids: dict[str, uuid.UUID]):
        self.runtime = runtime
        self.actor = actor
        self.tenant = tenant
        self.orgs = org_ids

    async def run(self, moment: datetime, cmd: Any, *args: Any, **kwargs: Any) -> Any:
        request = CommandRequest(actor=self.actor, correlation_id="demo-activities", clock=moment)
        return await self.runtime.pipeline.run(cmd, request, *args, **kwargs)

    async def find(self, cls: type, stream: uuid.UUID) -> Any:
        return await self.runtime.repository.find(cls, stream, tenant=self.tenant)

    async def plan(self, demo: DemoActivity) -> bool:
        stream = activity_id(demo.key)
        if await self.find(Activity, stream) is not None:
            return False
        at = datetime.combine(demo.planned, time(10), tzinfo=AMSTERDAM)
        await self.run(
            at,
            service.plan_activity,
            organisation_id=self.orgs[demo.organiser],
            details=demo.details,
            schedule=demo.schedule,
            activity_id=stream,
        )
        for n, (partner, _, _) in enumerate(demo.partners):
            await self.run(
                at + timedelta(days=2, hours=n), service.invite_partner, stream, self.orgs[partner]
            )
        for n, (partner, role, pledged) in enumerate(demo.partners):
            await self.run(
                at + timedelta(days=5, hours=n),
                service.accept_invitation,
                stream,
                self.orgs[partner],
                Contribution(role=role, pledged_hours=pledged),
            )
        return True

    async def answer(
        self, a: str, b: str, answers: tuple[tuple[str, Answer | str, int], ...]
    ) -> None:
        case_id = overlap_case_id(self.tenant, activity_id(a), activity_id(b))
        case = await self.find(OverlapCase, case_id)
        if case is None or case.status is not CaseStatus.OPEN:
            return
        for name, kind, days in answers:
            org = self.orgs[name]
            if org in case.answers:
                continue
            answer: Answer
            if kind == "join":
                answer = JoinForces(host_activity_id=activity_id(a), note="Samen in één groep")
            elif kind == "coordinate":
                answer = Coordinate(note="De bibliotheek schuift op naar donderdagavond")
            else:
                answer = NotAnOverlap(
                    reason="Andere doelgroep: wij koken met gezinnen met schulden"
                )
            await self.run(
                case.opened_at + timedelta(days=days),
                cases.answer_overlap_case,
                case_id,
                org,
                answer,
            )
        host = await self.find(Activity, activity_id(a))
        for partner, part in host.partners.items():
            if part.status is PartnershipStatus.INVITED and kind == "join":
                await self.run(
                    case.opened_at + timedelta(days=8),
                    service.accept_invitation,
                    host.id,
                    partner,
                    Contribution(role="vrijwilligers", pledged_hours=20),
                )

    async def live(self, demo: DemoActivity) -> None:
        stream = activity_id(demo.key)
        activity = await self.find(Activity, stream)
        ranges = occurrences(demo.schedule)
        first, last = ranges[0].start, ranges[-1].end
        if demo.fate == "cancelled":
            if activity.is_open:
                at = max(activity.changed_at, first - timedelta(days=10))
                await self.run(
                    at + timedelta(hours=1),
                    service.cancel_activity,
                    stream,
                    reason=demo.cancel_reason,
                )
            return
        if demo.fate == "planned":
            return
        if activity.status is ActivityStatus.PLANNED:
            await self.run(max(first, activity.changed_at), service.start_activity, stream)
        if demo.fate != "completed":
            return
        activity = await self.find(Activity, stream)
        if activity.status is ActivityStatus.RUNNING:
            await self.run(
                last + timedelta(hours=1),
                service.complete_activity,
                stream,
                actual_participants=demo.participants,
                result=demo.result,
            )
        await self.hours(demo, ranges)

    async def hours(self, demo: DemoActivity, ranges: tuple[Any, ...]) -> None:
        """The organiser logs its volunteers' hours per month (volunteers counted per
        occurrence), each partner what it pledged, after the last occurrence."""
        stream = activity_id(demo.key)
        months: dict[tuple[int, int], list[Any]] = {}
        for r in ranges:
            local = r.start.astimezone(AMSTERDAM).date()
            months.setdefault((local.year, local.month), []).append(r)
        last_day = ranges[-1].start.astimezone(AMSTERDAM).date()
        at = datetime.combine(last_day + timedelta(days=2), time(12), tzinfo=AMSTERDAM)
        entries = [
            (
                f"{demo.key}/{demo.organiser}/{year}-{month}",
                demo.organiser,
                group[-1].start.astimezone(AMSTERDAM).date(),
                sum(r.hours for r in group) * demo.volunteers,
                demo.volunteers * len(group),
            )
            for (year, month), group in sorted(months.items())
        ]
        entries += [
            (f"{demo.key}/{name}", name, last_day, pledged, max(1, math.ceil(pledged / 8)))
            for name, _, pledged in demo.partners
            if pledged
        ]
        for key, name, day, amount, volunteers in entries:
            entry = demo_key_id("hours", key)
            if await self.find(HoursEntry, entry) is not None:
                continue
            await self.run(
                at,
                hours.log_hours,
                organisation_id=self.orgs[name],
                figure=HoursFigure(
                    day=day,
                    hours=round(amount * 4) / 4,
                    volunteers=volunteers,
                    activity_id=stream,
                ),
                entry_id=entry,
            )
        # One correction, as organisations make them: a forgotten volunteer.
        first = demo_key_id("hours", entries[0][0])
        logged = await self.find(HoursEntry, first)
        if demo.key == "sportdag-2023" and logged.revision == 0:
            await self.run(
                at + timedelta(days=3),
                hours.correct_hours,
                first,
                reason="Eén vrijwilliger vergeten",
                volunteers=logged.figure.volunteers + 1,
                hours=logged.figure.hours + 6,
            )


async def load_activities(
    runtime: Runtime, actor: Actor, tenant: str, org_ids: dict[str, uuid.UUID]
) -> int:
    """Every demo activity's story, the overlap policy's cases and their answers; returns how
    many activities were new."""
    story = _Story(runtime, actor, tenant, org_ids)
    created = 0
    for demo in sorted(DEMO_ACTIVITIES, key=lambda d: d.planned):
        created += await story.plan(demo)
    await _policies(runtime)
    for a, b, answers in CASE_ANSWERS:
        await story.answer(a, b, answers)
    for demo in DEMO_ACTIVITIES:
        await story.live(demo)
    await _policies(runtime)
    return created


async def _policies(runtime: Runtime) -> None:
    """The candidate index and the overlap policy caught up with what was just told."""
    await runtime.runner.catch_up("overlap_candidates", timeout=60)
    await runtime.policies.catch_up(timeout=120)
