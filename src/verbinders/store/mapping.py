"""Maps `eventsourcing` domain events and aggregates to store rows and back, with msgspec.

An event's payload is its attributes (less the stream id and version, which have columns of
their own) encoded as JSON by msgspec, so analysts read it with SQL. Decoding converts the JSON
back into the event class's declared field types (`msgspec.convert`), after the class's
`upcast_vN_vM` methods have brought old payloads up to date, as `eventsourcing` does.

Values of `PersonalData` are sealed (see `personal.py`) on the way in and opened, or read as
redacted once their subject is forgotten, on the way out.
"""

from __future__ import annotations

import collections.abc
import functools
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, CanMutateProtocol
from eventsourcing.utils import get_topic, resolve_topic

from verbinders.domain.personal import PersonalData
from verbinders.store.personal import ENVELOPE_KEY, open_envelope, seal
from verbinders.store.snapshots import SnapshotRow

__all__ = [
    "copy_aggregate",
    "decode_aggregate_state",
    "decode_event",
    "encode_event",
    "encode_snapshot",
    "event_subjects",
    "may_hold_personal_data",
    "personal_subjects",
    "sealed_subjects",
    "stream_type_of",
    "topic_may_be_sealed",
    "topic_of",
    "upcast_payload",
]

_encoder = msgspec.json.Encoder()
_AGGREGATE_INTERNALS = ("_id", "_version", "_pending_events")
_TIMESTAMPS = ("_created_on", "_modified_on")


def stream_type_of(cls: type[Aggregate]) -> str:
    return str(getattr(cls, "STREAM_TYPE", cls.__name__))


def topic_of(event_class: type) -> str:
    """The topic events of `event_class` are stored under: how readers of the feed (read
    models, policies) name the events they read, through the classes themselves."""
    return str(get_topic(event_class))


# -- personal data ---------------------------------------------------------------------------


def personal_subjects(values: Iterable[Any]) -> set[UUID]:
    """The subjects of every personal value among `values` (and inside lists, tuples, dicts)."""
    found: set[UUID] = set()

    def visit(value: Any) -> None:
        if isinstance(value, PersonalData):
            found.add(value.subject)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    for value in values:
        visit(value)
    return found


def event_subjects(event: Any) -> set[UUID]:
    """`personal_subjects` of a domain event's values, skipping the scan for an event class
    whose declared fields cannot hold personal data (most events: ids, names, dates)."""
    if not may_hold_personal_data(event.__class__):
        return set()
    return personal_subjects(vars(event).values())


@functools.cache
def may_hold_personal_data(cls: type) -> bool:
    """Whether any declared field of event class `cls` can hold `PersonalData`, as far as its
    type hints tell; unclear hints (`Any`, bare containers, unresolvable names) count as yes."""
    try:
        hints = _field_types(cls)
    except Exception:  # annotations that do not resolve: scan the values
        return True
    return any(_hint_may_hold(hint) for hint in hints.values())


def aggregate_subjects(aggregate: Aggregate) -> set[UUID]:
    """`personal_subjects` of an aggregate's state, skipping the attributes whose declared
    type cannot hold `PersonalData` (ids, names, dates...); an attribute without a usable
    annotation is visited."""
    safe = _attributes_without_personal_data(type(aggregate))
    return personal_subjects(value for name, value in vars(aggregate).items() if name not in safe)


@functools.cache
def _attributes_without_personal_data(cls: type) -> frozenset[str]:
    """The attributes of aggregate class `cls` that cannot hold personal data, as far as its
    annotations tell (none when they do not resolve), and the aggregate's internals."""
    try:
        hints = _state_types(cls)
    except Exception:
        return frozenset(_AGGREGATE_INTERNALS)
    return frozenset(
        [*_AGGREGATE_INTERNALS, *(name for name, hint in hints.items() if not _hint_may_hold(hint))]
    )


def _hint_may_hold(hint: Any) -> bool:
    if hint is Any or hint is object:
        return True
    origin = typing.get_origin(hint)
    if origin is None:
        if not isinstance(hint, type):
            return True  # a TypeVar, a forward reference, ...
        if issubclass(hint, PersonalData):
            return True
        if issubclass(hint, str | bytes):
            return False
        # A container without its item type could hold anything.
        return issubclass(hint, collections.abc.Iterable | collections.abc.Mapping)
    if origin is typing.Literal:
        return False
    if origin is typing.Annotated:
        return _hint_may_hold(typing.get_args(hint)[0])
    return any(_hint_may_hold(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)


def _seal_values(value: Any, keys: Mapping[UUID, bytes]) -> Any:
    if isinstance(value, PersonalData):
        return seal(
            keys[value.subject], value.subject, get_topic(type(value)), _encoder.encode(value)
        )
    if isinstance(value, list | tuple | set | frozenset):  # as personal_subjects visits them
        return [_seal_values(item, keys) for item in value]
    if isinstance(value, dict):
        return {name: _seal_values(item, keys) for name, item in value.items()}
    return value


@functools.lru_cache(maxsize=4096)
def topic_may_be_sealed(topic: str) -> bool:
    """Whether events of `topic` may carry sealed personal data (see `may_hold_personal_data`);
    a topic that names no class counts as yes."""
    try:
        return may_hold_personal_data(resolve_topic(topic))
    except Exception:
        return True


def sealed_subjects(raw: Any) -> set[UUID]:
    """The subjects of the sealed envelopes inside a decoded JSON payload."""
    found: set[UUID] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            if ENVELOPE_KEY in value:
                found.add(UUID(value["subject"]))
            else:
                for item in value.values():
                    visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(raw)
    return found


def _open_values(value: Any, keys: Mapping[UUID, bytes]) -> Any:
    if isinstance(value, dict):
        if ENVELOPE_KEY in value:
            cls = resolve_topic(value[ENVELOPE_KEY])
            subject = UUID(value["subject"])
            key = keys.get(subject)
            if key is None:
                return cls.redacted(subject)
            return msgspec.json.decode(open_envelope(key, value), type=cls)
        return {name: _open_values(item, keys) for name, item in value.items()}
    if isinstance(value, list):
        return [_open_values(item, keys) for item in value]
    return value


# -- events ----------------------------------------------------------------------------------


def encode_event(event: Any, keys: Mapping[UUID, bytes]) -> tuple[str, bytes]:
    """(topic, JSON payload) of a domain event; personal values sealed with `keys`."""
    state = dict(vars(event))
    del state["originator_id"], state["originator_version"]
    class_version = getattr(type(event), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    if may_hold_personal_data(event.__class__) and personal_subjects(state.values()):
        state = {name: _seal_values(value, keys) for name, value in state.items()}
    return get_topic(type(event)), _encoder.encode(state)


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {
        name: hint
        for name, hint in hints.items()
        if typing.get_origin(hint) is not typing.ClassVar and name != "originator_id"
    }


def decode_event(
    topic: str,
    stream_id: UUID,
    version: int,
    payload: Mapping[str, Any],
    keys: Mapping[UUID, bytes],
) -> CanMutateProtocol[Any]:
    """The domain event a stored row stands for."""
    cls = resolve_topic(topic)
    state = dict(payload)
    _upcast(cls, state)
    # An event class whose declared fields cannot hold personal data was stored with none
    # sealed (`event_subjects` skips it too): its payload is not walked.
    if may_hold_personal_data(cls) and (keys or sealed_subjects(state)):
        state = _open_values(state, keys)
    state["originator_id"] = stream_id  # a UUID object: the field's type is a TypeVar
    state["originator_version"] = version
    event = msgspec.convert(state, cls, strict=False)
    return typing.cast(CanMutateProtocol[Any], event)


def _upcast(cls: type, state: dict[str, Any]) -> None:
    """Bring a stored payload (`state`, changed in place) up to `cls`'s `class_version`."""
    from_version = state.pop("class_version", 1)
    class_version = getattr(cls, "class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


@functools.lru_cache(maxsize=4096)
def _class_version_of(topic: str) -> int:
    try:
        return int(getattr(resolve_topic(topic), "class_version", 1))
    except Exception:  # a topic that names no class (tests, imports): nothing to upcast
        return 1


def upcast_payload(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A stored payload as the current version of its event class reads it: the same
    `upcast_vN_vM` steps `decode_event` runs for aggregates, on the plain JSON values (read
    models take those, not event objects). Payloads already current come back as they are."""
    if "class_version" not in payload and _class_version_of(topic) == 1:
        return payload
    state = dict(payload)
    _upcast(resolve_topic(topic), state)
    return state


# -- snapshots -------------------------------------------------------------------------------


def aggregate_state(aggregate: Aggregate) -> dict[str, Any]:
    state = {k: v for k, v in vars(aggregate).items() if k not in _AGGREGATE_INTERNALS}
    class_version = getattr(type(aggregate), "class_version", 1)
    if class_version > 1:
        state["class_version"] = class_version
    return state


def encode_snapshot(aggregate: Aggregate, tenant: str, keys: Mapping[UUID, bytes]) -> SnapshotRow:
    state = aggregate_state(aggregate)
    if personal_subjects(state.values()):
        state = {name: _seal_values(value, keys) for name, value in state.items()}
    return SnapshotRow(
        stream_id=aggregate.id,
        version=aggregate.version,
        tenant=tenant,
        stream_type=stream_type_of(type(aggregate)),
        topic=get_topic(type(aggregate)),
        state=_encoder.encode(state),
    )


@functools.cache
def _state_types(cls: type) -> dict[str, Any]:
    hints = {
        name: hint
        for name, hint in typing.get_type_hints(cls).items()
        if typing.get_origin(hint) is not typing.ClassVar
    }
    hints.update({name: datetime for name in _TIMESTAMPS})
    return hints


class _StatePlan:
    """How an aggregate class's state is decoded in one call: a `TypedDict` of its annotated
    attributes (msgspec caches what it learns of it) and a JSON decoder for it."""

    __slots__ = ("decoder", "fields", "typed")

    def __init__(self, cls: type) -> None:
        types = _state_types(cls)
        make_typed: Any = typing.TypedDict
        self.typed: Any = make_typed(f"{cls.__name__}State", types, total=False)
        self.decoder: Any = msgspec.json.Decoder(self.typed, strict=False)
        self.fields = frozenset(types)


@functools.cache
def _state_plan(cls: type) -> _StatePlan | None:
    """The class's `_StatePlan`, or None when its annotations do not make one (then each
    attribute is converted on its own)."""
    try:
        return _StatePlan(cls)
    except Exception:
        return None


def _assembled(cls: type, state: dict[str, Any], stream_id: UUID, version: int) -> Aggregate:
    state["_id"] = stream_id
    state["_version"] = version
    state["_pending_events"] = []
    aggregate: Any = object.__new__(cls)
    object.__setattr__(aggregate, "__dict__", state)
    return typing.cast(Aggregate, aggregate)


def copy_aggregate(aggregate: Aggregate) -> Aggregate:
    """An independent copy of an aggregate that holds no personal data (the aggregate cache's
    entries, see `aggregate_cache.py`): its state encoded as a snapshot's and decoded again
    (nothing shared, nothing mutable in common), in one decoding call where the class's
    annotations cover its attributes."""
    cls = type(aggregate)
    state = {k: v for k, v in vars(aggregate).items() if k not in _AGGREGATE_INTERNALS}
    plan = _state_plan(cls)
    if plan is None or not state.keys() <= plan.fields:
        row = encode_snapshot(aggregate, "", {})
        return decode_aggregate_state(
            msgspec.structs.replace(row, state=msgspec.json.decode(row.state)), {}
        )
    copied: dict[str, Any] = plan.decoder.decode(_encoder.encode(state))
    return _assembled(cls, copied, aggregate.id, aggregate.version)


def decode_aggregate_state(row: SnapshotRow, keys: Mapping[UUID, bytes]) -> Aggregate:
    """The aggregate a snapshot holds. Its class must annotate every attribute it keeps."""
    cls = resolve_topic(row.topic)
    state = dict(row.state)
    from_version = state.pop("class_version", 1)
    class_version = getattr(cls, "class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    # An event class whose declared fields cannot hold personal data was stored with none
    # sealed (`event_subjects` skips it too): its payload is not walked.
    opened = may_hold_personal_data(cls) and (keys or sealed_subjects(state))
    if opened:
        state = _open_values(state, keys)
    plan = _state_plan(cls)
    if not opened and plan is not None and state.keys() <= plan.fields:
        # Plain JSON values only: one call converts every attribute.
        state = msgspec.convert(state, plan.typed, strict=False)
    else:
        types = _state_types(cls)
        for name, value in state.items():
            hint = types.get(name)
            if hint is not None:
                state[name] = msgspec.convert(value, hint, strict=False)
    return _assembled(cls, state, row.stream_id, row.version)
