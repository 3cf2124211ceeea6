"""The story `history.py` tells, month by month: platforms, organisations, membership,
meetings, tokens and calls (see `history.py` for how its events are made and appended)."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from verbinders.application import call_responses as answers
from verbinders.application import calls as call_service
from verbinders.application import meetings as meetings_service
from verbinders.application import membership as membership_service
from verbinders.application import organisations as org_service
from verbinders.application import tokens as token_service
from verbinders.demo import strengths_of
from verbinders.demo_data import ORGANISATIONS, Org
from verbinders.domain.call_responses import Response
from verbinders.domain.calls import Call, CallKind, Need, NeedKind, Urgency
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, MeetingMode, Votes
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength
from verbinders.domain.vocabulary import OrganisationKind

if TYPE_CHECKING:
    from verbinders.application.commands import Command
    from verbinders.application.context import Actor
    from verbinders.runtime import Runtime

__all__ = ["CITIES", "EVENTS_PER_ORGANISATION", "SHARES", "Member", "Story", "Tenant", "stable_id"]


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
    random: random.Random
    members: list[Member] = field(default_factory=list)
    registered: int = 0


def stable_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(map(str, parts)))


class Story:
    """What happens on each platform in a month, as commands (`run`: batched; `pipeline`:
    through the command pipeline). Mixed into `HistoryGenerator`."""

    runtime: Runtime
    platforms: list[Tenant]
    with_calls: bool
    calls_every: int
    pipeline_events: int
    call_seconds: float

    async def run(
        self, cmd: Command[..., Any], actor: Actor, at: datetime, *a: Any, **k: Any
    ) -> Any:
        raise NotImplementedError

    async def pipeline(
        self, cmd: Command[..., Any], actor: Actor, at: datetime, *a: Any, **k: Any
    ) -> Any:
        raise NotImplementedError

    async def drain(self) -> None:
        raise NotImplementedError

    def hold(self, aggregate: Any) -> None:
        """Let the batched commands find `aggregate` (read from the store)."""
        raise NotImplementedError

    async def _month(self, p: Tenant, month: date, index: int) -> None:
        rnd = p.random
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
        every = self.calls_every
        if self.with_calls and every and index % every == every - 1 and members:
            started = time.monotonic()
            await self._call(p, month, index, first + timedelta(days=14))
            self.call_seconds += time.monotonic() - started

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
        volunteers = (member.template.volunteers or 5) + p.random.randrange(-3, 10)
        changes = ProfileChanges(
            description=f"{member.template.description} Bijgewerkt {at:%m-%Y}.",
            active_volunteers=max(0, volunteers),
        )
        await self.run(org_service.update_organisation, p.actor, at, member.id, changes)

    async def _decisions(
        self, p: Tenant, at: datetime, meeting_id: uuid.UUID, members: list[Member]
    ) -> None:
        rnd = p.random
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
            rotating = [m for m in p.members if m.token is not None and p.random.random() < 0.2]
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
        """A call to the members, issued and closed through the pipeline (its addressees read
        from the store, its notices and timers written): responses from a fifth (at most 40)
        and its two needs claimed, batched; closed two weeks later."""
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
        self.hold(call)
        addressees = sorted(call.addressees, key=lambda o: o.int)
        responders = [o for o in addressees if o.int % 5 == index % 5][:40]
        # Responses and claims read and write aggregates only: batched like the rest.
        for n, organisation in enumerate(responders):
            available = organisation.int % 3 != 0
            await self.run(
                answers.respond_to_call,
                p.actor,
                at + timedelta(hours=1 + n),
                call_id,
                organisation,
                Response(
                    available=available, volunteers=2 if available else None, note="Wij helpen"
                ),
            )
        for need, organisation in zip(("vrijwilligers", "locatie"), responders, strict=False):
            await self.run(
                answers.claim_need,
                p.actor,
                at + timedelta(days=2),
                call_id,
                need,
                organisation,
                note="Wij doen dit",
            )
        await self.drain()
        await self.pipeline(
            call_service.close_call,
            p.actor,
            at + timedelta(days=14),
            call_id,
            reason="De oproep is afgerond",
            notify=False,
        )
        self.pipeline_events += 2 + 1
