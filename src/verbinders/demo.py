"""`verbinders demo`: a believable, fictional Haarlem platform to explore.

About 30 organisations of all four kinds with profiles, strengths and contact persons,
membership since December 2019, and 20 meetings (online during corona) with attendance,
decisions and minutes. Every stream has a fixed id and every command a fixed date, so the
demo is the same each time, and running it again adds nothing: what exists is left alone.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from verbinders.application import organisations as org_service
from verbinders.application.access import create_platform, issue_token, list_tokens, revoke_token
from verbinders.application.context import Actor, CommandContext
from verbinders.demo_data import MEETINGS, ORGANISATIONS, Org, StrengthRow
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, Meeting, MeetingMode, Votes
from verbinders.domain.membership import Membership, membership_id
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.profile import Profile
from verbinders.domain.strengths import Strength
from verbinders.domain.vocabulary import OrganisationKind

if TYPE_CHECKING:
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


class _Loader:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.actor = Actor(
            tenant=DEMO_TENANT,
            roles=("coordinator",),
            party=None,
            token_id=None,
            label="demo",
        )
        self.created = {"organisations": 0, "memberships": 0, "meetings": 0}

    async def exists(self, cls: type[Aggregate], stream_id: uuid.UUID) -> bool:
        found = await self.runtime.repository.find(cls, stream_id, tenant=DEMO_TENANT)
        return found is not None

    async def run(self, at: datetime | None, command: object, key: str) -> None:
        async with self.runtime.store.transaction() as conn:
            ctx = CommandContext(
                repository=self.runtime.repository,
                connection=conn,
                actor=self.actor,
                correlation_id=f"demo-{key}",
                clock=at,
            )
            await command(ctx)  # type: ignore[operator]

    async def platform(self) -> None:
        if await self.exists(Platform, platform_id(DEMO_TENANT)):
            return
        await create_platform(
            self.runtime,
            slug=DEMO_TENANT,
            name="De Haarlemse Verbinders (demo)",
            city="Haarlem",
            started_on=PLATFORM_STARTED,
            operator="demo",
        )

    async def organisation(self, org: Org, index: int) -> None:
        org_id = demo_id("organisation", org.name)
        if await self.exists(Organisation, org_id):
            return

        async def register(ctx: CommandContext) -> None:
            await org_service.register_organisation(
                ctx,
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
            for n, (kind, title, text, capacity, languages, districts) in enumerate(
                strengths_of(org)
            ):
                await org_service.add_strength(
                    ctx,
                    org_id,
                    Strength(
                        kind=kind,  # type: ignore[arg-type]
                        title=title,
                        description=text,
                        capacity=capacity,
                        languages=languages,
                        districts=districts,
                    ),
                    strength_id=demo_id("strength", f"{org.name}/{n}"),
                )
            if index < len(CONTACT_NAMES):
                name, role = CONTACT_NAMES[index]
                slug = name.split()[0].lower()
                await org_service.add_contact(
                    ctx,
                    org_id,
                    name=name,
                    role=role,
                    email=f"{slug}@voorbeeld.nl",
                    person_id=demo_id("contact", f"{org.name}/{name}"),
                )

        await self.run(REGISTERED + timedelta(minutes=index), register, f"register/{org_id}")
        self.created["organisations"] += 1

    async def membership(self, org: Org) -> None:
        org_id = demo_id("organisation", org.name)
        stream = membership_id(DEMO_TENANT, org_id)
        story = _membership_story(org)
        if story is None or await self.exists(Membership, stream):
            return
        applied, admitted = story
        membership = Membership.apply_for(
            tenant=DEMO_TENANT,
            organisation_id=org_id,
            motivation=f"{org.name} wil samenwerken met de andere Haarlemse organisaties.",
            at=applied,
        )
        if admitted is not None:
            membership.admit(
                reason="Voldoet aan de uitgangspunten van het platform",
                decided_by=self.actor.name,
                at=admitted,
                meeting_id=demo_id("meeting", admitted.date().isoformat()),
            )
        if org.name == "Koerdisch Cultureel Centrum Haarlem":
            membership.suspend(
                reason="Bestuur tijdelijk onbereikbaar",
                decided_by=self.actor.name,
                at=datetime(2023, 3, 1, 12, tzinfo=AMSTERDAM),
            )
            membership.reinstate(
                reason="Nieuw bestuur gekozen",
                decided_by=self.actor.name,
                at=_evening(date(2023, 6, 13), 21),
            )
        if org.name == "Poolse Stichting Razem":
            membership.leave(
                at=datetime(2024, 6, 1, 12, tzinfo=AMSTERDAM), reason="Stichting gaat fuseren"
            )

        async def save(ctx: CommandContext) -> None:
            await ctx.save(membership)

        await self.run(None, save, f"membership/{org_id}")
        self.created["memberships"] += 1

    async def meeting(self, day: date, title: str, mode: str) -> None:
        meeting_id = demo_id("meeting", day.isoformat())
        if await self.exists(Meeting, meeting_id):
            return
        starts = _evening(day)
        ends = starts + timedelta(hours=2)
        meeting = Meeting.schedule(
            meeting_id=meeting_id,
            tenant=DEMO_TENANT,
            title=title,
            starts_at=starts,
            ends_at=ends,
            mode=MeetingMode(mode),
            at=starts - timedelta(days=21),
            venue=None if mode == "online" else "Stadhuis Haarlem, Grote Markt 2",
            online_link=None if mode == "in-person" else "https://meet.voorbeeld.nl/verbinders",
            agenda=(
                AgendaItem(title="Opening en mededelingen"),
                AgendaItem(title=title),
                AgendaItem(title="Rondvraag"),
            ),
        )
        if ends < datetime.now(UTC):
            after = ends + timedelta(hours=1)
            for org in ORGANISATIONS:
                if not _member_on(org, day):
                    continue
                org_id = demo_id("organisation", org.name)
                roll = _pick(f"{day}/{org.name}", 10)
                if roll < 7:
                    meeting.record_attendance(
                        org_id, AttendanceStatus.PRESENT, at=after, people=1 + roll % 3
                    )
                elif roll < 9:
                    meeting.record_attendance(org_id, AttendanceStatus.ABSENT_WITH_NOTICE, at=after)
                else:
                    meeting.record_attendance(
                        org_id, AttendanceStatus.ABSENT_WITHOUT_NOTICE, at=after
                    )
            meeting.record_decision(
                demo_id("decision", day.isoformat()),
                f"Afspraken over: {title}",
                at=after,
                votes=Votes(in_favour=8 + _pick(title, 10), against=_pick(title, 2), abstained=1),
            )
            meeting.publish_minutes(
                f"Verslag van '{title}' op {day:%d-%m-%Y}.", at=ends + timedelta(days=2)
            )

        async def save(ctx: CommandContext) -> None:
            await ctx.save(meeting, reason="agreed in the platform meeting, see its minutes")

        await self.run(None, save, f"meeting/{meeting_id}")
        self.created["meetings"] += 1

    async def point_of_contact(self) -> None:
        platform = await self.runtime.repository.get(
            Platform, platform_id(DEMO_TENANT), tenant=DEMO_TENANT
        )
        contact = demo_id("organisation", "Stichting Vrouwen van Alle Kleuren")
        if platform.point_of_contact == contact:
            return
        platform.reassign_point_of_contact(
            contact,
            reason="Gekozen als aanspreekpunt tijdens de oprichting",
            decided_by=self.actor.name,
            at=_evening(PLATFORM_STARTED, 21),
        )

        async def save(ctx: CommandContext) -> None:
            await ctx.save(platform)

        await self.run(None, save, "point-of-contact")

    async def token(self) -> str:
        """A fresh coordinator token for this run; earlier demo tokens are revoked."""
        await self.runtime.runner.catch_up("tokens")
        earlier = [
            t.id
            for t in await list_tokens(self.runtime.pool, DEMO_TENANT)
            if t.revoked_at is None and t.label.startswith("demo coordinator")
        ]
        secret: list[str] = []

        async def issue(ctx: CommandContext) -> None:
            for token_id in earlier:
                await revoke_token(ctx, token_id, reason="a newer demo token was issued")
            issued = await issue_token(
                ctx, roles=("coordinator",), label="demo coordinator", reason="demo loaded"
            )
            secret.append(issued.token)

        await self.run(None, issue, f"token/{uuid.uuid4()}")  # a new token each run
        return secret[0]


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
    for index, org in enumerate(ORGANISATIONS):
        await loader.organisation(org, index)
    for day, title, mode in MEETINGS:
        await loader.meeting(day, title, mode)
    for org in ORGANISATIONS:
        await loader.membership(org)
    await loader.point_of_contact()
    return DemoResult(token=await loader.token(), created=loader.created)
