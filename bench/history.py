"""A deterministic, realistic history of N events for the read-model benchmarks.

The demo's shape scaled up: a few platforms (Haarlem's vocabulary), thousands of organisations
of the four kinds (the demo's organisations as templates) with profile changes, strengths and
contact persons; membership applications and the coordinator's decisions (admit, reject,
suspend, reinstate, leave); a general meeting every month and a thematic one with attendance,
decisions and minutes; a token per member, revoked when it leaves or is rotated; and, every
other month, a call to the members through the command pipeline, with responses and claims.
Months run from January 2020 until N events are written.

How the events are made: every command is the product's own application service
(`register_organisation`, `apply`, `admit`, `record_attendance`, `issue_token`, ...), run in a
unit of work (`HeldUnit`) that finds the aggregates in memory instead of reading them from the
store, so the events, their topics, versions and payloads are exactly the product's. Their
pending events are appended through the store's real path, in big batches: personal data
sealed with keys from the real `Keyring`, encoded by `store.mapping.encode_event`, appended by
`EventStore.append` (`append_events`: one statement per batch of up to `batch` events over at
most `max_streams` streams). A batch's events share their metadata (tenant, actor, roles,
reason): consecutive commands with the same metadata go into one append, and the batch's
correlation id names the batch, not the command. Calls (`issue_call` decides its addressees
from the store's history and writes its notices beside its events) run through the command
pipeline itself, after what came before them was appended.

The store stamps `recorded_at` itself (the clock at the append), so recorded times span the
generation, not 2020–2026; the events' own times (`at`, `timestamp`) span the months. Given
the same N, seed and platforms the history is the same, except the ids and secrets of tokens
(`issue_token` draws them).

    .venv/bin/python bench/history.py --events 100000 [--database-url URL]

generates into a scratch database (see common.py) and reports the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from verbinders.application import call_responses as answers
from verbinders.application import calls as call_service
from verbinders.application import meetings as meetings_service
from verbinders.application import membership as membership_service
from verbinders.application import organisations as org_service
from verbinders.application import tokens as token_service
from verbinders.application.context import Actor
from verbinders.application.platforms import create_platform
from verbinders.application.unit_of_work import CommandRequest, UnitOfWork
from verbinders.demo import strengths_of
from verbinders.demo_data import ORGANISATIONS, Org
from verbinders.domain.call_responses import Response
from verbinders.domain.calls import Call, CallKind, Need, NeedKind, Urgency
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, MeetingMode, Votes
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.store.events import Metadata, NewEvent
from verbinders.store.mapping import encode_event, event_subjects, stream_type_of

if TYPE_CHECKING:
    from verbinders.application.commands import Command
    from verbinders.runtime import Runtime

__all__ = ["GeneratedHistory", "HistoryGenerator", "generate"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NAMESPACE = uuid.UUID("5b0c9a52-7f0e-4a53-9d4c-2e8f61b7a3d4")
CITIES = ("haarlem", "spaarnestad", "kennemerland", "zuid-kennemerland", "bloemendaal")
SHARES = (0.5, 0.3, 0.2, 0.15, 0.1)
EVENTS_PER_ORGANISATION = 60
"""About how many events an organisation brings over its platform's life (calibrated)."""

ADMITTED = "Voldoet aan de uitgangspunten van het platform"
REJECTED = "Past nog niet bij de uitgangspunten; welkom om later opnieuw aan te vragen"
SUSPENDED = "Bestuur tijdelijk onbereikbaar"
REINSTATED = "Nieuw bestuur gekozen"
LEFT = "Stichting stopt met haar activiteiten"
GROUNDS = "agreed in the platform meeting, see its minutes"
TOKEN_REASON = "toegang voor een lid"
REVOKED_LEFT = "het lidmaatschap is beëindigd"
REVOKED_ROTATED = "jaarlijkse vervanging"
THEMES = (
    "Taalles en ontmoeting",
    "Eenzaamheid onder ouderen",
    "Jongeren en werk",
    "Armoede en schulden",
    "Gezondheid in de wijk",
    "Vrijwilligers werven",
)
CONTACTS = (
    ("Fatima El Amrani", "voorzitter"),
    ("Mehmet Yıldız", "secretaris"),
    ("Ingrid Sabajo", "penningmeester"),
    ("Yonas Tesfay", "coördinator vrijwilligers"),
    ("Anna Kowalska", "voorzitter"),
    ("Priya Ramdin", "secretaris"),
)


class HeldUnit(UnitOfWork):
    """A unit of work whose aggregates are held in memory (`world`), never read from the
    store: the application services run unchanged, and their events stay pending."""

    def __init__(self, generator: HistoryGenerator, request: CommandRequest) -> None:
        super().__init__(
            generator.runtime.repository,
            None,  # type: ignore[arg-type] - nothing is read or written through it
            request,
            in_transaction=False,
        )
        self.world = generator.world

    async def preload(self, *wanted: tuple[type[Aggregate], uuid.UUID]) -> None:
        for cls, aggregate_id in wanted:
            if aggregate_id in self._held or aggregate_id in self._absent:
                continue
            aggregate = self.world.get(aggregate_id)
            if isinstance(aggregate, cls):
                self._held[aggregate_id] = aggregate
            else:
                self._absent.add(aggregate_id)

    def pending(self) -> list[tuple[Aggregate, list[Any]]]:
        """Every held aggregate's new events (taken out of it)."""
        found = []
        for aggregate in self._held.values():
            events = aggregate.collect_events()
            if events:
                self.world[aggregate.id] = aggregate
                found.append((aggregate, events))
        return found


@dataclass
class Batch:
    """Consecutive commands' events with the same metadata: one append."""

    key: tuple[str, str | None, tuple[str, ...], str | None]
    entries: list[tuple[type[Aggregate], uuid.UUID, list[Any]]] = field(default_factory=list)
    events: int = 0
    streams: set[uuid.UUID] = field(default_factory=set)


@dataclass
class Member:
    """What the generator remembers of an organisation (to pick what happens to it)."""

    id: uuid.UUID
    template: Org
    registered: datetime
    status: str = "none"  # none, applied, member, suspended, rejected, left
    since: datetime | None = None
    token: uuid.UUID | None = None
    strengths: int = 0


@dataclass
class Tenant:
    tenant: str
    actor: Actor
    token: str
    organisations: int
    """How many it will register in all."""
    members: list[Member] = field(default_factory=list)
    registered: int = 0


@dataclass(frozen=True)
class GeneratedHistory:
    events: int
    seconds: float
    tenants: tuple[str, ...]
    tokens: dict[str, str]
    """Each platform's coordinator bearer token."""
    organisations: int
    months: int
    appends: int
    pipeline_commands: int
    members: dict[str, list[tuple[uuid.UUID, bool]]]
    """Each platform's members at the end (id, suspended)."""


def stable_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(map(str, parts)))


class HistoryGenerator:
    def __init__(
        self,
        runtime: Runtime,
        events: int,
        *,
        platforms: int = 3,
        seed: int = 12,
        batch: int = 5000,
        max_streams: int = 1000,
        calls: bool = True,
        progress: bool = True,
    ) -> None:
        self.runtime = runtime
        self.target = events
        self.random = random.Random(seed)
        self.batch_size = batch
        self.max_streams = max_streams
        self.with_calls = calls
        self.show_progress = progress
        self.world: dict[uuid.UUID, Aggregate] = {}
        self.platforms: list[Tenant] = []
        self.shares = [s / sum(SHARES[:platforms]) for s in SHARES[:platforms]]
        self.batch: Batch | None = None
        self.queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=2)
        self.appended = 0
        self.queued = 0
        self.appends = 0
        self.pipeline_commands = 0
        self.months = 0
        self.pipeline_events = 0

    # -- running commands ----------------------------------------------------------------

    async def run(
        self, cmd: Command[..., Any], actor: Actor, at: datetime, *a: Any, **k: Any
    ) -> Any:
        """One command in a `HeldUnit`; its events join the current batch."""
        request = CommandRequest(actor=actor, correlation_id="history", clock=at)
        unit = HeldUnit(self, request)
        result = await cmd.fn(unit, *a, **k)
        pending = unit.pending()
        if not pending:
            return result
        meta = unit.metadata()
        key = (meta.tenant, meta.actor, meta.roles, meta.reason)
        count = sum(len(events) for _, events in pending)
        batch = self.batch
        if batch is not None and (
            batch.key != key
            or batch.events + count > self.batch_size
            or len(batch.streams) >= self.max_streams
        ):
            await self.seal()
            batch = None
        if batch is None:
            batch = self.batch = Batch(key)
        for aggregate, events in pending:
            batch.entries.append((type(aggregate), aggregate.id, events))
            batch.streams.add(aggregate.id)
        batch.events += count
        self.queued += count
        return result

    async def seal(self) -> None:
        """Hand the current batch to the appender (and let it run)."""
        if self.batch is not None:
            await self.queue.put(self.batch)
            self.batch = None
        await asyncio.sleep(0)

    async def drain(self) -> None:
        """Everything so far appended (before a command that reads the store)."""
        await self.seal()
        await self.queue.join()

    async def appender(self) -> None:
        store, keyring = self.runtime.store, self.runtime.keyring
        while (batch := await self.queue.get()) is not None:
            try:
                tenant, actor, roles, reason = batch.key
                subjects: set[uuid.UUID] = set()
                for _, _, events in batch.entries:
                    for event in events:
                        subjects |= event_subjects(event)
                keys = (
                    await keyring.keys_for(subjects, tenant=tenant, create=True) if subjects else {}
                )
                expected: dict[uuid.UUID, int] = {}
                new_events = []
                for cls, aggregate_id, events in batch.entries:
                    stream_type = stream_type_of(cls)
                    expected.setdefault(aggregate_id, events[0].originator_version - 1)
                    for event in events:
                        topic, payload = encode_event(event, keys)
                        new_events.append(
                            NewEvent(
                                stream_id=aggregate_id,
                                stream_type=stream_type,
                                version=event.originator_version,
                                topic=topic,
                                payload=payload,
                            )
                        )
                self.appends += 1
                metadata = Metadata(
                    tenant=tenant,
                    actor=actor,
                    roles=roles,
                    correlation_id=f"history/{self.appends}",
                    reason=reason,
                )
                await store.append(new_events, expected=expected, metadata=metadata)
                self.appended += len(new_events)
            finally:
                self.queue.task_done()
        self.queue.task_done()

    async def pipeline(
        self, cmd: Command[..., Any], actor: Actor, at: datetime, *a: Any, **k: Any
    ) -> Any:
        """A command through the product's pipeline (reads and writes the store)."""
        self.pipeline_commands += 1
        request = CommandRequest(actor=actor, correlation_id="history", clock=at)
        return await self.runtime.pipeline.run(cmd, request, *a, **k)

    # -- the story -----------------------------------------------------------------------

    async def generate(self) -> GeneratedHistory:
        started = time.monotonic()
        task = asyncio.create_task(self.appender())
        try:
            await self._platforms()
            month = date(2020, 1, 1)
            while self.queued + self.pipeline_events < self.target:
                for platform in self.platforms:
                    await self._month(platform, month, self.months)
                    if self.queued + self.pipeline_events >= self.target:
                        break
                self.months += 1
                month = (month.replace(day=28) + timedelta(days=5)).replace(day=1)
                if self.show_progress and self.months % 6 == 0:
                    rate = self.appended / (time.monotonic() - started)
                    print(
                        f"  {month:%Y-%m}: {self.appended:,} events appended ({rate:,.0f}/s)",
                        flush=True,
                    )
            await self.drain()
        finally:
            if not task.done():
                await self.queue.put(None)
            await task
        async with self.runtime.pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM events")
        return GeneratedHistory(
            events=int(total),
            seconds=time.monotonic() - started,
            tenants=tuple(p.tenant for p in self.platforms),
            tokens={p.tenant: p.token for p in self.platforms},
            organisations=sum(p.registered for p in self.platforms),
            months=self.months,
            appends=self.appends,
            pipeline_commands=self.pipeline_commands,
            members={
                p.tenant: [
                    (m.id, m.status == "suspended")
                    for m in p.members
                    if m.status in ("member", "suspended")
                ]
                for p in self.platforms
            },
        )

    async def _platforms(self) -> None:
        per_org = EVENTS_PER_ORGANISATION
        for n, share in enumerate(self.shares):
            tenant = f"bench-{CITIES[n]}"
            operator = Actor.operator(tenant, "history")
            created = await self.runtime.pipeline.run(
                create_platform,
                CommandRequest(actor=operator, clock=datetime(2019, 12, 1, 12, tzinfo=AMSTERDAM)),
                name=f"Verbinders {CITIES[n].title()} (bench)",
                city="Haarlem",
                started_on=date(2019, 12, 1),
            )
            self.pipeline_events += 2
            self.world[platform_id(tenant)] = await self.runtime.repository.get(
                Platform, platform_id(tenant), tenant=tenant
            )
            coordinator = Actor(tenant=tenant, roles=("coordinator",), label="coordinator")
            assert created.token.token is not None
            self.platforms.append(
                Tenant(
                    tenant=tenant,
                    actor=coordinator,
                    token=created.token.token,
                    organisations=max(20, round(self.target * share / per_org)),
                )
            )

    async def _month(self, p: Tenant, month: date, index: int) -> None:
        rnd = self.random
        first = datetime(month.year, month.month, 1, 9, tzinfo=AMSTERDAM)
        meeting_day = datetime(month.year, month.month, 20, 19, 30, tzinfo=AMSTERDAM)
        ends = meeting_day + timedelta(hours=2)
        after = ends + timedelta(hours=1)
        meeting_id = stable_id(p.tenant, "meeting", month)
        thematic_id = stable_id(p.tenant, "thematic", month)
        theme = THEMES[index % len(THEMES)]

        # Day 1: the month's meetings scheduled, new organisations registered.
        await self._schedule(p, meeting_id, "Algemene ledenvergadering", meeting_day, first)
        thematic_day = meeting_day - timedelta(days=9)
        await self._schedule(p, thematic_id, theme, thematic_day, first)
        # Founding: a tenth at once; then evenly over four years.
        wanted = round(p.organisations * (0.1 + 0.9 * min(1.0, index / 48)))
        for _ in range(wanted - p.registered):
            await self._register(p, first + timedelta(minutes=p.registered % 600))

        # Day 3: profile changes and new strengths.
        day3 = first + timedelta(days=2)
        for member in rnd.sample(p.members, k=len(p.members) // 12):
            await self._update_profile(p, member, day3)
        for member in rnd.sample(p.members, k=len(p.members) // 40):
            await self._add_strength(p, member, day3 + timedelta(hours=1))

        # Day 5: applications of those registered three weeks ago or more, or rejected
        # half a year ago or more.
        day5 = first + timedelta(days=4)
        for member in p.members:
            if member.status == "none" and member.registered <= day5 - timedelta(days=21):
                await self.run(
                    membership_service.apply,
                    p.actor,
                    day5,
                    member.id,
                    motivation=f"{member.template.name} wil graag samenwerken.",
                )
                member.status = "applied"
            elif (
                member.status == "rejected"
                and member.since
                and member.since < day5 - timedelta(days=180)
            ):
                await self.run(
                    membership_service.apply, p.actor, day5, member.id, motivation="Opnieuw"
                )
                member.status = "applied"

        # Day 10: a tenth of the agendas change; notices of absence come in.
        if rnd.random() < 0.3:
            await self.run(
                meetings_service.change_agenda,
                p.actor,
                first + timedelta(days=9),
                meeting_id,
                (
                    AgendaItem(title="Opening en mededelingen"),
                    AgendaItem(title="Algemene ledenvergadering"),
                    AgendaItem(title=theme),
                    AgendaItem(title="Rondvraag"),
                ),
            )

        # The thematic meeting: a sixth of the members come.
        members = [m for m in p.members if m.status in ("member", "suspended")]
        thematic_after = thematic_day + timedelta(hours=3)
        for member in rnd.sample(members, k=len(members) // 6):
            await self.run(
                meetings_service.record_attendance,
                p.actor,
                thematic_after,
                thematic_id,
                member.id,
                AttendanceStatus.PRESENT,
                people=1 + member.id.int % 3,
            )

        # Day 20: the general meeting: attendance of every member, decisions, membership.
        for member in members:
            roll = rnd.random()
            if roll < 0.6:
                status, people = AttendanceStatus.PRESENT, 1 + member.id.int % 4
            elif roll < 0.9:
                status, people = AttendanceStatus.ABSENT_WITH_NOTICE, None
            else:
                status, people = AttendanceStatus.ABSENT_WITHOUT_NOTICE, None
            await self.run(
                meetings_service.record_attendance,
                p.actor,
                after,
                meeting_id,
                member.id,
                status,
                people=people,
            )
        for n in range(1 + index % 3):
            await self.run(
                meetings_service.record_decision,
                p.actor,
                after,
                meeting_id,
                text=f"Besluit {n + 1} over {theme.lower()}",
                reason=GROUNDS,
                votes=Votes(
                    in_favour=10 + rnd.randrange(40), against=rnd.randrange(5), abstained=1
                ),
                decision_id=stable_id(meeting_id, "decision", n),
            )
        await self._decisions(p, after, meeting_id, members)
        await self._tokens(p, after + timedelta(days=1), month)

        # Day 22: the minutes.
        await self.run(
            meetings_service.publish_minutes,
            p.actor,
            ends + timedelta(days=2),
            meeting_id,
            f"Verslag van de algemene ledenvergadering van {month:%m-%Y}.",
        )
        await self.run(
            meetings_service.publish_minutes,
            p.actor,
            thematic_day + timedelta(days=2),
            thematic_id,
            f"Verslag: {theme}.",
        )
        if self.with_calls and index % 2 == 1 and members:
            await self._call(p, month, index, first + timedelta(days=14))

    async def _schedule(
        self, p: Tenant, meeting_id: uuid.UUID, title: str, starts: datetime, at: datetime
    ) -> None:
        online = starts.year in (2020, 2021)
        await self.run(
            meetings_service.schedule_meeting,
            p.actor,
            at,
            meeting_id=meeting_id,
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            mode=MeetingMode.ONLINE if online else MeetingMode.IN_PERSON,
            venue=None if online else "Stadhuis Haarlem, Grote Markt 2",
            online_link="https://meet.voorbeeld.nl/verbinders" if online else None,
            agenda=(
                AgendaItem(title="Opening en mededelingen"),
                AgendaItem(title=title),
                AgendaItem(title="Rondvraag"),
            ),
        )

    async def _register(self, p: Tenant, at: datetime) -> None:
        n = p.registered
        p.registered += 1
        template = ORGANISATIONS[n % len(ORGANISATIONS)]
        org_id = stable_id(p.tenant, "organisation", n)
        await self.run(
            org_service.register_organisation,
            p.actor,
            at,
            organisation_id=org_id,
            kind=OrganisationKind(template.kind),
            name=f"{template.name} {n + 1}",
            kvk_number=f"{10_000_000 + len(self.platforms) * n + self.platforms.index(p):08d}"
            if template.kvk
            else None,
            profile=Profile(
                description=f"{template.description} (nr. {n + 1})",
                founding_year=template.founded,
                communities=template.communities,
                languages=template.languages,
                themes=template.themes,
                districts=template.districts,
                target_groups=template.target_groups,
                website=template.website,
                constituency_size=template.constituency,
                active_volunteers=template.volunteers,
            ),
        )
        member = Member(org_id, template, at)
        p.members.append(member)
        for _ in strengths_of(template):
            await self._add_strength(p, member, at)
        for c in range(1 + n % 2):
            name, role = CONTACTS[(n + c) % len(CONTACTS)]
            await self.run(
                org_service.add_contact,
                p.actor,
                at,
                org_id,
                name=name,
                role=role,
                email=f"{name.split()[0].lower()}.{n}@voorbeeld.nl",
                phone=f"06{12345678 + n:08d}"[:10],
                person_id=stable_id(org_id, "contact", c),
            )

    async def _add_strength(self, p: Tenant, member: Member, at: datetime) -> None:
        rows = strengths_of(member.template)
        kind, title, text, capacity, languages, districts = rows[member.strengths % len(rows)]
        number = member.strengths
        member.strengths += 1
        await self.run(
            org_service.add_strength,
            p.actor,
            at,
            member.id,
            Strength(
                kind=kind,  # type: ignore[arg-type]
                title=title if number == 0 else f"{title} ({number + 1})",
                description=text,
                capacity=capacity,
                languages=languages,
                districts=districts,
            ),
            strength_id=stable_id(member.id, "strength", number),
        )

    async def _update_profile(self, p: Tenant, member: Member, at: datetime) -> None:
        volunteers = (member.template.volunteers or 5) + self.random.randrange(-3, 10)
        changes = ProfileChanges(
            description=f"{member.template.description} Bijgewerkt {at:%m-%Y}.",
            active_volunteers=max(0, volunteers),
        )
        await self.run(org_service.update_organisation, p.actor, at, member.id, changes)

    async def _decisions(
        self, p: Tenant, at: datetime, meeting_id: uuid.UUID, members: list[Member]
    ) -> None:
        rnd = self.random
        applicants = [m for m in p.members if m.status == "applied"]
        admitted = [m for m in applicants if rnd.random() < 0.85]
        rejected = [m for m in applicants if m not in admitted]
        for member in admitted:
            await self.run(
                membership_service.admit,
                p.actor,
                at,
                member.id,
                reason=ADMITTED,
                meeting_id=meeting_id,
            )
            member.status, member.since = "member", at
        for member in rejected:
            await self.run(
                membership_service.reject,
                p.actor,
                at,
                member.id,
                reason=REJECTED,
                meeting_id=meeting_id,
            )
            member.status, member.since = "rejected", at
        for member in [m for m in members if m.status == "member" and rnd.random() < 0.005]:
            await self.run(membership_service.suspend, p.actor, at, member.id, reason=SUSPENDED)
            member.status, member.since = "suspended", at
        for member in [
            m
            for m in members
            if m.status == "suspended" and m.since and m.since < at - timedelta(days=80)
        ]:
            await self.run(membership_service.reinstate, p.actor, at, member.id, reason=REINSTATED)
            member.status, member.since = "member", at
        for member in [m for m in members if m.status == "member" and rnd.random() < 0.004]:
            await self.run(membership_service.leave, p.actor, at, member.id, reason=LEFT)
            member.status, member.since = "left", at

    async def _tokens(self, p: Tenant, at: datetime, month: date) -> None:
        for member in p.members:
            if member.status == "left" and member.token is not None:
                await self.run(
                    token_service.revoke_token, p.actor, at, member.token, reason=REVOKED_LEFT
                )
                member.token = None
        if month.month == 1:  # yearly rotation of a fifth of the tokens
            rotating = [m for m in p.members if m.token is not None and self.random.random() < 0.2]
            for member in rotating:
                assert member.token is not None
                await self.run(
                    token_service.revoke_token, p.actor, at, member.token, reason=REVOKED_ROTATED
                )
                member.token = None
        for member in p.members:
            if member.status == "member" and member.token is None:
                issued = await self.run(
                    token_service.issue_token,
                    p.actor,
                    at,
                    roles=("organisation",),
                    label=f"token {member.template.name[:40]}",
                    party=member.id,
                    reason=TOKEN_REASON,
                )
                member.token = issued.id

    async def _call(self, p: Tenant, month: date, index: int, at: datetime) -> None:
        """A call to the members through the pipeline: responses from a fifth (at most 40),
        its two needs claimed, closed two weeks later."""
        await self.drain()
        call_id = stable_id(p.tenant, "call", month)
        kind = (CallKind.CALAMITY, CallKind.FESTIVITY, CallKind.CONSULTATION)[index % 3]
        await self.pipeline(
            call_service.issue_call,
            p.actor,
            at,
            kind=kind,
            title=f"Oproep {month:%m-%Y}: {THEMES[index % len(THEMES)]}",
            message="Wie kan helpen? Laat het ons binnen een week weten.",
            respond_by=at + timedelta(days=7),
            needs=(
                Need(
                    id="vrijwilligers",
                    kind=NeedKind.VOLUNTEERS,
                    description="Vrijwilligers",
                    quantity=10,
                ),
                Need(
                    id="locatie",
                    kind=NeedKind.VENUE,
                    description="Een zaal",
                    quantity=1,
                    district="centrum",
                ),
            ),
            districts=("centrum",),
            urgency=Urgency.HIGH if kind is CallKind.CALAMITY else Urgency.NORMAL,
            call_id=call_id,
        )
        call = await self.runtime.repository.get(Call, call_id, tenant=p.tenant)
        addressees = sorted(call.addressees, key=lambda o: o.int)
        responders = [o for o in addressees if o.int % 5 == index % 5][:40]

        async def respond(n: int, organisation: uuid.UUID) -> None:
            available = organisation.int % 3 != 0
            await self.pipeline(
                answers.respond_to_call,
                p.actor,
                at + timedelta(hours=1 + n),
                call_id,
                organisation,
                Response(
                    available=available, volunteers=2 if available else None, note="Wij helpen"
                ),
            )

        for start in range(0, len(responders), 8):  # eight at a time, as many clients would
            await asyncio.gather(
                *(respond(start + n, o) for n, o in enumerate(responders[start : start + 8]))
            )
        for need, organisation in zip(("vrijwilligers", "locatie"), responders, strict=False):
            await self.pipeline(
                answers.claim_need,
                p.actor,
                at + timedelta(days=2),
                call_id,
                need,
                organisation,
                note="Wij doen dit",
            )
        await self.pipeline(
            call_service.close_call,
            p.actor,
            at + timedelta(days=14),
            call_id,
            reason="De oproep is afgerond",
            notify=False,
        )
        self.pipeline_events += 2 + len(responders) + 2 + 1


async def generate(runtime: Runtime, events: int, **options: Any) -> GeneratedHistory:
    """Write a history of about `events` events into the runtime's store."""
    return await HistoryGenerator(runtime, events, **options).generate()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded PG 18)")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--platforms", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--batch", type=int, default=5000, help="events per append at most")
    parser.add_argument("--no-calls", action="store_true", help="no calls (pipeline commands)")
    return parser.parse_args()


async def main() -> None:
    from common import scratch_database
    from verbinders.config import Settings
    from verbinders.runtime import open_runtime

    args = parse_args()
    async with scratch_database(args.database_url) as scratch:
        settings = Settings(database_url=scratch.dsn, run_projections=False)
        async with open_runtime(settings) as runtime:
            history = await generate(
                runtime,
                args.events,
                platforms=args.platforms,
                seed=args.seed,
                batch=args.batch,
                calls=not args.no_calls,
            )
            counted = await runtime.store.last_position()
    print(
        f"{counted:,} events ({history.organisations:,} organisations, {history.months} months,"
        f" {history.appends:,} appends, {history.pipeline_commands:,} commands through the"
        f" pipeline) in {history.seconds:.1f} s: {counted / history.seconds:,.0f} events/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
