"""The live picture of a call, read from the `calls` read model (and the outbox for "reached").

- **addressed**: organisations the call addresses; **reached**: those at least one of whose
  contact persons' mail servers accepted the call's notice (from the outbox, by the moment
  asked about); **acknowledged**, **responded**, **available**;
- **needs**: each need with who claims it;
- **by district** and **by language**: what the needs ask (their quantities) against what
  the available responses offer (their volunteers); a response that names no district counts
  as city-wide (`district` null), a need without a district too;
- **by kind**: needed quantities per kind of need against offered ones (volunteers, and each
  offer's quantity).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from verbinders.errors import NotFound

if TYPE_CHECKING:
    from verbinders.projections.reading import Reading

__all__ = ["CallPicture", "NeedState", "Tally", "call_picture", "picture_row"]


class NeedState(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    description: str
    quantity: int
    district: str | None
    language: str | None
    claimed_by: uuid.UUID | None
    claimed_by_name: str | None
    claimed_at: datetime | None


class Tally(msgspec.Struct, frozen=True, kw_only=True):
    key: str | None
    """The district, language or kind (None: city-wide)."""
    needed: int
    offered: int
    organisations: int
    """Available organisations offering towards it."""


class CallPicture(msgspec.Struct, frozen=True, kw_only=True):
    call_id: uuid.UUID
    title: str
    kind: str
    urgency: str
    state: str
    respond_by: datetime
    issued_at: datetime
    addressed: int
    reached: int
    acknowledged: int
    responded: int
    available: int
    volunteers_offered: int
    needs: list[NeedState]
    by_district: list[Tally]
    by_language: list[Tally]
    by_kind: list[Tally]
    position: int
    """The position of the latest event in this picture (the live stream's event id)."""


PICTURE_SQL = """
SELECT c.*, a.addressed, a.acknowledged, a.responded, a.available, a.volunteers
  FROM {calls} c
 CROSS JOIN LATERAL (
       SELECT count(*) AS addressed,
              count(*) FILTER (WHERE a.acknowledged_at IS NOT NULL) AS acknowledged,
              count(*) FILTER (WHERE a.first_response_at IS NOT NULL) AS responded,
              count(*) FILTER (WHERE a.available) AS available,
              coalesce(sum(a.volunteers) FILTER (WHERE a.available), 0) AS volunteers
         FROM {addressees} a
        WHERE a.tenant = c.tenant AND a.call_id = c.id AND {valid_a}) a
 WHERE c.tenant = $1 AND c.id = $2 AND {valid_c}
"""
"""The call's row and its counts, in one pass over its addressees (not one per count)."""

REACHED_SQL = """
SELECT count(DISTINCT m.organisation_id)
  FROM mail_notices n
  JOIN mail_messages m ON m.notice_id = n.id
  JOIN mail_deliveries d ON d.message_id = m.id
 WHERE n.tenant = $1 AND n.call_id = $2 AND n.kind IN ('issued', 'added')
   AND d.state = 'sent' AND ($3::timestamptz IS NULL OR d.sent_at <= $3)
"""

OFFERS_SQL = """
SELECT available, volunteers, languages, districts, offers
  FROM {addressees} a WHERE a.tenant = $1 AND a.call_id = $2 AND {valid_a} AND a.available
"""


def _names(r: Reading) -> dict[str, str]:
    return {
        "addressees": r.table("addressees"),
        "calls": r.table("calls"),
        "valid_a": r.valid("a"),
        "valid_c": r.valid("c"),
    }


async def picture_row(r: Reading, tenant: str, call_id: uuid.UUID) -> Any:
    """The call's row with its counts (`NotFound` when there is none on this platform)."""
    row = await r.fetchrow(PICTURE_SQL.format(**_names(r)), tenant, call_id)
    if row is None:
        raise NotFound(f"no call {call_id}", stream_type="Call", id=str(call_id))
    return row


def _tallies(needed: dict[Any, int], offered: dict[Any, list[int]]) -> list[Tally]:
    keys = sorted(set(needed) | set(offered), key=lambda k: (k is None, k or ""))
    return [
        Tally(
            key=key,
            needed=needed.get(key, 0),
            offered=sum(offered.get(key, [])),
            organisations=len(offered.get(key, [])),
        )
        for key in keys
    ]


async def call_picture(
    r: Reading,
    tenant: str,
    call_id: uuid.UUID,
    *,
    as_of: datetime | None = None,
) -> CallPicture:
    row = await picture_row(r, tenant, call_id)
    claims = {
        c["need_id"]: c
        for c in await r.fetch(
            "SELECT c.need_id, c.organisation_id, c.claimed_at, o.name"
            f" FROM {r.table('claims')} c LEFT JOIN {r.table('organisations')} o"
            f" ON o.tenant = c.tenant AND o.id = c.organisation_id AND {r.valid('o')}"
            f" WHERE c.tenant = $1 AND c.call_id = $2 AND {r.valid('c')}",
            tenant,
            call_id,
        )
    }
    responses = await r.fetch(OFFERS_SQL.format(**_names(r)), tenant, call_id)
    reached = await r.fetchval(REACHED_SQL, tenant, call_id, as_of)
    needs: list[NeedState] = []
    by_district: dict[Any, int] = {}
    by_language: dict[Any, int] = {}
    by_kind: dict[Any, int] = {}
    for need in row["needs"]:
        claim = claims.get(need["id"])
        needs.append(
            NeedState(
                id=need["id"],
                kind=need["kind"],
                description=need["description"],
                quantity=need.get("quantity", 1),
                district=need.get("district"),
                language=need.get("language"),
                claimed_by=claim["organisation_id"] if claim else None,
                claimed_by_name=claim["name"] if claim else None,
                claimed_at=claim["claimed_at"] if claim else None,
            )
        )
        quantity = int(need.get("quantity", 1))
        by_district[need.get("district")] = by_district.get(need.get("district"), 0) + quantity
        by_kind[need["kind"]] = by_kind.get(need["kind"], 0) + quantity
        if need.get("language"):
            by_language[need["language"]] = by_language.get(need["language"], 0) + quantity
    offered_district: dict[Any, list[int]] = {}
    offered_language: dict[Any, list[int]] = {}
    offered_kind: dict[Any, list[int]] = {}
    for response in responses:
        volunteers = int(response["volunteers"])
        for district in response["districts"] or [None]:
            offered_district.setdefault(district, []).append(volunteers)
        for language in response["languages"]:
            offered_language.setdefault(language, []).append(volunteers)
        if volunteers:
            offered_kind.setdefault("volunteers", []).append(volunteers)
        for offer in response["offers"]:
            offered_kind.setdefault(offer["kind"], []).append(int(offer.get("quantity", 1)))
    return CallPicture(
        call_id=row["id"],
        title=row["title"],
        kind=row["kind"],
        urgency=row["urgency"],
        state=row["state"],
        respond_by=row["respond_by"],
        issued_at=row["issued_at"],
        addressed=row["addressed"],
        reached=int(reached or 0),
        acknowledged=row["acknowledged"],
        responded=row["responded"],
        available=row["available"],
        volunteers_offered=int(row["volunteers"]),
        needs=needs,
        by_district=_tallies(by_district, offered_district),
        by_language=_tallies(by_language, offered_language),
        by_kind=_tallies(by_kind, offered_kind),
        position=row["position"],
    )
