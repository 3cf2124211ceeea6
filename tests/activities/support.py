"""Shared by the activities' tests: drafts of Haarlem activities and running the pipeline."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from verbinders.application import activities
from verbinders.application.context import Actor, CommandResult
from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.schedule import OneOff, Schedule, Weekday, Weekly
from verbinders.runtime import Runtime

AMS = ZoneInfo("Europe/Amsterdam")


def taalcafe(title: str = "Taalcafé in de bibliotheek", **changes: Any) -> ActivityDetails:
    fields: dict[str, Any] = {
        "title": title,
        "description": "Samen Nederlands oefenen bij een kop koffie, voor nieuwkomers.",
        "themes": ("language", "integration"),
        "target_groups": ("nieuwkomers",),
        "districts": ("schalkwijk",),
        "languages": ("nl",),
        "venue": "Bibliotheek Schalkwijk",
        "expected_participants": 15,
    }
    fields.update(changes)
    return ActivityDetails(**fields)


def tuesdays(
    first: date = date(2026, 3, 3), last: date = date(2026, 6, 30), starts: int = 19
) -> Weekly:
    return Weekly(
        weekdays=(Weekday.TUESDAY,),
        starts=time(starts),
        ends=time(starts + 2),
        first_day=first,
        last_day=last,
    )


def afternoon(day: date, start: int = 14, end: int = 17) -> OneOff:
    return OneOff(
        starts_at=datetime.combine(day, time(start), tzinfo=AMS),
        ends_at=datetime.combine(day, time(end), tzinfo=AMS),
    )


async def plan(
    runtime: Runtime,
    actor: Actor,
    organisation: uuid.UUID,
    details: ActivityDetails | None = None,
    schedule: Schedule | None = None,
    **kwargs: Any,
) -> uuid.UUID:
    result: CommandResult = await runtime.pipeline.run(
        activities.plan_activity,
        actor,
        organisation_id=organisation,
        details=details or taalcafe(),
        schedule=schedule or tuesdays(),
        **kwargs,
    )
    return uuid.UUID(result.id)


async def settle(runtime: Runtime) -> None:
    """The candidate index and then the policies caught up with the feed."""
    for _ in range(3):
        await runtime.runner.catch_up("overlap_candidates")
        await runtime.policies.catch_up()
