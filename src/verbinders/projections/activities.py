"""Activities, their partners, volunteer hours, overlap cases and the organisations they
concern, with their history (`projections/temporal.py`): lists and reports live or as of
any moment from the same tables.

Tables (readers query the views `activities.<table>`; every row carries its tenant):

- `activities`: one row per activity: organiser, status, title, themes, districts,
  languages, target groups, its first and last occurrence and how many (`schedule`), the
  scheduled hours, expected and actual participants, when planned, started, ended;
- `partners`: per activity and invited organisation, its status and contribution (role,
  pledged hours);
- `hours`: one row per standing hours entry with its latest figure (a correction is a new
  version, a retraction ends the row): reports sum them, as of a moment the figures then;
- `cases`: one row per overlap case: the pair, the score, status, outcome, when opened and
  ended, and the invitation a joined-forces outcome called for;
- `organisations`: name, kind, themes and districts (for reports by kind, theme, district).

Queries: `activities_queries.py` beside this module.
"""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.domain.activities import Activity, ActivityStatus, PartnershipStatus
from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.hours import HoursEntry
from verbinders.domain.organisations import Organisation
from verbinders.domain.overlap_cases import CaseStatus, OverlapCase
from verbinders.domain.schedule import (
    Schedule,
    hours_of,
    occurrences,
    total_hours,
    utc_moment,
    utc_seconds,
)
from verbinders.projections.temporal import Rows, Table, TemporalProjection, as_uuid, events_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from verbinders.store.events import RecordedEvent

__all__ = ["ACTIVITIES", "CASES", "HOURS", "ORGANISATIONS", "PARTNERS", "ActivitiesProjection"]

ACTIVITIES = Table(
    "activities",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("organisation_id", "uuid"),
        ("status", "text"),
        ("title", "text"),
        ("themes", "text[]"),
        ("districts", "text[]"),
        ("languages", "text[]"),
        ("target_groups", "text[]"),
        ("first_at", "timestamptz"),
        ("last_at", "timestamptz"),
        ("occurrences", "integer"),
        ("scheduled_hours", "double precision"),
        ("expected_participants", "integer"),
        ("actual_participants", "integer"),
        ("planned_at", "timestamptz"),
        ("started_at", "timestamptz"),
        ("ended_at", "timestamptz"),
    ),
    indexes=("(tenant, first_at DESC, id)", "(tenant, organisation_id)", "USING gin (themes)"),
)
PARTNERS = Table(
    "partners",
    keys=(("tenant", "text"), ("activity_id", "uuid"), ("organisation_id", "uuid")),
    values=(
        ("status", "text"),
        ("role", "text"),
        ("pledged_hours", "double precision"),
        ("invited_at", "timestamptz"),
        ("answered_at", "timestamptz"),
    ),
    indexes=("(tenant, organisation_id)", "(tenant, activity_id)"),
)
HOURS = Table(
    "hours",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("organisation_id", "uuid"),
        ("day", "date"),
        ("hours", "double precision"),
        ("volunteers", "integer"),
        ("activity_id", "uuid"),
        ("revision", "integer"),
    ),
    indexes=("(tenant, day)", "(tenant, organisation_id, day)"),
)
CASES = Table(
    "cases",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("activity_a", "uuid"),
        ("activity_b", "uuid"),
        ("organisation_a", "uuid"),
        ("organisation_b", "uuid"),
        ("score", "double precision"),
        ("threshold", "double precision"),
        ("summary", "text"),
        ("status", "text"),
        ("outcome", "text"),
        ("opened_at", "timestamptz"),
        ("ended_at", "timestamptz"),
        ("host_activity_id", "uuid"),
        ("guest_organisation_id", "uuid"),
    ),
    indexes=(
        "(tenant, opened_at DESC, id)",
        "(tenant, organisation_a)",
        "(tenant, organisation_b)",
    ),
)
ORGANISATIONS = Table(
    "organisations",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(("name", "text"), ("kind", "text"), ("themes", "text[]"), ("districts", "text[]")),
)


def _at(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["at"])


def _details(raw: Any) -> dict[str, Any]:
    details = msgspec.convert(raw, ActivityDetails, strict=False)
    return {
        "title": details.title,
        "themes": list(details.themes),
        "districts": list(details.districts),
        "languages": list(details.languages),
        "target_groups": list(details.target_groups),
        "expected_participants": details.expected_participants,
    }


def _schedule(raw: Any) -> dict[str, Any]:
    return dict(_schedule_facts(msgspec.json.encode(raw)))


@functools.lru_cache(maxsize=16384)
def _schedule_facts(encoded: bytes) -> tuple[tuple[str, Any], ...]:
    """First and last occurrence, how many, the hours, from a schedule's JSON (cached: the
    versions of an activity that leave its schedule as it was, and equal schedules, expand
    it once), folded from the occurrences' whole seconds (`schedule.utc_seconds`)."""
    schedule: Schedule = msgspec.json.decode(encoded, type=Schedule, strict=False)
    spans = utc_seconds(schedule)
    if spans is None:  # a one-off given to the microsecond
        ranges = occurrences(schedule)
        return (
            ("first_at", ranges[0].start if ranges else None),
            ("last_at", ranges[-1].end if ranges else None),
            ("occurrences", len(ranges)),
            ("scheduled_hours", total_hours(ranges)),
        )
    return (
        ("first_at", utc_moment(spans[0][0]) if spans else None),
        ("last_at", utc_moment(spans[-1][1]) if spans else None),
        ("occurrences", len(spans)),
        ("scheduled_hours", hours_of(spans)),
    )


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else as_uuid(value)


_PARTNER_METHODS = frozenset(
    (
        "partner_invited",
        "invitation_accepted",
        "invitation_declined",
        "contribution_changed",
        "partner_withdrew",
    )
)
_TABLE_OF = {
    **dict.fromkeys(
        ("planned", "details_updated", "rescheduled", "started", "completed", "cancelled"),
        ACTIVITIES,
    ),
    **dict.fromkeys(("logged", "corrected", "retracted"), HOURS),
    **dict.fromkeys(("opened", "answered", "resolved", "closed"), CASES),
    **dict.fromkeys(("registered", "renamed", "profile_updated"), ORGANISATIONS),
}


class ActivitiesProjection(TemporalProjection):
    name = "activities"
    version = 1
    versioned = (ACTIVITIES, PARTNERS, HOURS, CASES, ORGANISATIONS)
    reads_metadata = False
    events = {
        **events_of(
            Activity,
            Planned="planned",
            DetailsUpdated="details_updated",
            Rescheduled="rescheduled",
            PartnerInvited="partner_invited",
            InvitationAccepted="invitation_accepted",
            InvitationDeclined="invitation_declined",
            ContributionChanged="contribution_changed",
            PartnerWithdrew="partner_withdrew",
            Started="started",
            Completed="completed",
            Cancelled="cancelled",
        ),
        **events_of(HoursEntry, Logged="logged", Corrected="corrected", Retracted="retracted"),
        **events_of(
            OverlapCase, Opened="opened", Answered="answered", Resolved="resolved", Closed="closed"
        ),
        **events_of(
            Organisation,
            Registered="registered",
            Renamed="renamed",
            ProfileUpdated="profile_updated",
        ),
    }

    def touches(self, event: RecordedEvent) -> Iterable[tuple[Table, tuple[Any, ...]]]:
        key = (event.tenant, event.stream_id)
        method = self.dispatch.get(event.topic, "")
        if method in _PARTNER_METHODS:
            return [(PARTNERS, (*key, _uuid(event.payload["partner_id"])))]
        return [(_TABLE_OF[method], key)]

    # -- activities -------------------------------------------------------------------------

    def planned(self, rows: Rows, event: RecordedEvent) -> None:
        p = event.payload
        values = {
            "organisation_id": _uuid(p["organisation_id"]),
            "status": ActivityStatus.PLANNED.value,
            **_details(p["details"]),
            **_schedule(p["schedule"]),
            "actual_participants": None,
            "planned_at": _at(p),
            "started_at": None,
            "ended_at": None,
        }
        rows.put(ACTIVITIES, (event.tenant, event.stream_id), values, event)

    def _activity(self, rows: Rows, event: RecordedEvent, **changes: Any) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(ACTIVITIES, key)
        if row is not None:
            rows.put(ACTIVITIES, key, {**row, **changes}, event)

    def details_updated(self, rows: Rows, event: RecordedEvent) -> None:
        self._activity(rows, event, **_details(event.payload["details"]))

    def rescheduled(self, rows: Rows, event: RecordedEvent) -> None:
        self._activity(rows, event, **_schedule(event.payload["schedule"]))

    def started(self, rows: Rows, event: RecordedEvent) -> None:
        self._activity(
            rows, event, status=ActivityStatus.RUNNING.value, started_at=_at(event.payload)
        )

    def completed(self, rows: Rows, event: RecordedEvent) -> None:
        self._activity(
            rows,
            event,
            status=ActivityStatus.COMPLETED.value,
            actual_participants=event.payload["actual_participants"],
            ended_at=_at(event.payload),
        )

    def cancelled(self, rows: Rows, event: RecordedEvent) -> None:
        self._activity(
            rows, event, status=ActivityStatus.CANCELLED.value, ended_at=_at(event.payload)
        )

    # -- partners ---------------------------------------------------------------------------

    def _partner(self, rows: Rows, event: RecordedEvent, **changes: Any) -> None:
        key = (event.tenant, event.stream_id, _uuid(event.payload["partner_id"]))
        row = rows.get(PARTNERS, key)
        if row is not None:
            rows.put(PARTNERS, key, {**row, **changes, "answered_at": _at(event.payload)}, event)

    def partner_invited(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, event.stream_id, _uuid(event.payload["partner_id"]))
        row = rows.get(PARTNERS, key) or {"role": None, "pledged_hours": None}
        values = {
            "status": PartnershipStatus.INVITED.value,
            "role": row["role"],
            "pledged_hours": row["pledged_hours"],
            "invited_at": _at(event.payload),
            "answered_at": None,
        }
        rows.put(PARTNERS, key, values, event)

    def invitation_accepted(self, rows: Rows, event: RecordedEvent) -> None:
        contribution = event.payload["contribution"]
        self._partner(
            rows,
            event,
            status=PartnershipStatus.ACCEPTED.value,
            role=contribution["role"],
            pledged_hours=float(contribution.get("pledged_hours", 0.0)),
        )

    def contribution_changed(self, rows: Rows, event: RecordedEvent) -> None:
        contribution = event.payload["contribution"]
        key = (event.tenant, event.stream_id, _uuid(event.payload["partner_id"]))
        row = rows.get(PARTNERS, key)
        if row is not None:
            values = {
                **row,
                "role": contribution["role"],
                "pledged_hours": float(contribution.get("pledged_hours", 0.0)),
            }
            rows.put(PARTNERS, key, values, event)

    def invitation_declined(self, rows: Rows, event: RecordedEvent) -> None:
        self._partner(rows, event, status=PartnershipStatus.DECLINED.value)

    def partner_withdrew(self, rows: Rows, event: RecordedEvent) -> None:
        self._partner(rows, event, status=PartnershipStatus.WITHDRAWN.value)

    # -- hours ------------------------------------------------------------------------------

    def _figure(self, rows: Rows, event: RecordedEvent, organisation: Any, revision: int) -> None:
        figure = event.payload["figure"]
        values = {
            "organisation_id": _uuid(organisation),
            "day": date.fromisoformat(figure["day"]),
            "hours": float(figure["hours"]),
            "volunteers": int(figure["volunteers"]),
            "activity_id": _uuid(figure.get("activity_id")),
            "revision": revision,
        }
        rows.put(HOURS, (event.tenant, event.stream_id), values, event)

    def logged(self, rows: Rows, event: RecordedEvent) -> None:
        self._figure(rows, event, event.payload["organisation_id"], 0)

    def corrected(self, rows: Rows, event: RecordedEvent) -> None:
        row = rows.get(HOURS, (event.tenant, event.stream_id))
        if row is not None:
            self._figure(rows, event, row["organisation_id"], int(event.payload["revision"]))

    def retracted(self, rows: Rows, event: RecordedEvent) -> None:
        rows.delete(HOURS, (event.tenant, event.stream_id), event)

    # -- overlap cases ----------------------------------------------------------------------

    def opened(self, rows: Rows, event: RecordedEvent) -> None:
        p = event.payload
        a, b = (_uuid(x) for x in p["activities"])
        org_a, org_b = (_uuid(x) for x in p["organisations"])
        values = {
            "activity_a": a,
            "activity_b": b,
            "organisation_a": org_a,
            "organisation_b": org_b,
            "score": float(p["score"]),
            "threshold": float(p["threshold"]),
            "summary": p["explanation"]["summary"],
            "status": CaseStatus.OPEN.value,
            "outcome": None,
            "opened_at": _at(p),
            "ended_at": None,
            "host_activity_id": None,
            "guest_organisation_id": None,
        }
        rows.put(CASES, (event.tenant, event.stream_id), values, event)

    def answered(self, rows: Rows, event: RecordedEvent) -> None:
        """Answers are read from the case itself; the row changes when the case ends."""

    def _case(self, rows: Rows, event: RecordedEvent, **changes: Any) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(CASES, key)
        if row is not None:
            rows.put(CASES, key, {**row, **changes, "ended_at": _at(event.payload)}, event)

    def resolved(self, rows: Rows, event: RecordedEvent) -> None:
        invitation = event.payload.get("invitation") or {}
        self._case(
            rows,
            event,
            status=CaseStatus.RESOLVED.value,
            outcome=event.payload["outcome"],
            host_activity_id=_uuid(invitation.get("activity_id")),
            guest_organisation_id=_uuid(invitation.get("partner_id")),
        )

    def closed(self, rows: Rows, event: RecordedEvent) -> None:
        self._case(rows, event, status=CaseStatus.CLOSED.value, outcome="lapsed")

    # -- organisations ----------------------------------------------------------------------

    def registered(self, rows: Rows, event: RecordedEvent) -> None:
        p = event.payload
        profile = p.get("profile") or {}
        values = {
            "name": p["name"],
            "kind": p["kind"],
            "themes": list(profile.get("themes", ())),
            "districts": list(profile.get("districts", ())),
        }
        rows.put(ORGANISATIONS, (event.tenant, event.stream_id), values, event)

    def renamed(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(ORGANISATIONS, key)
        if row is not None:
            rows.put(ORGANISATIONS, key, {**row, "name": event.payload["name"]}, event)

    def profile_updated(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(ORGANISATIONS, key)
        profile = event.payload.get("profile") or {}
        if row is not None:
            values = {
                **row,
                "themes": list(profile.get("themes", ())),
                "districts": list(profile.get("districts", ())),
            }
            rows.put(ORGANISATIONS, key, values, event)
