"""The directory: organisations with their profiles, strengths and membership status.

Answers "who is on the platform" and "who can help with X" (strengths by kind, language,
district and Dutch full-text search). Contact persons are not here: they are personal data and
are read from the organisation itself by those allowed to see them.

Every table keeps its history (`temporal.py`): one version of an organisation per event that
changed its profile (a strength's events change the strength's rows only, a membership
decision the organisation's row in `memberships` only), so the directory
as of any moment is the live query plus a condition. The full-text documents are folded here
(`text.py`) and turned into `tsvector`s by PostgreSQL (generated columns, Dutch
configuration), indexed with GIN. The queries are in `directory_queries.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.projections.temporal import Table, TemporalProjection, as_uuid, events_of
from verbinders.projections.text import search_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.projections.temporal import Key, Rows
    from verbinders.store.events import RecordedEvent

__all__ = [
    "MEMBERSHIPS",
    "MEMBERSHIP_STREAMS",
    "ORGANISATIONS",
    "STRENGTHS",
    "DirectoryProjection",
]

STATUS_AFTER = {
    "Applied": "applied",
    "Reapplied": "applied",
    "Admitted": "member",
    "Reinstated": "member",
    "Suspended": "suspended",
    "Rejected": "rejected",
    "ApplicationWithdrawn": "withdrawn",
    "Left": "left",
}

ORGANISATIONS = Table(
    "organisations",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("kind", "text"),
        ("name", "text"),
        ("former_names", "text[]"),
        ("kvk_number", "text"),
        ("description", "text"),
        ("founding_year", "integer"),
        ("communities", "text[]"),
        ("languages", "text[]"),
        ("themes", "text[]"),
        ("districts", "text[]"),
        ("target_groups", "text[]"),
        ("website", "text"),
        ("constituency_size", "integer"),
        ("active_volunteers", "integer"),
        ("registered_at", "timestamptz"),
        ("dissolved_at", "timestamptz"),
        ("name_text", "text"),
        ("profile_text", "text"),
    ),
    generated=(
        (
            "search",
            "tsvector GENERATED ALWAYS AS"
            " (setweight(to_tsvector('dutch'::regconfig, coalesce(name_text, '')), 'A')"
            " || setweight(to_tsvector('dutch'::regconfig, coalesce(profile_text, '')), 'B'))"
            " STORED",
        ),
    ),
    # No GIN on the arrays: they are filtered with `$1 = ANY (o.themes)`, which no GIN index
    # serves (only `@>`, `&&`); their statistics stay (the estimate of `= ANY` uses them).
    indexes=(
        "USING gin (search)",
        "(tenant, lower(name))",
        "(tenant, registered_at)",
    ),
    unanalysed=(
        "former_names",
        "kvk_number",
        "description",
        "founding_year",
        "communities",
        "target_groups",
        "website",
        "constituency_size",
        "active_volunteers",
        "name_text",
        "profile_text",
    ),
)

STRENGTHS = Table(
    "strengths",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("organisation_id", "uuid"),
        ("kind", "text"),
        ("title", "text"),
        ("description", "text"),
        ("capacity", "integer"),
        ("languages", "text[]"),
        ("districts", "text[]"),
        ("added_at", "timestamptz"),
        ("withdrawn_at", "timestamptz"),
        ("search_text", "text"),
    ),
    generated=(
        (
            "search",
            "tsvector GENERATED ALWAYS AS"
            " (to_tsvector('dutch'::regconfig, coalesce(search_text, ''))) STORED",
        ),
    ),
    indexes=("USING gin (search)", "(tenant, organisation_id)"),
    unanalysed=("description", "capacity", "search_text"),
)

MEMBERSHIPS = Table(
    "memberships",
    keys=(("tenant", "text"), ("organisation_id", "uuid")),
    values=(("membership_status", "text"), ("member_since", "timestamptz")),
)
"""Each organisation's membership status (no row: `none`, never applied) and the start of its
running membership. Apart from `organisations`: a membership decision writes a version of
this narrow row, not of the organisation's profile with its search vector and indexes."""

MEMBERSHIP_STREAMS = Table(
    "membership_streams",
    keys=(("tenant", "text"), ("stream_id", "uuid")),
    values=(("organisation_id", "uuid"),),
)
"""Which organisation each membership stream is about (its later events do not say)."""


def _at(event: RecordedEvent) -> datetime:
    """When it happened in the world (the event's `at`), not when it was recorded."""
    return datetime.fromisoformat(event.payload["at"])


def _profile(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": profile.get("description") or "",
        "founding_year": profile.get("founding_year"),
        "communities": list(profile.get("communities") or ()),
        "languages": list(profile.get("languages") or ()),
        "themes": list(profile.get("themes") or ()),
        "districts": list(profile.get("districts") or ()),
        "target_groups": list(profile.get("target_groups") or ()),
        "website": profile.get("website"),
        "constituency_size": profile.get("constituency_size"),
        "active_volunteers": profile.get("active_volunteers"),
    }


_SEARCHED = frozenset(
    ("name", "former_names", "description", "communities", "target_groups", "themes", "languages")
)
"""The values the search documents are made of."""


def _texts(row: dict[str, Any]) -> None:
    """The organisation's search documents from its values (in place)."""
    row["name_text"] = search_text(row["name"], row["former_names"])
    row["profile_text"] = search_text(
        row["description"],
        row["communities"],
        row["target_groups"],
        row["themes"],
        row["languages"],
    )


class DirectoryProjection(TemporalProjection):
    name = "directory"
    version = 4
    versioned = (ORGANISATIONS, STRENGTHS, MEMBERSHIPS, MEMBERSHIP_STREAMS)
    events = {
        **events_of(
            Organisation,
            Registered="registered",
            Renamed="renamed",
            KvkNumberChanged="kvk_changed",
            ProfileUpdated="profile_updated",
            Dissolved="dissolved",
            StrengthAdded="strength",
            StrengthChanged="strength",
            StrengthWithdrawn="strength_withdrawn",
        ),
        **events_of(Membership, **dict.fromkeys(STATUS_AFTER, "membership")),
    }
    reads_metadata = False

    async def load(self, conn: Connection, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        organisations: set[Key] = set()
        strengths: set[Key] = set()
        streams: set[Key] = set()
        applied: dict[Key, Any] = {}
        for event in events:
            if self.dispatch.get(event.topic) == "membership":
                streams.add((event.tenant, event.stream_id))
                if event.topic.endswith(".Applied"):
                    applied[(event.tenant, event.stream_id)] = event.payload["organisation_id"]
            else:
                strength = event.payload.get("strength_id")
                if strength is not None:  # a strength's events read its row only
                    strengths.add((event.tenant, as_uuid(strength)))
                else:
                    organisations.add((event.tenant, event.stream_id))
        await rows.load(conn, MEMBERSHIP_STREAMS, streams)
        memberships: set[Key] = set()
        for key in streams:
            known = rows.get(MEMBERSHIP_STREAMS, key)
            organisation = known["organisation_id"] if known is not None else applied.get(key)
            if organisation is not None:
                memberships.add((key[0], as_uuid(organisation)))
        await rows.load(conn, MEMBERSHIPS, memberships)
        await rows.load(conn, ORGANISATIONS, organisations)
        await rows.load(conn, STRENGTHS, strengths)

    def registered(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, event.stream_id)
        if rows.get(ORGANISATIONS, key) is not None:
            return
        p = event.payload
        row = {
            "kind": p["kind"],
            "name": p["name"],
            "former_names": [],
            "kvk_number": p.get("kvk_number"),
            **_profile(p.get("profile") or {}),
            "registered_at": _at(event),
            "dissolved_at": None,
        }
        _texts(row)
        rows.put(ORGANISATIONS, key, row, event)

    def _change(self, rows: Rows, event: RecordedEvent, **values: Any) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(ORGANISATIONS, key)
        if row is None:
            return
        row.update(values)
        if not _SEARCHED.isdisjoint(values):
            _texts(row)
        rows.put(ORGANISATIONS, key, row, event)

    def renamed(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, event.stream_id)
        row = rows.get(ORGANISATIONS, key)
        if row is not None:
            former = [*row["former_names"], event.payload["previous_name"]]
            self._change(rows, event, name=event.payload["name"], former_names=former)

    def kvk_changed(self, rows: Rows, event: RecordedEvent) -> None:
        self._change(rows, event, kvk_number=event.payload["kvk_number"])

    def profile_updated(self, rows: Rows, event: RecordedEvent) -> None:
        self._change(rows, event, **_profile(event.payload["profile"]))

    def dissolved(self, rows: Rows, event: RecordedEvent) -> None:
        self._change(rows, event, dissolved_at=_at(event))

    def strength(self, rows: Rows, event: RecordedEvent) -> None:
        s = event.payload["strength"]
        key = (event.tenant, as_uuid(event.payload["strength_id"]))
        old = rows.get(STRENGTHS, key)
        languages = list(s.get("languages") or ())
        rows.put(
            STRENGTHS,
            key,
            {
                "organisation_id": old["organisation_id"] if old else event.stream_id,
                "kind": s["kind"],
                "title": s["title"],
                "description": s.get("description") or "",
                "capacity": s.get("capacity"),
                "languages": languages,
                "districts": list(s.get("districts") or ()),
                "added_at": old["added_at"] if old else _at(event),
                "withdrawn_at": old["withdrawn_at"] if old else None,
                "search_text": search_text(s["title"], s.get("description"), s["kind"], languages),
            },
            event,
        )

    def strength_withdrawn(self, rows: Rows, event: RecordedEvent) -> None:
        key = (event.tenant, as_uuid(event.payload["strength_id"]))
        row = rows.get(STRENGTHS, key)
        if row is not None:
            row["withdrawn_at"] = _at(event)
            rows.put(STRENGTHS, key, row, event)

    def membership(self, rows: Rows, event: RecordedEvent) -> None:
        name = event.topic.rsplit(".", 1)[-1]
        stream = (event.tenant, event.stream_id)
        if name == "Applied" and rows.get(MEMBERSHIP_STREAMS, stream) is None:
            organisation_id = as_uuid(event.payload["organisation_id"])
            rows.put(MEMBERSHIP_STREAMS, stream, {"organisation_id": organisation_id}, event)
        link = rows.get(MEMBERSHIP_STREAMS, stream)
        if link is None:
            return
        key = (event.tenant, link["organisation_id"])
        row = rows.get(MEMBERSHIPS, key) or {"membership_status": "none", "member_since": None}
        status, before = STATUS_AFTER[name], row["membership_status"]
        if status == "member":
            if before not in ("member", "suspended"):
                row["member_since"] = _at(event)
        elif status != "suspended":
            row["member_since"] = None
        row["membership_status"] = status
        rows.put(MEMBERSHIPS, key, row, event)
