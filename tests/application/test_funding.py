"""Funding through the command pipeline on the real database: the life of a joint application,
every rule on the way, who may do what, exact money, and the race for a round's last euros."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.funding_support import fund_people, funding, reviewed, submitted, verify_offline
from tests.platforms import Platform
from verbinders.application import funding as fund_side
from verbinders.application import funding_applicants as applicants
from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.application.funding_trail import application_trail
from verbinders.application.unit_of_work import CommandRequest
from verbinders.audit.seals import seal
from verbinders.audit.verify import verify
from verbinders.domain.funding_applications import (
    ApplicationState,
    BudgetLine,
    FundingApplication,
    Recommendation,
)
from verbinders.domain.funding_reports import Document
from verbinders.domain.funds import Round
from verbinders.errors import Conflict, Forbidden, InvalidCommand, NotFound
from verbinders.runtime import Runtime


async def other_org(runtime: Runtime, platform: Platform) -> Actor:
    return await Authenticator(runtime.pipeline).authenticate(platform.other_org_token)


async def test_a_joint_application_from_draft_to_settlement(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    run = runtime.pipeline.run
    fund, applicant = actors["fund"], actors["organisation"]
    partner = await other_org(runtime, platform)
    anna, bram, chris = await fund_people(runtime, platform, ["Anna", "Bram", "Chris"])
    f = await funding(runtime, fund, platform, budget="5000.00", objection_days=14)
    drafted = await run(
        applicants.draft_application,
        applicant,
        f.round_id,
        applicant=platform.party,
        title="Samen koken",
        summary="Koken met buren.",
        budget_lines=[
            BudgetLine(description="huur", amount=Decimal("1200.00")),
            BudgetLine(description="ingrediënten", amount=Decimal("800.50")),
        ],
        co_applicants=[platform.other_party],
    )
    app_id = uuid.UUID(drafted.id)
    with pytest.raises(Conflict, match="co-applicants have not confirmed"):
        await run(applicants.submit_application, applicant, app_id)
    with pytest.raises(Forbidden):  # the applicant cannot confirm for its partner
        await run(applicants.confirm_participation, applicant, app_id, platform.other_party)
    await run(applicants.confirm_participation, partner, app_id, platform.other_party)
    # An edit asks the partner again.
    await run(applicants.edit_application, applicant, app_id, title="Samen koken en eten")
    with pytest.raises(Conflict, match="not confirmed"):
        await run(applicants.submit_application, applicant, app_id)
    await run(applicants.confirm_participation, partner, app_id, platform.other_party)
    await run(applicants.submit_application, applicant, app_id)

    application = await runtime.repository.get(FundingApplication, app_id, tenant="haarlem")
    assert application.requested == Decimal("2000.50") and application.joint

    # Reviews, a conflict of interest, the minimum of reviews.
    await reviewed(runtime, fund, [anna], app_id)
    with pytest.raises(Conflict, match="asks 2 reviews"):
        await run(fund_side.decide, fund, app_id, amount="1000.00", rationale="Goed plan.")
    await run(
        fund_side.assign_reviewer, fund, app_id, reviewer=f"token:{bram.token_id}", name="Bram"
    )
    await run(fund_side.declare_conflict, bram, app_id, reason="Bestuurslid van de aanvrager")
    with pytest.raises(Forbidden, match="conflict of interest"):
        await run(
            fund_side.review,
            bram,
            app_id,
            scores={"reach": 9, "cooperation": 9},
            recommendation=Recommendation.GRANT,
        )
    with pytest.raises(Forbidden, match="conflict of interest"):
        await run(fund_side.decide, bram, app_id, amount="2000.50", rationale="Uitstekend.")
    with pytest.raises(InvalidCommand, match="criteria"):
        await run(
            fund_side.assign_reviewer, fund, app_id, reviewer=f"token:{chris.token_id}", name="C"
        )
        await run(fund_side.review, chris, app_id, scores={"reach": 5}, recommendation="grant")
    await reviewed(runtime, fund, [chris], app_id)
    with pytest.raises(InvalidCommand, match="amount"):
        await run(fund_side.decide, anna, app_id, amount="2000.51", rationale="Te veel.")
    with pytest.raises(InvalidCommand, match="rationale"):
        await run(fund_side.decide, anna, app_id, amount="1500.00", rationale="  ")
    decided = await run(
        fund_side.decide,
        anna,
        app_id,
        amount="1500.00",
        rationale="Goed, maar minder huur.",
        conditions=["Verslag na drie maanden"],
    )
    assert decided.data == {"decision": 1}
    funding_round = await runtime.repository.get(Round, f.round_id, tenant="haarlem")
    assert funding_round.remaining == Decimal("3500.00")

    # The applicant objects; the reconsidered decision replaces the first in the ledger.
    with pytest.raises(Forbidden):
        await run(applicants.object_to_decision, partner, app_id, reason="Meer nodig")
    await run(applicants.object_to_decision, applicant, app_id, reason="De huur is echt nodig.")
    with pytest.raises(Conflict, match="objected"):
        await run(fund_side.pay, fund, app_id, amount="100.00")
    await run(
        fund_side.decide, anna, app_id, amount="2000.50", rationale="Na bezwaar: huur toegekend."
    )
    application = await runtime.repository.get(FundingApplication, app_id, tenant="haarlem")
    assert [d.replaces for d in application.decisions] == [None, 1]
    funding_round = await runtime.repository.get(Round, f.round_id, tenant="haarlem")
    assert funding_round.committed == Decimal("2000.50")
    late = CommandRequest(actor=applicant, clock=datetime.now(UTC) + timedelta(days=15))
    with pytest.raises(Conflict, match="period to object ended"):
        await run(applicants.object_to_decision, late, app_id, reason="Nog eens")

    # Payments in tranches; an overdue report blocks them; settle with a reclaim.
    await run(fund_side.pay, fund, app_id, amount="1000.00")
    with pytest.raises(Conflict, match=r"1000\.50 of the 2000\.50 granted is left"):
        await run(fund_side.pay, fund, app_id, amount="1000.51")
    await run(fund_side.require_report, fund, app_id, due=date.today() - timedelta(days=2))
    with pytest.raises(Conflict, match="overdue") as overdue:
        await run(fund_side.pay, fund, app_id, amount="500.00")
    assert overdue.value.details["state"] == "report-overdue"
    with pytest.raises(InvalidCommand, match="sha256"):
        await run(
            applicants.submit_report,
            applicant,
            app_id,
            1,
            spent="900.00",
            results="Gedaan",
            documents=[Document(name="bon.pdf", sha256="xyz")],
        )
    await run(
        applicants.submit_report,
        applicant,
        app_id,
        1,
        spent="900.00",
        results="Twaalf kookavonden.",
        documents=[Document(name="bonnen.pdf", sha256="ab" * 32)],
    )
    await run(fund_side.pay, fund, app_id, amount="500.00")
    with pytest.raises(InvalidCommand, match="reason"):
        await run(fund_side.settle, fund, app_id, reclaim="600.00")
    await run(fund_side.settle, fund, app_id, reclaim="600.00", reason="Niet besteed")
    application = await runtime.repository.get(FundingApplication, app_id, tenant="haarlem")
    assert application.state is ApplicationState.SETTLED
    assert (application.paid, application.reclaimed) == (Decimal("1500.00"), Decimal("600.00"))


async def test_money_is_exact_and_floats_are_refused(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    f = await funding(runtime, actors["fund"], platform)
    for bad, message in ((12.5, "float"), ("12.345", "two decimals"), ("-1.00", "between")):
        with pytest.raises(InvalidCommand, match=message):
            await runtime.pipeline.run(
                applicants.draft_application,
                actors["organisation"],
                f.round_id,
                applicant=platform.party,
                title="T",
                summary="S",
                budget_lines=[BudgetLine(description="x", amount=bad)],  # type: ignore[arg-type]
            )
    app_id = await submitted(runtime, actors["organisation"], f.round_id, amounts=("0.10", "0.20"))
    application = await runtime.repository.get(FundingApplication, app_id, tenant="haarlem")
    assert application.requested == Decimal("0.30")  # not 0.30000000000000004
    async with runtime.pool.acquire() as conn:
        payload = await conn.fetchval(
            "SELECT payload FROM events WHERE stream_id = $1 AND version = 1", app_id
        )
    assert payload["budget_lines"][0]["amount"] == "0.10"


async def test_submission_needs_an_open_round_before_its_deadline(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    run = runtime.pipeline.run
    fund, applicant = actors["fund"], actors["organisation"]
    f = await funding(runtime, fund, platform, deadline=datetime.now(UTC) + timedelta(days=1))
    drafted = await run(
        applicants.draft_application,
        applicant,
        f.round_id,
        applicant=platform.party,
        title="Laat",
        summary="Te laat.",
        budget_lines=[BudgetLine(description="x", amount=Decimal("5.00"))],
    )
    late = CommandRequest(actor=applicant, clock=datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(Conflict, match="deadline"):
        await run(applicants.submit_application, late, uuid.UUID(drafted.id))
    await run(fund_side.close_round, fund, f.round_id)
    with pytest.raises(Conflict, match="closed"):
        await run(applicants.submit_application, applicant, uuid.UUID(drafted.id))
    await run(applicants.withdraw_application, applicant, uuid.UUID(drafted.id), reason="Later")


async def test_who_may_do_what(
    runtime: Runtime, platform: Platform, other_platform: Platform, actors: dict[str, Actor]
) -> None:
    run = runtime.pipeline.run
    fund, applicant = actors["fund"], actors["organisation"]
    f = await funding(runtime, fund, platform)
    app_id = await submitted(runtime, applicant, f.round_id)
    # The municipality is not this fund's; auditors, analysts, other organisations change nothing.
    for role in ("municipality", "auditor", "analyst"):
        with pytest.raises(Forbidden):
            await run(fund_side.declare_conflict, actors[role], app_id, reason="x")
        with pytest.raises(Forbidden):
            await run(
                fund_side.open_round,
                actors[role],
                f.fund_id,
                title="x",
                budget="1.00",
                criteria=(),
                deadline=datetime.now(UTC) + timedelta(days=3),
            )
    partner = await other_org(runtime, platform)
    with pytest.raises(Forbidden):
        await run(applicants.withdraw_application, partner, app_id, reason="niet van mij")
    with pytest.raises(Forbidden):  # a fund cannot be created for another organisation
        await run(fund_side.create_fund, fund, name="Eigen fonds", funder=platform.municipality)
    with pytest.raises(InvalidCommand, match="fund or the municipality"):
        await run(fund_side.create_fund, actors["coordinator"], name="X", funder=platform.party)
    # Another platform's coordinator does not find it.
    stranger = Actor.operator(other_platform.slug, "tests")
    with pytest.raises(NotFound):
        await run(fund_side.decide, stranger, app_id, amount="1.00", rationale="x")


async def test_the_race_for_the_last_euros_of_a_round(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    """Ten decisions of 300 race for 1,000: each retries after losing the round's version,
    until it wins or is told the budget does not hold it. Exactly three win."""
    fund, applicant = actors["fund"], actors["organisation"]
    deciders = await fund_people(runtime, platform, ["R1", "R2"])
    f = await funding(runtime, fund, platform, budget="1000.00")
    apps = []
    for n in range(10):
        app_id = await submitted(runtime, applicant, f.round_id, amounts=("300.00",), title=f"A{n}")
        await reviewed(runtime, fund, deciders, app_id)
        apps.append(app_id)

    async def decide(app_id: uuid.UUID) -> tuple[str, str | None]:
        while True:
            try:
                await runtime.pipeline.run(
                    fund_side.decide, fund, app_id, amount="300.00", rationale="Past in de ronde."
                )
                return "granted", None
            except Conflict as error:
                if error.details.get("state") != "round-moved-on":
                    return str(error.details["state"]), error.details.get("remaining")

    outcomes = await asyncio.gather(*(decide(a) for a in apps))
    assert (
        sorted(outcomes, key=str) == [("budget-exceeded", "100.00")] * 7 + [("granted", None)] * 3
    )
    funding_round = await runtime.repository.get(Round, f.round_id, tenant="haarlem")
    assert funding_round.committed == Decimal("900.00") and funding_round.remaining == Decimal(
        "100.00"
    )
    async with runtime.pool.acquire() as conn:
        granted = await conn.fetchval(
            "SELECT sum((payload->>'amount')::numeric) FROM events WHERE stream_id = $1"
            " AND topic LIKE '%Granted'",
            f.round_id,
        )
    assert granted == Decimal("900.00")


async def test_a_trail_exports_and_verifies_offline(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], tmp_path: Path
) -> None:
    fund, applicant = actors["fund"], actors["organisation"]
    reviewers = await fund_people(runtime, platform, ["R1", "R2"])
    f = await funding(runtime, fund, platform)
    app_id = await submitted(runtime, applicant, f.round_id)
    await reviewed(runtime, fund, reviewers, app_id)
    async with runtime.pool.acquire() as conn:
        await seal(conn)
    await runtime.pipeline.run(
        fund_side.decide, reviewers[0], app_id, amount="1000.00", rationale="Goed."
    )
    await runtime.pipeline.run(fund_side.pay, fund, app_id, amount="400.00")
    await runtime.pipeline.run(fund_side.require_report, fund, app_id, due=date(2027, 1, 1))
    async with runtime.pool.acquire() as conn:
        trail = await application_trail(conn, app_id, tenant="haarlem")
        assert (await verify(conn)).intact
    types = [e["stream_type"] for e in trail["events"]]
    assert {"Fund", "FundingRound", "FundingApplication", "FundingAccountability"} <= set(types)
    positions = [e["position"] for e in trail["events"]]
    assert positions == sorted(positions)
    topics = [e["topic"].rsplit(".", 1)[-1] for e in trail["events"]]
    assert topics.index("Decided") < topics.index("Paid")
    assert trail["proofs"] and trail["seals"]
    path = tmp_path / "trail.json"
    path.write_text(json.dumps(trail))
    ok = verify_offline(path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    granted = next(e for e in trail["events"] if e["topic"].endswith("Decided"))
    granted["payload"] = granted["payload"].replace("1000.00", "9000.00")
    path.write_text(json.dumps(trail))
    bad = verify_offline(path)
    assert bad.returncode == 1 and f"position {granted['position']}" in bad.stdout
