"""The funding read model: as of any position it answers what a rebuild up to that position
answers (from its history, no replay), and it holds what the reports need."""

from __future__ import annotations

from decimal import Decimal

from tests.funding_support import fund_people, funding, reviewed, submitted
from tests.platforms import Platform
from verbinders.application import funding as fund_side
from verbinders.application import funding_applicants as applicants
from verbinders.application.context import Actor
from verbinders.projections.engine import replay
from verbinders.projections.funding import FundingProjection
from verbinders.projections.temporal import as_of
from verbinders.runtime import Runtime

TABLES = [t.name for t in FundingProjection.versioned]


async def state(conn, schema: str, condition: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    found = {}
    for table in TABLES:
        rows = await conn.fetch(
            "SELECT (to_jsonb(t) - 'valid_from' - 'valid_to')::text"
            f' FROM "{schema}"."{table}" t WHERE {condition} ORDER BY 1'
        )
        found[table] = [r[0] for r in rows]
    return found


async def test_as_of_any_position_equals_a_rebuild_up_to_it(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    run = runtime.pipeline.run
    fund, applicant = actors["fund"], actors["organisation"]
    *reviewers, other = await fund_people(runtime, platform, ["R1", "R2", "R3"])
    f = await funding(runtime, fund, platform)
    positions = []
    app_id = await submitted(runtime, applicant, f.round_id)
    await reviewed(runtime, fund, reviewers, app_id)
    positions.append(await runtime.store.last_position())
    await run(fund_side.declare_conflict, other, app_id, reason="Familie")
    first = await run(fund_side.decide, fund, app_id, amount="1000.00", rationale="Goed.")
    positions.append(first.position)
    await run(applicants.object_to_decision, applicant, app_id, reason="Te weinig.")
    second = await run(fund_side.decide, fund, app_id, amount="1250.50", rationale="Alsnog.")
    positions.append(second.position - 1)
    await run(fund_side.pay, fund, app_id, amount="250.50")
    await run(fund_side.pay, fund, app_id, amount="1000.00")
    settled = await run(fund_side.settle, fund, app_id, reclaim="100.00", reason="Over")
    positions.append(settled.position)
    await runtime.runner.catch_up("funding")

    async with runtime.pool.acquire() as conn:
        live = await conn.fetchrow(
            "SELECT * FROM funding.applications WHERE id = $1 AND valid_to IS NULL", app_id
        )
        assert live is not None
        assert (live["state"], live["granted"], live["paid"], live["reclaimed"]) == (
            "settled",
            Decimal("1250.50"),
            Decimal("1250.50"),
            Decimal("100.00"),
        )
        assert (live["decisions"], live["reviews"], live["conflicts"]) == (2, 2, 1)
        for position in positions:
            rebuilt = await replay(conn, FundingProjection(), until_position=position)
            expected = await state(conn, rebuilt.schema_name, "valid_to IS NULL")
            assert await state(conn, "funding", as_of("t", position)) == expected, position
