"""The demo's activities as data: who organises what, with whom, when, and how it ends;
and how the organisations answer the overlap cases the platform opens between them.

`demo_activities.py` tells these through the application services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from verbinders.domain.activity_details import ActivityDetails
from verbinders.domain.overlap_cases import Answer
from verbinders.domain.schedule import OneOff, Schedule, Weekday, Weekly

__all__ = ["AMSTERDAM", "CASE_ANSWERS", "DEMO_ACTIVITIES", "DemoActivity", "demo_key_id"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NAMESPACE = uuid.UUID("6f0c1c55-9a53-4c8e-b7d6-0a3e2f7c1d11")


def demo_key_id(kind: str, key: str) -> uuid.UUID:
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
