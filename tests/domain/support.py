"""Shared values and helpers of the domain unit tests: fixed moments, builders, replays."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID, uuid4

import msgspec
from eventsourcing.domain import Aggregate

from verbinders.domain.contacts import ContactPerson
from verbinders.domain.meetings import Meeting, MeetingMode
from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.domain.profile import Profile
from verbinders.domain.vocabulary import (
    DEFAULT_DISTRICTS,
    DEFAULT_THEMES,
    OrganisationKind,
    Vocabulary,
)
from verbinders.store.mapping import (
    decode_aggregate_state,
    decode_event,
    encode_event,
    encode_snapshot,
    personal_subjects,
)
from verbinders.store.snapshots import SnapshotRow

A = TypeVar("A", bound=Aggregate)

TENANT = "haarlem"
COORDINATOR = "platform"
T0 = datetime(2019, 12, 2, 19, 0, tzinfo=UTC)
VOCABULARY = Vocabulary(districts=DEFAULT_DISTRICTS, themes=DEFAULT_THEMES)


def at(days: float = 0, hours: float = 0) -> datetime:
    """A moment relative to T0, the evening the platform was presented (2 December 2019)."""
    return T0 + timedelta(days=days, hours=hours)


def names(events: Iterable[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def new_events(aggregate: Aggregate) -> list[str]:
    """Names of the events recorded since the last call (collects them)."""
    return names(aggregate.collect_events())


def organisation(**overrides: Any) -> Organisation:
    fields: dict[str, Any] = {
        "organisation_id": uuid4(),
        "tenant": TENANT,
        "kind": OrganisationKind.SELF_ORGANISATION,
        "name": "Stichting Al Amal",
        "vocabulary": VOCABULARY,
        "at": T0,
        "profile": Profile(languages=("ar", "nl"), themes=("women",), districts=("schalkwijk",)),
    }
    fields.update(overrides)
    return Organisation.register(**fields)


def contact(person_id: UUID | None = None, **overrides: Any) -> ContactPerson:
    fields: dict[str, Any] = {
        "subject": person_id or uuid4(),
        "name": "Fatima el Idrissi",
        "role": "voorzitter",
        "email": "fatima@example.nl",
        "phone": "+31 6 1234 5678",
    }
    fields.update(overrides)
    return ContactPerson(**fields)


def meeting(**overrides: Any) -> Meeting:
    fields: dict[str, Any] = {
        "meeting_id": uuid4(),
        "tenant": TENANT,
        "title": "Bijeenkomst Haarlemse Verbinders",
        "starts_at": at(days=7),
        "ends_at": at(days=7, hours=2),
        "mode": MeetingMode.IN_PERSON,
        "venue": "Buurthuis Schalkwijk",
        "at": T0,
    }
    fields.update(overrides)
    return Meeting.schedule(**fields)


def membership(**overrides: Any) -> Membership:
    fields: dict[str, Any] = {
        "tenant": TENANT,
        "organisation_id": uuid4(),
        "motivation": "Wij willen samenwerken met andere zelforganisaties.",
        "at": T0,
    }
    fields.update(overrides)
    return Membership.apply_for(**fields)


# -- replay and serialisation -------------------------------------------------------------------


def replay(events: Sequence[Any]) -> Any:
    """The aggregate rebuilt from its events, as the repository does."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def keys_for(values: Iterable[Any]) -> dict[UUID, bytes]:
    """A fresh key for every person whose data occurs among `values`."""
    return {subject: bytes(32) for subject in personal_subjects(values)}


def stored(event: Any, keys: dict[UUID, bytes]) -> tuple[str, dict[str, Any]]:
    """(topic, payload as JSON values) of an event, as it would stand in the events table."""
    topic, payload = encode_event(event, keys)
    return topic, msgspec.json.decode(payload)


def roundtrip(
    event: Any, keys: dict[UUID, bytes], *, opened_with: dict[UUID, bytes] | None = None
) -> Any:
    """Encode an event as the store does (sealing with `keys`) and decode it again (opening
    with `opened_with`, by default `keys`; a person without a key reads as redacted)."""
    topic, payload = stored(event, keys)
    opening = keys if opened_with is None else opened_with
    return decode_event(topic, event.originator_id, event.originator_version, payload, opening)


def snapshot_roundtrip(aggregate: A, keys: dict[UUID, bytes]) -> A:
    """Encode an aggregate's state as a snapshot and load it again."""
    row = encode_snapshot(aggregate, TENANT, keys)
    loaded = msgspec.structs.replace(row, state=msgspec.json.decode(row.state))
    assert isinstance(loaded, SnapshotRow)
    result = decode_aggregate_state(loaded, keys)
    assert isinstance(result, type(aggregate))
    return result


def event_classes(cls: type[Aggregate], created: type) -> set[str]:
    """Names of every event class an aggregate declares, with `created` as its created event."""
    declared = {
        name
        for name, value in vars(cls).items()
        if isinstance(value, type) and issubclass(value, cls.Event) and value is not cls.Event
    }
    declared.discard("Created")  # the library's default created event, unused when renamed
    return declared | {created.__name__}


def assert_same_types(original: Any, copy: Any, path: str = "") -> None:
    """Like ==, but also the types all the way down (a str equals a StrEnum; a list a list)."""
    assert type(copy) is type(original), f"{path}: {type(copy)} is not {type(original)}"
    if original is None or isinstance(
        original, str | int | float | Decimal | UUID | date | time | Enum
    ):
        assert copy == original, path
    elif isinstance(original, dict):
        assert list(copy) == list(original), path
        for (key, value), (copy_key, copy_value) in zip(
            original.items(), copy.items(), strict=True
        ):
            assert_same_types(key, copy_key, f"{path}[{key!r}]")
            assert_same_types(value, copy_value, f"{path}[{key!r}]")
    elif isinstance(original, list | tuple):
        assert len(copy) == len(original), path
        for index, (item, copy_item) in enumerate(zip(original, copy, strict=True)):
            assert_same_types(item, copy_item, f"{path}[{index}]")
    else:
        fields = getattr(original, "__struct_fields__", None) or vars(original)
        for name in fields:
            if name != "_pending_events":
                assert_same_types(getattr(original, name), getattr(copy, name), f"{path}.{name}")
