"""The demo's calls: a flood warning, King's Day and Keti Koti, with responses and claims.

Each call is issued at a fixed moment to the demo platform's members, answered by some of
them (chosen by a hash of their name, so always the same ones), its needs claimed, and
closed; all through the application services with the pipeline's clock. A call, a response
and a claim that exist already are left alone, so a second run adds nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from verbinders.application import call_responses as answers
from verbinders.application import calls as service
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.call_responses import Offer, Response, claim_id, response_id
from verbinders.domain.calls import Call, CallKind, Need, NeedKind, Urgency

if TYPE_CHECKING:
    from verbinders.application.context import Actor
    from verbinders.runtime import Runtime

__all__ = ["DEMO_CALLS", "load_calls"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class DemoCall:
    key: str
    kind: CallKind
    title: str
    message: str
    issued: datetime
    respond_within: timedelta
    urgency: Urgency
    districts: tuple[str, ...]
    needs: tuple[Need, ...]
    share: int
    """Percent of the addressees that respond."""
    closed_after: timedelta
    reason: str


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


DEMO_CALLS = (
    DemoCall(
        key="wateroverlast-2026",
        kind=CallKind.CALAMITY,
        title="Wateroverlast in Schalkwijk: opvang en hulp gezocht",
        message=(
            "Na de hevige regen staan straten in de Molenwijk onder water. Bewoners worden"
            " opgevangen in sporthal De Kennemer. Wie kan helpen met maaltijden, tolken en"
            " vervoer voor ouderen?"
        ),
        issued=_at(2026, 11, 20, 9, 15),
        respond_within=timedelta(hours=8),
        urgency=Urgency.CRITICAL,
        districts=("schalkwijk",),
        needs=(
            Need(
                id="maaltijden-opvang",
                kind=NeedKind.CATERING,
                description="Warme maaltijden in de opvang",
                quantity=150,
                district="schalkwijk",
            ),
            Need(
                id="tolken-arabisch",
                kind=NeedKind.LANGUAGES,
                description="Tolken Arabisch",
                quantity=3,
                language="ar",
            ),
            Need(
                id="tolken-turks",
                kind=NeedKind.LANGUAGES,
                description="Tolken Turks",
                quantity=2,
                language="tr",
            ),
            Need(
                id="vervoer-ouderen",
                kind=NeedKind.TRANSPORT,
                description="Busjes voor ouderen naar de opvang",
                quantity=4,
                district="schalkwijk",
            ),
        ),
        share=70,
        closed_after=timedelta(days=1),
        reason="Het water is gezakt; iedereen is terug in zijn huis",
    ),
    DemoCall(
        key="koningsdag-2026",
        kind=CallKind.FESTIVITY,
        title="Koningsdag 2026: vrijmarkt en kinderactiviteiten",
        message="Doet uw organisatie mee met een kraam, muziek of kinderspelen op Koningsdag?",
        issued=_at(2026, 3, 2, 10),
        respond_within=timedelta(days=21),
        urgency=Urgency.NORMAL,
        districts=("centrum", "noord"),
        needs=(
            Need(
                id="kinderspelen-noord",
                kind=NeedKind.VOLUNTEERS,
                description="Begeleiders kinderspelen",
                quantity=12,
                district="noord",
            ),
            Need(
                id="podium-centrum",
                kind=NeedKind.VENUE,
                description="Podium op de Grote Markt",
                quantity=1,
                district="centrum",
            ),
        ),
        share=50,
        closed_after=timedelta(days=40),
        reason="Het programma is rond",
    ),
    DemoCall(
        key="keti-koti-2026",
        kind=CallKind.FESTIVITY,
        title="Keti Koti 2026: herdenken en vieren",
        message="Op 1 juli herdenken en vieren we samen de afschaffing van de slavernij. Wie"
        " helpt met de maaltijd, muziek en het verhaal?",
        issued=_at(2026, 5, 11, 10),
        respond_within=timedelta(days=28),
        urgency=Urgency.NORMAL,
        districts=(),
        needs=(
            Need(
                id="keti-koti-tafel",
                kind=NeedKind.CATERING,
                description="Keti Koti-tafel voor 200 gasten",
                quantity=200,
            ),
            Need(
                id="verhalenvertellers",
                kind=NeedKind.VOLUNTEERS,
                description="Vertellers voor scholen",
                quantity=6,
            ),
        ),
        share=40,
        closed_after=timedelta(days=52),
        reason="Keti Koti is gevierd",
    ),
)


def _picked(key: str, organisation_id: uuid.UUID, percent: int) -> bool:
    digest = hashlib.sha256(f"{key}/{organisation_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def demo_call_id(key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.UUID("1c7f3b9e-2d46-5f0a-8e21-6b4d9c3a7f10"), f"call/{key}")


async def load_calls(runtime: Runtime, actor: Actor, tenant: str) -> int:
    """Every demo call's story; returns how many calls were new."""
    created = 0
    for demo in DEMO_CALLS:
        created += await _tell(runtime, actor, tenant, demo)
    return created


async def _tell(runtime: Runtime, actor: Actor, tenant: str, demo: DemoCall) -> int:
    call_id = demo_call_id(demo.key)
    run = runtime.pipeline.run
    store = runtime.store

    def at(moment: datetime) -> CommandRequest:
        return CommandRequest(actor=actor, correlation_id=f"demo-call/{demo.key}", clock=moment)

    new = await store.stream_version(call_id) == 0
    if new:
        await run(
            service.issue_call,
            at(demo.issued),
            kind=demo.kind,
            title=demo.title,
            message=demo.message,
            respond_by=demo.issued + demo.respond_within,
            needs=demo.needs,
            districts=demo.districts,
            urgency=demo.urgency,
            call_id=call_id,
        )
    call = await runtime.repository.get(Call, call_id, tenant=tenant)
    responders = [o for o in call.addressees if _picked(demo.key, o, demo.share)]
    for index, organisation in enumerate(responders):
        if await store.stream_version(response_id(tenant, call_id, organisation)):
            continue
        moment = demo.issued + demo.respond_within * (index + 1) / (len(responders) + 2)
        await run(
            answers.respond_to_call,
            at(moment),
            call_id,
            organisation,
            _response(demo, call, organisation),
        )
    for need, organisation in zip(call.needs, responders, strict=False):
        if await store.stream_version(claim_id(tenant, call_id, need.id)):
            continue
        moment = demo.issued + demo.respond_within / 2
        await run(
            answers.claim_need, at(moment), call_id, need.id, organisation, note="Wij doen dit"
        )
    if call.is_open:
        await run(
            service.close_call,
            at(demo.issued + demo.closed_after),
            call_id,
            reason=demo.reason,
            notify=False,
        )
    return int(new)


def _response(demo: DemoCall, call: Call, organisation: uuid.UUID) -> Response:
    available = _picked(f"{demo.key}/available", organisation, 80)
    if not available:
        return Response(available=False, note="Deze keer helaas niet")
    kinds = [
        need.kind
        for need in call.needs
        if need.kind not in (NeedKind.VOLUNTEERS, NeedKind.LANGUAGES)
    ]
    offers: Any = tuple(Offer(kind=kind, quantity=1 + len(kind) % 3) for kind in kinds[:1])
    languages = tuple(need.language for need in call.needs if need.language)
    return Response(
        available=True,
        volunteers=2 + int(organisation.int % 7),
        languages=languages[: 1 + organisation.int % 2],
        districts=demo.districts[:1],
        offers=offers,
        note="Wij staan klaar",
    )
