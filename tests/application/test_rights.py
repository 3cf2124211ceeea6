"""Whose resource it is (application/rights.py): a token with a party acts for that party
wherever the organisation itself may, whatever its role; tokens are issued only for
organisations of their own platform, of the kind their role acts for."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.platforms import Platform
from verbinders.application import membership, organisations
from verbinders.application.context import Actor
from verbinders.application.meetings import record_attendance, schedule_meeting
from verbinders.application.membership_record import membership_of
from verbinders.application.tokens import issue_token
from verbinders.domain.meetings import AttendanceStatus, MeetingMode
from verbinders.domain.profile import ProfileChanges
from verbinders.domain.strengths import Strength, StrengthKind
from verbinders.errors import Conflict, Forbidden, InvalidCommand
from verbinders.runtime import Runtime

Act = Callable[[Runtime, Actor, uuid.UUID], Awaitable[Any]]


async def update(runtime: Runtime, actor: Actor, org: uuid.UUID) -> Any:
    changes = ProfileChanges(description=f"door {actor.label}")
    return await runtime.pipeline.run(organisations.update_organisation, actor, org, changes)


async def offer(runtime: Runtime, actor: Actor, org: uuid.UUID) -> Any:
    strength = Strength(kind=StrengthKind.VENUE, title=f"Zaal van {actor.label}")
    return await runtime.pipeline.run(organisations.add_strength, actor, org, strength)


async def contact(runtime: Runtime, actor: Actor, org: uuid.UUID) -> Any:
    return await runtime.pipeline.run(
        organisations.add_contact, actor, org, name="Contactpersoon", email="c@voorbeeld.nl"
    )


async def apply(runtime: Runtime, actor: Actor, org: uuid.UUID) -> Any:
    return await runtime.pipeline.run(membership.apply, actor, org, motivation="samen")


async def attend(runtime: Runtime, actor: Actor, org: uuid.UUID) -> Any:
    start = datetime.now(UTC) - timedelta(hours=1)
    operator = Actor.operator(actor.tenant, "tests")
    meeting = await runtime.pipeline.run(
        schedule_meeting,
        operator,
        title="Bijeenkomst",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        mode=MeetingMode.ONLINE,
        online_link="https://meet.voorbeeld.nl/x",
    )
    return await runtime.pipeline.run(
        record_attendance, actor, uuid.UUID(meeting.id), org, AttendanceStatus.PRESENT, people=2
    )


OWN_ACTIONS = [update, offer, contact, apply, attend]


@pytest.mark.parametrize("act", OWN_ACTIONS, ids=lambda a: a.__name__)
@pytest.mark.parametrize("role", ["organisation", "municipality", "fund"])
async def test_a_token_with_a_party_acts_for_that_party_whatever_its_role(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], role: str, act: Act
) -> None:
    own = {"organisation": platform.party, "municipality": platform.municipality}.get(
        role, platform.fund
    )
    actor = actors[role]
    assert actor.party == own
    done = await act(runtime, actor, own)
    assert done.position > 0
    with pytest.raises(Forbidden) as refused:
        await act(runtime, actor, platform.other_party)
    assert refused.value.details == {"organisation": str(platform.other_party)}


@pytest.mark.parametrize("act", OWN_ACTIONS, ids=lambda a: a.__name__)
async def test_the_coordinator_acts_for_every_organisation_and_readers_for_none(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], act: Act
) -> None:
    assert (await act(runtime, actors["coordinator"], platform.other_party)).position > 0
    for role in ("auditor", "analyst"):
        with pytest.raises(Forbidden):
            await act(runtime, actors[role], platform.other_party)


async def test_only_the_coordinator_decides_on_membership(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    await apply(runtime, actors["organisation"], platform.party)
    for role in ("organisation", "municipality", "fund", "auditor", "analyst"):
        with pytest.raises(Forbidden, match="only the coordinator decides"):
            await runtime.pipeline.run(membership.admit, actors[role], platform.party, reason="r")
    admitted = await runtime.pipeline.run(
        membership.admit, actors["coordinator"], platform.party, reason="welkom"
    )
    assert admitted.data.status == "member"


async def test_a_membership_record_is_read_by_tracers_and_the_organisation_itself(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor]
) -> None:
    await apply(runtime, actors["organisation"], platform.party)
    for role in ("coordinator", "auditor", "analyst", "organisation"):
        record = await membership_of(runtime, actors[role], platform.party)
        assert record.status == "applied", role
    for role in ("municipality", "fund"):
        with pytest.raises(Forbidden):
            await membership_of(runtime, actors[role], platform.party)
        own = await membership_of(runtime, actors[role], actors[role].party)  # type: ignore[arg-type]
        assert own.status == "none"


async def test_a_token_is_issued_only_for_an_organisation_of_its_own_platform(
    runtime: Runtime, platform: Platform, other_platform: Platform
) -> None:
    coordinator = Actor.operator(platform.slug, "tests")
    for party in (uuid.uuid4(), other_platform.party):
        with pytest.raises(InvalidCommand) as refused:
            await runtime.pipeline.run(
                issue_token, coordinator, roles=("organisation",), label="x", party=party
            )
        assert (refused.value.field, refused.value.rule) == ("party", "exists")
        assert str(party) in refused.value.message


@pytest.mark.parametrize(
    ("role", "party", "allowed"),
    [
        ("organisation", "party", True),
        ("organisation", "fund", True),
        ("municipality", "municipality", True),
        ("municipality", "party", False),
        ("fund", "fund", True),
        ("fund", "municipality", False),
    ],
)
async def test_municipality_and_fund_tokens_act_for_an_organisation_of_their_kind(
    runtime: Runtime, platform: Platform, role: str, party: str, allowed: bool
) -> None:
    coordinator = Actor.operator(platform.slug, "tests")
    organisation = getattr(platform, party)
    issue = runtime.pipeline.run(
        issue_token, coordinator, roles=(role,), label=role, party=organisation
    )
    if allowed:
        assert (await issue).party == organisation
    else:
        with pytest.raises(InvalidCommand) as refused:
            await issue
        assert (refused.value.field, refused.value.rule) == ("party", "kind")


async def test_no_token_is_issued_for_a_dissolved_organisation(
    runtime: Runtime, platform: Platform
) -> None:
    coordinator = Actor.operator(platform.slug, "tests")
    await runtime.pipeline.run(
        organisations.dissolve_organisation, coordinator, platform.other_party, reason="weg"
    )
    with pytest.raises(Conflict) as refused:
        await runtime.pipeline.run(
            issue_token,
            coordinator,
            roles=("organisation",),
            label="te laat",
            party=platform.other_party,
        )
    assert refused.value.details["state"] == "dissolved"
