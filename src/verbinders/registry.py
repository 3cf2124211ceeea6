"""Every part of the product, registered in one place.

A domain (organisations, membership, meetings, ...) has a module in each layer: its
aggregates in `domain/`, its commands in `application/`, its read models in `projections/`,
its routes in `api/routes/`, and the policies that react to its events in `policies/`. Each
is named here by its dotted path (`module:Name`) and imported only when asked for, so that a
projection worker, which asks for projections and policies, imports no HTTP code.

The schema's migrations are plain, explicitly ordered lists owned by each part
(`MIGRATIONS` in its module) and collected here, in the order they are applied: the store
first, then the parts built on it, then each domain's own (most domains have none: their
read models create their tables in their generations).

Adding a domain: see "How to add a domain" in docs/architecture.md. The tests in
`tests/test_registry.py` fail when a part exists but is not registered here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

    from eventsourcing.domain import Aggregate

    from verbinders.leadership import LeaderWorker
    from verbinders.policies.policy import Policy
    from verbinders.projections.engine import Projection

__all__ = [
    "DOMAINS",
    "INFRASTRUCTURE_MIGRATIONS",
    "Domain",
    "Migration",
    "aggregates",
    "migrations",
    "policies",
    "projections",
    "routes",
    "services",
    "workers",
]

Migration = tuple[int, str, str]
"""(version, name, SQL) of one migration of a component."""


@dataclass(frozen=True, kw_only=True)
class Domain:
    """One domain's modules in each layer (dotted paths, `module:Name` for classes)."""

    name: str
    aggregates: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    """Application modules whose `@command`s run through the pipeline."""
    projections: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    migrations: tuple[tuple[str, str], ...] = ()
    """(component, `module:MIGRATIONS`), for tables a domain keeps outside its read models."""
    workers: tuple[str, ...] = ()
    """`module:Class` of process-wide workers (a `leadership.LeaderWorker`: built with the
    runtime, `run(stop)`), run where the projections and policies run."""


INFRASTRUCTURE_MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("store", "verbinders.store.schema:MIGRATIONS"),
    ("projections", "verbinders.projections.engine:MIGRATIONS"),
    ("access", "verbinders.application.platforms:MIGRATIONS"),
    # Named `api` when the HTTP layer owned idempotency keys: the name is a key of
    # `schema_migrations` and stays.
    ("api", "verbinders.application.idempotency:MIGRATIONS"),
)
"""The migrations of the parts every domain builds on, in the order they are applied."""

DOMAINS: tuple[Domain, ...] = (
    Domain(
        name="platform",
        aggregates=("verbinders.domain.platform:Platform",),
        services=("verbinders.application.platforms",),
        routes=("verbinders.api.routes.system:SystemController",),
    ),
    Domain(
        name="access",
        aggregates=("verbinders.domain.access:AccessToken",),
        services=("verbinders.application.tokens",),
        projections=("verbinders.projections.tokens:TokensProjection",),
        routes=("verbinders.api.routes.tokens:TokensController",),
    ),
    Domain(
        name="organisations",
        aggregates=(
            "verbinders.domain.organisations:Organisation",
            "verbinders.domain.indexes:UniqueIndex",
        ),
        services=("verbinders.application.organisations",),
        projections=("verbinders.projections.directory:DirectoryProjection",),
        routes=(
            "verbinders.api.routes.organisations:OrganisationsController",
            "verbinders.api.routes.organisations:StrengthsController",
        ),
        policies=("verbinders.policies.dissolution:OrganisationDissolved",),
    ),
    Domain(
        name="membership",
        aggregates=("verbinders.domain.membership:Membership",),
        services=("verbinders.application.membership",),
        projections=("verbinders.projections.membership:MembershipProjection",),
        routes=("verbinders.api.routes.membership:MembershipController",),
    ),
    Domain(
        name="meetings",
        aggregates=("verbinders.domain.meetings:Meeting",),
        services=("verbinders.application.meetings",),
        projections=("verbinders.projections.meetings:MeetingsProjection",),
        routes=(
            "verbinders.api.routes.meetings:MeetingsController",
            "verbinders.api.routes.meetings:AttendanceReportController",
        ),
    ),
    Domain(
        name="activities",
        aggregates=(
            "verbinders.domain.activities:Activity",
            "verbinders.domain.hours:HoursEntry",
            "verbinders.domain.overlap_cases:OverlapCase",
            "verbinders.domain.overlap_settings:OverlapSettings",
        ),
        services=(
            "verbinders.application.activities",
            "verbinders.application.hours",
            "verbinders.application.overlap_cases",
        ),
        projections=(
            "verbinders.projections.activities:ActivitiesProjection",
            "verbinders.projections.overlap_candidates:OverlapCandidatesProjection",
        ),
        routes=(
            "verbinders.api.routes.activities:ActivitiesController",
            "verbinders.api.routes.hours:HoursController",
            "verbinders.api.routes.overlap_cases:OverlapCasesController",
            "verbinders.api.routes.overlap_cases:OverlapSettingsController",
            "verbinders.api.routes.activity_reports:ActivityReportsController",
        ),
        policies=("verbinders.policies.overlap_detection:OverlapDetection",),
        migrations=(("overlap_cases", "verbinders.application.overlap_cases:MIGRATIONS"),),
    ),
    Domain(
        name="calls",
        aggregates=(
            "verbinders.domain.calls:Call",
            "verbinders.domain.call_responses:CallResponse",
            "verbinders.domain.call_responses:NeedClaim",
        ),
        services=("verbinders.application.calls", "verbinders.application.call_responses"),
        projections=("verbinders.projections.calls:CallsProjection",),
        routes=(
            "verbinders.api.routes.calls:CallsController",
            "verbinders.api.routes.call_board:CallBoardController",
            "verbinders.api.routes.call_reports:CallReportsController",
        ),
        policies=("verbinders.policies.call_reminders:CallReminders",),
        migrations=(
            ("mail", "verbinders.mail.outbox:MIGRATIONS"),
            ("call_timers", "verbinders.application.call_timers:MIGRATIONS"),
            ("call_board", "verbinders.application.board_tickets:MIGRATIONS"),
            ("call_audience", "verbinders.application.addressees:MIGRATIONS"),
        ),
        workers=("verbinders.mail.worker:MailWorker", "verbinders.policies.call_timer:CallTimer"),
    ),
    Domain(
        name="funding",
        aggregates=(
            "verbinders.domain.funds:Fund",
            "verbinders.domain.funds:Round",
            "verbinders.domain.funding_applications:FundingApplication",
            "verbinders.domain.funding_reports:Accountability",
        ),
        services=("verbinders.application.funding", "verbinders.application.funding_applicants"),
        projections=("verbinders.projections.funding:FundingProjection",),
        routes=(
            "verbinders.api.routes.funding:FundingController",
            "verbinders.api.routes.funding_reports:FundingReportsController",
        ),
        policies=("verbinders.policies.report_reminders:ReportReminders",),
        migrations=(("report_timers", "verbinders.application.report_timers:MIGRATIONS"),),
        workers=("verbinders.policies.report_timer:ReportTimer",),
    ),
    Domain(
        name="audit",
        workers=("verbinders.audit.sealer:Sealer",),
    ),
    Domain(
        name="events",
        projections=("verbinders.projections.activity:ActivityProjection",),
        routes=(
            "verbinders.api.routes.events:EventsController",
            "verbinders.api.routes.reports:ReportsController",
        ),
    ),
)
"""Every domain; the order is the order of routes, projections and policies."""


def resolve(path: str) -> Any:
    """`module:Name` (or a module's dotted path) to the object it names."""
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def aggregates() -> list[type[Aggregate]]:
    return [resolve(path) for domain in DOMAINS for path in domain.aggregates]


def services() -> list[ModuleType]:
    return [resolve(path) for domain in DOMAINS for path in domain.services]


def projections() -> list[Projection]:
    """A new instance of every read model."""
    return [resolve(path)() for domain in DOMAINS for path in domain.projections]


def policies() -> list[Policy]:
    """A new instance of every policy."""
    return [resolve(path)() for domain in DOMAINS for path in domain.policies]


def routes() -> list[type]:
    """Every route controller (imports the HTTP layer)."""
    return [resolve(path) for domain in DOMAINS for path in domain.routes]


def workers() -> list[type[LeaderWorker]]:
    """Every process-wide worker's class (built with the runtime where they run)."""
    return [resolve(path) for domain in DOMAINS for path in domain.workers]


def migrations() -> list[tuple[str, list[Migration]]]:
    """Every component's migrations, in the order they are applied."""
    named = [*INFRASTRUCTURE_MIGRATIONS, *(m for d in DOMAINS for m in d.migrations)]
    return [(component, list(resolve(path))) for component, path in named]
