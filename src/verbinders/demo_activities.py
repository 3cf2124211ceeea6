"""The demo's activities, 2020–2026: collaborations of self-organisations, formal
organisations, the municipality and funds, volunteer hours, and real overlaps.

Each activity is planned at a fixed moment by its organiser, its partners invited and
accepting, then started, completed (or cancelled) at its own dates, through the application
services with the pipeline's clock; hours are logged after the last occurrence. Between
planning and the rest, the candidate index and the overlap policy catch up, so the overlap
cases are opened by the policy itself; some are then answered (joined forces, coordinated,
not an overlap), one lapses when its activity ends, one stays open. Every step looks at the
stream's state first, so a second run adds nothing.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from verbinders.application import activities as service
from verbinders.application import hours
from verbinders.application import overlap_cases as cases
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.activities import Activity, ActivityStatus, PartnershipStatus
from verbinders.domain.activity_details import ActivityDetails, Contribution
from verbinders.domain.hours import HoursEntry, HoursFigure
from verbinders.domain.overlap_cases import (
    Answer,
    CaseStatus,
    Coordinate,
    JoinForces,
    NotAnOverlap,
    OverlapCase,
    overlap_case_id,
)
from verbinders.domain.schedule import OneOff, Schedule, Weekday, Weekly, occurrences

if TYPE_CHECKING:
    from verbinders.application.context import Actor
    from verbinders.runtime import Runtime

__all__ = ["DEMO_ACTIVITIES", "load_activities"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NAMESPACE = uuid.UUID("6f0c1c55-9a53-4c8e-b7d6-0a3e2f7c1d11")


def _id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}/{key}")


def _weekly(
    days: tuple[Weekday, ...], starts: str, ends: str, first: str, last: str, **kw: Any
) -> Weekly:
    return Weekly(
        weekdays=days,
        starts=time.fromisoformat(starts),
        ends=time.fromisoformat(ends),
        first_day=date.fromisoformat(first),
        last_day=date.fromisoformat(last),
        **kw,
    )


def _once(day: str, starts: str, ends: str) -> OneOff:
    d = date.fromisoformat(day)
    return OneOff(
        starts_at=datetime.combine(d, time.fromisoformat(starts), tzinfo=AMSTERDAM),
        ends_at=datetime.combine(d, time.fromisoformat(ends), tzinfo=AMSTERDAM),
    )


TUE, WED, THU, SAT = Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.SATURDAY


@dataclass(frozen=True)
class DemoActivity:
    key: str
    organiser: str
    details: ActivityDetails
    schedule: Schedule
    planned: date
    partners: tuple[tuple[str, str, float], ...] = ()
    """(organisation, role, pledged hours)."""
    fate: str = "completed"
    """completed, cancelled, running or planned (as it stands now)."""
    participants: int = 0
    result: str = ""
    volunteers: int = 3
    cancel_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _d(
    title: str,
    description: str,
    themes: tuple[str, ...],
    groups: tuple[str, ...],
    districts: tuple[str, ...],
    languages: tuple[str, ...],
    venue: str | None,
    expected: int,
) -> ActivityDetails:
    return ActivityDetails(
        title=title,
        description=description,
        themes=themes,
        target_groups=groups,
        districts=districts,
        languages=languages,
        venue=venue,
        expected_participants=expected,
    )


DEMO_ACTIVITIES = (
    DemoActivity(
        key="online-taalcafe-2020",
        organiser="Stichting Marokkaanse Vrouwen Schalkwijk",
        details=_d(
            "Online taalcafé voor vrouwen",
            "Tijdens de lockdown samen Nederlands oefenen via Zoom, met een kop thee thuis.",
            ("language", "women"),
            ("vrouwen",),
            (),
            ("nl", "ar"),
            "Online (Zoom)",
            20,
        ),
        schedule=_weekly((TUE,), "10:00:00", "11:30:00", "2020-04-07", "2020-12-15"),
        planned=date(2020, 3, 25),
        partners=(("Stadsbibliotheek Haarlem", "taalcoaches", 60.0),),
        participants=16,
        result="Wekelijks 12 tot 16 vrouwen online; vier gingen door naar een taalcursus.",
    ),
    DemoActivity(
        key="voedselpakketten-2020",
        organiser="Stichting Vrouwen van Alle Kleuren",
        details=_d(
            "Voedselpakketten rondbrengen in coronatijd",
            "Vrijwilligers brengen pakketten naar gezinnen in quarantaine.",
            ("poverty", "care"),
            ("gezinnen",),
            ("schalkwijk", "noord"),
            ("nl",),
            None,
            120,
        ),
        schedule=_weekly((THU,), "13:00:00", "17:00:00", "2020-04-02", "2020-07-30"),
        planned=date(2020, 3, 27),
        partners=(
            ("Sociaal Wijkteam Schalkwijk", "adressen en doorverwijzing", 40.0),
            ("Gemeente Haarlem", "financiering en coördinatie", 20.0),
            ("Fonds Kennemer Samenleving", "inkoop", 0.0),
        ),
        participants=140,
        result="Ruim 2.000 pakketten bezorgd bij 140 gezinnen.",
        volunteers=8,
    ),
    DemoActivity(
        key="ouderen-bellen-2021",
        organiser="Indisch Ontmoetingscentrum Pasar",
        details=_d(
            "Belcirkel voor eenzame ouderen",
            "Elke week een praatje aan de telefoon met ouderen die alleen thuis zitten.",
            ("elderly",),
            ("ouderen",),
            (),
            ("nl",),
            "Telefonisch",
            40,
        ),
        schedule=_weekly((WED,), "14:00:00", "16:00:00", "2021-01-06", "2021-06-30"),
        planned=date(2020, 12, 15),
        partners=(("Welzijnspartners Haarlem", "belvrijwilligers werven", 30.0),),
        participants=38,
        result="38 ouderen wekelijks gebeld; 9 doorverwezen naar het wijkteam.",
    ),
    DemoActivity(
        key="keti-koti-2022",
        organiser="Surinaamse Vereniging Sranan Haarlem",
        details=_d(
            "Keti Koti herdenking en viering",
            "Herdenking van de afschaffing van de"
            " slavernij met muziek, verhalen en een gezamenlijke maaltijd.",
            ("culture",),
            ("iedereen",),
            ("centrum",),
            ("nl", "srn"),
            "Grote Markt",
            400,
        ),
        schedule=_once("2022-07-01", "16:00:00", "23:00:00"),
        planned=date(2022, 4, 10),
        partners=(
            ("Gemeente Haarlem", "vergunning en podium", 24.0),
            ("Welzijnspartners Haarlem", "vrijwilligers", 40.0),
            ("Haarlems Stadsfonds", "subsidie", 0.0),
        ),
        participants=650,
        result="650 bezoekers; herdenking met de burgemeester.",
        volunteers=25,
    ),
    DemoActivity(
        key="sportdag-2023",
        organiser="Antilliaanse Stichting Dushi Haarlem",
        details=_d(
            "Sportdag voor jongeren in Schalkwijk",
            "Voetbal, dans en basketbal met jongerenwerkers.",
            ("sport", "youth"),
            ("jongeren",),
            ("schalkwijk",),
            ("nl", "pap"),
            "Sportpark Schalkwijk",
            120,
        ),
        schedule=_once("2023-06-17", "11:00:00", "17:00:00"),
        planned=date(2023, 3, 1),
        partners=(("Welzijnspartners Haarlem", "jongerenwerk", 24.0),),
        participants=135,
        result="135 jongeren, vijf nieuwe leden voor de voetbalclub.",
        volunteers=12,
    ),
    DemoActivity(
        key="zomerfeest-2024",
        organiser="Antilliaanse Stichting Dushi Haarlem",
        details=_d(
            "Zomerfeest Schalkwijk",
            "Buurtfeest met muziek, eten uit alle keukens en spelletjes voor kinderen.",
            ("culture",),
            ("buurtbewoners", "kinderen"),
            ("schalkwijk",),
            ("nl",),
            "Molenwijkplein",
            300,
        ),
        schedule=_once("2024-07-06", "14:00:00", "22:00:00"),
        planned=date(2024, 4, 2),
        participants=280,
        result="280 bezoekers, zes keukens.",
        volunteers=15,
    ),
    DemoActivity(
        key="buurtfeest-molenwijk-2024",
        organiser="Kaapverdiaanse Stichting Morabeza",
        details=_d(
            "Buurtfeest Molenwijk",
            "Zomers buurtfeest met muziek, eten en spelletjes voor kinderen en buurtbewoners.",
            ("culture",),
            ("buurtbewoners",),
            ("schalkwijk",),
            ("nl", "pt"),
            "Molenwijkplein",
            200,
        ),
        schedule=_once("2024-07-06", "15:00:00", "21:00:00"),
        planned=date(2024, 4, 20),
        fate="cancelled",
        cancel_reason="Samengegaan met het Zomerfeest Schalkwijk op hetzelfde plein",
    ),
    DemoActivity(
        key="taalcafe-schalkwijk-2025",
        organiser="Stichting Marokkaanse Vrouwen Schalkwijk",
        details=_d(
            "Taalcafé Schalkwijk",
            "Samen Nederlands oefenen bij een kop koffie, voor"
            " nieuwkomers en iedereen die de taal wil leren.",
            ("language", "integration"),
            ("nieuwkomers",),
            ("schalkwijk",),
            ("nl",),
            "Buurthuis De Ster",
            20,
        ),
        schedule=_weekly((TUE,), "19:00:00", "21:00:00", "2025-09-02", "2025-12-16"),
        planned=date(2025, 8, 1),
        participants=18,
        result="Gemiddeld 14 deelnemers per avond.",
    ),
    DemoActivity(
        key="taallessen-bibliotheek-2025",
        organiser="Stadsbibliotheek Haarlem",
        details=_d(
            "Taallessen voor nieuwkomers",
            "Nederlandse les in kleine groepen voor nieuwkomers, met vrijwillige taalcoaches.",
            ("language", "education"),
            ("nieuwkomers",),
            ("schalkwijk",),
            ("nl",),
            "Bibliotheek Schalkwijk",
            15,
        ),
        schedule=_weekly((TUE,), "19:00:00", "21:00:00", "2025-09-09", "2025-12-16"),
        planned=date(2025, 8, 20),
        participants=15,
        result="15 cursisten, twaalf haalden hun certificaat.",
    ),
    DemoActivity(
        key="huiswerk-oost-2026",
        organiser="Turks Cultureel Centrum Haarlem",
        details=_d(
            "Huiswerkbegeleiding in Oost",
            "Hulp bij huiswerk voor kinderen van de basisschool, met vrijwilligers.",
            ("education", "youth"),
            ("kinderen",),
            ("oost",),
            ("nl", "tr"),
            "Buurtcentrum Oost",
            25,
        ),
        schedule=_weekly(
            (WED,),
            "15:30:00",
            "17:30:00",
            "2026-09-02",
            "2026-12-16",
            except_on=(date(2026, 10, 21),),
        ),
        planned=date(2026, 8, 3),
        fate="running",
        partners=(("Gemeente Haarlem", "ruimte", 0.0),),
    ),
    DemoActivity(
        key="huiswerkklas-koerdisch-2026",
        organiser="Koerdisch Cultureel Centrum Haarlem",
        details=_d(
            "Huiswerkklas voor kinderen",
            "Bijles en huiswerkhulp voor kinderen in Haarlem-Oost.",
            ("education", "youth"),
            ("kinderen",),
            ("oost",),
            ("nl", "ku"),
            "Buurtcentrum Oost",
            20,
        ),
        schedule=_weekly((WED,), "15:00:00", "17:00:00", "2026-09-09", "2026-12-16"),
        planned=date(2026, 8, 12),
        fate="cancelled",
        cancel_reason="Samen verder in de huiswerkbegeleiding van het Turks Cultureel Centrum",
    ),
    DemoActivity(
        key="kookworkshop-akwaaba-2026",
        organiser="Ghanese Vereniging Akwaaba",
        details=_d(
            "Kookworkshop gezond eten",
            "Gezond en goedkoop koken, met recepten uit Ghana en Nederland.",
            ("health",),
            ("gezinnen",),
            ("oost",),
            ("nl", "en"),
            "Buurtcentrum Oost",
            16,
        ),
        schedule=_weekly((SAT,), "14:00:00", "17:00:00", "2026-11-07", "2026-12-19"),
        planned=date(2026, 10, 1),
        fate="planned",
    ),
    DemoActivity(
        key="gezond-koken-ggd-2026",
        organiser="Gezondheidsdienst Kennemerland",
        details=_d(
            "Gezond koken met weinig geld",
            "Kookworkshop over gezond eten met een krappe beurs.",
            ("health", "poverty"),
            ("gezinnen",),
            ("oost",),
            ("nl",),
            "Buurtcentrum Oost",
            12,
        ),
        schedule=_weekly((SAT,), "14:00:00", "16:00:00", "2026-11-14", "2026-12-12"),
        planned=date(2026, 10, 15),
        fate="planned",
        partners=(("Stichting Vrouwen van Alle Kleuren", "werving deelnemers", 10.0),),
    ),
    DemoActivity(
        key="werkcafe-2026",
        organiser="Syrisch Huis Haarlem",
        details=_d(
            "Werkcafé voor statushouders",
            "Sollicitatietraining en gesprekken met werkgevers.",
            ("work", "integration"),
            ("statushouders",),
            ("centrum",),
            ("nl", "ar"),
            "Syrisch Huis",
            20,
        ),
        schedule=_weekly((THU,), "19:00:00", "21:00:00", "2026-02-05", "2026-06-25"),
        planned=date(2026, 1, 10),
        partners=(
            ("Mboschool Kennemerland", "trainers", 30.0),
            ("Gemeente Haarlem", "werkgeversnetwerk", 12.0),
        ),
        participants=24,
        result="24 deelnemers, zeven vonden werk of een stage.",
    ),
)

CASE_ANSWERS: tuple[tuple[str, str, tuple[tuple[str, Answer | str, int], ...]], ...] = (
    (
        "taalcafe-schalkwijk-2025",
        "taallessen-bibliotheek-2025",
        (
            ("Stichting Marokkaanse Vrouwen Schalkwijk", "coordinate", 5),
            ("Stadsbibliotheek Haarlem", "coordinate", 7),
        ),
    ),
    (
        "huiswerk-oost-2026",
        "huiswerkklas-koerdisch-2026",
        (
            ("Turks Cultureel Centrum Haarlem", "join", 4),
            ("Koerdisch Cultureel Centrum Haarlem", "join", 6),
        ),
    ),
    (
        "kookworkshop-akwaaba-2026",
        "gezond-koken-ggd-2026",
        (("Gezondheidsdienst Kennemerland", "not", 3),),
    ),
)


def activity_id(key: str) -> uuid.UUID:
    return _id("activity", key)


class _Story:
    def __init__(self, runtime: Runtime, actor: Actor, tenant: str, org_ids: dict[str, uuid.UUID]):
        self.runtime = runtime
        self.actor = actor
        self.tenant = tenant
        self.orgs = org_ids

    async def run(self, moment: datetime, cmd: Any, *args: Any, **kwargs: Any) -> Any:
        request = CommandRequest(actor=self.actor, correlation_id="demo-activities", clock=moment)
        return await self.runtime.pipeline.run(cmd, request, *args, **kwargs)

    async def find(self, cls: type, stream: uuid.UUID) -> Any:
        return await self.runtime.repository.find(cls, stream, tenant=self.tenant)

    async def plan(self, demo: DemoActivity) -> bool:
        stream = activity_id(demo.key)
        if await self.find(Activity, stream) is not None:
            return False
        at = datetime.combine(demo.planned, time(10), tzinfo=AMSTERDAM)
        await self.run(
            at,
            service.plan_activity,
            organisation_id=self.orgs[demo.organiser],
            details=demo.details,
            schedule=demo.schedule,
            activity_id=stream,
        )
        for n, (partner, _, _) in enumerate(demo.partners):
            await self.run(
                at + timedelta(days=2, hours=n), service.invite_partner, stream, self.orgs[partner]
            )
        for n, (partner, role, pledged) in enumerate(demo.partners):
            await self.run(
                at + timedelta(days=5, hours=n),
                service.accept_invitation,
                stream,
                self.orgs[partner],
                Contribution(role=role, pledged_hours=pledged),
            )
        return True

    async def answer(
        self, a: str, b: str, answers: tuple[tuple[str, Answer | str, int], ...]
    ) -> None:
        case_id = overlap_case_id(self.tenant, activity_id(a), activity_id(b))
        case = await self.find(OverlapCase, case_id)
        if case is None or case.status is not CaseStatus.OPEN:
            return
        for name, kind, days in answers:
            org = self.orgs[name]
            if org in case.answers:
                continue
            answer: Answer
            if kind == "join":
                answer = JoinForces(host_activity_id=activity_id(a), note="Samen in één groep")
            elif kind == "coordinate":
                answer = Coordinate(note="De bibliotheek schuift op naar donderdagavond")
            else:
                answer = NotAnOverlap(
                    reason="Andere doelgroep: wij koken met gezinnen met schulden"
                )
            await self.run(
                case.opened_at + timedelta(days=days),
                cases.answer_overlap_case,
                case_id,
                org,
                answer,
            )
        host = await self.find(Activity, activity_id(a))
        for partner, part in host.partners.items():
            if part.status is PartnershipStatus.INVITED and kind == "join":
                await self.run(
                    case.opened_at + timedelta(days=8),
                    service.accept_invitation,
                    host.id,
                    partner,
                    Contribution(role="vrijwilligers", pledged_hours=20),
                )

    async def live(self, demo: DemoActivity) -> None:
        stream = activity_id(demo.key)
        activity = await self.find(Activity, stream)
        ranges = occurrences(demo.schedule)
        first, last = ranges[0].start, ranges[-1].end
        if demo.fate == "cancelled":
            if activity.is_open:
                at = max(activity.changed_at, first - timedelta(days=10))
                await self.run(
                    at + timedelta(hours=1),
                    service.cancel_activity,
                    stream,
                    reason=demo.cancel_reason,
                )
            return
        if demo.fate == "planned":
            return
        if activity.status is ActivityStatus.PLANNED:
            await self.run(max(first, activity.changed_at), service.start_activity, stream)
        if demo.fate != "completed":
            return
        activity = await self.find(Activity, stream)
        if activity.status is ActivityStatus.RUNNING:
            await self.run(
                last + timedelta(hours=1),
                service.complete_activity,
                stream,
                actual_participants=demo.participants,
                result=demo.result,
            )
        await self.hours(demo, ranges)

    async def hours(self, demo: DemoActivity, ranges: tuple[Any, ...]) -> None:
        """The organiser logs its volunteers' hours per month (volunteers counted per
        occurrence), each partner what it pledged, after the last occurrence."""
        stream = activity_id(demo.key)
        months: dict[tuple[int, int], list[Any]] = {}
        for r in ranges:
            local = r.start.astimezone(AMSTERDAM).date()
            months.setdefault((local.year, local.month), []).append(r)
        last_day = ranges[-1].start.astimezone(AMSTERDAM).date()
        at = datetime.combine(last_day + timedelta(days=2), time(12), tzinfo=AMSTERDAM)
        entries = [
            (
                f"{demo.key}/{demo.organiser}/{year}-{month}",
                demo.organiser,
                group[-1].start.astimezone(AMSTERDAM).date(),
                sum(r.hours for r in group) * demo.volunteers,
                demo.volunteers * len(group),
            )
            for (year, month), group in sorted(months.items())
        ]
        entries += [
            (f"{demo.key}/{name}", name, last_day, pledged, max(1, math.ceil(pledged / 8)))
            for name, _, pledged in demo.partners
            if pledged
        ]
        for key, name, day, amount, volunteers in entries:
            entry = _id("hours", key)
            if await self.find(HoursEntry, entry) is not None:
                continue
            await self.run(
                at,
                hours.log_hours,
                organisation_id=self.orgs[name],
                figure=HoursFigure(
                    day=day,
                    hours=round(amount * 4) / 4,
                    volunteers=volunteers,
                    activity_id=stream,
                ),
                entry_id=entry,
            )
        # One correction, as organisations make them: a forgotten volunteer.
        first = _id("hours", entries[0][0])
        logged = await self.find(HoursEntry, first)
        if demo.key == "sportdag-2023" and logged.revision == 0:
            await self.run(
                at + timedelta(days=3),
                hours.correct_hours,
                first,
                reason="Eén vrijwilliger vergeten",
                volunteers=logged.figure.volunteers + 1,
                hours=logged.figure.hours + 6,
            )


async def load_activities(
    runtime: Runtime, actor: Actor, tenant: str, org_ids: dict[str, uuid.UUID]
) -> int:
    """Every demo activity's story, the overlap policy's cases and their answers; returns how
    many activities were new."""
    story = _Story(runtime, actor, tenant, org_ids)
    created = 0
    for demo in sorted(DEMO_ACTIVITIES, key=lambda d: d.planned):
        created += await story.plan(demo)
    await _policies(runtime)
    for a, b, answers in CASE_ANSWERS:
        await story.answer(a, b, answers)
    for demo in DEMO_ACTIVITIES:
        await story.live(demo)
    await _policies(runtime)
    return created


async def _policies(runtime: Runtime) -> None:
    """The candidate index and the overlap policy caught up with what was just told."""
    await runtime.runner.catch_up("overlap_candidates", timeout=60)
    await runtime.policies.catch_up(timeout=120)
