"""`verbinders demo`: a believable, fictional Haarlem platform to explore.

About 30 organisations of all four kinds with profiles, strengths and contact persons,
membership since December 2019, 20 meetings (online during corona) with attendance,
decisions and minutes, and three calls (a flood warning, King's Day, Keti Koti) with responses
and claims (`demo_calls.py`). Every stream has a fixed id and every command a fixed date, so the
demo is the same each time, and running it again adds nothing: what exists is left alone.

The history is loaded through the application services, one command at a time, each at the
moment it happened (the pipeline's clock), so the demo obeys every rule the API does.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from verbinders.application import meetings as meetings_service
from verbinders.application import membership as membership_service
from verbinders.application import organisations as org_service
from verbinders.application.commands import Command, command
from verbinders.application.context import Actor
from verbinders.application.platforms import create_platform, reassign_point_of_contact
from verbinders.application.tokens import IssuedToken, issue_token, list_tokens, revoke_token
from verbinders.application.unit_of_work import CommandRequest
from verbinders.demo_activities import load_activities
from verbinders.demo_calls import load_calls
from verbinders.demo_data import MEETINGS, ORGANISATIONS, Org, StrengthRow
from verbinders.demo_funding import load_funding
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, MeetingMode, Votes
from verbinders.domain.membership import membership_id
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.profile import Profile
from verbinders.domain.strengths import Strength
from verbinders.domain.vocabulary import OrganisationKind

if TYPE_CHECKING:
    from verbinders.application.unit_of_work import UnitOfWork
    from verbinders.runtime import Runtime

__all__ = ["DEMO_TENANT", "DemoResult", "load_demo"]

DEMO_TENANT = "demo-haarlem"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NAMESPACE = uuid.UUID("1c7f3b9e-2d46-5f0a-8e21-6b4d9c3a7f10")
PLATFORM_STARTED = date(2019, 12, 10)
REGISTERED = datetime(2019, 11, 25, 10, 0, tzinfo=AMSTERDAM)
CONTACT_NAMES = (
    ("Fatima El Amrani", "voorzitter"),
    ("Mehmet Yıldız", "secretaris"),
    ("Ingrid Sabajo", "penningmeester"),
    ("Yonas Tesfay", "coördinator vrijwilligers"),
    ("Anna Kowalska", "voorzitter"),
)


def demo_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{DEMO_TENANT}/{kind}/{key}")


def _pick(key: str, modulo: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % modulo


def strengths_of(org: Org) -> tuple[StrengthRow, ...]:
    """An organisation's strengths as written in the demo data, or else what an organisation
    of its kind can always offer: self-organisations their reach into their community, formal
    organisations, the municipality and funds their expertise."""
    if org.strengths:
        return org.strengths
    if org.kind == "self-organisation":
        community = org.communities[0] if org.communities else "hun achterban"
        size = f"ruim {org.constituency} mensen" if org.constituency else "hun achterban"
        return (
            (
                "reach",
                f"Bereik onder {community}",
                f"Via bijeenkomsten en eigen netwerken contact met {size}.",
                org.constituency,
                org.languages,
                org.districts,
            ),
        )
    subject = {
        "municipality": "Subsidies, vergunningen en wijkcontacten",
        "fund": "Advies bij projectaanvragen en verantwoording",
    }.get(org.kind, f"Professionele kennis: {', '.join(org.target_groups) or org.name}")
    return (("expertise", subject, org.description, None, (), org.districts),)


def _evening(day: date, hour: int = 19) -> datetime:
    return datetime.combine(day, time(hour, 30), tzinfo=AMSTERDAM)


@dataclass
class DemoResult:
    token: str
    created: dict[str, int]


Step = tuple[datetime | None, "Command[..., Any]", tuple[Any, ...], dict[str, Any]]
"""One command of a stream's story: when it happened, the command and its arguments."""


def _step(at: datetime | None, cmd: Command[..., Any], *args: Any, **kwargs: Any) -> Step:
    return (at, cmd, args, kwargs)


def _organisation_steps(org: Org, index: int) -> list[Step]:
    org_id = demo_id("organisation", org.name)
    at = REGISTERED + timedelta(minutes=index)
    steps = [
        _step(
            at,
            org_service.register_organisation,
            organisation_id=org_id,
            kind=OrganisationKind(org.kind),
            name=org.name,
            kvk_number=org.kvk,
            profile=Profile(
                description=org.description,
                founding_year=org.founded,
                communities=org.communities,
                languages=org.languages,
                themes=org.themes,
                districts=org.districts,
                target_groups=org.target_groups,
                website=org.website,
                constituency_size=org.constituency,
                active_volunteers=org.volunteers,
            ),
        )
    ]
    for n, (kind, title, text, capacity, languages, districts) in enumerate(strengths_of(org)):
        strength = Strength(
            kind=kind,  # type: ignore[arg-type]
            title=title,
            description=text,
            capacity=capacity,
            languages=languages,
            districts=districts,
        )
        strength_id = demo_id("strength", f"{org.name}/{n}")
        steps.append(_step(at, org_service.add_strength, org_id, strength, strength_id=strength_id))
    if index < len(CONTACT_NAMES):
        name, role = CONTACT_NAMES[index]
        steps.append(
            _step(
                at,
                org_service.add_contact,
                org_id,
                name=name,
                role=role,
                email=f"{name.split()[0].lower()}@voorbeeld.nl",
                person_id=demo_id("contact", f"{org.name}/{name}"),
            )
        )
    return steps


def _membership_steps(org: Org) -> list[Step]:
    org_id = demo_id("organisation", org.name)
    story = _membership_story(org)
    if story is None:
        return []
    applied, admitted = story
    motivation = f"{org.name} wil samenwerken met de andere Haarlemse organisaties."
    steps = [_step(applied, membership_service.apply, org_id, motivation=motivation)]
    if admitted is not None:
        meeting = demo_id("meeting", admitted.date().isoformat())
        reason = "Voldoet aan de uitgangspunten van het platform"
        steps.append(
            _step(admitted, membership_service.admit, org_id, reason=reason, meeting_id=meeting)
        )
    if org.name == "Koerdisch Cultureel Centrum Haarlem":
        suspended = datetime(2023, 3, 1, 12, tzinfo=AMSTERDAM)
        reinstated = _evening(date(2023, 6, 13), 21)
        steps += [
            _step(suspended, membership_service.suspend, org_id, reason=SUSPENSION),
            _step(reinstated, membership_service.reinstate, org_id, reason="Nieuw bestuur gekozen"),
        ]
    if org.name == "Poolse Stichting Razem":
        left = datetime(2024, 6, 1, 12, tzinfo=AMSTERDAM)
        steps.append(_step(left, membership_service.leave, org_id, reason="Stichting gaat fuseren"))
    return steps


SUSPENSION = "Bestuur tijdelijk onbereikbaar"
DECISION_GROUNDS = "agreed in the platform meeting, see its minutes"


def _meeting_steps(day: date, title: str, mode: str) -> list[Step]:
    meeting_id = demo_id("meeting", day.isoformat())
    starts = _evening(day)
    ends = starts + timedelta(hours=2)
    steps = [
        _step(
            starts - timedelta(days=21),
            meetings_service.schedule_meeting,
            meeting_id=meeting_id,
            title=title,
            starts_at=starts,
            ends_at=ends,
            mode=MeetingMode(mode),
            venue=None if mode == "online" else "Stadhuis Haarlem, Grote Markt 2",
            online_link=None if mode == "in-person" else "https://meet.voorbeeld.nl/verbinders",
            agenda=(
                AgendaItem(title="Opening en mededelingen"),
                AgendaItem(title=title),
                AgendaItem(title="Rondvraag"),
            ),
        )
    ]
    if ends >= datetime.now(UTC):
        return steps
    after = ends + timedelta(hours=1)
    for org in ORGANISATIONS:
        if not _member_on(org, day):
            continue
        org_id = demo_id("organisation", org.name)
        roll = _pick(f"{day}/{org.name}", 10)
        if roll < 7:
            status, people = AttendanceStatus.PRESENT, 1 + roll % 3
        elif roll < 9:
            status, people = AttendanceStatus.ABSENT_WITH_NOTICE, None
        else:
            status, people = AttendanceStatus.ABSENT_WITHOUT_NOTICE, None
        steps.append(
            _step(
                after, meetings_service.record_attendance, meeting_id, org_id, status, people=people
            )
        )
    votes = Votes(in_favour=8 + _pick(title, 10), against=_pick(title, 2), abstained=1)
    steps += [
        _step(
            after,
            meetings_service.record_decision,
            meeting_id,
            text=f"Afspraken over: {title}",
            reason=DECISION_GROUNDS,
            votes=votes,
            decision_id=demo_id("decision", day.isoformat()),
        ),
        _step(
            ends + timedelta(days=2),
            meetings_service.publish_minutes,
            meeting_id,
            f"Verslag van '{title}' op {day:%d-%m-%Y}.",
        ),
    ]
    return steps


@command()
async def _renew_demo_token(uow: UnitOfWork, earlier: list[uuid.UUID]) -> IssuedToken:
    """Revoke the earlier demo coordinator tokens and issue a new one, in one append."""
    for token_id in earlier:
        await revoke_token(uow, token_id, reason="a newer demo token was issued")
    return await issue_token(
        uow, roles=("coordinator",), label="demo coordinator", reason="demo loaded"
    )


class _Loader:
    """Tells each stream's story through the application services, one command at a time,
    each at the moment it happened; a stream's story resumes where its version says it got
    to, so that a second run (or one after an interrupted run) adds only what is missing."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.actor = Actor.operator(DEMO_TENANT, "demo")
        self.created = {
            "organisations": 0,
            "memberships": 0,
            "meetings": 0,
            "calls": 0,
            "funding rounds": 0,
            "activities": 0,
        }

    async def tell(self, stream_id: uuid.UUID, steps: list[Step], key: str) -> bool:
        """Run the steps the stream has not seen yet (one event each); True if it was new."""
        version = await self.runtime.store.stream_version(stream_id)
        for at, cmd, args, kwargs in steps[version:]:
            request = CommandRequest(actor=self.actor, correlation_id=f"demo-{key}", clock=at)
            await self.runtime.pipeline.run(cmd, request, *args, **kwargs)
        return version == 0 and bool(steps)

    async def platform(self) -> None:
        if await self.runtime.store.stream_version(platform_id(DEMO_TENANT)):
            return
        request = CommandRequest(actor=self.actor, correlation_id="demo-platform")
        await self.runtime.pipeline.run(
            create_platform,
            request,
            name="De Haarlemse Verbinders (demo)",
            city="Haarlem",
            started_on=PLATFORM_STARTED,
        )

    async def point_of_contact(self) -> None:
        platform = await self.runtime.repository.get(
            Platform, platform_id(DEMO_TENANT), tenant=DEMO_TENANT
        )
        contact = demo_id("organisation", "Stichting Vrouwen van Alle Kleuren")
        if platform.point_of_contact == contact:
            return
        request = CommandRequest(
            actor=self.actor,
            correlation_id="demo-point-of-contact",
            clock=_evening(PLATFORM_STARTED, 21),
        )
        await self.runtime.pipeline.run(
            reassign_point_of_contact,
            request,
            contact,
            reason="Gekozen als aanspreekpunt tijdens de oprichting",
        )

    async def token(self) -> str:
        """A fresh coordinator token for this run; earlier demo tokens are revoked."""
        await self.runtime.runner.catch_up("tokens")
        earlier = [
            t.id
            for t in await list_tokens(self.runtime.pool, DEMO_TENANT)
            if t.revoked_at is None and t.label.startswith("demo coordinator")
        ]
        request = CommandRequest(actor=self.actor, correlation_id=f"demo-token/{uuid.uuid4()}")
        issued = await self.runtime.pipeline.run(_renew_demo_token, request, earlier)
        if issued.token is None:  # only a replay of an idempotency key answers without it
            raise RuntimeError("the demo token was issued without its secret")
        return issued.token


def _membership_story(org: Org) -> tuple[datetime, datetime | None] | None:
    pending = {
        "Nigeriaanse Gemeenschap Haarlem": date(2025, 9, 1),
        "Thuiszorg Spaarne": date(2025, 11, 3),
    }
    if org.name in pending:
        return datetime.combine(pending[org.name], time(12), tzinfo=AMSTERDAM), None
    if org.joined is None:
        return None
    applied = datetime.combine(org.joined - timedelta(days=21), time(12), tzinfo=AMSTERDAM)
    return applied, _evening(org.joined, 21)


def _member_on(org: Org, day: date) -> bool:
    if org.joined is None or org.joined > day:
        return False
    return not (org.name == "Poolse Stichting Razem" and day > date(2024, 6, 1))


async def load_demo(runtime: Runtime) -> DemoResult:
    loader = _Loader(runtime)
    await loader.platform()
    created = loader.created
    for index, org in enumerate(ORGANISATIONS):
        org_id = demo_id("organisation", org.name)
        steps = _organisation_steps(org, index)
        created["organisations"] += await loader.tell(org_id, steps, f"organisation/{org_id}")
    for day, title, mode in MEETINGS:
        meeting_id = demo_id("meeting", day.isoformat())
        steps = _meeting_steps(day, title, mode)
        created["meetings"] += await loader.tell(meeting_id, steps, f"meeting/{meeting_id}")
    for org in ORGANISATIONS:
        stream = membership_id(DEMO_TENANT, demo_id("organisation", org.name))
        steps = _membership_steps(org)
        created["memberships"] += await loader.tell(stream, steps, f"membership/{stream}")
    await loader.point_of_contact()
    created["calls"] += await load_calls(runtime, loader.actor, DEMO_TENANT)
    organisations = {o.name: (demo_id("organisation", o.name), o.joined) for o in ORGANISATIONS}
    created["funding rounds"] += await load_funding(
        runtime, loader.actor, DEMO_TENANT, organisations
    )
    org_ids = {org.name: demo_id("organisation", org.name) for org in ORGANISATIONS}
    created["activities"] += await load_activities(runtime, loader.actor, DEMO_TENANT, org_ids)
    return DemoResult(token=await loader.token(), created=created)
