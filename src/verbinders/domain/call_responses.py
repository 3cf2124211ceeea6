"""What addressees do with a call: acknowledge and respond (`CallResponse`), and claim a need
(`NeedClaim`).

Aggregate boundaries, chosen for what happens at once during a calamity:

- One `CallResponse` stream per call and organisation (`response_id`): hundreds of
  organisations answer within minutes, each on its own stream, so they never conflict with
  each other nor with the call's own stream. Acknowledging receipt starts the stream;
  responding without acknowledging first acknowledges too. A response can be revised (the
  whole response each time) until the call closes; the application layer checks that the call
  is open and addresses the organisation.
- One `NeedClaim` stream per need of a call (`claim_id`): two organisations that claim the same
  need at the same moment both append version n+1 of that stream, and the store lets exactly
  one of them in; the other's command fails on the stream's version and is told who holds the
  claim. Claims on different needs never meet. A claim is released by its holder (or the
  call's manager), after which the need can be claimed again.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from verbinders.domain import limits, rules
from verbinders.domain.calls import NeedKind
from verbinders.domain.ids import stable_id
from verbinders.domain.vocabulary import Vocabulary, language_codes
from verbinders.errors import Conflict, InvalidCommand

__all__ = [
    "CallResponse",
    "NeedClaim",
    "Offer",
    "Response",
    "check_response",
    "claim_id",
    "response_id",
]


def response_id(tenant: str, call_id: UUID, organisation_id: UUID) -> UUID:
    """The one response stream of an organisation to a call."""
    return stable_id(tenant, "call-response", f"{call_id}/{organisation_id}")


def claim_id(tenant: str, call_id: UUID, need_id: str) -> UUID:
    """The one claim stream of a need of a call."""
    return stable_id(tenant, "need-claim", f"{call_id}/{need_id}")


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """A resource offered: a venue, catering, transport, materials, ..."""

    kind: NeedKind
    quantity: int = 1
    description: str = ""


class Response(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's answer to a call (the whole answer; a revision replaces it)."""

    available: bool
    volunteers: int = 0
    languages: tuple[str, ...] = ()
    """Languages its volunteers speak for this call (ISO 639)."""
    districts: tuple[str, ...] = ()
    """Where it can help (district codes); empty: anywhere in the city."""
    offers: tuple[Offer, ...] = ()
    contact_person_id: UUID | None = None
    """Which of the organisation's contact persons to reach about this call."""
    note: str = ""


def _offer(offer: Offer, index: int) -> Offer:
    field = f"offers[{index}]"
    kind = rules.choice(NeedKind, offer.kind, field=f"{field}.kind")
    if kind in (NeedKind.VOLUNTEERS, NeedKind.LANGUAGES):
        raise InvalidCommand(
            f"{field}: volunteers and languages are offered with `volunteers` and `languages`",
            field=f"{field}.kind",
            rule="choice",
        )
    return Offer(
        kind=kind,
        quantity=rules.count(
            offer.quantity, field=f"{field}.quantity", minimum=1, maximum=limits.NEED_QUANTITY_MAX
        )
        or 1,
        description=rules.single_line(
            offer.description,
            field=f"{field}.description",
            max_length=limits.OFFER_DESCRIPTION_MAX,
            min_length=0,
        ),
    )


def check_response(
    response: Response, *, vocabulary: Vocabulary, contacts: frozenset[UUID]
) -> Response:
    """The response, checked: bounds, the platform's districts, known languages, a contact
    person who is one of the organisation's (`contacts`); nothing offered when unavailable."""
    volunteers = rules.count(
        response.volunteers, field="volunteers", maximum=limits.CALL_VOLUNTEERS_MAX
    )
    if len(response.offers) > limits.OFFERS_MAX:
        raise InvalidCommand(
            f"a response may hold at most {limits.OFFERS_MAX} offers",
            field="offers",
            rule="max-items",
        )
    offers = tuple(_offer(offer, index) for index, offer in enumerate(response.offers))
    if not response.available and (volunteers or offers):
        raise InvalidCommand(
            "an organisation that is not available offers no volunteers or resources",
            field="available",
            rule="not-available",
        )
    if response.contact_person_id is not None and response.contact_person_id not in contacts:
        raise InvalidCommand(
            f"person {response.contact_person_id} is not a contact person of the organisation",
            field="contact_person_id",
            rule="contact",
        )
    return Response(
        available=response.available,
        volunteers=volunteers or 0,
        languages=language_codes(response.languages),
        districts=rules.codes(
            response.districts, allowed=vocabulary.district_codes, field="districts"
        ),
        offers=offers,
        contact_person_id=response.contact_person_id,
        note=rules.multi_line(response.note, field="note", max_length=limits.CALL_NOTE_MAX),
    )


class CallResponse(Aggregate):
    STREAM_TYPE = "CallResponse"

    tenant: str
    call_id: UUID
    organisation_id: UUID
    acknowledged_at: datetime
    response: Response | None
    responded_at: datetime | None
    """When it first responded."""
    revision: int
    """Responses given so far (1: the first, 2: one revision, ...)."""

    @classmethod
    def acknowledge(
        cls,
        *,
        tenant: str,
        call_id: UUID,
        organisation_id: UUID,
        acknowledged_by: str,
        at: datetime,
    ) -> CallResponse:
        """The organisation received the call (the application checks it is addressed)."""
        rules.aware(at)
        return cls(
            id=response_id(tenant, call_id, organisation_id),
            tenant=tenant,
            call_id=call_id,
            organisation_id=organisation_id,
            acknowledged_by=rules.party(acknowledged_by, field="acknowledged_by"),
            at=at,
        )

    @event("Acknowledged")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        call_id: UUID,
        organisation_id: UUID,
        acknowledged_by: str,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.call_id = call_id
        self.organisation_id = organisation_id
        self.acknowledged_at = at
        self.response = None
        self.responded_at = None
        self.revision = 0

    def respond(self, response: Response, *, responded_by: str, at: datetime) -> bool:
        """Respond, or revise the response (a checked `Response`, see `check_response`).
        The same response again changes nothing; returns whether anything was recorded."""
        rules.aware(at)
        if response == self.response:
            return False
        self._responded(
            response=response,
            revision=self.revision + 1,
            responded_by=rules.party(responded_by, field="responded_by"),
            at=at,
        )
        return True

    @event("Responded")
    def _responded(
        self, response: Response, revision: int, responded_by: str, at: datetime
    ) -> None:
        self.response = response
        self.revision = revision
        if self.responded_at is None:
            self.responded_at = at


class NeedClaim(Aggregate):
    STREAM_TYPE = "NeedClaim"

    tenant: str
    call_id: UUID
    need_id: str
    claimant: UUID | None
    """The organisation that holds the claim; None once released."""
    claimed_at: datetime | None
    note: str

    @classmethod
    def claim(
        cls,
        *,
        tenant: str,
        call_id: UUID,
        need_id: str,
        organisation_id: UUID,
        note: str,
        claimed_by: str,
        at: datetime,
    ) -> NeedClaim:
        """The first claim of a need (the stream starts with it)."""
        rules.aware(at)
        return cls(
            id=claim_id(tenant, call_id, need_id),
            tenant=tenant,
            call_id=call_id,
            need_id=need_id,
            organisation_id=organisation_id,
            note=_note(note),
            claimed_by=rules.party(claimed_by, field="claimed_by"),
            at=at,
        )

    @event("Claimed")
    def __init__(
        self,
        id: UUID,
        tenant: str,
        call_id: UUID,
        need_id: str,
        organisation_id: UUID,
        note: str,
        claimed_by: str,
        at: datetime,
    ) -> None:
        self.tenant = tenant
        self.call_id = call_id
        self.need_id = need_id
        self.claimant = organisation_id
        self.claimed_at = at
        self.note = note

    def held_elsewhere(self, organisation_id: UUID) -> Conflict:
        return Conflict(
            f"need {self.need_id!r} is claimed by organisation {self.claimant}",
            state="claimed",
            claimed_by=str(self.claimant),
            need=self.need_id,
        )

    def claim_again(
        self, organisation_id: UUID, *, note: str, claimed_by: str, at: datetime
    ) -> bool:
        """Claim a released need; the holder claiming again changes nothing (False);
        `Conflict` naming the holder when another organisation holds it."""
        rules.aware(at)
        if self.claimant == organisation_id:
            return False
        if self.claimant is not None:
            raise self.held_elsewhere(organisation_id)
        self._reclaimed(
            organisation_id=organisation_id,
            note=_note(note),
            claimed_by=rules.party(claimed_by, field="claimed_by"),
            at=at,
        )
        return True

    @event("Reclaimed")
    def _reclaimed(self, organisation_id: UUID, note: str, claimed_by: str, at: datetime) -> None:
        self.claimant = organisation_id
        self.claimed_at = at
        self.note = note

    def release(
        self, organisation_id: UUID, *, reason: str, released_by: str, at: datetime
    ) -> None:
        """The holder gives the need back (or the call's manager takes it back)."""
        rules.aware(at)
        if self.claimant is None:
            raise Conflict(f"need {self.need_id!r} is not claimed", state="free")
        if self.claimant != organisation_id:
            raise self.held_elsewhere(organisation_id)
        self._released(
            organisation_id=organisation_id,
            reason=rules.optional_reason(reason),
            released_by=rules.party(released_by, field="released_by"),
            at=at,
        )

    @event("Released")
    def _released(self, organisation_id: UUID, reason: str, released_by: str, at: datetime) -> None:
        self.claimant = None
        self.claimed_at = None
        self.note = ""


def _note(value: str) -> str:
    return rules.multi_line(value, field="note", max_length=limits.CALL_NOTE_MAX)
