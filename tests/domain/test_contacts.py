from __future__ import annotations

import json
from uuid import uuid4

import pytest

from verbinders.domain.contacts import ContactChanges, ContactPerson
from verbinders.domain.personal import REDACTED, PersonalData
from verbinders.errors import Conflict, InvalidCommand, NotFound

from .support import (
    COORDINATOR,
    at,
    contact,
    keys_for,
    new_events,
    organisation,
    replay,
    roundtrip,
    snapshot_roundtrip,
    stored,
)


def test_a_contact_person_is_personal_data_about_that_person() -> None:
    person = contact()
    assert isinstance(person, PersonalData)
    assert not person.is_redacted


def test_a_forgotten_contact_person_reads_as_redacted() -> None:
    subject = uuid4()
    redacted = ContactPerson.redacted(subject)
    assert redacted.subject == subject
    assert (redacted.name, redacted.role, redacted.email, redacted.phone) == (
        REDACTED,
        REDACTED,
        None,
        None,
    )
    assert redacted.is_redacted


def test_adding_a_contact_records_them_cleaned() -> None:
    org = organisation()
    org.collect_events()
    person = contact(
        name=" Fatima  el Idrissi ", email=" fatima@example.nl ", phone="06-1234  5678"
    )
    org.add_contact(person, at=at(1))
    assert org.contacts[person.subject] == ContactPerson(
        subject=person.subject,
        name="Fatima el Idrissi",
        role="voorzitter",
        email="fatima@example.nl",
        phone="06-1234 5678",
    )
    assert new_events(org) == ["ContactAdded"]


def test_a_contact_needs_an_email_address_or_a_phone_number() -> None:
    org = organisation()
    with pytest.raises(InvalidCommand) as caught:
        org.add_contact(contact(email=None, phone=None), at=at(1))
    assert caught.value.rule == "reachable"
    org.add_contact(contact(email=None), at=at(1))
    org.add_contact(contact(phone=None), at=at(1))
    assert len(org.contacts) == 2


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"name": " "}, "name", "required"),
        ({"email": "fatima@"}, "email", "email"),
        ({"email": "fatima example.nl"}, "email", "email"),
        ({"phone": "12345"}, "phone", "phone"),
        ({"phone": "bel me"}, "phone", "phone"),
        ({"phone": "+31 6 1234 5678 9012 3"}, "phone", "phone"),
        ({"role": "x" * 121}, "role", "max-length"),
    ],
)
def test_invalid_contact_details_are_refused(
    overrides: dict[str, str], field: str, rule: str
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        organisation().add_contact(contact(**overrides), at=at(1))
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_person_is_added_once() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    with pytest.raises(Conflict) as caught:
        org.add_contact(person, at=at(2))
    assert caught.value.details["state"] == "contact"


def test_changing_a_contact_changes_only_given_fields() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    org.collect_events()
    org.change_contact(person.subject, ContactChanges(role="secretaris", phone=None), at=at(2))
    changed = org.contacts[person.subject]
    assert (changed.name, changed.role, changed.email, changed.phone) == (
        person.name,
        "secretaris",
        person.email,
        None,
    )
    (event,) = org.collect_events()
    assert type(event).__name__ == "ContactChanged"
    assert event.contact == changed  # type: ignore[attr-defined]
    org.change_contact(person.subject, ContactChanges(role="secretaris"), at=at(3))
    assert new_events(org) == []


def test_a_change_may_not_leave_a_contact_unreachable() -> None:
    org = organisation()
    person = contact(phone=None)
    org.add_contact(person, at=at(1))
    with pytest.raises(InvalidCommand) as caught:
        org.change_contact(person.subject, ContactChanges(email=None), at=at(2))
    assert caught.value.rule == "reachable"
    assert org.contacts[person.subject].email == person.email


def test_changing_or_removing_an_unknown_contact_is_not_found() -> None:
    org = organisation()
    with pytest.raises(NotFound):
        org.change_contact(uuid4(), ContactChanges(role="x"), at=at(1))
    with pytest.raises(NotFound):
        org.remove_contact(uuid4(), at=at(1))


def test_a_removed_contact_becomes_a_former_contact_and_can_come_back() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    org.remove_contact(person.subject, at=at(2))
    assert org.contacts == {}
    assert org.former_contacts == [person.subject]
    org.add_contact(person, at=at(3))
    assert org.former_contacts == []
    assert person.subject in org.contacts
    assert new_events(org)[-3:] == ["ContactAdded", "ContactRemoved", "ContactAdded"]


@pytest.mark.parametrize("removed_first", [False, True])
def test_forgetting_a_current_or_former_contact_leaves_no_personal_data(
    removed_first: bool,
) -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    if removed_first:
        org.remove_contact(person.subject, at=at(2))
    org.forget_contact(person.subject, at=at(3))
    assert org.contacts == {}
    assert org.former_contacts == []
    assert org.forgotten_contacts == [person.subject]
    assert new_events(org)[-1] == "ContactForgotten"


def test_a_forgotten_person_cannot_be_forgotten_again_nor_recorded_again() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    org.forget_contact(person.subject, at=at(2))
    with pytest.raises(Conflict) as caught:
        org.forget_contact(person.subject, at=at(3))
    assert caught.value.details["state"] == "forgotten"
    with pytest.raises(Conflict) as caught:
        org.add_contact(person, at=at(3))
    assert caught.value.details["state"] == "forgotten"


def test_a_person_who_never_was_a_contact_cannot_be_forgotten_here() -> None:
    with pytest.raises(NotFound):
        organisation().forget_contact(uuid4(), at=at(1))


def test_contacts_can_be_forgotten_after_dissolution() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    org.dissolve(reason="Opgeheven", decided_by=COORDINATOR, at=at(2))
    org.forget_contact(person.subject, at=at(3))
    assert org.forgotten_contacts == [person.subject]


def test_stored_contact_events_hold_no_personal_data_in_plain_text() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    org.change_contact(person.subject, ContactChanges(role="penningmeester"), at=at(2))
    events = org.collect_events()[1:]
    keys = keys_for(vars(e)[name] for e in events for name in vars(e))
    for event in events:
        _, payload = stored(event, keys)
        text = json.dumps(payload)
        for secret in ("Fatima", "fatima@example.nl", "1234 5678", "penningmeester"):
            assert secret not in text


def test_once_the_key_is_gone_the_organisation_still_loads_with_redacted_contacts() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    events = org.collect_events()
    keys = keys_for([person])
    loaded = replay([roundtrip(e, keys, opened_with={}) for e in events])  # key destroyed
    assert loaded.contacts[person.subject] == ContactPerson.redacted(person.subject)
    assert replay([roundtrip(e, keys) for e in events]).contacts[person.subject] == person


def test_after_forgetting_the_state_can_be_snapshotted_without_any_key() -> None:
    org = organisation()
    person = contact()
    org.add_contact(person, at=at(1))
    org.forget_contact(person.subject, at=at(2))
    org.collect_events()
    assert snapshot_roundtrip(org, {}) == org
