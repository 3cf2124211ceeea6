"""Reminders of accountability reports: the timer records that a reminder's moment passed,
the policy records the reminder, each exactly once; a report already in gets none."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from tests.funding_support import fund_people, funding, reviewed, submitted
from tests.platforms import Platform
from verbinders.application import funding as fund_side
from verbinders.application import funding_applicants as applicants
from verbinders.application.context import Actor
from verbinders.application.report_timers import reminder_moments
from verbinders.domain.funding_applications import FundingApplication
from verbinders.domain.funding_reports import Accountability, accountability_id
from verbinders.policies.report_timer import ReportTimer
from verbinders.runtime import Runtime
from verbinders.store.mapping import topic_of


async def events_of(runtime: Runtime, stream: uuid.UUID, event: type) -> list[dict]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload, metadata FROM events WHERE stream_id = $1 AND topic = $2"
            " ORDER BY position",
            stream,
            topic_of(event),
        )
    return [{**row["payload"], "metadata": row["metadata"]} for row in rows]


async def decided(runtime: Runtime, platform: Platform, actors: dict[str, Actor]) -> uuid.UUID:
    fund = actors["fund"]
    reviewers = await fund_people(runtime, platform, ["R1", "R2"])
    f = await funding(runtime, fund, platform)
    app_id = await submitted(runtime, actors["organisation"], f.round_id)
    await reviewed(runtime, fund, reviewers, app_id)
    await runtime.pipeline.run(fund_side.decide, fund, app_id, amount="500.00", rationale="Ja.")
    return app_id


async def test_reminders_before_and_after_the_due_date_come_once(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    app_id = await decided(runtime, platform, actors)
    fund = actors["fund"]
    due = date.today() + timedelta(days=3)  # the reminder a week before is due already
    await runtime.pipeline.run(fund_side.require_report, fund, app_id, due=due)
    application = await runtime.repository.get(FundingApplication, app_id, tenant="haarlem")
    ledger = accountability_id("haarlem", application.fund_id, application.applicant)
    async with runtime.pool.acquire() as conn:
        timers = await conn.fetch(
            "SELECT reminder, due_at FROM report_timers WHERE ledger_id = $1 ORDER BY reminder",
            ledger,
        )
    assert {r["reminder"]: r["due_at"] for r in timers} == reminder_moments(due)

    timer = ReportTimer(runtime)
    assert await timer.fire_due() == 1
    assert await timer.fire_due() == 0
    async with runtime.pool.acquire() as conn:  # a timer that died before marking it done
        await conn.execute("UPDATE report_timers SET done_at = NULL WHERE reminder = 'before'")
    assert await timer.fire_due() == 1
    assert [e["when"] for e in await events_of(runtime, ledger, Accountability.ReminderDue)] == [
        "before"
    ]
    await runtime.policies.catch_up()
    reminded = await events_of(runtime, ledger, Accountability.ReportReminded)
    assert [(e["when"], e["metadata"]["actor"]) for e in reminded] == [
        ("before", "policy:report_reminders")
    ]
    async with runtime.pool.acquire() as conn:  # seen again from the start: nothing new
        await conn.execute(
            "UPDATE checkpoints SET position = 0 WHERE name = 'policy:report_reminders'"
        )
    await runtime.policies.catch_up()
    assert len(await events_of(runtime, ledger, Accountability.ReportReminded)) == 1

    # The day after the due date, while the report is still not in: the second reminder.
    async with runtime.pool.acquire() as conn:
        await conn.execute(
            "UPDATE report_timers SET due_at = now() - interval '1 second' WHERE reminder = 'after'"
        )
    assert await timer.fire_due() == 1
    await runtime.policies.catch_up()
    whens = [e["when"] for e in await events_of(runtime, ledger, Accountability.ReportReminded)]
    assert whens == ["before", "after"]


async def test_a_report_already_in_gets_no_reminder(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    app_id = await decided(runtime, platform, actors)
    due = date.today() + timedelta(days=3)
    await runtime.pipeline.run(fund_side.require_report, actors["fund"], app_id, due=due)
    await runtime.pipeline.run(
        applicants.submit_report,
        actors["organisation"],
        app_id,
        1,
        spent="400.00",
        results="Klaar.",
    )
    assert await ReportTimer(runtime).fire_due() == 1
    await runtime.policies.catch_up()
    async with runtime.pool.acquire() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM events WHERE topic = ANY($1::text[])",
            [topic_of(Accountability.ReminderDue), topic_of(Accountability.ReportReminded)],  # type: ignore[attr-defined]
        )
    assert count == 0
