"""What the funding tests share: the fund's people, a fund with an open round, and submitted
applications, all made through the command pipeline."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.platforms import Platform
from verbinders.application import funding as fund_side
from verbinders.application import funding_applicants as applicants
from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.application.tokens import issue_token
from verbinders.domain.funding_applications import BudgetLine, Recommendation
from verbinders.domain.funds import Criterion
from verbinders.runtime import Runtime

__all__ = [
    "CRITERIA",
    "Funding",
    "fund_people",
    "funding",
    "reviewed",
    "submitted",
    "verify_offline",
]

VERIFIER = Path(__file__).parents[1] / "tools" / "verify_trail.py"


def verify_offline(path: Path) -> subprocess.CompletedProcess[str]:
    """`tools/verify_trail.py` on an export, in a Python of its own (no project on its path)."""
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


CRITERIA = (
    Criterion(id="reach", label="Bereik"),
    Criterion(id="cooperation", label="Samenwerking"),
)


async def fund_people(runtime: Runtime, platform: Platform, names: list[str]) -> list[Actor]:
    """One `fund` token each, acting for the platform's fund, authenticated to its actor."""
    operator = Actor.operator(platform.slug, "tests")
    authenticator = Authenticator(runtime.pipeline)
    people = []
    for name in names:
        issued = await runtime.pipeline.run(
            issue_token, operator, roles=("fund",), label=name, party=platform.fund
        )
        assert issued.token is not None
        people.append(await authenticator.authenticate(issued.token))
    return people


class Funding:
    def __init__(self, fund_id: uuid.UUID, round_id: uuid.UUID) -> None:
        self.fund_id = fund_id
        self.round_id = round_id


async def funding(
    runtime: Runtime,
    fund: Actor,
    platform: Platform,
    *,
    budget: str = "10000.00",
    min_reviews: int = 2,
    objection_days: int = 42,
    deadline: datetime | None = None,
) -> Funding:
    created = await runtime.pipeline.run(
        fund_side.create_fund, fund, name="Fonds Samen Sterk", funder=platform.fund
    )
    opened = await runtime.pipeline.run(
        fund_side.open_round,
        fund,
        uuid.UUID(created.id),
        title="Ronde 2026",
        budget=budget,
        criteria=CRITERIA,
        deadline=deadline or datetime.now(UTC) + timedelta(days=30),
        themes=("welfare",),
        min_reviews=min_reviews,
        objection_days=objection_days,
    )
    return Funding(uuid.UUID(created.id), uuid.UUID(opened.id))


async def submitted(
    runtime: Runtime,
    applicant: Actor,
    round_id: uuid.UUID,
    *,
    amounts: tuple[str, ...] = ("1000.00", "250.50"),
    title: str = "Taalcafé Schalkwijk",
) -> uuid.UUID:
    assert applicant.party is not None
    drafted = await runtime.pipeline.run(
        applicants.draft_application,
        applicant,
        round_id,
        applicant=applicant.party,
        title=title,
        summary="Wekelijks taalcafé voor nieuwkomers.",
        budget_lines=[
            BudgetLine(description=f"post {i}", amount=a)  # type: ignore[arg-type]
            for i, a in enumerate(amounts)
        ],
    )
    application_id = uuid.UUID(drafted.id)
    await runtime.pipeline.run(applicants.submit_application, applicant, application_id)
    return application_id


async def reviewed(
    runtime: Runtime, fund: Actor, reviewers: list[Actor], application_id: uuid.UUID
) -> None:
    for reviewer in reviewers:
        await runtime.pipeline.run(
            fund_side.assign_reviewer,
            fund,
            application_id,
            reviewer=f"token:{reviewer.token_id}",
            name=reviewer.label or "reviewer",
        )
        await runtime.pipeline.run(
            fund_side.review,
            reviewer,
            application_id,
            scores={"reach": 7, "cooperation": 8},
            recommendation=Recommendation.GRANT,
            comment="Sterk plan.",
        )
