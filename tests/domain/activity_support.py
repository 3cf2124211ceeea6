"""Builders of the activity domain's tests: an activity, a schedule, an hours entry."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from uuid import UUID, uuid4

from verbinders.domain.activities import Activity
from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.hours import HoursEntry, HoursFigure
from verbinders.domain.schedule import Weekday, Weekly

from .support import T0, TENANT, VOCABULARY

ORGANISER = UUID("00000000-0000-0000-0000-00000000a1a1")
PARTNER = UUID("00000000-0000-0000-0000-00000000b2b2")

TAALCAFE = ActivityDetails(
    title="Taalcafé Schalkwijk",
    description="Nederlands oefenen bij een kop koffie.",
    themes=("language", "integration"),
    target_groups=("anderstaligen",),
    districts=("schalkwijk",),
    languages=("nl", "ar"),
    venue="Buurthuis De Til",
    expected_participants=25,
)

TUESDAYS = Weekly(
    weekdays=(Weekday.TUESDAY,),
    starts=time(19),
    ends=time(21),
    first_day=date(2020, 1, 7),
    last_day=date(2020, 6, 30),
)


def activity(**overrides: Any) -> Activity:
    fields: dict[str, Any] = {
        "activity_id": uuid4(),
        "tenant": TENANT,
        "organisation_id": ORGANISER,
        "details": TAALCAFE,
        "schedule": TUESDAYS,
        "vocabulary": VOCABULARY,
        "planned_by": str(ORGANISER),
        "at": T0,
    }
    fields.update(overrides)
    return Activity.plan(**fields)


def hours_entry(**overrides: Any) -> HoursEntry:
    fields: dict[str, Any] = {
        "entry_id": uuid4(),
        "tenant": TENANT,
        "organisation_id": ORGANISER,
        "figure": HoursFigure(day=date(2019, 11, 30), hours=12.5, volunteers=5),
        "logged_by": str(ORGANISER),
        "at": T0,
    }
    fields.update(overrides)
    return HoursEntry.log(**fields)
