"""Builders for the calls' domain tests: a flood warning with its needs, and answers to it."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from verbinders.domain.call_responses import Offer, Response
from verbinders.domain.calls import Audience, Call, CallKind, Need, NeedKind, Urgency

from .support import COORDINATOR, TENANT, VOCABULARY, at

ORG_A = UUID("0a000000-0000-4000-8000-00000000000a")
ORG_B = UUID("0b000000-0000-4000-8000-00000000000b")

NEEDS = (
    Need(
        id="catering-schalkwijk",
        kind=NeedKind.CATERING,
        description="Warme maaltijden in de opvang",
        quantity=200,
        district="schalkwijk",
    ),
    Need(
        id="tolken-arabisch",
        kind=NeedKind.LANGUAGES,
        description="Tolken bij de opvang",
        quantity=4,
        language="ar",
    ),
)


def call(**overrides: Any) -> Call:
    fields: dict[str, Any] = {
        "call_id": uuid4(),
        "tenant": TENANT,
        "kind": CallKind.CALAMITY,
        "title": "Wateroverlast Schalkwijk",
        "message": "De Molenwijk staat onder water. Wie kan helpen?",
        "needs": NEEDS,
        "districts": ("schalkwijk",),
        "urgency": Urgency.CRITICAL,
        "respond_by": at(1),
        "audience": Audience(),
        "addressees": (ORG_A, ORG_B),
        "members_as_of": 42,
        "issued_by": COORDINATOR,
        "vocabulary": VOCABULARY,
        "at": at(0),
    }
    fields.update(overrides)
    return Call.issue(**fields)


def response(**overrides: Any) -> Response:
    fields: dict[str, Any] = {
        "available": True,
        "volunteers": 6,
        "languages": ("ar", "nl"),
        "districts": ("schalkwijk",),
        "offers": (Offer(kind=NeedKind.CATERING, quantity=80, description="Soep en brood"),),
        "note": "Vanaf 18 uur",
    }
    fields.update(overrides)
    return Response(**fields)
