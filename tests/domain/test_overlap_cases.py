from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from verbinders.domain.overlap import (
    AimExplanation,
    Explanation,
    PeopleExplanation,
    PlaceExplanation,
    TimeExplanation,
)
from verbinders.domain.overlap_cases import (
    CaseStatus,
    ClosedBecause,
    Coordinate,
    Invitation,
    JoinForces,
    NotAnOverlap,
    Outcome,
    OverlapCase,
    overlap_case_id,
)
from verbinders.errors import Conflict, InvalidCommand

from .support import TENANT, at, new_events

A = UUID("00000000-0000-0000-0000-0000000000a1")
B = UUID("00000000-0000-0000-0000-0000000000b2")
ORG_A = UUID("00000000-0000-0000-0000-00000000aaaa")
ORG_B = UUID("00000000-0000-0000-0000-00000000bbbb")

EXPLANATION = Explanation(
    score=0.62,
    aim=AimExplanation(
        similarity=0.62,
        themes=("language",),
        theme_similarity=0.5,
        theme_points=0.125,
        words=("taaloefen", "koffie"),
        word_similarity=0.66,
        word_points=0.495,
    ),
    people=PeopleExplanation(
        factor=1.0,
        groups=("sit:nieuwkomer",),
        group_factor=1.0,
        languages=("nl",),
        language_factor=1.0,
    ),
    place=PlaceExplanation(factor=1.0, districts=("schalkwijk",), same_venue=False),
    time=TimeExplanation(factor=1.0, hours=24.0, occurrences=12, other_occurrences=12, share=0.67),
    summary="score 0.62",
)


def case(**overrides: Any) -> OverlapCase:
    fields: dict[str, Any] = {
        "tenant": TENANT,
        "activity": (B, ORG_B),
        "other": (A, ORG_A),
        "explanation": EXPLANATION,
        "threshold": 0.35,
        "at": at(1),
    }
    fields.update(overrides)
    return OverlapCase.open(**fields)


def test_the_case_of_a_pair_has_one_id_whichever_way_round() -> None:
    assert overlap_case_id(TENANT, A, B) == overlap_case_id(TENANT, B, A)
    assert overlap_case_id(TENANT, A, B) != overlap_case_id("amsterdam", A, B)
    c = case()
    assert c.id == overlap_case_id(TENANT, A, B) == case(activity=(A, ORG_A), other=(B, ORG_B)).id


def test_opening_records_the_pair_in_order_with_the_score_and_its_explanation() -> None:
    c = case()
    assert c.activities == (A, B) and c.organisations == (ORG_A, ORG_B)
    assert (c.score, c.threshold, c.explanation) == (0.62, 0.35, EXPLANATION)
    assert (c.status, c.outcome, c.answers) == (CaseStatus.OPEN, None, {})
    assert c.activity_of(ORG_B) == B
    assert new_events(c) == ["Opened"]


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"other": (B, ORG_A)}, "activities", "distinct"),
        ({"other": (A, ORG_B)}, "organisations", "distinct"),
        ({"threshold": 1.5}, "threshold", "range"),
    ],
)
def test_a_case_needs_two_activities_of_two_organisations(
    overrides: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        case(**overrides)
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_both_joining_forces_resolves_with_the_invitation_to_issue() -> None:
    c = case()
    c.answer(
        ORG_A,
        JoinForces(host_activity_id=B, note="Samen in jullie zaal"),
        answered_by="a",
        at=at(2),
    )
    assert c.status is CaseStatus.OPEN
    c.answer(ORG_B, JoinForces(host_activity_id=B), answered_by="b", at=at(3))
    assert (c.status, c.outcome, c.ended_at) == (CaseStatus.RESOLVED, Outcome.JOINED_FORCES, at(3))
    assert c.invitation == Invitation(activity_id=B, partner_id=ORG_A)
    assert new_events(c) == ["Opened", "Answered", "Answered", "Resolved"]


def test_joining_forces_needs_agreement_on_the_host() -> None:
    c = case()
    c.answer(ORG_A, JoinForces(host_activity_id=A), answered_by="a", at=at(2))
    with pytest.raises(Conflict) as raised:
        c.answer(ORG_B, JoinForces(host_activity_id=B), answered_by="b", at=at(3))
    assert raised.value.details["state"] == "host-proposed"
    c.answer(ORG_A, JoinForces(host_activity_id=B), answered_by="a", at=at(4))  # A changes its mind
    c.answer(ORG_B, JoinForces(host_activity_id=B), answered_by="b", at=at(5))
    assert c.invitation == Invitation(activity_id=B, partner_id=ORG_A)


@pytest.mark.parametrize(
    ("first", "second", "outcome"),
    [
        (
            Coordinate(note="Wij verschuiven naar donderdag"),
            NotAnOverlap(reason="Andere doelgroep"),
            Outcome.COORDINATED,
        ),
        (
            JoinForces(host_activity_id=A),
            Coordinate(note="Wij nemen de ochtend"),
            Outcome.COORDINATED,
        ),
        (Coordinate(note="x"), Coordinate(note="y"), Outcome.COORDINATED),
        (
            NotAnOverlap(reason="Ander publiek"),
            NotAnOverlap(reason="Klopt"),
            Outcome.NOT_AN_OVERLAP,
        ),
        (JoinForces(host_activity_id=A), NotAnOverlap(reason="Geen overlap"), Outcome.NO_AGREEMENT),
    ],
)
def test_how_the_answers_end_the_case(first: Any, second: Any, outcome: Outcome) -> None:
    c = case()
    c.answer(ORG_A, first, answered_by="a", at=at(2))
    c.answer(ORG_B, second, answered_by="b", at=at(3))
    assert (c.status, c.outcome, c.invitation) == (CaseStatus.RESOLVED, outcome, None)


def test_an_answer_may_change_while_the_case_is_open_and_repeating_it_records_nothing() -> None:
    c = case()
    c.answer(ORG_A, NotAnOverlap(reason="Nee"), answered_by="a", at=at(2))
    c.answer(ORG_A, NotAnOverlap(reason="Nee"), answered_by="a", at=at(2))
    c.answer(
        ORG_A, Coordinate(note="Toch wel: wij schuiven op"), answered_by="coordinator", at=at(3)
    )
    assert c.answers == {ORG_A: Coordinate(note="Toch wel: wij schuiven op")}
    assert new_events(c) == ["Opened", "Answered", "Answered"]


@pytest.mark.parametrize(
    ("organisation", "answer", "field", "rule"),
    [
        (UUID(int=7), Coordinate(note="x"), "organisation_id", "party-to-the-case"),
        (ORG_A, JoinForces(host_activity_id=UUID(int=9)), "host_activity_id", "one-of-the-pair"),
        (ORG_A, Coordinate(note=" "), "note", "required"),
        (ORG_A, NotAnOverlap(reason=""), "reason", "required"),
        (ORG_A, "yes", "answer", "type"),
    ],
)
def test_answers_are_checked(organisation: UUID, answer: Any, field: str, rule: str) -> None:
    with pytest.raises(InvalidCommand) as raised:
        case().answer(organisation, answer, answered_by="a", at=at(2))
    assert (raised.value.field, raised.value.rule) == (field, rule)


def test_a_case_closes_itself_when_an_activity_ends_before_both_answered() -> None:
    c = case()
    c.answer(ORG_A, Coordinate(note="x"), answered_by="a", at=at(2))
    c.close(activity_id=B, because=ClosedBecause.CANCELLED, at=at(3))
    assert (c.status, c.outcome, c.ended_at) == (CaseStatus.CLOSED, Outcome.LAPSED, at(3))
    c.close(activity_id=A, because=ClosedBecause.COMPLETED, at=at(4))  # again: nothing
    assert new_events(c) == ["Opened", "Answered", "Closed"]
    with pytest.raises(Conflict) as raised:
        c.answer(ORG_B, Coordinate(note="y"), answered_by="b", at=at(5))
    assert raised.value.details["state"] == "closed"


def test_closing_a_resolved_case_records_nothing() -> None:
    c = case()
    c.answer(ORG_A, NotAnOverlap(reason="x"), answered_by="a", at=at(2))
    c.answer(ORG_B, NotAnOverlap(reason="y"), answered_by="b", at=at(3))
    c.collect_events()
    c.close(activity_id=A, because="activity-completed", at=at(4))  # type: ignore[arg-type]
    assert (c.status, new_events(c)) == (CaseStatus.RESOLVED, [])


def test_closing_names_one_of_the_pair_and_a_known_cause() -> None:
    with pytest.raises(InvalidCommand) as raised:
        case().close(activity_id=UUID(int=3), because=ClosedBecause.CANCELLED, at=at(2))
    assert raised.value.rule == "one-of-the-pair"
    with pytest.raises(InvalidCommand) as raised:
        case().close(activity_id=A, because="forgotten", at=at(2))  # type: ignore[arg-type]
    assert raised.value.rule == "choice"


def test_an_answer_before_the_opening_is_refused() -> None:
    with pytest.raises(InvalidCommand) as raised:
        case().answer(ORG_A, Coordinate(note="x"), answered_by="a", at=at(0))
    assert raised.value.rule == "chronology"
