"""The directory: organisations with their profiles, strengths and membership status.

Answers "who is on the platform" and "who can help with X" (strengths by kind, language,
district and Dutch full-text search). Contact persons are not here: they are personal data and
are read from the organisation itself by those allowed to see them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbinders.projections.engine import Projection
from verbinders.projections.text import search_text

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["DirectoryProjection"]

ORG = "verbinders.domain.organisations:Organisation."
MEMBERSHIP = "verbinders.domain.membership:Membership."

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

_ORG_SEARCH = """
UPDATE organisations SET search =
    setweight(to_tsvector('dutch', $3), 'A') || setweight(to_tsvector('dutch', $4), 'B')
 WHERE tenant = $1 AND id = $2
"""


class DirectoryProjection(Projection):
    name = "directory"
    version = 1
    topics = tuple(
        [
            ORG + e
            for e in (
                "Registered",
                "Renamed",
                "KvkNumberChanged",
                "ProfileUpdated",
                "Dissolved",
                "StrengthAdded",
                "StrengthChanged",
                "StrengthWithdrawn",
            )
        ]
        + [MEMBERSHIP + e for e in STATUS_AFTER]
    )
    tables = ("organisations", "strengths")
    reads_metadata = False

    def ddl(self) -> str:
        return """
CREATE TABLE organisations (
    tenant            text        NOT NULL,
    id                uuid        NOT NULL,
    kind              text        NOT NULL,
    name              text        NOT NULL,
    former_names      text[]      NOT NULL DEFAULT '{}',
    kvk_number        text,
    description       text        NOT NULL DEFAULT '',
    founding_year     integer,
    communities       text[]      NOT NULL DEFAULT '{}',
    languages         text[]      NOT NULL DEFAULT '{}',
    themes            text[]      NOT NULL DEFAULT '{}',
    districts         text[]      NOT NULL DEFAULT '{}',
    target_groups     text[]      NOT NULL DEFAULT '{}',
    website           text,
    constituency_size integer,
    active_volunteers integer,
    registered_at     timestamptz NOT NULL,
    dissolved_at      timestamptz,
    membership_status text        NOT NULL DEFAULT 'none',
    member_since      timestamptz,
    version           integer     NOT NULL,
    search            tsvector    NOT NULL DEFAULT ''::tsvector,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX organisations_search ON organisations USING gin (search);
CREATE INDEX organisations_themes ON organisations USING gin (themes);
CREATE INDEX organisations_districts ON organisations USING gin (districts);
CREATE INDEX organisations_languages ON organisations USING gin (languages);
CREATE INDEX organisations_name ON organisations (tenant, lower(name));

CREATE TABLE strengths (
    tenant          text        NOT NULL,
    id              uuid        NOT NULL,
    organisation_id uuid        NOT NULL,
    kind            text        NOT NULL,
    title           text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    capacity        integer,
    languages       text[]      NOT NULL DEFAULT '{}',
    districts       text[]      NOT NULL DEFAULT '{}',
    added_at        timestamptz NOT NULL,
    withdrawn_at    timestamptz,
    search          tsvector    NOT NULL DEFAULT ''::tsvector,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX strengths_search ON strengths USING gin (search);
CREATE INDEX strengths_organisation ON strengths (tenant, organisation_id);

CREATE TABLE membership_streams (
    tenant          text NOT NULL,
    stream_id       uuid NOT NULL,
    organisation_id uuid NOT NULL,
    PRIMARY KEY (tenant, stream_id)
);
"""

    async def handle_batch(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        for event in events:
            name = event.topic.rsplit(".", 1)[-1]
            if event.topic.startswith(MEMBERSHIP):
                await self._membership(conn, event, name)
            else:
                handler = _HANDLERS.get(name)
                if handler is not None:
                    await handler(conn, event)
                await conn.execute(
                    "UPDATE organisations SET version = $3 WHERE tenant = $1 AND id = $2",
                    event.tenant,
                    event.stream_id,
                    event.version,
                )

    async def _membership(self, conn: Connection, event: RecordedEvent, name: str) -> None:
        if name == "Applied":
            await conn.execute(
                "INSERT INTO membership_streams VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                event.tenant,
                event.stream_id,
                event.payload["organisation_id"],
            )
        status = STATUS_AFTER[name]
        await conn.execute(
            "UPDATE organisations o SET membership_status = $3,"
            " member_since = CASE WHEN $3 = 'member' AND o.membership_status = 'member'"
            "   THEN o.member_since WHEN $3 = 'member' AND o.membership_status = 'suspended'"
            "   THEN o.member_since WHEN $3 = 'member' THEN $4::timestamptz"
            "   WHEN $3 = 'suspended' THEN o.member_since ELSE NULL END"
            " FROM membership_streams m WHERE m.tenant = $1 AND m.stream_id = $2"
            " AND o.tenant = m.tenant AND o.id = m.organisation_id",
            event.tenant,
            event.stream_id,
            status,
            _at(event),
        )


def _at(event: RecordedEvent) -> datetime:
    """When it happened in the world (the event's `at`), not when it was recorded."""
    return datetime.fromisoformat(event.payload["at"])


def _profile_values(profile: dict[str, Any]) -> tuple[Any, ...]:
    return (
        profile.get("description") or "",
        profile.get("founding_year"),
        list(profile.get("communities") or ()),
        list(profile.get("languages") or ()),
        list(profile.get("themes") or ()),
        list(profile.get("districts") or ()),
        list(profile.get("target_groups") or ()),
        profile.get("website"),
        profile.get("constituency_size"),
        profile.get("active_volunteers"),
    )


async def _reindex_organisation(conn: Connection, tenant: str, organisation_id: Any) -> None:
    row = await conn.fetchrow(
        "SELECT name, former_names, description, communities, target_groups, themes, languages"
        " FROM organisations WHERE tenant = $1 AND id = $2",
        tenant,
        organisation_id,
    )
    if row is None:
        return
    await conn.execute(
        _ORG_SEARCH,
        tenant,
        organisation_id,
        search_text(row["name"], row["former_names"]),
        search_text(
            row["description"],
            row["communities"],
            row["target_groups"],
            row["themes"],
            row["languages"],
        ),
    )


async def _registered(conn: Connection, event: RecordedEvent) -> None:
    p = event.payload
    await conn.execute(
        "INSERT INTO organisations (tenant, id, kind, name, kvk_number, description,"
        " founding_year, communities, languages, themes, districts, target_groups, website,"
        " constituency_size, active_volunteers, registered_at, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        " ON CONFLICT (tenant, id) DO NOTHING",
        event.tenant,
        event.stream_id,
        p["kind"],
        p["name"],
        p.get("kvk_number"),
        *_profile_values(p.get("profile") or {}),
        _at(event),
        event.version,
    )
    await _reindex_organisation(conn, event.tenant, event.stream_id)


async def _renamed(conn: Connection, event: RecordedEvent) -> None:
    await conn.execute(
        "UPDATE organisations SET name = $3, former_names = former_names || $4::text"
        " WHERE tenant = $1 AND id = $2",
        event.tenant,
        event.stream_id,
        event.payload["name"],
        event.payload["previous_name"],
    )
    await _reindex_organisation(conn, event.tenant, event.stream_id)


async def _kvk_changed(conn: Connection, event: RecordedEvent) -> None:
    await conn.execute(
        "UPDATE organisations SET kvk_number = $3 WHERE tenant = $1 AND id = $2",
        event.tenant,
        event.stream_id,
        event.payload["kvk_number"],
    )


async def _profile_updated(conn: Connection, event: RecordedEvent) -> None:
    await conn.execute(
        "UPDATE organisations SET description = $3, founding_year = $4, communities = $5,"
        " languages = $6, themes = $7, districts = $8, target_groups = $9, website = $10,"
        " constituency_size = $11, active_volunteers = $12 WHERE tenant = $1 AND id = $2",
        event.tenant,
        event.stream_id,
        *_profile_values(event.payload["profile"]),
    )
    await _reindex_organisation(conn, event.tenant, event.stream_id)


async def _dissolved(conn: Connection, event: RecordedEvent) -> None:
    await conn.execute(
        "UPDATE organisations SET dissolved_at = $3 WHERE tenant = $1 AND id = $2",
        event.tenant,
        event.stream_id,
        _at(event),
    )


async def _strength(conn: Connection, event: RecordedEvent) -> None:
    s = event.payload["strength"]
    await conn.execute(
        "INSERT INTO strengths AS s (tenant, id, organisation_id, kind, title, description,"
        " capacity, languages, districts, added_at, search)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_tsvector('dutch', $11))"
        " ON CONFLICT (tenant, id) DO UPDATE SET kind = excluded.kind, title = excluded.title,"
        " description = excluded.description, capacity = excluded.capacity,"
        " languages = excluded.languages, districts = excluded.districts,"
        " search = excluded.search",
        event.tenant,
        event.payload["strength_id"],
        event.stream_id,
        s["kind"],
        s["title"],
        s.get("description") or "",
        s.get("capacity"),
        list(s.get("languages") or ()),
        list(s.get("districts") or ()),
        _at(event),
        search_text(s["title"], s.get("description"), s["kind"], s.get("languages") or ()),
    )


async def _strength_withdrawn(conn: Connection, event: RecordedEvent) -> None:
    await conn.execute(
        "UPDATE strengths SET withdrawn_at = $3 WHERE tenant = $1 AND id = $2",
        event.tenant,
        event.payload["strength_id"],
        _at(event),
    )


_HANDLERS: dict[str, Callable[[Connection, RecordedEvent], Awaitable[None]]] = {
    "Registered": _registered,
    "Renamed": _renamed,
    "KvkNumberChanged": _kvk_changed,
    "ProfileUpdated": _profile_updated,
    "Dissolved": _dissolved,
    "StrengthAdded": _strength,
    "StrengthChanged": _strength,
    "StrengthWithdrawn": _strength_withdrawn,
}
