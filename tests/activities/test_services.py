"""Activities, partners, hours and overlap cases through the application services and the
overlap policy, on the real database: every rule, and who may do what."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from tests.activities.support import AMS, afternoon, plan, settle, taalcafe, tuesdays
from tests.platforms import Platform
from verbinders.application import activities as service
from verbinders.application import hours
from verbinders.application import overlap_cases as cases
from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.domain.activities import Activity, ActivityStatus, PartnershipStatus
from verbinders.domain.activity_details import ActivityChanges, Contribution
from verbinders.domain.hours import HoursEntry, HoursFigure
from verbinders.domain.overlap_cases import (
    CaseStatus,
    Coordinate,
    JoinForces,
    NotAnOverlap,
    Outcome,
    OverlapCase,
    overlap_case_id,
)
from verbinders.errors import Conflict, Forbidden, InvalidCommand, NotFound
from verbinders.runtime import Runtime


@pytest.fixture
async def other(runtime: Runtime, platform: Platform) -> Actor:
    """The formal organisation `platform.other_party` acting for itself."""
    return await Authenticator(runtime.pipeline).authenticate(platform.other_org_token)


async def get(runtime: Runtime, cls: type, id: uuid.UUID, tenant: str = "haarlem"):  # type: ignore[no-untyped-def]
    return await runtime.repository.get(cls, id, tenant=tenant)


async def test_an_activity_from_plan_to_completion_with_a_partner(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    run = runtime.pipeline.run
    org = actors["organisation"]
    activity = await plan(runtime, org, platform.party)
    await run(
        service.update_activity,
        org,
        activity,
        ActivityChanges(title="Taalcafé Schalkwijk", schedule=tuesdays(last=date(2026, 5, 26))),
    )
    await run(service.invite_partner, org, activity, platform.other_party, message="Samen?")
    # Only the invited organisation (or the coordinator) answers for it.
    with pytest.raises(Forbidden):
        await run(
            service.accept_invitation,
            org,
            activity,
            platform.other_party,
            Contribution(role="vrijwilligers"),
        )
    await run(
        service.accept_invitation,
        other,
        activity,
        platform.other_party,
        Contribution(role="docent", pledged_hours=40, resources=("lokaal",)),
    )
    # ... and the partner does not manage the activity.
    with pytest.raises(Forbidden):
        await run(service.start_activity, other, activity)
    await run(service.start_activity, org, activity)
    with pytest.raises(Conflict) as conflict:
        await run(service.start_activity, org, activity)
    assert conflict.value.details["state"] == "running"
    await run(
        service.complete_activity, org, activity, actual_participants=12, result="12 deelnemers"
    )
    done = await get(runtime, Activity, activity)
    assert done.status is ActivityStatus.COMPLETED
    assert done.is_collaboration
    assert done.details.title == "Taalcafé Schalkwijk"
    assert done.partners[platform.other_party].contribution.pledged_hours == 40
    with pytest.raises(Conflict) as conflict:
        await run(service.cancel_activity, org, activity, reason="te laat")
    assert conflict.value.details["state"] == "completed"


async def test_decline_withdraw_and_invite_again(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    run = runtime.pipeline.run
    org, coordinator = actors["organisation"], actors["coordinator"]
    activity = await plan(runtime, coordinator, platform.party)  # the coordinator for it
    await run(service.invite_partner, org, activity, platform.other_party)
    await run(service.decline_invitation, other, activity, platform.other_party, reason="vol")
    await run(service.invite_partner, org, activity, platform.other_party)
    await run(
        service.accept_invitation, other, activity, platform.other_party, Contribution(role="x")
    )
    await run(
        service.change_contribution,
        other,
        activity,
        platform.other_party,
        Contribution(role="x", pledged_hours=8),
    )
    await run(service.withdraw_partner, other, activity, platform.other_party, reason="ziek")
    found = await get(runtime, Activity, activity)
    assert found.partners[platform.other_party].status is PartnershipStatus.WITHDRAWN
    assert not found.is_collaboration
    await run(service.cancel_activity, coordinator, activity, reason="geen ruimte")
    assert (await get(runtime, Activity, activity)).cancel_reason == "geen ruimte"


async def test_who_may_plan_and_invite_whom(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    run = runtime.pipeline.run
    # Only for its own organisation.
    with pytest.raises(Forbidden):
        await plan(runtime, actors["organisation"], platform.other_party)
    for role in ("analyst", "auditor"):
        with pytest.raises(Forbidden):
            await plan(runtime, actors[role], platform.party)
    # A fund plans for itself; a municipality is invited like any organisation.
    activity = await plan(runtime, actors["fund"], platform.fund)
    await run(service.invite_partner, actors["fund"], activity, platform.municipality)
    with pytest.raises(InvalidCommand) as invalid:
        await run(service.invite_partner, actors["fund"], activity, uuid.uuid4())
    assert invalid.value.field == "partner_id"
    with pytest.raises(InvalidCommand):
        await run(service.invite_partner, actors["fund"], activity, platform.fund)
    with pytest.raises(InvalidCommand) as invalid:
        await plan(runtime, actors["coordinator"], uuid.uuid4())
    assert invalid.value.field == "organisation_id"
    with pytest.raises(InvalidCommand) as invalid:
        await plan(runtime, actors["organisation"], platform.party, taalcafe(themes=("nope",)))
    assert invalid.value.field == "themes"


async def test_another_platform_is_not_reached(
    runtime: Runtime, platform: Platform, other_platform: Platform, actors: dict[str, Actor]
) -> None:
    activity = await plan(runtime, actors["organisation"], platform.party)
    stranger = await Authenticator(runtime.pipeline).authenticate(
        other_platform.tokens["coordinator"]
    )
    with pytest.raises(NotFound):
        await runtime.pipeline.run(service.start_activity, stranger, activity)
    with pytest.raises(InvalidCommand):  # its organisations are not on the other platform
        await plan(runtime, stranger, platform.party)


async def test_hours_logged_corrected_and_retracted(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    run = runtime.pipeline.run
    org = actors["organisation"]
    activity = await plan(runtime, org, platform.party, schedule=afternoon(date(2026, 3, 7)))
    logged = await run(
        hours.log_hours,
        org,
        organisation_id=platform.party,
        figure=HoursFigure(day=date(2026, 3, 7), hours=12, volunteers=4, activity_id=activity),
    )
    entry = uuid.UUID(logged.id)
    await run(
        hours.correct_hours, org, entry, reason="één vrijwilliger meer", hours=15, volunteers=5
    )
    found = await get(runtime, HoursEntry, entry)
    assert (found.figure.hours, found.figure.volunteers, found.revision) == (15, 5, 1)
    # Another organisation neither corrects it nor logs against an activity not its own.
    with pytest.raises(Forbidden):
        await run(hours.correct_hours, other, entry, reason="x", hours=1)
    with pytest.raises(InvalidCommand) as invalid:
        await run(
            hours.log_hours,
            other,
            organisation_id=platform.other_party,
            figure=HoursFigure(day=date(2026, 3, 7), hours=2, volunteers=1, activity_id=activity),
        )
    assert invalid.value.field == "activity_id"
    with pytest.raises(Forbidden):
        await run(
            hours.log_hours,
            other,
            organisation_id=platform.party,
            figure=HoursFigure(day=date(2026, 3, 7), hours=2, volunteers=1),
        )
    with pytest.raises(InvalidCommand) as invalid:  # more than 24 hours per volunteer
        await run(
            hours.log_hours,
            org,
            organisation_id=platform.party,
            figure=HoursFigure(day=date(2026, 3, 7), hours=50, volunteers=2),
        )
    assert invalid.value.field == "hours"
    await run(hours.retract_hours, actors["coordinator"], entry, reason="dubbel ingevoerd")
    assert (await get(runtime, HoursEntry, entry)).counted_hours == 0
    with pytest.raises(Conflict):
        await run(hours.correct_hours, org, entry, reason="x", hours=3)


async def _overlapping_pair(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> tuple[uuid.UUID, uuid.UUID]:
    first = await plan(runtime, actors["organisation"], platform.party)
    second = await plan(
        runtime,
        other,
        platform.other_party,
        taalcafe("Taallessen voor nieuwkomers", venue="Buurthuis De Ster"),
    )
    await settle(runtime)
    return first, second


async def test_the_policy_opens_one_case_for_an_overlapping_pair_and_explains_it(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    first, second = await _overlapping_pair(runtime, platform, actors, other)
    # Not for another day, nor the organisation's own other activity.
    morning = await plan(runtime, other, platform.other_party, schedule=tuesdays(starts=10))
    again = await plan(runtime, actors["organisation"], platform.party, taalcafe("Taalcafé 2"))
    await settle(runtime)
    case_id = overlap_case_id("haarlem", first, second)
    case = await get(runtime, OverlapCase, case_id)
    assert case.status is CaseStatus.OPEN
    assert set(case.organisations) == {platform.party, platform.other_party}
    assert case.score >= 0.35 and case.threshold == 0.35
    assert "language" in case.explanation.aim.themes
    assert "schalkwijk" in case.explanation.place.districts
    assert case.explanation.time.occurrences > 10
    assert "taaloefen" in case.explanation.aim.words
    conn = await runtime.connect()
    try:
        opened = await conn.fetch(
            "SELECT stream_id FROM events WHERE topic LIKE '%OverlapCase.Opened'"
        )
    finally:
        await conn.close()
    # One case per pair of different organisations' activities at the same time: none
    # between an organisation's own two, none with the morning series.
    assert sorted(r["stream_id"] for r in opened) == sorted(
        [case_id, overlap_case_id("haarlem", again, second)]
    )
    assert morning not in case.activities
    # A change of either activity sees the pair again: still one case.
    await runtime.pipeline.run(
        service.update_activity,
        other,
        second,
        ActivityChanges(description="Nederlandse les, gezellig en gratis."),
    )
    await settle(runtime)
    assert (await get(runtime, OverlapCase, case_id)).version == 1


async def test_answers_join_forces_invites_the_other_organisation(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    first, second = await _overlapping_pair(runtime, platform, actors, other)
    case_id = overlap_case_id("haarlem", first, second)
    run = runtime.pipeline.run
    join = JoinForces(host_activity_id=first)
    # An organisation answers for itself, and only in its own cases.
    with pytest.raises(Forbidden):
        await run(cases.answer_overlap_case, other, case_id, platform.party, join)
    with pytest.raises(Forbidden):
        await run(cases.answer_overlap_case, actors["fund"], case_id, platform.fund, join)
    await run(cases.answer_overlap_case, actors["organisation"], case_id, platform.party, join)
    await run(cases.answer_overlap_case, other, case_id, platform.other_party, join)
    case = await get(runtime, OverlapCase, case_id)
    assert (case.status, case.outcome) == (CaseStatus.RESOLVED, Outcome.JOINED_FORCES)
    host = await get(runtime, Activity, first)
    assert host.partners[platform.other_party].status is PartnershipStatus.INVITED
    with pytest.raises(Conflict) as conflict:
        await run(cases.answer_overlap_case, other, case_id, platform.other_party, join)
    assert conflict.value.details["state"] == "resolved"


async def test_coordinate_and_not_an_overlap(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    first, second = await _overlapping_pair(runtime, platform, actors, other)
    case_id = overlap_case_id("haarlem", first, second)
    run = runtime.pipeline.run
    coordinator = actors["coordinator"]
    await run(
        cases.answer_overlap_case,
        coordinator,
        case_id,
        platform.party,
        NotAnOverlap(reason="andere doelgroep"),
    )
    await run(
        cases.answer_overlap_case,
        other,
        case_id,
        platform.other_party,
        Coordinate(note="wij verhuizen naar donderdag"),
    )
    case = await get(runtime, OverlapCase, case_id)
    assert case.outcome is Outcome.COORDINATED


async def test_a_case_closes_itself_when_an_activity_is_cancelled(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    first, second = await _overlapping_pair(runtime, platform, actors, other)
    await runtime.pipeline.run(service.cancel_activity, other, second, reason="geen docent")
    await settle(runtime)
    case = await get(runtime, OverlapCase, overlap_case_id("haarlem", first, second))
    assert (case.status, case.outcome) == (CaseStatus.CLOSED, Outcome.LAPSED)
    # A cancelled activity is no candidate any more: a new look-alike meets only the first.
    third = await plan(
        runtime, actors["municipality"], platform.municipality, taalcafe("Taalles gemeente")
    )
    await settle(runtime)
    assert (
        await runtime.repository.find(
            OverlapCase, overlap_case_id("haarlem", second, third), tenant="haarlem"
        )
        is None
    )
    assert (
        await runtime.repository.find(
            OverlapCase, overlap_case_id("haarlem", first, third), tenant="haarlem"
        )
        is not None
    )


async def test_the_threshold_is_the_coordinators_and_applies_from_then_on(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    run = runtime.pipeline.run
    with pytest.raises(Forbidden):
        await run(cases.set_overlap_threshold, actors["organisation"], threshold=0.9, reason="x")
    with pytest.raises(InvalidCommand) as invalid:
        await run(cases.set_overlap_threshold, actors["coordinator"], threshold=1.5, reason="x")
    assert invalid.value.field == "threshold"
    await run(cases.set_overlap_threshold, actors["coordinator"], threshold=0.99, reason="rust")
    first, second = await _overlapping_pair(runtime, platform, actors, other)
    assert (
        await runtime.repository.find(
            OverlapCase, overlap_case_id("haarlem", first, second), tenant="haarlem"
        )
        is None
    )
    await run(cases.set_overlap_threshold, actors["coordinator"], threshold=0.3, reason="toch")
    await run(service.update_activity, other, second, ActivityChanges(expected_participants=20))
    await settle(runtime)
    case = await get(runtime, OverlapCase, overlap_case_id("haarlem", first, second))
    assert case.threshold == 0.3


async def test_check_before_you_plan_scores_a_draft_without_saving_it(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    first = await plan(runtime, actors["organisation"], platform.party)
    await settle(runtime)
    async with runtime.connection() as conn:
        check = await cases.check_draft(
            runtime,
            other,
            conn,
            organisation_id=platform.other_party,
            details=taalcafe("Taalles op dinsdagavond"),
            schedule=tuesdays(first=date(2026, 4, 7), last=date(2026, 4, 28)),
        )
        [likely] = check.overlaps
        assert likely.activity_id == first and likely.opens_a_case
        assert likely.explanation.time.occurrences == 4
        # Its own activities are not its overlaps; another day is none.
        mine = await cases.check_draft(
            runtime,
            actors["organisation"],
            conn,
            organisation_id=platform.party,
            details=taalcafe(),
            schedule=tuesdays(),
        )
        assert mine.overlaps == []
        with pytest.raises(Forbidden):
            await cases.check_draft(
                runtime,
                other,
                conn,
                organisation_id=platform.party,
                details=taalcafe(),
                schedule=tuesdays(),
            )
    events = await runtime.connect()
    try:
        assert (
            await events.fetchval(
                "SELECT count(*) FROM events WHERE topic LIKE '%Activity.Planned'"
            )
            == 1
        )
    finally:
        await events.close()


async def test_recurrence_across_daylight_saving_meets_a_one_off_at_the_same_local_hour(
    runtime: Runtime, platform: Platform, actors: dict[str, Actor], other: Actor
) -> None:
    """Tuesday 19:00 local before and after the clocks change (2026-03-29): a one-off on
    14 April 19:00 CEST (17:00 UTC) meets the weekly series at its summer-time hour."""
    await plan(runtime, actors["organisation"], platform.party)
    await settle(runtime)
    day = date(2026, 4, 14)
    async with runtime.connection() as conn:
        check = await cases.check_draft(
            runtime,
            other,
            conn,
            organisation_id=platform.other_party,
            details=taalcafe("Taalcafé extra avond"),
            schedule=afternoon(day, 19, 21),
        )
    [likely] = check.overlaps
    assert likely.explanation.time.first == datetime(2026, 4, 14, 19, tzinfo=AMS)
    assert likely.explanation.time.hours == 2
    winter = datetime(2026, 3, 3, 19, tzinfo=AMS)
    assert winter.utcoffset() == timedelta(hours=1)
