"""The demo's funding: a municipal subsidy scheme and two fictional foundations, a round a year
from 2020 to 2026, applications solo and joint, reviews, conflicts of interest, decisions,
objections and reconsiderations, payments in tranches, accountability reports and a late one.

Everything goes through the application services with the pipeline's clock, at fixed moments;
who applies, with whom, for how much and what is decided follows from hashes of names, so every
run tells the same story. A round that exists already is left alone: a second run adds nothing.
The 2026 rounds are still open: their applications are submitted and under review.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from verbinders.application import funding as fund_side
from verbinders.application import funding_applicants as applicants
from verbinders.application.context import Actor
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.funding_applications import BudgetLine, Recommendation
from verbinders.domain.funding_reports import Document
from verbinders.domain.funds import Criterion
from verbinders.errors import Conflict

if TYPE_CHECKING:
    from verbinders.application.commands import Command
    from verbinders.runtime import Runtime

__all__ = ["DEMO_FUNDS", "load_funding"]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_NAMESPACE = uuid.UUID("5a0e7c1d-3b2f-4e6a-9d8c-7f1b2a3c4d5e")


@dataclass(frozen=True)
class DemoFund:
    key: str
    name: str
    funder: str
    """The funding organisation's name in the demo's organisations."""
    description: str
    first_year: int
    budget: Decimal
    themes: tuple[str, ...]
    open_month: int


DEMO_FUNDS = (
    DemoFund(
        key="samen-haarlem",
        name="Subsidieregeling Samen Haarlem",
        funder="Gemeente Haarlem",
        description="Gemeentelijke subsidie voor activiteiten die Haarlemmers samenbrengen.",
        first_year=2020,
        budget=Decimal("60000.00"),
        themes=("welfare", "integration", "participation"),
        open_month=2,
    ),
    DemoFund(
        key="buurtfonds",
        name="Buurtfonds van het Haarlems Stadsfonds",
        funder="Haarlems Stadsfonds",
        description="Kleine bijdragen voor buurtinitiatieven en cultuur.",
        first_year=2021,
        budget=Decimal("25000.00"),
        themes=("culture", "welfare"),
        open_month=4,
    ),
    DemoFund(
        key="kennemer-armoede",
        name="Fonds Kennemer Samenleving: samen tegen armoede",
        funder="Fonds Kennemer Samenleving",
        description="Projecten tegen armoede en eenzaamheid, liefst samen met anderen.",
        first_year=2022,
        budget=Decimal("40000.00"),
        themes=("poverty", "care"),
        open_month=9,
    ),
)

CRITERIA = (
    Criterion(id="reach", label="Bereik"),
    Criterion(id="cooperation", label="Samenwerking"),
    Criterion(id="feasibility", label="Haalbaarheid"),
)
PLANS = (
    ("Taalcafé voor nieuwkomers", "Wekelijks taalcafé met vrijwilligers uit de wijk."),
    ("Samen koken, samen eten", "Maandelijkse maaltijden voor ouderen die alleen wonen."),
    ("Huiswerkklas in de wijk", "Hulp bij huiswerk voor kinderen uit de buurt."),
    ("Feest van de culturen", "Een dag muziek, dans en eten uit alle hoeken van de stad."),
    ("Schuldhulp aan de keukentafel", "Vrijwilligers helpen gezinnen met hun administratie."),
    ("Wandelgroep voor vrouwen", "Wekelijks wandelen en praten, in meerdere talen."),
)
REVIEWERS = ("Anna de Vries", "Bram Jansen", "Carla Bakker")


def _hash(*parts: object) -> int:
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=AMSTERDAM)


def demo_funding_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts))


class _Teller:
    def __init__(self, runtime: Runtime, actor: Actor, tenant: str, ids: dict[str, uuid.UUID]):
        self.runtime = runtime
        self.actor = actor
        self.tenant = tenant
        self.ids = ids
        self.reviewers = {name: Actor.operator(tenant, f"reviewer {name}") for name in REVIEWERS}
        self.members: list[tuple[str, date | None]] = []

    async def run(
        self,
        moment: datetime,
        cmd: Command[..., Any],
        *args: Any,
        actor: Actor | None = None,
        **kwargs: Any,
    ) -> Any:
        request = CommandRequest(
            actor=actor or self.actor, correlation_id="demo-funding", clock=moment
        )
        return await self.runtime.pipeline.run(cmd, request, *args, **kwargs)

    async def fund(self, demo: DemoFund) -> uuid.UUID:
        fund_id = demo_funding_id("fund", demo.key)
        if await self.runtime.store.stream_version(fund_id) == 0:
            await self.run(
                _at(demo.first_year, 1, 6),
                fund_side.create_fund,
                name=demo.name,
                funder=self.ids[demo.funder],
                description=demo.description,
                fund_id=fund_id,
            )
        return fund_id

    async def round(self, demo: DemoFund, fund_id: uuid.UUID, year: int) -> int:
        round_id = demo_funding_id("round", demo.key, year)
        if await self.runtime.store.stream_version(round_id):
            return 0
        opened = _at(year, demo.open_month, 1)
        deadline = opened + timedelta(days=60)
        await self.run(
            opened,
            fund_side.open_round,
            fund_id,
            title=f"{demo.name} {year}",
            budget=demo.budget,
            criteria=CRITERIA,
            deadline=deadline,
            themes=demo.themes[:2],
            min_reviews=2,
            objection_days=42,
            round_id=round_id,
        )
        applicants_now = [name for name, _ in self.members if _ and _ <= opened.date()]
        chosen = sorted(applicants_now, key=lambda n: _hash(demo.key, year, n))[:5]
        for index, name in enumerate(chosen):
            await self.application(demo, year, round_id, opened, deadline, index, name)
        if year < 2026:
            await self.run(deadline + timedelta(days=1), fund_side.close_round, round_id)
        return 1

    async def application(
        self,
        demo: DemoFund,
        year: int,
        round_id: uuid.UUID,
        opened: datetime,
        deadline: datetime,
        index: int,
        name: str,
    ) -> None:
        h = _hash(demo.key, year, name)
        applicant = self.ids[name]
        others = [
            n for n, joined in self.members if n != name and joined and joined <= opened.date()
        ]
        partner = others[h % len(others)] if h % 3 == 0 else None
        title, summary = PLANS[h % len(PLANS)]
        lines = [
            BudgetLine(description="Activiteiten", amount=Decimal(1500 + (h % 20) * 250)),
            BudgetLine(
                description="Materiaal en huur",
                amount=Decimal(300 + (h % 7) * 85) + Decimal("0.50"),
            ),
        ]
        app_id = demo_funding_id("application", demo.key, year, name)
        drafted_at = opened + timedelta(days=7 + index * 5)
        await self.run(
            drafted_at,
            applicants.draft_application,
            round_id,
            applicant=applicant,
            title=title,
            summary=summary,
            budget_lines=lines,
            co_applicants=[self.ids[partner]] if partner else [],
            application_id=app_id,
        )
        if partner:
            await self.run(
                drafted_at + timedelta(days=3),
                applicants.confirm_participation,
                app_id,
                self.ids[partner],
            )
        submitted_at = drafted_at + timedelta(days=5)
        await self.run(submitted_at, applicants.submit_application, app_id)
        # Reviewers; the first declares a conflict with every third applicant.
        reviewers = list(REVIEWERS)
        review_at = deadline + timedelta(days=5)
        if h % 3 == 1:
            await self.run(
                review_at,
                fund_side.declare_conflict,
                app_id,
                reason="Bestuurslid van de aanvrager",
                actor=self.reviewers[reviewers[0]],
            )
            reviewers = reviewers[1:]
        for r_index, reviewer in enumerate(reviewers[:2]):
            await self.run(
                review_at,
                fund_side.assign_reviewer,
                app_id,
                reviewer=f"operator:reviewer {reviewer}",
                name=reviewer,
            )
            score = 4 + (h >> (r_index * 3)) % 7
            await self.run(
                review_at + timedelta(days=2 + r_index),
                fund_side.review,
                app_id,
                scores={c.id: min(10, score + i) for i, c in enumerate(CRITERIA)},
                recommendation=Recommendation.GRANT if score >= 6 else Recommendation.REJECT,
                comment="Helder plan." if score >= 6 else "Te weinig samenwerking.",
                actor=self.reviewers[reviewer],
            )
        if year == 2026:
            return  # still under review
        requested = sum((x.amount for x in lines), Decimal(0))
        share = (40, 75, 100, 100, 0)[h % 5] + (10 if partner and h % 5 != 4 else 0)
        granted = min(requested, (requested * share / 100).quantize(Decimal("0.01")))
        decider = self.reviewers[reviewers[-1]]
        decided_at = deadline + timedelta(days=21 + index)
        await self.run(
            decided_at,
            fund_side.decide,
            app_id,
            amount=granted,
            rationale="Past goed bij de regeling." if granted else "Valt buiten de regeling.",
            conditions=["Verantwoording binnen een jaar"] if granted else [],
            actor=decider,
        )
        if granted and granted < requested and h % 2 == 0:
            await self.run(
                decided_at + timedelta(days=10),
                applicants.object_to_decision,
                app_id,
                reason="De huur van de zaal is onmisbaar voor de activiteit.",
            )
            granted = requested
            await self.run(
                decided_at + timedelta(days=30),
                fund_side.decide,
                app_id,
                amount=granted,
                rationale="Na bezwaar: de zaalhuur is alsnog toegekend.",
                actor=decider,
            )
            decided_at += timedelta(days=30)
        if not granted:
            return
        first = (granted * Decimal("0.6")).quantize(Decimal("0.01"))
        await self.pay(decided_at + timedelta(days=14), app_id, first)
        due = (decided_at + timedelta(days=300)).date()
        asked = await self.run(
            decided_at + timedelta(days=15), fund_side.require_report, app_id, due=due
        )
        late = h % 7 == 2
        handed_in = due + (timedelta(days=40) if late else -timedelta(days=10))
        spent = granted - (Decimal("125.00") if h % 4 == 0 else Decimal(0))
        await self.run(
            datetime.combine(handed_in, datetime.min.time(), AMSTERDAM) + timedelta(hours=11),
            applicants.submit_report,
            app_id,
            asked.data["report"],
            spent=spent,
            results="De activiteiten zijn gehouden; verslag en foto's bijgevoegd.",
            documents=[
                Document(name="verslag.pdf", sha256=hashlib.sha256(app_id.bytes).hexdigest())
            ],
        )
        after = datetime.combine(handed_in, datetime.min.time(), AMSTERDAM) + timedelta(
            days=7, hours=10
        )
        after = await self.pay(after, app_id, granted - first)
        reclaim = granted - spent
        await self.run(
            after + timedelta(days=30),
            fund_side.settle,
            app_id,
            reclaim=reclaim,
            reason="Niet besteed deel teruggevorderd" if reclaim else "",
        )

    async def pay(self, moment: datetime, app_id: uuid.UUID, amount: Decimal) -> datetime:
        """Pay; while a report of the applicant to this fund is overdue the fund cannot, and
        tries again six weeks later. Returns when it was paid."""
        for _ in range(6):
            try:
                await self.run(moment, fund_side.pay, app_id, amount=amount)
                return moment
            except Conflict as error:
                if error.details.get("state") != "report-overdue":
                    raise
                moment += timedelta(weeks=6)
        raise Conflict(f"demo: application {app_id} could not be paid", state="demo")


async def load_funding(
    runtime: Runtime,
    actor: Actor,
    tenant: str,
    organisations: dict[str, tuple[uuid.UUID, date | None]],
) -> int:
    """Every demo fund's rounds and their applications; returns how many rounds were new.

    `organisations`: the demo's organisations by name (id, the day it joined the platform)."""
    teller = _Teller(
        runtime, actor, tenant, {name: oid for name, (oid, _) in organisations.items()}
    )
    teller.members = [
        (name, joined)
        for name, (_, joined) in organisations.items()
        if name not in {d.funder for d in DEMO_FUNDS}
    ]
    created = 0
    for demo in DEMO_FUNDS:
        fund_id = await teller.fund(demo)
        for year in range(demo.first_year, 2027):
            created += await teller.round(demo, fund_id, year)
    return created
