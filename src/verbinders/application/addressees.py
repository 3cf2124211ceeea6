"""Whom a call addresses: the platform's active members, read from the store's history.

A coordinator who issues a call during a calamity expects it to reach every organisation that
is a member *at that moment*, including one admitted a minute ago. A read model may lag behind
the feed (a busy worker, a replay in progress), and silently leaving an organisation out of a
calamity call is the worst failure this feature can have. So the command does not decide from
a read model: it reads the feed's horizon H, then the membership and organisation events up to
H, in two statements on the command's own connection (each later statement sees every
transaction that had finished when H was fixed; see the store). The call records H
(`members_as_of`): the addressees are exactly the members as the feed stood at H, a prefix of
history that anyone can check later. An admission that commits while the call is being issued
falls after H and is not addressed; the coordinator can add it explicitly.

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

MEMBERS_SQL = """
WITH latest AS (
    SELECT DISTINCT ON (stream_id) stream_id, topic
      FROM events
     WHERE tenant = $1 AND stream_type = $2 AND position <= $3
     ORDER BY stream_id, version DESC
), members AS (
    SELECT (a.payload->>'organisation_id')::uuid AS organisation_id
      FROM latest l JOIN events a ON a.stream_id = l.stream_id AND a.version = 1
     WHERE l.topic = any($4::text[])
), profiles AS (
    SELECT DISTINCT ON (o.stream_id) o.stream_id, o.payload->'profile' AS profile
      FROM events o
     WHERE o.stream_id IN (SELECT organisation_id FROM members)
       AND o.tenant = $1 AND o.topic = any($5::text[]) AND o.position <= $3
     ORDER BY o.stream_id, o.version DESC
)
SELECT p.stream_id AS organisation_id, r.payload->>'name' AS name, r.payload->>'kind' AS kind,
       p.profile
  FROM profiles p
  JOIN events r ON r.stream_id = p.stream_id AND r.version = 1
 WHERE NOT EXISTS (SELECT FROM events d WHERE d.stream_id = p.stream_id AND d.topic = $6
                   AND d.position <= $3)
 ORDER BY lower(r.payload->>'name'), p.stream_id
"""


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
    rows = await conn.fetch(
        MEMBERS_SQL,
        tenant,
        Membership.STREAM_TYPE,
        until_position,
        _ACTIVE,
        _PROFILE,
        _DISSOLVED,
    )
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
