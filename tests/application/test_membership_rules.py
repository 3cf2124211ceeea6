"""Membership rules of the application layer: what a dissolved organisation can still do, the
deciding meeting, a membership that never began, and closing one for a dissolution."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.platforms import Platform
from verbinders.application import membership
from verbinders.application.context import Actor
from verbinders.application.meetings import cancel_meeting, schedule_meeting
from verbinders.application.membership_record import membership_of
from verbinders.application.organisations import dissolve_organisation
from verbinders.application.unit_of_work import CommandRequest
from verbinders.domain.meetings import MeetingMode
from verbinders.errors import Conflict, InvalidCommand, NotFound
from verbinders.runtime import Runtime


def coordinator(platform: Platform) -> Actor:
    return Actor.operator(platform.slug, "tests")


async def step(
    runtime: Runtime, platform: Platform, action: str, org: uuid.UUID, **body: str
) -> str:
    """One membership command as the coordinator; returns the status it led to."""
    result = await runtime.pipeline.run(
        getattr(membership, action), coordinator(platform), org, **body
    )
    return str(result.data.status)


async def test_a_dissolved_organisation_cannot_apply_or_be_admitted_or_reinstated(
    runtime: Runtime, platform: Platform
) -> None:
    member, applicant = platform.party, platform.other_party
    await step(runtime, platform, "apply", member, motivation="m")
    await step(runtime, platform, "admit", member, reason="r")
    await step(runtime, platform, "suspend", member, reason="r")
    await step(runtime, platform, "apply", applicant, motivation="m")
    for org in (member, applicant):
        await runtime.pipeline.run(dissolve_organisation, coordinator(platform), org, reason="weg")
    refusals = [
        ("reinstate", member, {"reason": "r"}),
        ("admit", applicant, {"reason": "r"}),
    ]
    for action, org, body in refusals:
        with pytest.raises(Conflict) as refused:
            await step(runtime, platform, action, org, **body)
        assert refused.value.details["state"] == "dissolved", action
    # What closes a membership stays possible (no policy runs here).
    assert await step(runtime, platform, "leave", member, reason="opgeheven") == "left"
    assert await step(runtime, platform, "reject", applicant, reason="opgeheven") == "rejected"
    with pytest.raises(Conflict) as again:
        await step(runtime, platform, "apply", applicant, motivation="m")
    assert again.value.details["state"] == "dissolved"


async def test_a_membership_that_never_began_can_only_be_applied_for(
    runtime: Runtime, platform: Platform
) -> None:
    for action, body in (
        ("withdraw", {}),
        ("leave", {}),
        ("admit", {"reason": "r"}),
        ("suspend", {"reason": "r"}),
    ):
        with pytest.raises(Conflict) as refused:
            await step(runtime, platform, action, platform.party, **body)
        assert refused.value.details["state"] == "none", action
    with pytest.raises(NotFound):
        await step(runtime, platform, "apply", uuid.uuid4(), motivation="m")


async def test_a_decision_names_a_meeting_of_this_platform_that_was_not_cancelled(
    runtime: Runtime, platform: Platform, other_platform: Platform
) -> None:
    async def meeting(on: Platform) -> uuid.UUID:
        start = datetime.now(UTC) - timedelta(days=1)
        scheduled = await runtime.pipeline.run(
            schedule_meeting,
            coordinator(on),
            title="Ledenvergadering",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            mode=MeetingMode.ONLINE,
            online_link="https://meet.voorbeeld.nl/leden",
        )
        return uuid.UUID(scheduled.id)

    elsewhere, cancelled = await meeting(other_platform), await meeting(platform)
    await runtime.pipeline.run(cancel_meeting, coordinator(platform), cancelled, reason="ziek")
    await step(runtime, platform, "apply", platform.party, motivation="m")
    for meeting_id, rule in ((elsewhere, "exists"), (cancelled, "cancelled")):
        with pytest.raises(InvalidCommand) as refused:
            await runtime.pipeline.run(
                membership.admit,
                coordinator(platform),
                platform.party,
                reason="r",
                meeting_id=meeting_id,
            )
        assert (refused.value.field, refused.value.rule) == ("meeting_id", rule)
    held = await meeting(platform)
    admitted = await runtime.pipeline.run(
        membership.admit, coordinator(platform), platform.party, reason="r", meeting_id=held
    )
    assert admitted.data.status == "member"


async def test_closing_for_a_dissolution_ends_what_is_open_and_leaves_the_rest(
    runtime: Runtime, platform: Platform
) -> None:
    then = datetime(2030, 1, 1, tzinfo=UTC)
    close = CommandRequest(actor=coordinator(platform), clock=then)
    member, applicant = platform.party, platform.other_party
    await step(runtime, platform, "apply", member, motivation="m")
    await step(runtime, platform, "admit", member, reason="r")
    await step(runtime, platform, "suspend", member, reason="r")
    await step(runtime, platform, "apply", applicant, motivation="m")
    reason = "organisation dissolved: fusie"
    left = await runtime.pipeline.run(
        membership.close_for_dissolution, close, member, reason=reason
    )
    withdrawn = await runtime.pipeline.run(
        membership.close_for_dissolution, close, applicant, reason=reason
    )
    assert left is not None and (left.data.status, left.data.at) == ("left", then)
    assert withdrawn is not None and withdrawn.data.status == "withdrawn"
    for org in (member, applicant, platform.fund):  # closed already, or never open
        again = await runtime.pipeline.run(
            membership.close_for_dissolution, close, org, reason=reason
        )
        assert again is None
    record = await membership_of(runtime, coordinator(platform), member)
    assert record.history[-1].reason == reason
    assert record.suspensions[-1].until == then
