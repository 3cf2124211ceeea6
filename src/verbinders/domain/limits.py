"""The bounds of every value a command accepts, in one place.

Each bound is chosen for what the field means on a city's platform (a Haarlem platform has a
few hundred organisations, meetings of tens of people, tokens that live for months), and each
keeps the value inside what every read model holds: numbers fit PostgreSQL's `integer` (int32),
moments lie far inside years 1..9999 in every time zone, texts are short enough for the btree
and full-text indexes built on them.

The aggregates enforce these bounds (`rules`, `text`); the `Annotated` types below state the
same bounds for msgspec, so that the HTTP API's request Structs can reuse them and the OpenAPI
document tells clients what the server enforces. The domain's own values and events do NOT use
these types: events recorded before a bound existed must keep loading.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import msgspec

__all__ = [
    "ACTIVE_VOLUNTEERS_MAX",
    "ACTIVITY_EARLIEST",
    "ACTIVITY_LATEST",
    "AGENDA_DESCRIPTION_MAX",
    "AGENDA_ITEMS_MAX",
    "AGENDA_TITLE_MAX",
    "ATTENDANCE_PEOPLE_MAX",
    "CALL_EARLIEST",
    "CALL_LATEST",
    "CALL_MESSAGE_MAX",
    "CALL_NOTE_MAX",
    "CALL_RESPOND_WITHIN_MAX",
    "CALL_VOLUNTEERS_MAX",
    "CAPACITY_MAX",
    "CITY_MAX",
    "CODES_MAX",
    "CODE_MAX",
    "CONSTITUENCY_SIZE_MAX",
    "CONTACT_NAME_MAX",
    "CONTACT_ROLE_MAX",
    "DATE_EARLIEST",
    "DATE_LATEST",
    "DECISION_TEXT_MAX",
    "DESCRIPTION_MAX",
    "EARLIEST_FOUNDING_YEAR",
    "EMAIL_MAX",
    "EVERY_WEEKS_MAX",
    "EXCEPTION_DATES_MAX",
    "HEADER_TOKEN_MAX",
    "HOURS_EARLIEST",
    "HOURS_ENTRY_MAX",
    "HOURS_QUANTUM",
    "INT32_MAX",
    "INT64_MAX",
    "LABELS_MAX",
    "LABEL_MAX",
    "LANGUAGES_MAX",
    "MEETING_EARLIEST",
    "MEETING_LATEST",
    "MINUTES_MAX",
    "MOMENT_EARLIEST",
    "MOMENT_LATEST",
    "MOTIVATION_MAX",
    "NAME_MAX",
    "NAME_MIN",
    "NEEDS_MAX",
    "NEED_DESCRIPTION_MAX",
    "NEED_ID_MAX",
    "NEED_QUANTITY_MAX",
    "NOTE_MAX",
    "NO_CONTROLS_PATTERN",
    "OCCURRENCES_MAX",
    "OCCURRENCE_DURATION_MAX",
    "OFFERS_MAX",
    "OFFER_DESCRIPTION_MAX",
    "ONE_OFF_DURATION_MAX",
    "PARTICIPANTS_MAX",
    "PARTNERS_MAX",
    "PARTNER_ROLE_MAX",
    "PARTY_MAX",
    "PHONE_MAX",
    "PLATFORM_NAME_MAX",
    "PLATFORM_STARTS_WITHIN",
    "PLEDGED_HOURS_MAX",
    "QUERY_TEXT_MAX",
    "REASON_MAX",
    "RESOURCES_MAX",
    "RESOURCE_MAX",
    "RESULT_MAX",
    "ROLES_MAX",
    "SCHEDULE_SPAN_MAX",
    "STRENGTH_DESCRIPTION_MAX",
    "STRENGTH_TITLE_MAX",
    "TERMS_MAX",
    "TERM_LABEL_MAX",
    "TITLE_MAX",
    "TOKEN_LABEL_MAX",
    "TOKEN_LIFETIME_MAX",
    "URL_MAX",
    "VENUE_MAX",
    "VOTES_MAX",
    "ActiveVolunteers",
    "AgendaDescription",
    "AgendaTitle",
    "Capacity",
    "City",
    "Code",
    "Codes",
    "ConstituencySize",
    "ContactName",
    "ContactRole",
    "DecisionText",
    "Description",
    "Email",
    "FoundingYear",
    "Hours",
    "Label",
    "Labels",
    "LanguageCode",
    "Languages",
    "Minutes",
    "Moment",
    "Motivation",
    "OrganisationName",
    "Participants",
    "People",
    "Phone",
    "PlatformName",
    "Reason",
    "Roles",
    "StrengthDescription",
    "StrengthTitle",
    "TermLabel",
    "Title",
    "TokenLabel",
    "Venue",
    "VoteCount",
    "WebAddress",
]

# -- what the stores hold -------------------------------------------------------------------------

INT32_MAX = 2**31 - 1
"""The largest PostgreSQL `integer`: no count a command accepts comes near it."""
INT64_MAX = 2**63 - 1
"""The largest PostgreSQL `bigint`: positions, offsets and other numbers in query strings."""

# -- numbers --------------------------------------------------------------------------------------

ACTIVE_VOLUNTEERS_MAX = 100_000
"""Volunteers active at one organisation (the largest Dutch volunteer bodies have ~25,000)."""
CONSTITUENCY_SIZE_MAX = 20_000_000
"""People an organisation reaches (more than the Netherlands' population)."""
CAPACITY_MAX = 1_000_000
"""What a strength offers: seats, meals, people reached (at least 1)."""
ATTENDANCE_PEOPLE_MAX = 10_000
"""People one organisation brings to one platform meeting (at least 1 when present)."""
VOTES_MAX = 100_000
"""Votes of one kind (in favour, against, abstained) on one decision."""
EARLIEST_FOUNDING_YEAR = 1600
"""The oldest founding year an organisation may state (the latest is the current year)."""

# -- moments and dates ----------------------------------------------------------------------------

MOMENT_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""No moment a command or a query names lies before this (queries: `as_of`, `since`, ...)."""
MOMENT_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Every moment lies before this: far inside year 9999 in every time zone."""
DATE_EARLIEST = MOMENT_EARLIEST.date()
DATE_LATEST = date(2199, 12, 31)
"""The last date a command or query may name."""
MEETING_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
"""Meetings start and end on or after this (earlier meetings may be entered, not older)."""
MEETING_LATEST = MOMENT_LATEST
TOKEN_LIFETIME_MAX = timedelta(days=3653)
"""A token's `expires_at` lies in the future and at most ten years ahead."""
PLATFORM_STARTS_WITHIN = timedelta(days=366)
"""A platform's `started_on` lies at most a year after it is created (and not before 1900)."""
ACTIVITY_EARLIEST = MEETING_EARLIEST
"""Activities take place on or after this (history before the platform may be entered)."""
ACTIVITY_LATEST = MOMENT_LATEST
HOURS_EARLIEST = date(1990, 1, 1)
"""The earliest day volunteer hours may be logged for."""

# -- activities, schedules and volunteer hours ----------------------------------------------------

SCHEDULE_SPAN_MAX = timedelta(days=731)
"""A recurring schedule runs at most two years (from its first to its last day); planning
further ahead means updating the schedule later."""
OCCURRENCES_MAX = 500
"""Occurrences of one schedule (every weekday for two years is too many: 522)."""
OCCURRENCE_DURATION_MAX = timedelta(hours=24)
"""One occurrence of a recurring schedule lasts less than a day (it may cross midnight)."""
ONE_OFF_DURATION_MAX = timedelta(days=7)
"""A one-off period lasts at most a week (a festival weekend, a camp); longer series are
recurring schedules, so that their time is not one block that coincides with everything."""
EVERY_WEEKS_MAX = 4
"""A recurring schedule repeats every week, every other week, ... up to every fourth week."""
EXCEPTION_DATES_MAX = 100
"""Dates left out of one recurring schedule (holidays, Ramadan, ...)."""
PARTICIPANTS_MAX = 1_000_000
"""People expected at, or who took part in, one activity (Haarlem's largest festivals draw
~100,000)."""
PARTNERS_MAX = 50
"""Organisations invited to one activity (over its whole life, declined ones included)."""
PARTNER_ROLE_MAX = 120
"""A partner's role in an activity ("locatie", "tolken", "mede-organisator")."""
RESOURCES_MAX = 20
RESOURCE_MAX = 120
"""One resource a partner contributes ("zaal voor 60 personen", "catering")."""
PLEDGED_HOURS_MAX = 100_000.0
"""Volunteer hours a partner pledges to one activity."""
HOURS_QUANTUM = 0.25
"""Hours are given in quarters of an hour (exact in binary floating point, so sums are exact)."""
HOURS_ENTRY_MAX = 2_400_000.0
"""Hours of one log entry: at most 24 per volunteer (so at most 24 × the volunteers)."""
RESULT_MAX = 4000
"""What an activity achieved, in short."""
NOTE_MAX = 2000
"""A note with logged hours or an answer to an overlap case."""

# -- texts (lengths in characters, after NFC normalisation and trimming) -----------------------

NAME_MIN = 2
NAME_MAX = 120
"""An organisation's name."""
PLATFORM_NAME_MAX = 120
CITY_MAX = 80
DESCRIPTION_MAX = 4000
"""An organisation's description."""
LABEL_MAX = 80
"""One community or target group of a profile."""
LABELS_MAX = 30
"""Communities, and target groups, per profile."""
LANGUAGES_MAX = 50
"""Languages of a profile or a strength (ISO 639 codes)."""
CODE_MAX = 40
"""A district or theme code (a slug)."""
CODES_MAX = 100
"""Themes or districts chosen by a profile or strength."""
TERMS_MAX = 100
"""Districts, and themes, of a platform."""
TERM_LABEL_MAX = 80
STRENGTH_TITLE_MAX = 120
STRENGTH_DESCRIPTION_MAX = 2000
REASON_MAX = 2000
"""The grounds of a decision, or why something was withdrawn, rescheduled, revoked."""
MOTIVATION_MAX = 4000
"""An application for membership."""
PARTY_MAX = 200
"""Who decided (an organisation id, a token, the operator)."""
TITLE_MAX = 200
"""A meeting's title."""
VENUE_MAX = 200
AGENDA_ITEMS_MAX = 50
AGENDA_TITLE_MAX = 200
AGENDA_DESCRIPTION_MAX = 2000
DECISION_TEXT_MAX = 4000
MINUTES_MAX = 100_000
URL_MAX = 2048
CONTACT_NAME_MAX = 120
CONTACT_ROLE_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 40
TOKEN_LABEL_MAX = 120
ROLES_MAX = 6
"""Roles of one token (there are six)."""
QUERY_TEXT_MAX = 500
"""Any one value in a query string (full-text searches, filters)."""
HEADER_TOKEN_MAX = 200
"""`X-Request-ID` and `Idempotency-Key`."""

# -- calls (for festivities and calamities) ------------------------------------------------------

CALL_MESSAGE_MAX = 10_000
"""The message of a call (plain text, sent by e-mail)."""
NEEDS_MAX = 50
"""Needs of one call: each can be claimed by one organisation."""
NEED_ID_MAX = 40
NEED_DESCRIPTION_MAX = 500
NEED_QUANTITY_MAX = 100_000
"""Volunteers, meals, beds, vehicles, ... one need asks for."""
CALL_VOLUNTEERS_MAX = 100_000
"""Volunteers one organisation offers for one call."""
OFFERS_MAX = 20
OFFER_DESCRIPTION_MAX = 500
CALL_NOTE_MAX = 2000
"""A response's or a claim's note."""
CALL_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
CALL_LATEST = MOMENT_LATEST
CALL_RESPOND_WITHIN_MAX = timedelta(days=366)
"""The latest respond-by after the call is issued."""

# -- types for request Structs (the same bounds, stated for msgspec and the OpenAPI) -------------

NO_CONTROLS_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
"""No control characters except tab, line feed and carriage return."""


def _text(max_length: int, description: str, *, min_length: int = 0) -> msgspec.Meta:
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        pattern=NO_CONTROLS_PATTERN,
        description=description,
    )


OrganisationName = Annotated[
    str, _text(NAME_MAX, "An organisation's name (unique on the platform)", min_length=NAME_MIN)
]
PlatformName = Annotated[str, _text(PLATFORM_NAME_MAX, "The platform's name", min_length=1)]
City = Annotated[str, _text(CITY_MAX, "The platform's city", min_length=1)]
Description = Annotated[str, _text(DESCRIPTION_MAX, "What the organisation is and does")]
Label = Annotated[str, _text(LABEL_MAX, "A community or target group", min_length=1)]
LanguageCode = Annotated[
    str, msgspec.Meta(min_length=2, max_length=3, description="An ISO 639 language code")
]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=CODE_MAX,
        pattern=r"^\s*[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\s*$",
        description="A code from the platform's districts or themes",
    ),
]
TermLabel = Annotated[str, _text(TERM_LABEL_MAX, "How a district or theme is shown", min_length=1)]
StrengthTitle = Annotated[str, _text(STRENGTH_TITLE_MAX, "What is offered", min_length=1)]
StrengthDescription = Annotated[str, _text(STRENGTH_DESCRIPTION_MAX, "More about the offer")]
Reason = Annotated[str, _text(REASON_MAX, "Why (recorded for auditors)")]
Motivation = Annotated[str, _text(MOTIVATION_MAX, "Why the organisation applies", min_length=1)]
Title = Annotated[str, _text(TITLE_MAX, "The meeting's title", min_length=1)]
Venue = Annotated[str, _text(VENUE_MAX, "Where the meeting takes place", min_length=1)]
AgendaTitle = Annotated[str, _text(AGENDA_TITLE_MAX, "An agenda item", min_length=1)]
AgendaDescription = Annotated[str, _text(AGENDA_DESCRIPTION_MAX, "More about an agenda item")]
DecisionText = Annotated[str, _text(DECISION_TEXT_MAX, "What was decided", min_length=1)]
Minutes = Annotated[str, _text(MINUTES_MAX, "The meeting's minutes", min_length=1)]
WebAddress = Annotated[
    str,
    msgspec.Meta(
        max_length=URL_MAX,
        pattern=r"^\s*[Hh][Tt][Tt][Pp][Ss]?://\S+\s*$",
        description="An absolute http(s) address",
    ),
]
ContactName = Annotated[str, _text(CONTACT_NAME_MAX, "The person's name", min_length=1)]
ContactRole = Annotated[str, _text(CONTACT_ROLE_MAX, "The person's role at the organisation")]
Email = Annotated[str, msgspec.Meta(max_length=EMAIL_MAX, description="An e-mail address")]
Phone = Annotated[str, msgspec.Meta(max_length=PHONE_MAX, description="6 to 15 digits")]
TokenLabel = Annotated[str, _text(TOKEN_LABEL_MAX, "What the token is for")]

ActiveVolunteers = Annotated[int, msgspec.Meta(ge=0, le=ACTIVE_VOLUNTEERS_MAX)]
ConstituencySize = Annotated[int, msgspec.Meta(ge=0, le=CONSTITUENCY_SIZE_MAX)]
Capacity = Annotated[int, msgspec.Meta(ge=1, le=CAPACITY_MAX)]
People = Annotated[int, msgspec.Meta(ge=1, le=ATTENDANCE_PEOPLE_MAX)]
VoteCount = Annotated[int, msgspec.Meta(ge=0, le=VOTES_MAX)]
FoundingYear = Annotated[
    int,
    msgspec.Meta(
        ge=EARLIEST_FOUNDING_YEAR, le=DATE_LATEST.year, description="No later than this year"
    ),
]
Labels = Annotated[tuple[Label, ...], msgspec.Meta(max_length=LABELS_MAX)]
"""Communities or target groups of a profile."""
Languages = Annotated[tuple[LanguageCode, ...], msgspec.Meta(max_length=LANGUAGES_MAX)]
Codes = Annotated[tuple[Code, ...], msgspec.Meta(max_length=CODES_MAX)]
"""Themes or districts chosen by a profile or a strength."""
Roles = Annotated[
    tuple[Annotated[str, msgspec.Meta(max_length=20)], ...],
    msgspec.Meta(min_length=1, max_length=ROLES_MAX),
]
"""A token's roles (each at most once; `domain.access.Role` names them)."""

Participants = Annotated[int, msgspec.Meta(ge=0, le=PARTICIPANTS_MAX)]
Hours = Annotated[
    float,
    msgspec.Meta(ge=0, le=HOURS_ENTRY_MAX, multiple_of=HOURS_QUANTUM, description="Quarter hours"),
]

Moment = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="A date-time with a time zone, between 1900-01-01 and 2200-01-01 (UTC)",
    ),
]
"""A moment a client names (`starts_at`, `expires_at`): with its time zone, or refused."""
