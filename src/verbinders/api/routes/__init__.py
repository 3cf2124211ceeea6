"""Route handlers, one module per resource; `ROUTES` lists them for the app."""

from __future__ import annotations

from verbinders.api.routes.events import EventsController
from verbinders.api.routes.meetings import AttendanceReportController, MeetingsController
from verbinders.api.routes.membership import MembershipController
from verbinders.api.routes.organisations import OrganisationsController, StrengthsController
from verbinders.api.routes.reports import ReportsController
from verbinders.api.routes.system import SystemController
from verbinders.api.routes.tokens import TokensController

__all__ = ["ROUTES"]

ROUTES = [
    SystemController,
    TokensController,
    EventsController,
    ReportsController,
    OrganisationsController,
    StrengthsController,
    MembershipController,
    MeetingsController,
    AttendanceReportController,
]
