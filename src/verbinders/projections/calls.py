"""Calls: each call with its needs, every addressee's acknowledgement and response, the claims.

Tables (readers query the views `calls.<table>`; every row carries its tenant):

- `calls`: one row per call as it stands (needs as issued or last updated, as JSON), with
  the position of the latest event that changed its picture (`position`: what the live
  stream resumes from);
- `addressees`: one row per call and organisation addressed: when addressed (and whether
  added later), acknowledged, first and last responded, the latest response (available,
  volunteers, languages, districts, offers), how many reminders it got;
- `claims`: the need's current holder, per call and need;
- `organisations`: names and kinds of the platform's organisations (for the picture and the
  reports by kind of organisation).

Queries: `picture.py` (the live picture) and `call_reports.py` (reports) beside this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbinders.domain.call_responses import CallResponse, NeedClaim
from verbinders.domain.calls import Call
from verbinders.domain.organisations import Organisation
from verbinders.projections.engine import Projection
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["CallsProjection"]

# The event classes `@event` creates are invisible to type checkers.
_HANDLERS = {
    topic_of(Call.Issued): "_issued",  # type: ignore[attr-defined]
    topic_of(Call.Updated): "_updated",  # type: ignore[attr-defined]
    topic_of(Call.AddresseeAdded): "_addressee_added",  # type: ignore[attr-defined]
    topic_of(Call.Closed): "_closed",  # type: ignore[attr-defined]
    topic_of(Call.Reminded): "_reminded",  # type: ignore[attr-defined]
    topic_of(CallResponse.Acknowledged): "_acknowledged",  # type: ignore[attr-defined]
    topic_of(CallResponse.Responded): "_responded",  # type: ignore[attr-defined]
    topic_of(NeedClaim.Claimed): "_claimed",  # type: ignore[attr-defined]
    topic_of(NeedClaim.Reclaimed): "_claimed",  # type: ignore[attr-defined]
    topic_of(NeedClaim.Released): "_released",  # type: ignore[attr-defined]
    topic_of(Organisation.Registered): "_organisation",  # type: ignore[attr-defined]
    topic_of(Organisation.Renamed): "_renamed",  # type: ignore[attr-defined]
}


def _at(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["at"])


class CallsProjection(Projection):
    name = "calls"
    version = 1
    topics = tuple(_HANDLERS)
    tables = ("calls", "addressees", "claims", "organisations")

    def ddl(self) -> str:
        return """
CREATE TABLE calls (
    tenant     text        NOT NULL,
    id         uuid        NOT NULL,
    kind       text        NOT NULL,
    title      text        NOT NULL,
    urgency    text        NOT NULL,
    state      text        NOT NULL,
    districts  text[]      NOT NULL,
    needs      jsonb       NOT NULL,
    respond_by timestamptz NOT NULL,
    issued_at  timestamptz NOT NULL,
    issued_by  text        NOT NULL,
    members_as_of bigint   NOT NULL,
    closed_at  timestamptz,
    version    integer     NOT NULL,
    position   bigint      NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX calls_by_issue ON calls (tenant, issued_at DESC, id);

CREATE TABLE addressees (
    tenant            text        NOT NULL,
    call_id           uuid        NOT NULL,
    organisation_id   uuid        NOT NULL,
    addressed_at      timestamptz NOT NULL,
    added             boolean     NOT NULL DEFAULT false,
    acknowledged_at   timestamptz,
    first_response_at timestamptz,
    last_response_at  timestamptz,
    revision          integer     NOT NULL DEFAULT 0,
    available         boolean,
    volunteers        integer     NOT NULL DEFAULT 0,
    languages         text[]      NOT NULL DEFAULT '{}',
    districts         text[]      NOT NULL DEFAULT '{}',
    offers            jsonb       NOT NULL DEFAULT '[]',
    contact_person_id uuid,
    reminders         integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, call_id, organisation_id)
);
CREATE INDEX addressees_by_organisation ON addressees (tenant, organisation_id);

CREATE TABLE claims (
    tenant          text        NOT NULL,
    call_id         uuid        NOT NULL,
    need_id         text        NOT NULL,
    organisation_id uuid        NOT NULL,
    claimed_at      timestamptz NOT NULL,
    note            text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, call_id, need_id)
);

CREATE TABLE organisations (
    tenant text NOT NULL,
    id     uuid NOT NULL,
    name   text NOT NULL,
    kind   text NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- Which call (and organisation, or need) a response or claim stream is about: named by the
-- stream's first event only.
CREATE TABLE response_streams (
    tenant          text NOT NULL,
    stream_id       uuid NOT NULL,
    call_id         uuid NOT NULL,
    organisation_id uuid NOT NULL,
    PRIMARY KEY (tenant, stream_id)
);
CREATE TABLE claim_streams (
    tenant    text NOT NULL,
    stream_id uuid NOT NULL,
    call_id   uuid NOT NULL,
    need_id   text NOT NULL,
    PRIMARY KEY (tenant, stream_id)
);
"""

    async def handle(self, conn: Connection, event: RecordedEvent) -> None:
        handler = getattr(self, _HANDLERS.get(event.topic, ""), None)
        if handler is not None:
            await handler(conn, event, event.payload)

    async def _touch(self, conn: Connection, tenant: str, call_id: Any, position: int) -> None:
        """The call's picture changed at `position` (the live stream's resume point)."""
        await conn.execute(
            "UPDATE calls SET position = greatest(position, $3) WHERE tenant = $1 AND id = $2",
            tenant,
            call_id,
            position,
        )

    # -- the call -------------------------------------------------------------------------------

    async def _issued(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "INSERT INTO calls (tenant, id, kind, title, urgency, state, districts, needs,"
            " respond_by, issued_at, issued_by, members_as_of, version, position)"
            " VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, $12, $13)",
            e.tenant,
            e.stream_id,
            p["kind"],
            p["title"],
            p["urgency"],
            p["districts"],
            p["needs"],
            datetime.fromisoformat(p["respond_by"]),
            _at(p),
            p["issued_by"],
            p["members_as_of"],
            e.version,
            e.position,
        )
        await conn.execute(
            "INSERT INTO addressees (tenant, call_id, organisation_id, addressed_at)"
            " SELECT $1, $2, o, $4 FROM unnest($3::uuid[]) AS o ON CONFLICT DO NOTHING",
            e.tenant,
            e.stream_id,
            p["addressees"],
            _at(p),
        )

    async def _updated(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "UPDATE calls SET title = $3, urgency = $4, districts = $5, needs = $6,"
            " respond_by = $7, version = $8, position = $9 WHERE tenant = $1 AND id = $2",
            e.tenant,
            e.stream_id,
            p["title"],
            p["urgency"],
            p["districts"],
            p["needs"],
            datetime.fromisoformat(p["respond_by"]),
            e.version,
            e.position,
        )
        if "needs" in p["changed"]:  # a claim on a need that is gone no longer counts
            await conn.execute(
                "DELETE FROM claims WHERE tenant = $1 AND call_id = $2"
                " AND need_id <> ALL($3::text[])",
                e.tenant,
                e.stream_id,
                [need["id"] for need in p["needs"]],
            )

    async def _addressee_added(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "INSERT INTO addressees (tenant, call_id, organisation_id, addressed_at, added)"
            " VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING",
            e.tenant,
            e.stream_id,
            p["organisation_id"],
            _at(p),
        )
        await conn.execute(
            "UPDATE calls SET version = $3, position = $4 WHERE tenant = $1 AND id = $2",
            e.tenant,
            e.stream_id,
            e.version,
            e.position,
        )

    async def _closed(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "UPDATE calls SET state = 'closed', closed_at = $3, version = $4, position = $5"
            " WHERE tenant = $1 AND id = $2",
            e.tenant,
            e.stream_id,
            _at(p),
            e.version,
            e.position,
        )

    async def _reminded(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "UPDATE addressees SET reminders = reminders + 1"
            " WHERE tenant = $1 AND call_id = $2 AND organisation_id = any($3::uuid[])",
            e.tenant,
            e.stream_id,
            p["organisations"],
        )
        await conn.execute(
            "UPDATE calls SET version = $3, position = $4 WHERE tenant = $1 AND id = $2",
            e.tenant,
            e.stream_id,
            e.version,
            e.position,
        )

    # -- answers --------------------------------------------------------------------------------

    async def _acknowledged(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        # The response stream's own id is derived; its call and organisation are in here.
        await conn.execute(
            "INSERT INTO addressees (tenant, call_id, organisation_id, addressed_at,"
            " acknowledged_at) VALUES ($1, $2, $3, $4, $4)"
            " ON CONFLICT (tenant, call_id, organisation_id)"
            " DO UPDATE SET acknowledged_at = coalesce(addressees.acknowledged_at, $4)",
            e.tenant,
            p["call_id"],
            p["organisation_id"],
            _at(p),
        )
        await conn.execute(
            "INSERT INTO response_streams (tenant, stream_id, call_id, organisation_id)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            e.tenant,
            e.stream_id,
            p["call_id"],
            p["organisation_id"],
        )
        await self._touch(conn, e.tenant, p["call_id"], e.position)

    async def _responded(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        response = p["response"]
        call_id = await conn.fetchval(
            "UPDATE addressees a SET first_response_at = coalesce(a.first_response_at, $3),"
            " last_response_at = $3, revision = $4, available = $5, volunteers = $6,"
            " languages = $7, districts = $8, offers = $9, contact_person_id = $10"
            " FROM response_streams s"
            " WHERE s.tenant = $1 AND s.stream_id = $2"
            " AND a.tenant = s.tenant AND a.call_id = s.call_id"
            " AND a.organisation_id = s.organisation_id"
            " RETURNING a.call_id",
            e.tenant,
            e.stream_id,
            _at(p),
            p["revision"],
            response["available"],
            response.get("volunteers", 0),
            response.get("languages", []),
            response.get("districts", []),
            response.get("offers", []),
            response.get("contact_person_id"),
        )
        if call_id is not None:
            await self._touch(conn, e.tenant, call_id, e.position)

    async def _claimed(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        call_id, need_id = await self._claim_of(conn, e, p)
        await conn.execute(
            "INSERT INTO claims (tenant, call_id, need_id, organisation_id, claimed_at, note)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, call_id, need_id) DO UPDATE"
            " SET organisation_id = $4, claimed_at = $5, note = $6",
            e.tenant,
            call_id,
            need_id,
            p["organisation_id"],
            _at(p),
            p.get("note", ""),
        )
        await self._touch(conn, e.tenant, call_id, e.position)

    async def _released(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        call_id, need_id = await self._claim_of(conn, e, p)
        await conn.execute(
            "DELETE FROM claims WHERE tenant = $1 AND call_id = $2 AND need_id = $3",
            e.tenant,
            call_id,
            need_id,
        )
        await self._touch(conn, e.tenant, call_id, e.position)

    async def _claim_of(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> Any:
        if "call_id" in p:  # the stream's first event names its call and need
            await conn.execute(
                "INSERT INTO claim_streams (tenant, stream_id, call_id, need_id)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                e.tenant,
                e.stream_id,
                p["call_id"],
                p["need_id"],
            )
        row = await conn.fetchrow(
            "SELECT call_id, need_id FROM claim_streams WHERE tenant = $1 AND stream_id = $2",
            e.tenant,
            e.stream_id,
        )
        if row is None:  # a stream whose first event this model never saw: impossible
            raise LookupError(f"claim stream {e.stream_id} is unknown to the calls read model")
        return row["call_id"], row["need_id"]

    # -- organisations --------------------------------------------------------------------------

    async def _organisation(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "INSERT INTO organisations (tenant, id, name, kind) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            e.tenant,
            e.stream_id,
            p["name"],
            p["kind"],
        )

    async def _renamed(self, conn: Connection, e: RecordedEvent, p: dict[str, Any]) -> None:
        await conn.execute(
            "UPDATE organisations SET name = $3 WHERE tenant = $1 AND id = $2",
            e.tenant,
            e.stream_id,
            p["name"],
        )
