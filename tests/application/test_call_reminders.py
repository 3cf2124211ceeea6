"""Reminders: the timer records that a round fell due, the policy reminds whoever had not
responded by then, each exactly once, recorded as events and written to the outbox."""

from __future__ import annotations

import uuid

from tests.calls_support import add_member, issue
from tests.platforms import Platform
from verbinders.application import call_responses as answers
from verbinders.application.context import Actor
from verbinders.domain.call_responses import Response
from verbinders.domain.calls import Call
from verbinders.policies.call_timer import CallTimer
from verbinders.runtime import Runtime
from verbinders.store.mapping import topic_of


async def events_of(runtime: Runtime, call_id: uuid.UUID, event: type) -> list[dict]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT payload, metadata FROM events WHERE stream_id = $1 AND topic = $2"
            " ORDER BY version",
            call_id,
            topic_of(event),
        )
    return [{**row["payload"], "metadata": row["metadata"]} for row in rows]


async def reminded_in_outbox(runtime: Runtime, call_id: uuid.UUID) -> list[uuid.UUID]:
    async with runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.organisation_id FROM mail_messages m JOIN mail_notices n"
            " ON n.id = m.notice_id WHERE n.call_id = $1 AND n.kind = 'reminder'",
            call_id,
        )
    return [row["organisation_id"] for row in rows]


async def test_the_addressees_without_a_response_when_a_round_falls_due_are_reminded_once(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    tenant = platform.slug
    answered = await add_member(runtime, tenant, "Snel")
    acknowledged = await add_member(runtime, tenant, "Gezien")
    late = await add_member(runtime, tenant, "Laat")
    coordinator = actors["coordinator"]
    result = await issue(runtime, coordinator)
    call_id = uuid.UUID(result.id)
    run = runtime.pipeline.run
    await run(
        answers.respond_to_call,
        coordinator,
        call_id,
        answered.organisation_id,
        Response(available=True, volunteers=2),
    )
    await run(answers.acknowledge_call, coordinator, call_id, acknowledged.organisation_id)
    async with runtime.pool.acquire() as conn:
        await conn.execute(
            "UPDATE call_timers SET due_at = now() - interval '1 second'"
            " WHERE call_id = $1 AND round = 1",
            call_id,
        )

    timer = CallTimer(runtime)
    assert await timer.fire_due() == 1
    assert await timer.fire_due() == 0
    # A timer that died before it marked the row done fires it again: no second event.
    async with runtime.pool.acquire() as conn:
        await conn.execute("UPDATE call_timers SET done_at = NULL WHERE call_id = $1", call_id)
    assert await timer.fire_due() == 1
    assert len(await events_of(runtime, call_id, Call.ReminderDue)) == 1

    # Responding after the round fell due does not change whom the policy reminds.
    await run(
        answers.respond_to_call,
        coordinator,
        call_id,
        late.organisation_id,
        Response(available=False),
    )
    await runtime.policies.catch_up()

    reminded = await events_of(runtime, call_id, Call.Reminded)
    assert len(reminded) == 1
    assert {uuid.UUID(o) for o in reminded[0]["organisations"]} == {
        acknowledged.organisation_id,
        late.organisation_id,
    }
    assert reminded[0]["metadata"]["actor"] == "policy:call_reminders"
    assert sorted(await reminded_in_outbox(runtime, call_id)) == sorted(
        [acknowledged.organisation_id, late.organisation_id]
    )

    # Seen again from the start of the feed (a restarted worker): nothing new.
    async with runtime.pool.acquire() as conn:
        await conn.execute(
            "UPDATE checkpoints SET position = 0 WHERE name = 'policy:call_reminders'"
        )
    await runtime.policies.catch_up()
    assert len(await events_of(runtime, call_id, Call.Reminded)) == 1
    assert len(await reminded_in_outbox(runtime, call_id)) == 2


async def test_a_closed_call_gets_no_reminders(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    from verbinders.application.calls import close_call

    await add_member(runtime, platform.slug, "Stil")
    result = await issue(runtime, actors["coordinator"])
    call_id = uuid.UUID(result.id)
    await runtime.pipeline.run(close_call, actors["coordinator"], call_id, reason="voorbij")
    async with runtime.pool.acquire() as conn:
        await conn.execute("UPDATE call_timers SET due_at = now() WHERE call_id = $1", call_id)
    assert await CallTimer(runtime).fire_due() == 0  # closing dropped the rounds
    assert await events_of(runtime, call_id, Call.ReminderDue) == []
