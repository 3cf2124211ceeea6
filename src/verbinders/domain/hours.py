"""Volunteer hours an organisation gave: one stream per logged entry, corrected, never edited.

An entry says: on `day`, `volunteers` people of the organisation gave `hours` hours in all
(not per person), optionally for an activity, with a note. A mistake is put right by a
*correction* of the entry (`Corrected`, carrying the whole corrected figure, the previous one,
the revision number, the reason and who corrected), or by *retracting* the entry (`Retracted`:
it counts for nothing). Reports count each entry's latest figure; as of a past moment, the
figure known then.

Why one stream per entry, not one per organisation and year:

- **Concurrency**: volunteers of one organisation log hours at the same time (after a busy
  weekend); separate streams never conflict, while a shared stream would make them retry.
- **No invariant spans entries**: nothing about one entry depends on another, and a correction
  concerns exactly one entry, which is its stream. A correction may move the entry to another
  day, even into another year, which a per-year stream could not hold without moving it.
- **Stream length**: an entry has a handful of events, so it never needs a snapshot; a yearly
  stream of a busy organisation would grow to hundreds of events and need snapshots.
- The application layer gives each entry its id (from the request's idempotency key, so a
  retried request logs once). Reports sum over entries in a read model, never by loading
  streams.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules
from verbinders.domain.schedule import PLATFORM_TIME_ZONE, time_zone
from verbinders.errors import Conflict, InvalidCommand

__all__ = ["HoursEntry", "HoursFigure", "check_figure"]


class HoursFigure(msgspec.Struct, frozen=True, kw_only=True):
    """What one entry says (after its latest correction)."""

    day: date
    hours: float
    """All volunteers' hours together, in quarters of an hour, more than 0."""
    volunteers: int
    activity_id: UUID | None = None
    note: str = ""


def check_figure(figure: HoursFigure, *, at: datetime) -> HoursFigure:
    """A figure checked: a day from 1990 up to today (in the platform's time zone, as seen at
    `at`: hours are logged once given), at least one volunteer, more than 0 hours and at most
    24 per volunteer."""
    today = at.astimezone(time_zone(PLATFORM_TIME_ZONE)).date()
    day = rules.day(figure.day, field="day", earliest=limits.HOURS_EARLIEST, latest=today)
    volunteers = rules.count(
        figure.volunteers, field="volunteers", minimum=1, maximum=limits.ACTIVE_VOLUNTEERS_MAX
    )
    if volunteers is None:
        raise InvalidCommand("volunteers is required", field="volunteers", rule="required")
    hours = rules.hours(figure.hours, field="hours", maximum=limits.HOURS_ENTRY_MAX)
    if hours <= 0:
        raise InvalidCommand(
            "hours must be more than 0 (retract an entry to count it as nothing)",
            field="hours",
            rule="range",
        )
    if hours > 24 * volunteers:
        raise InvalidCommand(
            f"{volunteers} volunteer(s) cannot give more than {24 * volunteers} hours in one day",
            field="hours",
            rule="max-per-volunteer",
        )
    return HoursFigure(
        day=day,
        hours=hours,
        volunteers=volunteers,
        activity_id=figure.activity_id,
        note=rules.multi_line(figure.note, field="note", max_length=limits.NOTE_MAX),
    )


class HoursEntry(Aggregate):
    STREAM_TYPE = "HoursEntry"

    tenant: str
    organisation_id: UUID
    figure: HoursFigure
    revision: int
    """0 as logged, then 1, 2, ... per correction."""
    logged_at: datetime
    logged_by: str
    changed_at: datetime
    retracted_at: datetime | None

    @classmethod
    def log(
        cls,
        *,
        entry_id: UUID,
        tenant: str,
        organisation_id: UUID,
        figure: HoursFigure,
        logged_by: str,
        at: datetime,
    ) -> HoursEntry:
        """Hours `organisation_id` gave. The application layer checks that the activity, if
        named, is the organisation's own or one it is a partner in."""
        rules.aware(at)
        return cls(
            id=entry_id,
            tenant=tenant,
            organisation_id=organisation_id,
            figure=check_figure(figure, at=at),
            logged_by=rules.party(logged_by, field="logged_by"),
            at=at,
        )

    @event("Logged")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        organisation_id: UUID,
        figure: HoursFigure,
        logged_by: str,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.organisation_id = organisation_id
        self.figure = figure
        self.revision = 0
        self.logged_at = at
        self.logged_by = logged_by
        self.changed_at = at
        self.retracted_at = None

    @property
    def counted_hours(self) -> float:
        """What reports count: the latest figure's hours, or 0 once retracted."""
        return 0.0 if self.retracted_at is not None else self.figure.hours

    def _require_standing(self, at: datetime, action: str) -> None:
        rules.aware(at)
        if self.retracted_at is not None:
            raise Conflict(f"a retracted entry cannot {action}", state="retracted")
        rules.not_before(at, self.changed_at, what="the entry's latest change")

    def correct(
        self,
        *,
        reason: str,
        corrected_by: str,
        at: datetime,
        day: date | UnsetType = UNSET,
        hours: float | UnsetType = UNSET,
        volunteers: int | UnsetType = UNSET,
        activity_id: UUID | UnsetType | None = UNSET,
        note: str | UnsetType = UNSET,
    ) -> None:
        """Record a correction of the given fields; the event carries the whole corrected
        figure and the one it replaces. A correction that changes nothing is refused."""
        self._require_standing(at, "be corrected")
        given = {
            name: value
            for name, value in (
                ("day", day),
                ("hours", hours),
                ("volunteers", volunteers),
                ("activity_id", activity_id),
                ("note", note),
            )
            if value is not UNSET
        }
        corrected = check_figure(msgspec.structs.replace(self.figure, **given), at=at)
        if corrected == self.figure:
            raise InvalidCommand("the correction changes nothing", field="hours", rule="no-change")
        self._corrected(
            figure=corrected,
            previous=self.figure,
            revision=self.revision + 1,
            reason=rules.reason(reason),
            corrected_by=rules.party(corrected_by, field="corrected_by"),
            at=at,
        )

    @event("Corrected")
    def _corrected(
        self,
        figure: HoursFigure,
        previous: HoursFigure,
        revision: int,
        reason: str,
        corrected_by: str,
        at: datetime,
    ) -> None:
        self.figure = figure
        self.revision = revision
        self.changed_at = at

    def retract(self, *, reason: str, decided_by: str, at: datetime) -> None:
        """The entry was logged by mistake: it counts for nothing from now on."""
        self._require_standing(at, "be retracted")
        self._retracted(reason=rules.reason(reason), decided_by=rules.party(decided_by), at=at)

    @event("Retracted")
    def _retracted(self, reason: str, decided_by: str, at: datetime) -> None:
        self.retracted_at = at
        self.changed_at = at
