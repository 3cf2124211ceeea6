"""Calls, responses and claims: the rules of the aggregates (no I/O)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from verbinders.domain.call_responses import (
    CallResponse,
    NeedClaim,
    Offer,
    check_response,
    claim_id,
    response_id,
)
from verbinders.domain.calls import CallChanges, CallState, Need, NeedKind, Urgency
from verbinders.errors import Conflict, InvalidCommand, NotFound

from .call_support import NEEDS, ORG_A, ORG_B, call, response
from .support import COORDINATOR, TENANT, VOCABULARY, at, new_events


def test_a_call_records_its_addressees_and_the_position_they_were_read_at() -> None:
    issued = call(addressees=(ORG_A, ORG_B, ORG_A))
    assert issued.addressees == [ORG_A, ORG_B]
    assert issued.members_as_of == 42
    assert issued.state is CallState.OPEN
    assert new_events(issued) == ["Issued"]


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"title": " "}, "title", "required"),
        ({"message": ""}, "message", "required"),
        ({"respond_by": at(-1)}, "respond_by", "after-now"),
        ({"respond_by": at(400)}, "respond_by", "range"),
        ({"districts": ("atlantis",)}, "districts", "vocabulary"),
        ({"kind": "picnic"}, "kind", "choice"),
        ({"urgency": "whenever"}, "urgency", "choice"),
    ],
)
def test_a_call_is_refused_for_bad_values(overrides: dict, field: str, rule: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        call(**overrides)
    assert (refused.value.field, refused.value.rule) == (field, rule)


@pytest.mark.parametrize(
    ("need", "field", "rule"),
    [
        (Need(id="Catering!", kind=NeedKind.CATERING, description="x"), "needs[0].id", "need-id"),
        (Need(id="a", kind=NeedKind.LANGUAGES, description="x"), "needs[0].language", "required"),
        (
            Need(id="a", kind=NeedKind.VENUE, description="x", quantity=0),
            "needs[0].quantity",
            "range",
        ),
        (
            Need(id="a", kind=NeedKind.VENUE, description="x", district="mars"),
            "needs[0].district",
            "vocabulary",
        ),
        (
            Need(id="a", kind=NeedKind.VENUE, description="x", language="xx"),
            "needs[0].language",
            "iso-639",
        ),
    ],
)
def test_each_need_is_checked(need: Need, field: str, rule: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        call(needs=(need,))
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_need_ids_are_unique_within_a_call() -> None:
    with pytest.raises(InvalidCommand) as refused:
        call(needs=(NEEDS[0], NEEDS[0]))
    assert refused.value.rule == "unique"


def test_an_update_changes_only_what_differs_and_says_which_fields() -> None:
    issued = call()
    issued.collect_events()
    changed = issued.update(
        CallChanges(title="Wateroverlast Schalkwijk", urgency=Urgency.HIGH),
        vocabulary=VOCABULARY,
        at=at(0, 1),
    )
    assert changed == ("urgency",)
    assert issued.urgency is Urgency.HIGH
    assert new_events(issued) == ["Updated"]
    assert issued.update(CallChanges(), vocabulary=VOCABULARY, at=at(0, 2)) == ()
    assert new_events(issued) == []


def test_a_closed_call_takes_no_update_addressee_or_second_close() -> None:
    issued = call()
    issued.close(reason="voorbij", decided_by=COORDINATOR, at=at(0, 5))
    with pytest.raises(Conflict):
        issued.update(CallChanges(title="x"), vocabulary=VOCABULARY, at=at(0, 6))
    with pytest.raises(Conflict):
        issued.add_addressee(uuid4(), reason="laat", added_by=COORDINATOR, at=at(0, 6))
    with pytest.raises(Conflict):
        issued.close(reason="nog eens", decided_by=COORDINATOR, at=at(0, 6))


def test_closing_needs_a_reason() -> None:
    with pytest.raises(InvalidCommand) as refused:
        call().close(reason="", decided_by=COORDINATOR, at=at(0, 1))
    assert refused.value.field == "reason"


def test_an_addressee_is_added_once() -> None:
    issued = call()
    late = uuid4()
    issued.add_addressee(late, reason="nieuw lid", added_by=COORDINATOR, at=at(0, 1))
    assert issued.addresses(late)
    with pytest.raises(Conflict) as refused:
        issued.add_addressee(late, reason="nog eens", added_by=COORDINATOR, at=at(0, 2))
    assert refused.value.details["state"] == "addressed"


def test_a_reminder_round_falls_due_once_and_not_on_a_closed_call() -> None:
    issued = call()
    assert issued.reminder_fell_due(1, at=at(0, 12))
    assert not issued.reminder_fell_due(1, at=at(0, 13))
    issued.close(reason="klaar", decided_by=COORDINATOR, at=at(0, 14))
    assert not issued.reminder_fell_due(2, at=at(0, 20))


def test_reminders_go_only_to_addressees() -> None:
    with pytest.raises(InvalidCommand) as refused:
        call().remind(1, [uuid4()], at=at(0, 12))
    assert refused.value.rule == "addressee"


def test_a_response_offers_nothing_when_unavailable() -> None:
    with pytest.raises(InvalidCommand) as refused:
        check_response(response(available=False), vocabulary=VOCABULARY, contacts=frozenset())
    assert refused.value.rule == "not-available"


def test_a_response_names_only_the_organisations_own_contact_person() -> None:
    person = uuid4()
    ok = check_response(
        response(contact_person_id=person), vocabulary=VOCABULARY, contacts=frozenset({person})
    )
    assert ok.contact_person_id == person
    with pytest.raises(InvalidCommand) as refused:
        check_response(
            response(contact_person_id=uuid4()), vocabulary=VOCABULARY, contacts=frozenset()
        )
    assert refused.value.field == "contact_person_id"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"volunteers": -1}, "volunteers"),
        ({"languages": ("klingon",)}, "languages"),
        ({"districts": ("mars",)}, "districts"),
        ({"offers": (Offer(kind=NeedKind.VOLUNTEERS),)}, "offers[0].kind"),
        ({"offers": (Offer(kind=NeedKind.VENUE, quantity=0),)}, "offers[0].quantity"),
    ],
)
def test_a_response_is_checked(overrides: dict, field: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        check_response(response(**overrides), vocabulary=VOCABULARY, contacts=frozenset())
    assert refused.value.field == field


def test_a_response_can_be_revised_and_the_same_answer_records_nothing() -> None:
    call_id = uuid4()
    answer = CallResponse.acknowledge(
        tenant=TENANT, call_id=call_id, organisation_id=ORG_A, acknowledged_by="a", at=at(0)
    )
    assert answer.id == response_id(TENANT, call_id, ORG_A)
    first = check_response(response(), vocabulary=VOCABULARY, contacts=frozenset())
    assert answer.respond(first, responded_by="a", at=at(0, 1))
    assert not answer.respond(first, responded_by="a", at=at(0, 2))
    revised = check_response(response(volunteers=2), vocabulary=VOCABULARY, contacts=frozenset())
    assert answer.respond(revised, responded_by="a", at=at(0, 3))
    assert (answer.revision, answer.responded_at, answer.response) == (2, at(0, 1), revised)


def test_a_claim_is_held_by_one_organisation_until_released() -> None:
    call_id = uuid4()
    claim = NeedClaim.claim(
        tenant=TENANT,
        call_id=call_id,
        need_id="catering-schalkwijk",
        organisation_id=ORG_A,
        note="",
        claimed_by="a",
        at=at(0),
    )
    assert claim.id == claim_id(TENANT, call_id, "catering-schalkwijk")
    assert not claim.claim_again(ORG_A, note="", claimed_by="a", at=at(0, 1))
    with pytest.raises(Conflict) as refused:
        claim.claim_again(ORG_B, note="", claimed_by="b", at=at(0, 1))
    assert refused.value.details["claimed_by"] == str(ORG_A)
    with pytest.raises(Conflict):
        claim.release(ORG_B, reason="", released_by="b", at=at(0, 2))
    claim.release(ORG_A, reason="geen kok", released_by="a", at=at(0, 2))
    with pytest.raises(Conflict) as free:
        claim.release(ORG_A, reason="", released_by="a", at=at(0, 3))
    assert free.value.details["state"] == "free"
    assert claim.claim_again(ORG_B, note="wij", claimed_by="b", at=at(0, 4))
    assert claim.claimant == ORG_B


def test_a_need_is_found_by_its_id() -> None:
    issued = call()
    assert issued.need("tolken-arabisch").language == "ar"
    with pytest.raises(NotFound):
        issued.need("helicopter")
