"""Whom a call addresses: the platform's active members, exactly as the feed stood at a position.

A coordinator who issues a call during a calamity expects it to reach every organisation that
is a member *at that moment*, including one admitted a minute ago. A read model may lag behind
the feed (a busy worker, a replay in progress), and silently leaving an organisation out of a
calamity call is the worst failure this feature can have. So the command does not decide from
a read model. It reads the feed's horizon H, then the members as they stood at H, in two
statements on the command's own connection (each later statement sees every transaction that
had finished when H was fixed; see the store). The call records H (`members_as_of`): the
addressees are exactly the members as the feed stood at H, a prefix of history that anyone
can check later. An admission that commits while the call is being issued falls after H and
is not addressed; the coordinator can add it explicitly.

The members are read from two small tables, one row per membership stream and one per
organisation stream (`call_audience_memberships`, `call_audience_organisations`), which a
trigger on `events` keeps inside every append of those streams: the same transaction, so a
row is never ahead of or behind the events it stands for. Each row carries the position of
the last event that changed it. A row whose position is at most H is the stream's state at H
(a stream's positions grow with its versions, and every position up to H is visible); the
few rows that an event after H has changed are recomputed from their streams' events up to H
(by stream id, through the `(stream_id, version)` index). Reading costs O(memberships of the
platform), whatever the length of its history.

Active membership: the membership's latest event is an admission or a reinstatement (a
suspended organisation is not addressed), and the organisation is not dissolved. Narrowing
(each optional; several values of one kind: any of them; several kinds: all of them):

- districts: the organisation works in one of them, or names no district (city-wide);
- languages: its profile lists one of them;
- themes: its profile lists one of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from verbinders.domain.call_responses import CallResponse, response_id
from verbinders.domain.calls import Audience, Call
from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.store.feed_guards import feed_refusal
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = [
    "AUDIENCE_SQL",
    "MIGRATIONS",
    "Member",
    "active_members",
    "addressees_at",
    "feed_horizon",
    "narrow",
    "responded_by",
]

# The event classes `@event` creates are invisible to type checkers.
_ACTIVE = [topic_of(Membership.Admitted), topic_of(Membership.Reinstated)]  # type: ignore[attr-defined]
_PROFILE = [
    topic_of(Organisation.Registered),  # type: ignore[attr-defined]
    topic_of(Organisation.ProfileUpdated),  # type: ignore[attr-defined]
]
_DISSOLVED = topic_of(Organisation.Dissolved)  # type: ignore[attr-defined]
_ISSUED = topic_of(Call.Issued)  # type: ignore[attr-defined]
_ADDED = topic_of(Call.AddresseeAdded)  # type: ignore[attr-defined]
_RESPONDED = topic_of(CallResponse.Responded)  # type: ignore[attr-defined]

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "the latest state of memberships and organisations, kept with the appends, for calls",
        """
CREATE TABLE call_audience_memberships (
    stream_id       uuid    PRIMARY KEY,
    tenant          text    NOT NULL,
    organisation_id uuid    NOT NULL,
    active          boolean NOT NULL,
    position        bigint  NOT NULL
);
CREATE INDEX call_audience_memberships_tenant ON call_audience_memberships (tenant);
CREATE TABLE call_audience_organisations (
    organisation_id uuid    PRIMARY KEY,
    tenant          text    NOT NULL,
    name            text,
    kind            text,
    profile         jsonb,
    profiled        boolean NOT NULL DEFAULT false,
    dissolved       boolean NOT NULL DEFAULT false,
    position        bigint  NOT NULL
);

CREATE FUNCTION call_audience_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream_type = 'Membership' THEN
        IF NEW.version = 1 THEN
            INSERT INTO call_audience_memberships
                 VALUES (NEW.stream_id, NEW.tenant, (NEW.payload->>'organisation_id')::uuid,
                         NEW.topic = ANY (ARRAY['verbinders.domain.membership:Membership.Admitted',
                                                'verbinders.domain.membership:Membership.Reinstated']),
                         NEW.position);
        ELSE
            UPDATE call_audience_memberships
               SET active = NEW.topic = ANY (ARRAY[
                       'verbinders.domain.membership:Membership.Admitted',
                       'verbinders.domain.membership:Membership.Reinstated']),
                   position = NEW.position
             WHERE stream_id = NEW.stream_id;
        END IF;
    ELSIF NEW.version = 1 THEN
        INSERT INTO call_audience_organisations
             VALUES (NEW.stream_id, NEW.tenant, NEW.payload->>'name', NEW.payload->>'kind',
                     NEW.payload->'profile',
                     NEW.topic IN ('verbinders.domain.organisations:Organisation.Registered',
                                   'verbinders.domain.organisations:Organisation.ProfileUpdated'),
                     NEW.topic = 'verbinders.domain.organisations:Organisation.Dissolved',
                     NEW.position);
    ELSIF NEW.topic IN ('verbinders.domain.organisations:Organisation.Registered',
                        'verbinders.domain.organisations:Organisation.ProfileUpdated') THEN
        UPDATE call_audience_organisations
           SET profile = NEW.payload->'profile', profiled = true, position = NEW.position
         WHERE organisation_id = NEW.stream_id;
    ELSIF NEW.topic = 'verbinders.domain.organisations:Organisation.Dissolved' THEN
        UPDATE call_audience_organisations SET dissolved = true, position = NEW.position
         WHERE organisation_id = NEW.stream_id;
    END IF;
    RETURN NULL;
END $$;

-- Created before the backfill, in its transaction: appends wait until both are committed, so
-- no event falls between them.
CREATE TRIGGER events_call_audience AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.stream_type IN ('Membership', 'Organisation'))
    EXECUTE FUNCTION call_audience_apply();

INSERT INTO call_audience_memberships
SELECT DISTINCT ON (e.stream_id) e.stream_id, e.tenant, (f.payload->>'organisation_id')::uuid,
       e.topic = ANY (ARRAY['verbinders.domain.membership:Membership.Admitted',
                            'verbinders.domain.membership:Membership.Reinstated']),
       e.position
  FROM events e JOIN events f ON f.stream_id = e.stream_id AND f.version = 1
 WHERE e.stream_type = 'Membership'
 ORDER BY e.stream_id, e.version DESC;

INSERT INTO call_audience_organisations
SELECT f.stream_id, f.tenant, f.payload->>'name', f.payload->>'kind', p.payload->'profile',
       p.stream_id IS NOT NULL, d.position IS NOT NULL,
       greatest(f.position, p.position, d.position)
  FROM events f
  LEFT JOIN LATERAL (
      SELECT stream_id, payload, position FROM events x
       WHERE x.stream_id = f.stream_id
         AND x.topic IN ('verbinders.domain.organisations:Organisation.Registered',
                         'verbinders.domain.organisations:Organisation.ProfileUpdated')
       ORDER BY x.version DESC LIMIT 1) p ON true
  LEFT JOIN LATERAL (
      SELECT position FROM events x
       WHERE x.stream_id = f.stream_id
         AND x.topic = 'verbinders.domain.organisations:Organisation.Dissolved'
       ORDER BY x.version DESC LIMIT 1) d ON true
 WHERE f.stream_type = 'Organisation' AND f.version = 1;
""",
    ),
]
"""`call_audience_*`: each membership's and organisation's latest state as far as a call's
audience is concerned, one row per stream, written by a trigger inside every append of those
streams (see docs/architecture.md, "Whom a call addresses")."""

AUDIENCE_SQL = """
WITH current AS (
    SELECT m.stream_id, m.organisation_id, m.active, m.position AS membership_position,
           o.name, o.kind, o.profile, o.profiled, o.dissolved, o.position AS profile_position
      FROM call_audience_memberships m
      JOIN call_audience_organisations o ON o.organisation_id = m.organisation_id
     WHERE m.tenant = $1
), moved_members AS (
    SELECT c.organisation_id
      FROM current c
     CROSS JOIN LATERAL (
           SELECT e.topic FROM events e
            WHERE e.stream_id = c.stream_id AND e.position <= $2
            ORDER BY e.version DESC LIMIT 1) l
     WHERE (c.membership_position > $2 OR c.profile_position > $2)
       AND l.topic = any($3::text[])
), moved AS (
    SELECT m.organisation_id, r.name, r.kind, p.profile
      FROM moved_members m
     CROSS JOIN LATERAL (
           SELECT o.payload->'profile' AS profile FROM events o
            WHERE o.stream_id = m.organisation_id AND o.topic = any($4::text[])
              AND o.position <= $2
            ORDER BY o.version DESC LIMIT 1) p
     CROSS JOIN LATERAL (
           SELECT f.payload->>'name' AS name, f.payload->>'kind' AS kind FROM events f
            WHERE f.stream_id = m.organisation_id AND f.version = 1 LIMIT 1) r
     WHERE NOT EXISTS (SELECT FROM events d WHERE d.stream_id = m.organisation_id
                       AND d.topic = $5 AND d.position <= $2)
)
SELECT * FROM (
    SELECT organisation_id, name, kind, profile FROM current
     WHERE active AND profiled AND NOT dissolved
       AND membership_position <= $2 AND profile_position <= $2
    UNION ALL
    SELECT organisation_id, name, kind, profile FROM moved
) members
 ORDER BY lower(name), organisation_id
"""
"""The members at position $2 (a horizon read before): the audience tables' rows that no
event after $2 has touched, as they stand; the few that one has (an admission, a suspension or
a profile change that committed since), from their streams' events up to $2."""


class Member(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation with an active membership, with what narrowing looks at."""

    organisation_id: uuid.UUID
    name: str
    kind: str
    districts: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()


async def feed_horizon(conn: Connection) -> int:
    """Every position up to the answer belongs to a finished transaction (see the store)."""
    with feed_refusal():
        return int(await conn.fetchval("SELECT feed_horizon()"))


async def active_members(conn: Connection, tenant: str, *, until_position: int) -> list[Member]:
    """The organisations with an active membership as the feed stood at `until_position`,
    by name. Read a horizon first (`feed_horizon`) and pass it, in a later statement."""
    rows = await conn.fetch(AUDIENCE_SQL, tenant, until_position, _ACTIVE, _PROFILE, _DISSOLVED)
    members = []
    for row in rows:
        profile = row["profile"] or {}
        members.append(
            Member(
                organisation_id=row["organisation_id"],
                name=row["name"],
                kind=row["kind"],
                districts=tuple(profile.get("districts") or ()),
                languages=tuple(profile.get("languages") or ()),
                themes=tuple(profile.get("themes") or ()),
            )
        )
    return members


def narrow(members: Sequence[Member], audience: Audience) -> list[Member]:
    """The members the audience reaches (see the module's notes)."""

    def reached(member: Member) -> bool:
        if (
            audience.districts
            and member.districts
            and not set(audience.districts) & set(member.districts)
        ):
            return False
        if audience.languages and not set(audience.languages) & set(member.languages):
            return False
        return not (audience.themes and not set(audience.themes) & set(member.themes))

    return [member for member in members if reached(member)]


async def addressees_at(
    conn: Connection, call_id: uuid.UUID, *, until_version: int
) -> list[uuid.UUID]:
    """The call's addressees as they stood at version `until_version` of its stream."""
    rows = await conn.fetch(
        "SELECT topic, payload FROM events WHERE stream_id = $1 AND version <= $2"
        " AND topic = any($3::text[]) ORDER BY version",
        call_id,
        until_version,
        [_ISSUED, _ADDED],
    )
    found: dict[uuid.UUID, None] = {}
    for row in rows:
        if row["topic"] == _ISSUED:
            found.update(dict.fromkeys(uuid.UUID(o) for o in row["payload"]["addressees"]))
        else:
            found[uuid.UUID(row["payload"]["organisation_id"])] = None
    return list(found)


async def responded_by(
    conn: Connection,
    tenant: str,
    call_id: uuid.UUID,
    organisations: Sequence[uuid.UUID],
    *,
    until_position: int,
) -> set[uuid.UUID]:
    """Which of `organisations` had responded to the call by `until_position`."""
    ids = {response_id(tenant, call_id, o): o for o in organisations}
    rows = await conn.fetch(
        "SELECT DISTINCT stream_id FROM events WHERE stream_id = any($1::uuid[])"
        " AND topic = $2 AND position <= $3",
        list(ids),
        _RESPONDED,
        until_position,
    )
    return {ids[row["stream_id"]] for row in rows}
