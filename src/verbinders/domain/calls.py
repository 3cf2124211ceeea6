"""Calls: the municipality reaches every member organisation at once, for festivities and
calamities.

A call is issued by the municipality or the coordinator with its kind, title, message, the needs
it asks to be met, the districts concerned, its urgency and a respond-by moment, and with the
list of organisations it addresses, decided by the application layer at issue time (every
organisation with an active membership, optionally narrowed by district, language or theme;
see `application/addressees.py`). The list is recorded in the `Issued` event: an organisation
that joins later is not silently added, but the coordinator may add one explicitly.

    open ──close──> closed

While open: update (only the fields given), add an addressee, record that a reminder fell due
and that reminders went out. Once closed nothing changes; responses and claims (their own
streams, `call_responses.py`) are refused from then on.

Each need has an id of its own within the call (`catering-schalkwijk`, or `need-3` when the
issuer gave none), so that an organisation can claim exactly that need.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event
from msgspec import UNSET, UnsetType

from verbinders.domain import limits, rules
from verbinders.domain.vocabulary import Vocabulary, language_codes
from verbinders.errors import Conflict, InvalidCommand, NotFound

__all__ = [
    "Audience",
    "Call",
    "CallChanges",
    "CallKind",
    "CallState",
    "Need",
    "NeedKind",
    "Urgency",
    "check_needs",
]

_NEED_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CallKind(StrEnum):
    CALAMITY = "calamity"
    FESTIVITY = "festivity"
    CONSULTATION = "consultation"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class CallState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class NeedKind(StrEnum):
    VOLUNTEERS = "volunteers"
    LANGUAGES = "languages"
    """Interpreters, or volunteers who speak a language (`language` says which)."""
    VENUE = "venue"
    CATERING = "catering"
    TRANSPORT = "transport"
    MATERIALS = "materials"
    OTHER = "other"


class Need(msgspec.Struct, frozen=True, kw_only=True):
    """What a call asks for; one organisation at a time can claim it."""

    id: str
    kind: NeedKind
    description: str
    quantity: int = 1
    """How many: volunteers, interpreters, meals, places, vehicles, ..."""
    district: str | None = None
    """Where (a district code of the platform); None: anywhere in the city."""
    language: str | None = None
    """The language it needs (an ISO 639 code), e.g. for interpreters."""


class Audience(msgspec.Struct, frozen=True, kw_only=True):
    """How the addressees were narrowed at issue time (empty: every active member)."""

    districts: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()


class CallChanges(msgspec.Struct, frozen=True, kw_only=True):
    """An update: only the fields that are not `UNSET` change."""

    title: str | UnsetType = UNSET
    message: str | UnsetType = UNSET
    needs: tuple[Need, ...] | UnsetType = UNSET
    districts: tuple[str, ...] | UnsetType = UNSET
    urgency: Urgency | UnsetType = UNSET
    respond_by: datetime | UnsetType = UNSET


def _title(value: str) -> str:
    return rules.single_line(value, field="title", max_length=limits.TITLE_MAX)


def _message(value: str) -> str:
    return rules.multi_line(
        value, field="message", max_length=limits.CALL_MESSAGE_MAX, required=True
    )


def _need(need: Need, index: int, vocabulary: Vocabulary) -> Need:
    field = f"needs[{index}]"
    need_id = need.id.strip().lower()
    if not _NEED_ID.fullmatch(need_id) or len(need_id) > limits.NEED_ID_MAX:
        raise InvalidCommand(
            f"{field}.id must be lower-case letters and digits joined by hyphens"
            f" (at most {limits.NEED_ID_MAX} characters), e.g. catering-schalkwijk",
            field=f"{field}.id",
            rule="need-id",
        )
    district = need.district
    if district is not None:
        district = rules.codes(
            (district,), allowed=vocabulary.district_codes, field=f"{field}.district"
        )[0]
    language = need.language
    if language is not None:
        language = language_codes((language,), field=f"{field}.language")[0]
    kind = rules.choice(NeedKind, need.kind, field=f"{field}.kind")
    if kind is NeedKind.LANGUAGES and language is None:
        raise InvalidCommand(
            f"{field}: a need of languages names the language",
            field=f"{field}.language",
            rule="required",
        )
    return Need(
        id=need_id,
        kind=kind,
        description=rules.single_line(
            need.description,
            field=f"{field}.description",
            max_length=limits.NEED_DESCRIPTION_MAX,
        ),
        quantity=rules.count(
            need.quantity, field=f"{field}.quantity", minimum=1, maximum=limits.NEED_QUANTITY_MAX
        )
        or 1,
        district=district,
        language=language,
    )


def check_needs(needs: Sequence[Need], vocabulary: Vocabulary) -> tuple[Need, ...]:
    """The needs, each checked; ids unique within the call."""
    if len(needs) > limits.NEEDS_MAX:
        raise InvalidCommand(
            f"a call may list at most {limits.NEEDS_MAX} needs", field="needs", rule="max-items"
        )
    checked = tuple(_need(need, index, vocabulary) for index, need in enumerate(needs))
    seen: set[str] = set()
    for index, need in enumerate(checked):
        if need.id in seen:
            raise InvalidCommand(
                f"needs[{index}].id {need.id!r} is used twice",
                field=f"needs[{index}].id",
                rule="unique",
            )
        seen.add(need.id)
    return checked


def _districts(values: Sequence[str], vocabulary: Vocabulary) -> tuple[str, ...]:
    return rules.codes(values, allowed=vocabulary.district_codes, field="districts")


def _respond_by(value: datetime, at: datetime) -> datetime:
    rules.moment(
        value, field="respond_by", earliest=limits.CALL_EARLIEST, latest=limits.CALL_LATEST
    )
    if value <= at:
        raise InvalidCommand(
            "respond_by must lie in the future", field="respond_by", rule="after-now"
        )
    if value - at > limits.CALL_RESPOND_WITHIN_MAX:
        raise InvalidCommand(
            f"respond_by must lie within {limits.CALL_RESPOND_WITHIN_MAX.days} days",
            field="respond_by",
            rule="range",
        )
    return value


class Call(Aggregate):
    STREAM_TYPE = "Call"

    tenant: str
    kind: CallKind
    title: str
    message: str
    needs: tuple[Need, ...]
    districts: tuple[str, ...]
    urgency: Urgency
    respond_by: datetime
    issued_at: datetime
    issued_by: str
    audience: Audience
    addressees: list[UUID]
    """In the order addressed: those of the issue, then those added."""
    members_as_of: int
    """The feed position up to which the membership was read to address the call."""
    state: CallState
    closed_at: datetime | None
    reminders: int
    """Reminder rounds that fell due."""

    @classmethod
    def issue(
        cls,
        *,
        call_id: UUID,
        tenant: str,
        kind: CallKind,
        title: str,
        message: str,
        needs: Sequence[Need],
        districts: Sequence[str],
        urgency: Urgency,
        respond_by: datetime,
        audience: Audience,
        addressees: Sequence[UUID],
        members_as_of: int,
        issued_by: str,
        vocabulary: Vocabulary,
        at: datetime,
    ) -> Call:
        rules.moment(at, field="at", earliest=limits.CALL_EARLIEST, latest=limits.CALL_LATEST)
        return cls(
            id=call_id,
            tenant=tenant,
            kind=rules.choice(CallKind, kind, field="kind"),
            title=_title(title),
            message=_message(message),
            needs=check_needs(needs, vocabulary),
            districts=_districts(districts, vocabulary),
            urgency=rules.choice(Urgency, urgency, field="urgency"),
            respond_by=_respond_by(respond_by, at),
            audience=audience,
            addressees=tuple(dict.fromkeys(addressees)),
            members_as_of=members_as_of,
            issued_by=rules.party(issued_by, field="issued_by"),
            at=at,
        )

    @event("Issued")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        kind: CallKind,
        title: str,
        message: str,
        needs: tuple[Need, ...],
        districts: tuple[str, ...],
        urgency: Urgency,
        respond_by: datetime,
        audience: Audience,
        addressees: tuple[UUID, ...],
        members_as_of: int,
        issued_by: str,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.kind = kind
        self.title = title
        self.message = message
        self.needs = needs
        self.districts = districts
        self.urgency = urgency
        self.respond_by = respond_by
        self.audience = audience
        self.addressees = list(addressees)
        self.members_as_of = members_as_of
        self.issued_at = at
        self.issued_by = issued_by
        self.state = CallState.OPEN
        self.closed_at = None
        self.reminders = 0

    # -- reading --------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state is CallState.OPEN

    def addresses(self, organisation_id: UUID) -> bool:
        return organisation_id in self.addressees

    def need(self, need_id: str) -> Need:
        for need in self.needs:
            if need.id == need_id:
                return need
        raise NotFound(f"call {self.id} has no need {need_id!r}", need=need_id)

    def require_open(self, action: str) -> None:
        if not self.is_open:
            raise Conflict(f"the call is closed and cannot {action}", state=self.state.value)

    # -- the issuer's changes -------------------------------------------------------------------

    def update(
        self, changes: CallChanges, *, vocabulary: Vocabulary, at: datetime
    ) -> tuple[str, ...]:
        """Change the fields given; returns the names of those that really changed."""
        rules.aware(at)
        self.require_open("be updated")
        validators: dict[str, Callable[[Any], Any]] = {
            "title": _title,
            "message": _message,
            "needs": lambda value: check_needs(value, vocabulary),
            "districts": lambda value: _districts(value, vocabulary),
            "urgency": lambda value: rules.choice(Urgency, value, field="urgency"),
            "respond_by": lambda value: _respond_by(value, at),
        }
        current = CallChanges(
            title=self.title,
            message=self.message,
            needs=self.needs,
            districts=self.districts,
            urgency=self.urgency,
            respond_by=self.respond_by,
        )
        updated, changed = rules.changed_fields(current, changes, validators)
        if changed:
            self._updated(
                title=str(updated.title),
                message=str(updated.message),
                needs=tuple(updated.needs),  # type: ignore[arg-type]
                districts=tuple(updated.districts),  # type: ignore[arg-type]
                urgency=Urgency(updated.urgency),  # type: ignore[arg-type]
                respond_by=updated.respond_by,  # type: ignore[arg-type]
                changed=changed,
                at=at,
            )
        return changed

    @event("Updated")
    def _updated(
        self,
        title: str,
        message: str,
        needs: tuple[Need, ...],
        districts: tuple[str, ...],
        urgency: Urgency,
        respond_by: datetime,
        changed: tuple[str, ...],
        at: datetime,
    ) -> None:
        """The call as it now reads (every field), and which fields changed."""
        self.title = title
        self.message = message
        self.needs = needs
        self.districts = districts
        self.urgency = urgency
        self.respond_by = respond_by

    def add_addressee(
        self, organisation_id: UUID, *, reason: str, added_by: str, at: datetime
    ) -> None:
        rules.aware(at)
        self.require_open("take another addressee")
        if organisation_id in self.addressees:
            raise Conflict(
                f"organisation {organisation_id} is addressed already", state="addressed"
            )
        self._addressee_added(
            organisation_id=organisation_id,
            reason=rules.reason(reason),
            added_by=rules.party(added_by, field="added_by"),
            at=at,
        )

    @event("AddresseeAdded")
    def _addressee_added(
        self, organisation_id: UUID, reason: str, added_by: str, at: datetime
    ) -> None:
        self.addressees.append(organisation_id)

    def close(self, *, reason: str, decided_by: str, at: datetime) -> None:
        rules.aware(at)
        self.require_open("be closed again")
        rules.not_before(at, self.issued_at, what="the call was issued")
        self._closed(reason=rules.reason(reason), decided_by=rules.party(decided_by), at=at)

    @event("Closed")
    def _closed(self, reason: str, decided_by: str, at: datetime) -> None:
        self.state = CallState.CLOSED
        self.closed_at = at

    # -- reminders ------------------------------------------------------------------------------

    def reminder_fell_due(self, round: int, *, at: datetime) -> bool:
        """Record that reminder `round` fell due (the clock's part: `ReminderDue`). Nothing
        happens for a round recorded already or for a closed call; returns whether recorded."""
        rules.aware(at)
        if not self.is_open or round <= self.reminders:
            return False
        self._reminder_due(round=round, at=at)
        return True

    @event("ReminderDue")
    def _reminder_due(self, round: int, at: datetime) -> None:
        self.reminders = round

    def remind(self, round: int, organisations: Sequence[UUID], *, at: datetime) -> None:
        """Record the reminders of `round` sent to `organisations` (addressees that had not
        responded when the round fell due, as the reminder policy decided)."""
        rules.aware(at)
        if not self.is_open:
            return
        unknown = [str(o) for o in organisations if o not in self.addressees]
        if unknown:
            raise InvalidCommand(
                f"not addressees of this call: {', '.join(unknown[:5])}",
                field="organisations",
                rule="addressee",
            )
        if organisations:
            self._reminded(round=round, organisations=tuple(organisations), at=at)

    @event("Reminded")
    def _reminded(self, round: int, organisations: tuple[UUID, ...], at: datetime) -> None:
        pass
