"""Every bound of every command, at the limit and one past it.

Each text field a command accepts is listed in `TEXTS` (how to send a value through the command
and read back what was recorded), each number in `NUMBERS`, each list in `LISTS` and each moment
in `MOMENTS`. The tests run every entry through the same checks: the value at the limit is
accepted, one past it is refused naming the field (with its path) and the rule; no text takes a
NUL or another control character; one-line texts refuse bidirectional overrides; every text is
stored in Unicode NFC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from verbinders.domain import limits
from verbinders.domain.access import AccessToken
from verbinders.domain.contacts import ContactChanges
from verbinders.domain.meetings import AgendaItem, AttendanceStatus, Meeting, Votes
from verbinders.domain.platform import Platform
from verbinders.domain.profile import Profile, ProfileChanges
from verbinders.domain.strengths import Strength, StrengthChanges, StrengthKind
from verbinders.domain.vocabulary import LANGUAGES, Term
from verbinders.errors import InvalidCommand

from .support import COORDINATOR, T0, TENANT, VOCABULARY, at, contact, meeting, membership
from .support import organisation as new_organisation


def last_event(aggregate: Any) -> Any:
    return list(aggregate.collect_events())[-1]


def platform(**overrides: Any) -> Platform:
    fields: dict[str, Any] = {
        "tenant": TENANT,
        "name": "De Haarlemse Verbinders",
        "city": "Haarlem",
        "started_on": date(2019, 12, 1),
        "at": T0,
    }
    fields.update(overrides)
    return Platform.create(**fields)


def token(**overrides: Any) -> AccessToken:
    fields: dict[str, Any] = {
        "token_id": uuid4(),
        "tenant": TENANT,
        "party": None,
        "roles": ("analyst",),
        "label": "onderzoek",
        "secret_hash": "0" * 64,
        "expires_at": None,
        "issued_by": COORDINATOR,
        "reason": "",
        "now": T0,
    }
    fields.update(overrides)
    return AccessToken.issue(**fields)


def held_meeting() -> Meeting:
    """A meeting in progress at `at(7, 1)`."""
    m = meeting()
    m.collect_events()
    return m


# -- the commands, one text field at a time ----------------------------------------------------


def _name(value: str) -> str:
    return new_organisation(name=value).name


def _renamed(value: str) -> str:
    org = new_organisation()
    org.update_profile(ProfileChanges(name=value), vocabulary=VOCABULARY, at=at(1))
    return org.name


def _description(value: str) -> str:
    return new_organisation(profile=Profile(description=value)).profile.description


def _community(value: str) -> str:
    return new_organisation(profile=Profile(communities=(value,))).profile.communities[0]


def _target_group(value: str) -> str:
    org = new_organisation()
    org.update_profile(ProfileChanges(target_groups=(value,)), vocabulary=VOCABULARY, at=at(1))
    return org.profile.target_groups[0]


def _dissolve_reason(value: str) -> str:
    org = new_organisation()
    org.dissolve(reason=value, decided_by=COORDINATOR, at=at(1))
    return str(last_event(org).reason)


def _strength_title(value: str) -> str:
    org, sid = new_organisation(), uuid4()
    org.add_strength(
        sid, Strength(kind=StrengthKind.VENUE, title=value), vocabulary=VOCABULARY, at=at(1)
    )
    return org.strengths[sid].title


def _strength_description(value: str) -> str:
    org, sid = new_organisation(), uuid4()
    org.add_strength(
        sid, Strength(kind=StrengthKind.VENUE, title="Zaal"), vocabulary=VOCABULARY, at=at(1)
    )
    org.change_strength(sid, StrengthChanges(description=value), vocabulary=VOCABULARY, at=at(2))
    return org.strengths[sid].description


def _withdraw_reason(value: str) -> str:
    org, sid = new_organisation(), uuid4()
    org.add_strength(
        sid, Strength(kind=StrengthKind.VENUE, title="Zaal"), vocabulary=VOCABULARY, at=at(1)
    )
    org.withdraw_strength(sid, reason=value, at=at(2))
    return str(last_event(org).reason)


def _contact_name(value: str) -> str:
    org, person = new_organisation(), contact(name=value)
    org.add_contact(person, at=at(1))
    return org.contacts[person.subject].name


def _contact_role(value: str) -> str:
    org, person = new_organisation(), contact()
    org.add_contact(person, at=at(1))
    org.change_contact(person.subject, ContactChanges(role=value), at=at(2))
    return org.contacts[person.subject].role


def _motivation(value: str) -> str:
    return membership(motivation=value).motivation


def _reapplication(value: str) -> str:
    m = membership()
    m.reject(reason="Nog niet", decided_by=COORDINATOR, at=at(1))
    m.reapply(motivation=value, at=at(2))
    return m.motivation


def _admission_reason(value: str) -> str:
    m = membership()
    m.admit(reason=value, decided_by=COORDINATOR, at=at(1))
    return str(last_event(m).reason)


def _suspension_reason(value: str) -> str:
    m = membership()
    m.admit(reason="Past", decided_by=COORDINATOR, at=at(1))
    m.suspend(reason=value, decided_by=COORDINATOR, at=at(2))
    return str(last_event(m).reason)


def _leaving_reason(value: str) -> str:
    m = membership()
    m.admit(reason="Past", decided_by=COORDINATOR, at=at(1))
    m.leave(reason=value, at=at(2))
    return str(last_event(m).reason)


def _withdrawal_reason(value: str) -> str:
    m = membership()
    m.withdraw_application(reason=value, at=at(1))
    return str(last_event(m).reason)


def _deciding_party(value: str) -> str:
    m = membership()
    m.reject(reason="Nog niet", decided_by=value, at=at(1))
    return str(last_event(m).decided_by)


def _meeting_title(value: str) -> str:
    return meeting(title=value).title


def _venue(value: str) -> str:
    m = meeting()
    m.reschedule(venue=value, at=at(1))
    return str(m.venue)


def _agenda_title(value: str) -> str:
    return meeting(agenda=[AgendaItem(title="Opening"), AgendaItem(title=value)]).agenda[1].title


def _agenda_description(value: str) -> str:
    m = meeting()
    m.change_agenda([AgendaItem(title="Opening", description=value)], at=at(1))
    return m.agenda[0].description


def _reschedule_reason(value: str) -> str:
    m = meeting()
    m.reschedule(starts_at=at(8), ends_at=at(8, 2), reason=value, at=at(1))
    return str(last_event(m).reason)


def _cancel_reason(value: str) -> str:
    m = meeting()
    m.cancel(reason=value, decided_by=COORDINATOR, at=at(1))
    return str(last_event(m).reason)


def _decision(value: str) -> str:
    m, decision = held_meeting(), uuid4()
    m.record_decision(decision, value, at=at(7, 1))
    return m.decisions[decision].text


def _minutes(value: str) -> str:
    m = held_meeting()
    m.publish_minutes(value, at=at(8))
    return str(m.minutes)


def _platform_name(value: str) -> str:
    return platform(name=value).name


def _city(value: str) -> str:
    p = platform()
    p.change_details(city=value, at=at(1))
    return p.city


def _term_label(value: str) -> str:
    p = platform()
    p.change_themes([Term(code="taal", label="Taal"), Term(code="zorg", label=value)], at=at(1))
    return p.themes[1].label


def _point_of_contact_reason(value: str) -> str:
    p = platform()
    p.reassign_point_of_contact(uuid4(), reason=value, decided_by=COORDINATOR, at=at(1))
    return str(last_event(p).reason)


def _token_label(value: str) -> str:
    return token(label=value).label


def _token_reason(value: str) -> str:
    return str(last_event(token(reason=value)).reason)


def _revocation_reason(value: str) -> str:
    t = token()
    t.collect_events()
    t.revoke(revoked_by=COORDINATOR, reason=value)
    return str(last_event(t).reason)


@dataclass(frozen=True)
class Text:
    send: Callable[[str], str]
    """Sends a value through a command; returns what was recorded."""
    field: str
    max_length: int
    multi_line: bool = False
    required: bool = True
    min_length: int = 1


TEXTS = {
    "organisation name": Text(_name, "name", limits.NAME_MAX, min_length=2),
    "new organisation name": Text(_renamed, "name", limits.NAME_MAX, min_length=2),
    "description": Text(_description, "description", limits.DESCRIPTION_MAX, True, False),
    "community": Text(_community, "communities[0]", limits.LABEL_MAX),
    "target group": Text(_target_group, "target_groups[0]", limits.LABEL_MAX),
    "dissolution reason": Text(_dissolve_reason, "reason", limits.REASON_MAX, True),
    "strength title": Text(_strength_title, "title", limits.STRENGTH_TITLE_MAX),
    "strength description": Text(
        _strength_description, "description", limits.STRENGTH_DESCRIPTION_MAX, True, False
    ),
    "strength withdrawal": Text(_withdraw_reason, "reason", limits.REASON_MAX, True, False),
    "contact name": Text(_contact_name, "name", limits.CONTACT_NAME_MAX),
    "contact role": Text(_contact_role, "role", limits.CONTACT_ROLE_MAX, required=False),
    "motivation": Text(_motivation, "motivation", limits.MOTIVATION_MAX, True),
    "new motivation": Text(_reapplication, "motivation", limits.MOTIVATION_MAX, True),
    "admission": Text(_admission_reason, "reason", limits.REASON_MAX, True),
    "suspension": Text(_suspension_reason, "reason", limits.REASON_MAX, True),
    "leaving": Text(_leaving_reason, "reason", limits.REASON_MAX, True, False),
    "withdrawal": Text(_withdrawal_reason, "reason", limits.REASON_MAX, True, False),
    "deciding party": Text(_deciding_party, "decided_by", limits.PARTY_MAX),
    "meeting title": Text(_meeting_title, "title", limits.TITLE_MAX),
    "venue": Text(_venue, "venue", limits.VENUE_MAX),
    "agenda title": Text(_agenda_title, "agenda[1].title", limits.AGENDA_TITLE_MAX),
    "agenda description": Text(
        _agenda_description, "agenda[0].description", limits.AGENDA_DESCRIPTION_MAX, True, False
    ),
    "rescheduling": Text(_reschedule_reason, "reason", limits.REASON_MAX, True, False),
    "cancellation": Text(_cancel_reason, "reason", limits.REASON_MAX, True),
    "decision": Text(_decision, "text", limits.DECISION_TEXT_MAX, True),
    "minutes": Text(_minutes, "minutes", limits.MINUTES_MAX, True),
    "platform name": Text(_platform_name, "name", limits.PLATFORM_NAME_MAX),
    "city": Text(_city, "city", limits.CITY_MAX),
    "theme label": Text(_term_label, "themes[1].label", limits.TERM_LABEL_MAX),
    "point of contact": Text(_point_of_contact_reason, "reason", limits.REASON_MAX, True),
    "token label": Text(_token_label, "label", limits.TOKEN_LABEL_MAX),
    "token reason": Text(_token_reason, "reason", limits.REASON_MAX, True, False),
    "revocation": Text(_revocation_reason, "reason", limits.REASON_MAX, True),
}


def refused(call: Callable[[], object]) -> tuple[str | None, str | None]:
    with pytest.raises(InvalidCommand) as caught:
        call()
    return caught.value.field, caught.value.rule


@pytest.mark.parametrize("case", TEXTS.values(), ids=TEXTS.keys())
def test_a_text_at_its_limit_is_kept_and_one_past_it_refused(case: Text) -> None:
    assert case.send("é" * case.max_length) == "é" * case.max_length
    assert refused(lambda: case.send("é" * (case.max_length + 1))) == (case.field, "max-length")


@pytest.mark.parametrize("case", TEXTS.values(), ids=TEXTS.keys())
def test_a_required_text_needs_characters_that_show(case: Text) -> None:
    if not case.required:
        assert case.send(" \u200b\u2060 ") == ""
        return
    rule = "required" if case.min_length == 1 else "min-length"
    assert refused(lambda: case.send(" \u200b\u2060\ufeff ")) == (case.field, rule)
    assert refused(lambda: case.send("x\u200b" if case.min_length == 2 else "")) == (
        case.field,
        rule,
    )


@pytest.mark.parametrize("case", TEXTS.values(), ids=TEXTS.keys())
@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ufffe"])
def test_no_text_takes_a_control_character(case: Text, character: str) -> None:
    assert refused(lambda: case.send(f"Buurt{character}huis")) == (case.field, "characters")


@pytest.mark.parametrize("case", TEXTS.values(), ids=TEXTS.keys())
def test_texts_are_stored_in_unicode_nfc(case: Text) -> None:
    assert case.send("Cafe\u0301 Ünal") == "Café Ünal"


@pytest.mark.parametrize("case", TEXTS.values(), ids=TEXTS.keys())
def test_line_breaks_and_tabs_are_kept_in_free_text_and_become_spaces_in_one_line(
    case: Text,
) -> None:
    sent = "Eerste regel\r\n\tTweede\rDerde"
    expected = "Eerste regel\n\tTweede\nDerde" if case.multi_line else "Eerste regel Tweede Derde"
    assert case.send(sent) == expected


@pytest.mark.parametrize("case", TEXTS.values(), ids=TEXTS.keys())
@pytest.mark.parametrize("character", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2069"])
def test_one_line_texts_refuse_bidirectional_overrides_and_isolates(
    case: Text, character: str
) -> None:
    value = f"Al Amal{character}lahaaH"
    if case.multi_line:
        assert case.send(value) == value
    else:
        assert refused(lambda: case.send(value)) == (case.field, "characters")


def test_right_to_left_text_and_the_marks_it_needs_are_welcome() -> None:
    assert _name("جمعية الأمل\u200f") == "جمعية الأمل"
    assert _name("کانون\u200cفرهنگی") == "کانون\u200cفرهنگی"  # Persian needs its ZWNJ


# -- numbers -----------------------------------------------------------------------------------


def _volunteers(value: int) -> int | None:
    org = new_organisation()
    org.update_profile(ProfileChanges(active_volunteers=value), vocabulary=VOCABULARY, at=at(1))
    return org.profile.active_volunteers


def _constituency(value: int) -> int | None:
    return new_organisation(profile=Profile(constituency_size=value)).profile.constituency_size


def _founding_year(value: int) -> int | None:
    return new_organisation(profile=Profile(founding_year=value)).profile.founding_year


def _capacity(value: int) -> int | None:
    org, sid = new_organisation(), uuid4()
    org.add_strength(
        sid,
        Strength(kind=StrengthKind.VENUE, title="Zaal", capacity=value),
        vocabulary=VOCABULARY,
        at=at(1),
    )
    return org.strengths[sid].capacity


def _new_capacity(value: int) -> int | None:
    org, sid = new_organisation(), uuid4()
    org.add_strength(
        sid, Strength(kind=StrengthKind.VENUE, title="Zaal"), vocabulary=VOCABULARY, at=at(1)
    )
    org.change_strength(sid, StrengthChanges(capacity=value), vocabulary=VOCABULARY, at=at(2))
    return org.strengths[sid].capacity


def _people(value: int) -> int | None:
    m, org = held_meeting(), uuid4()
    m.record_attendance(org, AttendanceStatus.PRESENT, people=value, at=at(7, 1))
    return m.attendance[org].people


def _votes(name: str) -> Callable[[int], int | None]:
    def send(value: int) -> int | None:
        m, decision = held_meeting(), uuid4()
        votes = Votes(**{"in_favour": 1, name: value})
        m.record_decision(decision, "Besluit", votes=votes, at=at(7, 1))
        recorded = m.decisions[decision].votes
        return None if recorded is None else int(getattr(recorded, name))

    return send


NUMBERS = {
    "active volunteers": (_volunteers, "active_volunteers", 0, limits.ACTIVE_VOLUNTEERS_MAX),
    "constituency": (_constituency, "constituency_size", 0, limits.CONSTITUENCY_SIZE_MAX),
    "founding year": (_founding_year, "founding_year", limits.EARLIEST_FOUNDING_YEAR, T0.year),
    "capacity": (_capacity, "capacity", 1, limits.CAPACITY_MAX),
    "new capacity": (_new_capacity, "capacity", 1, limits.CAPACITY_MAX),
    "people present": (_people, "people", 1, limits.ATTENDANCE_PEOPLE_MAX),
    "votes in favour": (_votes("in_favour"), "votes.in_favour", 0, limits.VOTES_MAX),
    "votes against": (_votes("against"), "votes.against", 0, limits.VOTES_MAX),
    "abstentions": (_votes("abstained"), "votes.abstained", 0, limits.VOTES_MAX),
}


@pytest.mark.parametrize(("send", "field", "low", "high"), NUMBERS.values(), ids=NUMBERS.keys())
def test_a_number_within_its_range_is_kept_and_one_outside_refused(
    send: Callable[[int], int | None], field: str, low: int, high: int
) -> None:
    assert send(high) == high
    if field != "votes.in_favour":  # in favour is set to 1 beside the other votes
        assert send(low) == low
    assert refused(lambda: send(high + 1)) == (field, "range")
    assert refused(lambda: send(low - 1)) == (field, "range")
    assert refused(lambda: send(2**31)) == (field, "range")


def test_every_count_fits_a_postgresql_integer() -> None:
    for _, _, _, high in NUMBERS.values():
        assert high <= limits.INT32_MAX
    assert limits.INT32_MAX == 2_147_483_647


# -- lists -------------------------------------------------------------------------------------


def _communities(count: int) -> int:
    values = tuple(f"Gemeenschap {i}" for i in range(count))
    return len(new_organisation(profile=Profile(communities=values)).profile.communities)


def _target_groups(count: int) -> int:
    values = tuple(f"Doelgroep {i}" for i in range(count))
    org = new_organisation()
    org.update_profile(ProfileChanges(target_groups=values), vocabulary=VOCABULARY, at=at(1))
    return len(org.profile.target_groups)


def _languages(count: int) -> int:
    values = tuple(LANGUAGES)[:count]
    return len(new_organisation(profile=Profile(languages=values)).profile.languages)


def _agenda(count: int) -> int:
    return len(meeting(agenda=[AgendaItem(title=f"Punt {i}") for i in range(count)]).agenda)


def _districts(count: int) -> int:
    p = platform()
    p.change_districts([Term(code=f"wijk-{i}", label=f"Wijk {i}") for i in range(count)], at=at(1))
    return len(p.districts)


LISTS = {
    "communities": (_communities, "communities", limits.LABELS_MAX),
    "target groups": (_target_groups, "target_groups", limits.LABELS_MAX),
    "languages": (_languages, "languages", limits.LANGUAGES_MAX),
    "agenda": (_agenda, "agenda", limits.AGENDA_ITEMS_MAX),
    "districts": (_districts, "districts", limits.TERMS_MAX),
}


@pytest.mark.parametrize(("send", "field", "most"), LISTS.values(), ids=LISTS.keys())
def test_a_list_at_its_length_is_kept_and_one_longer_refused(
    send: Callable[[int], int], field: str, most: int
) -> None:
    assert send(most) == most
    assert refused(lambda: send(most + 1)) == (field, "max-items")


def test_duplicate_labels_do_not_count_towards_the_limit() -> None:
    values = ("Marokkaans",) * (limits.LABELS_MAX + 5)
    assert new_organisation(profile=Profile(communities=values)).profile.communities == (
        "Marokkaans",
    )


# -- moments and dates -------------------------------------------------------------------------

MINUS_14 = timezone(timedelta(hours=-14))
PLUS_14 = timezone(timedelta(hours=14))


def _starts_at(value: datetime) -> datetime:
    return meeting(starts_at=value, ends_at=value + timedelta(hours=1)).starts_at


def _moved_to_end(value: datetime) -> datetime:
    m = meeting()
    m.reschedule(ends_at=value, at=at(1))
    return m.ends_at


def _moved_to(value: datetime) -> datetime:
    m = meeting()
    m.reschedule(starts_at=value, ends_at=value + timedelta(hours=2), at=at(1))
    return m.starts_at


def test_a_meeting_lies_between_1990_and_2200() -> None:
    earliest, latest = limits.MEETING_EARLIEST, limits.MEETING_LATEST
    assert _starts_at(earliest) == earliest
    assert _moved_to(earliest) == earliest
    last_start = latest - timedelta(hours=1, microseconds=1)
    assert _starts_at(last_start) == last_start
    too_early = earliest - timedelta(microseconds=1)
    assert refused(lambda: _starts_at(too_early)) == ("starts_at", "range")
    assert refused(lambda: _moved_to(too_early)) == ("starts_at", "range")
    assert refused(lambda: _starts_at(latest)) == ("starts_at", "range")


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 20, 0, tzinfo=MINUS_14),  # year 10000 in UTC
        datetime(1, 1, 1, 0, 0, tzinfo=PLUS_14),  # year 0 in UTC
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2199, 12, 31, 23, 0, tzinfo=MINUS_14),  # 2200-01-01T13:00Z
        datetime(1989, 12, 31, 23, 0, tzinfo=UTC),
    ],
)
def test_meeting_times_outside_the_window_are_refused_in_every_time_zone(value: datetime) -> None:
    assert refused(lambda: meeting(starts_at=value, ends_at=at(7, 2))) == ("starts_at", "range")
    assert refused(lambda: meeting(starts_at=at(7), ends_at=value)) == ("ends_at", "range")
    assert refused(lambda: _moved_to_end(value)) == ("ends_at", "range")


def test_a_meeting_keeps_the_time_zone_it_was_given() -> None:
    local = datetime(2024, 3, 1, 19, 30, tzinfo=timezone(timedelta(hours=1)))
    assert _starts_at(local).utcoffset() == timedelta(hours=1)


def test_a_platform_starts_from_1900_until_a_year_after_it_is_created() -> None:
    assert platform(started_on=limits.DATE_EARLIEST).started_on == date(1900, 1, 1)
    latest = (T0 + limits.PLATFORM_STARTS_WITHIN).date()
    assert platform(started_on=latest).started_on == latest
    assert refused(lambda: platform(started_on=date(1899, 12, 31))) == ("started_on", "range")
    assert refused(lambda: platform(started_on=latest + timedelta(days=1))) == (
        "started_on",
        "range",
    )
    assert refused(lambda: platform(started_on=date(9999, 12, 31))) == ("started_on", "range")


def test_a_token_expires_in_the_future_and_within_ten_years() -> None:
    latest = T0 + limits.TOKEN_LIFETIME_MAX
    assert token(expires_at=latest).expires_at == latest
    assert token(expires_at=T0 + timedelta(seconds=1)).expires_at == T0 + timedelta(seconds=1)
    assert refused(lambda: token(expires_at=T0)) == ("expires_at", "future")
    assert refused(lambda: token(expires_at=latest + timedelta(seconds=1))) == (
        "expires_at",
        "range",
    )
    assert refused(lambda: token(expires_at=datetime(9999, 12, 31, 20, tzinfo=MINUS_14))) == (
        "expires_at",
        "range",
    )
    assert refused(lambda: token(expires_at=datetime(2020, 1, 1, 12))) == (
        "expires_at",
        "timezone",
    )


# -- contact details and registration numbers --------------------------------------------------


def _added(person: Any) -> Any:
    org = new_organisation()
    org.add_contact(person, at=at(1))
    return org.contacts[person.subject]


def test_an_email_address_at_its_length_is_kept_and_one_past_it_refused() -> None:
    local = "f" * 64
    domain = "d" * (limits.EMAIL_MAX - len(local) - len("@.nl")) + ".nl"
    assert _added(contact(email=f"{local}@{domain}")).email == f"{local}@{domain}"
    assert refused(lambda: _added(contact(email=f"{local}x@{domain}"))) == ("email", "email")
    assert refused(lambda: _added(contact(email="f\x00@alamal.nl"))) == ("email", "characters")


def test_a_phone_number_has_6_to_15_digits_in_at_most_40_characters() -> None:
    assert _added(contact(phone="+31 6 1234 5678")).phone == "+31 6 1234 5678"
    assert refused(lambda: _added(contact(phone="1 " * 20 + "1"))) == ("phone", "phone")
    assert refused(lambda: _added(contact(phone="+31\x006 1234 5678"))) == ("phone", "phone")


@pytest.mark.parametrize("kvk", ["１２３４５６７８", "١٢٣٤٥٦٧٨", "1234567\x008", "123456789"])
def test_a_kvk_number_is_eight_ascii_digits(kvk: str) -> None:
    assert refused(lambda: new_organisation(kvk_number=kvk)) == ("kvk_number", "kvk")


# -- access tokens -----------------------------------------------------------------------------


def test_a_token_names_known_roles_each_once() -> None:
    assert token(roles=("analyst", "auditor", "analyst")).roles == ("analyst", "auditor")
    assert refused(lambda: token(roles=())) == ("roles", "required")
    assert refused(lambda: token(roles=("analyst", "admin\x00"))) == ("roles[1]", "enum")


def test_a_token_for_a_party_role_names_its_party() -> None:
    party = uuid4()
    assert token(roles=("organisation",), party=party).party == party
    assert refused(lambda: token(roles=("fund",))) == ("party", "required")


def test_an_unknown_value_is_echoed_shortened_in_the_message() -> None:
    with pytest.raises(InvalidCommand) as caught:
        token(roles=("x" * 10_000,))
    assert len(caught.value.message) < 200
