"""Every aggregate rebuilt from its events, and every event and snapshot through the store's codec.

Each story below drives one aggregate class through every event it declares; the tests check
that the story really covers them all, so a new event class without a story fails here.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate

from tests.domain.funding_story import (
    accountability_story,
    application_story,
    fund_story,
    round_story,
)
from verbinders import registry
from verbinders.domain.access import AccessToken
from verbinders.domain.activities import Activity
from verbinders.domain.activity_details import ActivityChanges, Contribution
from verbinders.domain.call_responses import CallResponse, NeedClaim, check_response
from verbinders.domain.calls import Call, CallChanges, Urgency
from verbinders.domain.contacts import ContactChanges
from verbinders.domain.funding_applications import FundingApplication
from verbinders.domain.funding_reports import Accountability
from verbinders.domain.funds import Fund, Round
from verbinders.domain.hours import HoursEntry
from verbinders.domain.indexes import IndexScope, UniqueIndex
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, Meeting, MeetingMode, Votes
from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.domain.overlap_cases import (
    ClosedBecause,
    Coordinate,
    JoinForces,
    NotAnOverlap,
    OverlapCase,
)
from verbinders.domain.overlap_settings import OverlapSettings
from verbinders.domain.platform import Platform
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.schedule import OneOff
from verbinders.domain.strengths import Strength, StrengthChanges, StrengthKind
from verbinders.domain.vocabulary import DEFAULT_DISTRICTS, DEFAULT_THEMES, Term

from .activity_support import PARTNER, activity, hours_entry
from .call_support import ORG_A, ORG_B, call, response
from .support import (
    COORDINATOR,
    T0,
    TENANT,
    VOCABULARY,
    assert_same_types,
    at,
    contact,
    event_classes,
    keys_for,
    meeting,
    membership,
    organisation,
    replay,
    roundtrip,
    snapshot_roundtrip,
)


def platform_story() -> list[Aggregate]:
    p = Platform.create(
        tenant=TENANT,
        name="De Haarlemse Verbinders",
        city="Haarlem",
        started_on=date(2019, 12, 2),
        at=T0,
    )
    p.change_details(name="Haarlemse Verbinders", at=at(1))
    p.change_districts([*DEFAULT_DISTRICTS, Term(code="spaarndam", label="Spaarndam")], at=at(2))
    p.change_themes([*DEFAULT_THEMES, Term(code="festivities", label="Feestelijkheden")], at=at(3))
    p.reassign_point_of_contact(uuid4(), reason="Gekozen", decided_by=COORDINATOR, at=at(4))
    return [p]


def index_story() -> list[Aggregate]:
    first, second = uuid4(), uuid4()
    index = UniqueIndex.create(
        scope=IndexScope.ORGANISATION_NAME, tenant=TENANT, key="al amal", owner=first, at=T0
    )
    index.release(first, at=at(1))
    index.claim(second, at=at(2))
    return [index]


def organisation_story() -> list[Aggregate]:
    org = organisation(
        kvk_number="12345678",
        profile=Profile(
            description="Vrouwen uit Schalkwijk",
            founding_year=2004,
            communities=("Marokkaans",),
            languages=("ar", "ber", "nl"),
            themes=("women",),
            districts=("schalkwijk",),
            target_groups=("vrouwen",),
            website="https://alamal.example.nl",
            constituency_size=300,
            active_volunteers=15,
        ),
    )
    org.update_profile(
        ProfileChanges(name="Al Amal Haarlem", kvk_number="87654321", active_volunteers=20),
        vocabulary=VOCABULARY,
        at=at(1),
    )
    venue, cooks = uuid4(), uuid4()
    org.add_strength(
        venue,
        Strength(kind=StrengthKind.VENUE, title="Zaal", capacity=60),
        vocabulary=VOCABULARY,
        at=at(2),
    )
    org.add_strength(
        cooks, Strength(kind=StrengthKind.CATERING, title="Koken"), vocabulary=VOCABULARY, at=at(2)
    )
    org.change_strength(venue, StrengthChanges(capacity=80), vocabulary=VOCABULARY, at=at(3))
    org.withdraw_strength(cooks, at=at(4))
    first, second = contact(), contact(name="Samira Bakkali", email="samira@example.nl")
    org.add_contact(first, at=at(5))
    org.change_contact(first.subject, ContactChanges(role="secretaris"), at=at(6))
    org.remove_contact(first.subject, at=at(7))
    org.add_contact(second, at=at(7))
    org.forget_contact(first.subject, at=at(8))
    org.dissolve(reason="Opgegaan in een grotere stichting", decided_by=COORDINATOR, at=at(9))
    return [org]


def membership_story() -> list[Aggregate]:
    m = membership()
    m.admit(reason="Past", decided_by=COORDINATOR, meeting_id=uuid4(), at=at(30))
    m.suspend(reason="Onbereikbaar", decided_by=COORDINATOR, at=at(60))
    m.reinstate(reason="Weer bereikbaar", decided_by=COORDINATOR, at=at(90))
    m.leave(at=at(120), reason="Gestopt")
    m.reapply(motivation="Opnieuw", at=at(200))
    m.reject(reason="Nog niet", decided_by=COORDINATOR, at=at(210))
    m.reapply(motivation="Nu wel", at=at(300))
    m.withdraw_application(at=at(301))
    return [m]


def meeting_story() -> list[Aggregate]:
    held = meeting(agenda=[AgendaItem(title="Opening")])
    excused, present = uuid4(), uuid4()
    held.change_agenda([AgendaItem(title="Opening"), AgendaItem(title="Corona")], at=at(1))
    held.record_attendance(excused, AttendanceStatus.ABSENT_WITH_NOTICE, at=at(2))
    held.reschedule(
        starts_at=at(8),
        ends_at=at(8, 2),
        mode=MeetingMode.ONLINE,
        venue=None,
        online_link="https://zoom.us/j/1",
        reason="Lockdown",
        at=at(3),
    )
    held.record_attendance(present, AttendanceStatus.PRESENT, people=4, at=at(8, 1))
    held.record_decision(uuid4(), "Voortaan online", votes=Votes(in_favour=7), at=at(8, 1))
    held.publish_minutes("Notulen", at=at(9))
    cancelled = meeting()
    cancelled.cancel(reason="Lockdown", decided_by=COORDINATOR, at=at(1))
    return [held, cancelled]


def activity_story() -> list[Aggregate]:
    done = activity()
    done.update(
        ActivityChanges(title="Taalcafé Molenwijk", languages=("nl", "tr")),
        vocabulary=VOCABULARY,
        at=at(1),
    )
    done.update(
        ActivityChanges(schedule=OneOff(starts_at=at(20), ends_at=at(20, 3))),
        vocabulary=VOCABULARY,
        at=at(1),
    )
    done.invite_partner(PARTNER, invited_by=COORDINATOR, message="Samen?", at=at(2))
    done.accept_invitation(
        PARTNER, Contribution(role="locatie", pledged_hours=6.5, resources=("zaal",)), at=at(3)
    )
    done.change_contribution(
        PARTNER, Contribution(role="locatie en koffie", pledged_hours=8), at=at(4)
    )
    done.withdraw_partner(PARTNER, reason="Verbouwing", at=at(5))
    other = uuid4()
    done.invite_partner(other, invited_by=COORDINATOR, at=at(5))
    done.decline_invitation(other, reason="Geen tijd", at=at(6))
    done.start(at=at(20))
    done.complete(actual_participants=31, result="Veel nieuwe gezichten", at=at(21))
    cancelled = activity()
    cancelled.cancel(reason="Lockdown", decided_by=COORDINATOR, at=at(1))
    return [done, cancelled]


def hours_story() -> list[Aggregate]:
    entry = hours_entry()
    entry.correct(
        hours=10, activity_id=uuid4(), reason="Telfout", corrected_by=COORDINATOR, at=at(1)
    )
    entry.retract(reason="Dubbel ingevoerd", decided_by=COORDINATOR, at=at(2))
    return [entry]


def overlap_case_story() -> list[Aggregate]:
    from .test_overlap_cases import ORG_A, ORG_B, case

    joined = case()
    joined.answer(ORG_A, NotAnOverlap(reason="Ander publiek"), answered_by="a", at=at(2))
    joined.answer(
        ORG_A,
        JoinForces(host_activity_id=joined.activities[1], note="Samen"),
        answered_by="a",
        at=at(3),
    )
    joined.answer(
        ORG_B, JoinForces(host_activity_id=joined.activities[1]), answered_by="b", at=at(4)
    )
    lapsed = case()
    lapsed.answer(ORG_B, Coordinate(note="Wij kiezen de donderdag"), answered_by="b", at=at(2))
    lapsed.close(activity_id=lapsed.activities[0], because=ClosedBecause.CANCELLED, at=at(3))
    return [joined, lapsed]


def token_story() -> list[Aggregate]:
    token = AccessToken.issue(
        token_id=uuid4(),
        tenant=TENANT,
        party=uuid4(),
        roles=("organisation", "fund"),
        label="Fonds Cultuur",
        secret_hash="0" * 64,
        expires_at=at(365),
        issued_by=COORDINATOR,
        reason="nieuwe penningmeester",
        now=T0,
    )
    token.revoke(revoked_by=COORDINATOR, reason="penningmeester vertrokken")
    return [token]


def call_story() -> list[Aggregate]:
    c = call()
    c.update(CallChanges(urgency=Urgency.HIGH), vocabulary=VOCABULARY, at=at(0, 1))
    late = uuid4()
    c.add_addressee(late, reason="Net lid geworden", added_by=COORDINATOR, at=at(0, 2))
    c.reminder_fell_due(1, at=at(0, 12))
    c.remind(1, [ORG_B, late], at=at(0, 12))
    c.close(reason="Het water is weg", decided_by=COORDINATOR, at=at(2))
    return [c]


def call_response_story() -> list[Aggregate]:
    answer = CallResponse.acknowledge(
        tenant=TENANT, call_id=uuid4(), organisation_id=ORG_A, acknowledged_by=str(ORG_A), at=T0
    )
    checked = check_response(response(), vocabulary=VOCABULARY, contacts=frozenset())
    answer.respond(checked, responded_by=str(ORG_A), at=at(0, 1))
    return [answer]


def need_claim_story() -> list[Aggregate]:
    claim = NeedClaim.claim(
        tenant=TENANT,
        call_id=uuid4(),
        need_id="catering-schalkwijk",
        organisation_id=ORG_A,
        note="wij koken",
        claimed_by=str(ORG_A),
        at=T0,
    )
    claim.release(ORG_A, reason="geen kok", released_by=str(ORG_A), at=at(0, 1))
    claim.claim_again(ORG_B, note="", claimed_by=str(ORG_B), at=at(0, 2))
    return [claim]


def overlap_settings_story() -> list[Aggregate]:
    settings = OverlapSettings.set_up(
        tenant=TENANT, threshold=0.4, reason="te veel meldingen", decided_by=COORDINATOR, at=T0
    )
    settings.change_threshold(0.3, reason="toch wat ruimer", decided_by=COORDINATOR, at=at(1))
    return [settings]


STORIES: dict[str, tuple[type[Aggregate], Callable[[], list[Aggregate]]]] = {
    "OverlapSettings": (OverlapSettings, overlap_settings_story),
    "Call": (Call, call_story),
    "CallResponse": (CallResponse, call_response_story),
    "NeedClaim": (NeedClaim, need_claim_story),
    "Activity": (Activity, activity_story),
    "HoursEntry": (HoursEntry, hours_story),
    "OverlapCase": (OverlapCase, overlap_case_story),
    "AccessToken": (AccessToken, token_story),
    "Platform": (Platform, platform_story),
    "UniqueIndex": (UniqueIndex, index_story),
    "Organisation": (Organisation, organisation_story),
    "Membership": (Membership, membership_story),
    "Meeting": (Meeting, meeting_story),
    "Fund": (Fund, fund_story),
    "FundingRound": (Round, round_story),
    "FundingApplication": (FundingApplication, application_story),
    "FundingAccountability": (Accountability, accountability_story),
}


def told(name: str) -> list[tuple[Aggregate, list[Any]]]:
    """Each aggregate of the story with its events (collected)."""
    return [(aggregate, list(aggregate.collect_events())) for aggregate in STORIES[name][1]()]


def test_every_registered_aggregate_has_a_story() -> None:
    assert {cls for cls, _ in STORIES.values()} == set(registry.aggregates())


@pytest.mark.parametrize("name", sorted(STORIES))
def test_the_story_records_every_event_class_the_aggregate_declares(name: str) -> None:
    cls = STORIES[name][0]
    stories = told(name)
    seen = {type(event).__name__ for _, events in stories for event in events}
    created = type(stories[0][1][0])
    assert seen == event_classes(cls, created)


@pytest.mark.parametrize("name", sorted(STORIES))
def test_each_aggregate_has_a_stream_type(name: str) -> None:
    assert name == STORIES[name][0].STREAM_TYPE  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(STORIES))
def test_replaying_the_events_rebuilds_the_aggregate(name: str) -> None:
    for aggregate, events in told(name):
        assert replay(events) == aggregate


@pytest.mark.parametrize("name", sorted(STORIES))
def test_every_event_survives_the_stores_encoding(name: str) -> None:
    for aggregate, events in told(name):
        keys = keys_for(value for event in events for value in vars(event).values())
        decoded = [roundtrip(event, keys) for event in events]
        for original, copy in zip(events, decoded, strict=True):
            assert copy == original
            assert_same_types(original, copy)
        assert replay(decoded) == aggregate


@pytest.mark.parametrize("name", sorted(STORIES))
def test_every_attribute_is_annotated_so_snapshots_can_decode_it(name: str) -> None:
    cls = STORIES[name][0]
    hints = typing.get_type_hints(cls)
    for aggregate, _ in told(name):
        kept = {attribute for attribute in vars(aggregate) if not attribute.startswith("_")}
        assert kept <= set(hints), kept - set(hints)


@pytest.mark.parametrize("name", sorted(STORIES))
def test_a_snapshot_loads_back_to_the_same_aggregate(name: str) -> None:
    for aggregate, events in told(name):
        keys = keys_for(vars(aggregate).values())
        loaded = snapshot_roundtrip(aggregate, keys)
        assert loaded == aggregate
        assert_same_types(aggregate, loaded)
        assert replay(events) == loaded
