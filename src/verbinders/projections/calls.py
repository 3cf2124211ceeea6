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

Every table keeps its history (`temporal.py`): the picture and the reports as of a moment are
the live queries with the versions' condition. Queries: `call_picture.py` (the picture) and
`calls_queries.py` (lists and reports) beside this module.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbinders.domain.call_responses import CallResponse, NeedClaim
from verbinders.domain.calls import Call
from verbinders.domain.organisations import Organisation
from verbinders.projections.temporal import Table, TemporalProjection, as_uuid, events_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.projections.temporal import Key, Rows
    from verbinders.store.events import RecordedEvent

__all__ = ["ADDRESSEES", "CALLS", "CLAIMS", "ORGANISATIONS", "CallsProjection"]

CALLS = Table(
    "calls",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("kind", "text"),
        ("title", "text"),
        ("urgency", "text"),
        ("state", "text"),
        ("districts", "text[]"),
        ("needs", "jsonb"),
        ("respond_by", "timestamptz"),
        ("issued_at", "timestamptz"),
        ("issued_by", "text"),
        ("members_as_of", "bigint"),
        ("closed_at", "timestamptz"),
        ("version", "integer"),
        ("position", "bigint"),
        ("need_ids", "text[]"),
        ("addressed", "integer"),
        ("responded", "integer"),
    ),
    indexes=("(tenant, issued_at DESC, id)",),
    ranged=True,
)
"""`need_ids`: the ids of the needs (which claims a change of needs drops); `addressed` and
`responded`: how many addressee rows the call has and how many of them responded (kept with
the call, so that a list of calls, live or as of a moment, counts no addressee rows: every
event that adds an addressee or a first response changes the call's row too). So a call has
a version per addressee and per first response; the list as of a moment finds the versions
true then through the GiST index on their ranges of positions (`ranged`), not among every
version from before it."""
ADDRESSEES = Table(
    "addressees",
    keys=(("tenant", "text"), ("call_id", "uuid"), ("organisation_id", "uuid")),
    values=(
        ("addressed_at", "timestamptz"),
        ("added", "boolean"),
        ("acknowledged_at", "timestamptz"),
        ("first_response_at", "timestamptz"),
        ("last_response_at", "timestamptz"),
        ("revision", "integer"),
        ("available", "boolean"),
        ("volunteers", "integer"),
        ("languages", "text[]"),
        ("districts", "text[]"),
        ("offers", "jsonb"),
        ("contact_person_id", "uuid"),
        ("reminders", "integer"),
    ),
    indexes=("(tenant, call_id)", "(tenant, organisation_id)"),
)
CLAIMS = Table(
    "claims",
    keys=(("tenant", "text"), ("call_id", "uuid"), ("need_id", "text")),
    values=(("organisation_id", "uuid"), ("claimed_at", "timestamptz"), ("note", "text")),
    indexes=("(tenant, call_id)",),
)
ORGANISATIONS = Table(
    "organisations",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(("name", "text"), ("kind", "text")),
)
RESPONSE_STREAMS = Table(
    "response_streams",
    keys=(("tenant", "text"), ("stream_id", "uuid")),
    values=(("call_id", "uuid"), ("organisation_id", "uuid")),
)
"""Which call and organisation a response stream is about (its first event says)."""
CLAIM_STREAMS = Table(
    "claim_streams",
    keys=(("tenant", "text"), ("stream_id", "uuid")),
    values=(("call_id", "uuid"), ("need_id", "text")),
)
"""Which call and need a claim stream is about (its first event says)."""


def _at(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["at"])


def _addressee(at: datetime, *, added: bool = False) -> dict[str, Any]:
    return {
        "addressed_at": at,
        "added": added,
        "acknowledged_at": None,
        "first_response_at": None,
        "last_response_at": None,
        "revision": 0,
        "available": None,
        "volunteers": 0,
        "languages": [],
        "districts": [],
        "offers": [],
        "contact_person_id": None,
        "reminders": 0,
    }


class CallsProjection(TemporalProjection):
    name = "calls"
    version = 4
    versioned = (CALLS, ADDRESSEES, CLAIMS, ORGANISATIONS, RESPONSE_STREAMS, CLAIM_STREAMS)
    tables = ("calls", "addressees", "claims", "organisations")
    events = {
        **events_of(
            Call,
            Issued="issued",
            Updated="updated",
            AddresseeAdded="addressee_added",
            Closed="closed",
            Reminded="reminded",
        ),
        **events_of(CallResponse, Acknowledged="acknowledged", Responded="responded"),
        **events_of(NeedClaim, Claimed="claimed", Reclaimed="claimed", Released="released"),
        **events_of(Organisation, Registered="organisation", Renamed="renamed"),
    }

    async def load(self, conn: Connection, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        wanted: dict[Table, set[Key]] = {t: set() for t in self.versioned}
        claims_of_calls: set[Key] = set()
        for e in events:
            method, p, key = self.dispatch[e.topic], e.payload, (e.tenant, e.stream_id)
            if method in ("organisation", "renamed"):
                wanted[ORGANISATIONS].add(key)
            elif method in ("acknowledged", "responded"):
                wanted[RESPONSE_STREAMS].add(key)
            elif method in ("claimed", "released"):
                wanted[CLAIM_STREAMS].add(key)
            else:
                wanted[CALLS].add(key)
                if method == "issued":
                    wanted[ADDRESSEES].update((*key, as_uuid(o)) for o in p["addressees"])
                elif method == "addressee_added":
                    wanted[ADDRESSEES].add((*key, as_uuid(p["organisation_id"])))
                elif method == "reminded":
                    wanted[ADDRESSEES].update((*key, as_uuid(o)) for o in p["organisations"])
                elif method == "updated":
                    claims_of_calls.add(key)
        await rows.load(conn, RESPONSE_STREAMS, wanted[RESPONSE_STREAMS])
        await rows.load(conn, CLAIM_STREAMS, wanted[CLAIM_STREAMS])
        for e in events:
            self._through_stream(rows, e, wanted)
        for table in (CALLS, ADDRESSEES, ORGANISATIONS):
            await rows.load(conn, table, wanted[table])
        if claims_of_calls:  # a change of needs may drop any claim of its call
            await rows.load_prefix(conn, CLAIMS, claims_of_calls)
        await rows.load(conn, CLAIMS, wanted[CLAIMS])

    def _through_stream(self, rows: Rows, e: RecordedEvent, wanted: dict[Table, set[Key]]) -> None:
        """Answers and claims reach their call through their stream (or their first event)."""
        method, p, key = self.dispatch[e.topic], e.payload, (e.tenant, e.stream_id)
        if method in ("acknowledged", "responded"):
            stream = rows.get(RESPONSE_STREAMS, key) or p
            call, organisation = stream.get("call_id"), stream.get("organisation_id")
            if call is not None and organisation is not None:
                wanted[CALLS].add((e.tenant, as_uuid(call)))
                wanted[ADDRESSEES].add((e.tenant, as_uuid(call), as_uuid(organisation)))
        elif method in ("claimed", "released"):
            stream = rows.get(CLAIM_STREAMS, key) or p
            call, need = stream.get("call_id"), stream.get("need_id")
            if call is not None and need is not None:
                wanted[CALLS].add((e.tenant, as_uuid(call)))
                wanted[CLAIMS].add((e.tenant, as_uuid(call), need))

    def _touch(
        self,
        rows: Rows,
        e: RecordedEvent,
        call_id: Any,
        *,
        more_addressed: int = 0,
        more_responded: int = 0,
        **values: Any,
    ) -> None:
        """The call's picture changed at `e` (its position: what the live stream resumes
        from), with `values`, and `more_addressed`/`more_responded` addressees."""
        key = (e.tenant, as_uuid(call_id))
        row = rows.get(CALLS, key)
        if row is None:
            return
        row.update(values, position=max(row["position"], e.position))
        row["addressed"] += more_addressed
        row["responded"] += more_responded
        rows.put(CALLS, key, row, e)

    # -- the call -------------------------------------------------------------------------------

    def issued(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        rows.put(
            CALLS,
            (e.tenant, e.stream_id),
            {
                "kind": p["kind"],
                "title": p["title"],
                "urgency": p["urgency"],
                "state": "open",
                "districts": list(p["districts"]),
                "needs": p["needs"],
                "respond_by": datetime.fromisoformat(p["respond_by"]),
                "issued_at": _at(p),
                "issued_by": p["issued_by"],
                "members_as_of": p["members_as_of"],
                "closed_at": None,
                "version": e.version,
                "position": e.position,
                "need_ids": [need["id"] for need in p["needs"]],
                "addressed": len({as_uuid(o) for o in p["addressees"]}),
                "responded": 0,
            },
            e,
        )
        for organisation in p["addressees"]:
            key = (e.tenant, e.stream_id, as_uuid(organisation))
            if rows.get(ADDRESSEES, key) is None:
                rows.put(ADDRESSEES, key, _addressee(_at(p)), e)

    def updated(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        need_ids = [need["id"] for need in p["needs"]]
        self._touch(
            rows,
            e,
            e.stream_id,
            title=p["title"],
            urgency=p["urgency"],
            districts=list(p["districts"]),
            needs=p["needs"],
            respond_by=datetime.fromisoformat(p["respond_by"]),
            version=e.version,
            need_ids=need_ids,
        )
        if "needs" in p["changed"]:  # a claim on a need that is gone no longer counts
            for key in rows.keys_with_prefix(CLAIMS, (e.tenant, e.stream_id)):
                if key[2] not in need_ids:
                    rows.delete(CLAIMS, key, e)

    def addressee_added(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        key = (e.tenant, e.stream_id, as_uuid(p["organisation_id"]))
        new = rows.get(ADDRESSEES, key) is None
        if new:
            rows.put(ADDRESSEES, key, _addressee(_at(p), added=True), e)
        self._touch(rows, e, e.stream_id, version=e.version, more_addressed=int(new))

    def closed(self, rows: Rows, e: RecordedEvent) -> None:
        self._touch(
            rows, e, e.stream_id, state="closed", closed_at=_at(e.payload), version=e.version
        )

    def reminded(self, rows: Rows, e: RecordedEvent) -> None:
        for organisation in e.payload["organisations"]:
            key = (e.tenant, e.stream_id, as_uuid(organisation))
            row = rows.get(ADDRESSEES, key)
            if row is not None:
                rows.put(ADDRESSEES, key, {**row, "reminders": row["reminders"] + 1}, e)
        self._touch(rows, e, e.stream_id, version=e.version)

    # -- answers --------------------------------------------------------------------------------

    def acknowledged(self, rows: Rows, e: RecordedEvent) -> None:
        # The response stream's own id is derived; its call and organisation are in here.
        p = e.payload
        call, organisation = as_uuid(p["call_id"]), as_uuid(p["organisation_id"])
        key = (e.tenant, call, organisation)
        row = rows.get(ADDRESSEES, key)
        new = row is None
        if row is None:
            row = {**_addressee(_at(p)), "acknowledged_at": _at(p)}
        elif row["acknowledged_at"] is None:
            row["acknowledged_at"] = _at(p)
        rows.put(ADDRESSEES, key, row, e)
        stream = (e.tenant, e.stream_id)
        if rows.get(RESPONSE_STREAMS, stream) is None:
            link = {"call_id": call, "organisation_id": organisation}
            rows.put(RESPONSE_STREAMS, stream, link, e)
        self._touch(rows, e, call, more_addressed=int(new))

    def responded(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        stream = rows.get(RESPONSE_STREAMS, (e.tenant, e.stream_id))
        if stream is None:
            return
        key = (e.tenant, stream["call_id"], stream["organisation_id"])
        row = rows.get(ADDRESSEES, key)
        if row is None:
            return
        response = p["response"]
        contact = response.get("contact_person_id")
        first = row["first_response_at"] is None
        row.update(
            first_response_at=row["first_response_at"] or _at(p),
            last_response_at=_at(p),
            revision=p["revision"],
            available=response["available"],
            volunteers=response.get("volunteers", 0),
            languages=list(response.get("languages", [])),
            districts=list(response.get("districts", [])),
            offers=response.get("offers", []),
            contact_person_id=as_uuid(contact) if contact else None,
        )
        rows.put(ADDRESSEES, key, row, e)
        self._touch(rows, e, stream["call_id"], more_responded=int(first))

    def _claim_of(self, rows: Rows, e: RecordedEvent) -> tuple[uuid.UUID, str]:
        p, key = e.payload, (e.tenant, e.stream_id)
        if "call_id" in p and rows.get(CLAIM_STREAMS, key) is None:
            # The stream's first event names its call and need.
            link = {"call_id": as_uuid(p["call_id"]), "need_id": p["need_id"]}
            rows.put(CLAIM_STREAMS, key, link, e)
        stream = rows.get(CLAIM_STREAMS, key)
        if stream is None:  # a stream whose first event this model never saw: impossible
            raise LookupError(f"claim stream {e.stream_id} is unknown to the calls read model")
        return stream["call_id"], stream["need_id"]

    def claimed(self, rows: Rows, e: RecordedEvent) -> None:
        call, need = self._claim_of(rows, e)
        p = e.payload
        values = {
            "organisation_id": as_uuid(p["organisation_id"]),
            "claimed_at": _at(p),
            "note": p.get("note", ""),
        }
        rows.put(CLAIMS, (e.tenant, call, need), values, e)
        self._touch(rows, e, call)

    def released(self, rows: Rows, e: RecordedEvent) -> None:
        call, need = self._claim_of(rows, e)
        rows.delete(CLAIMS, (e.tenant, call, need), e)
        self._touch(rows, e, call)

    # -- organisations --------------------------------------------------------------------------

    def organisation(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        if rows.get(ORGANISATIONS, key) is None:
            values = {"name": e.payload["name"], "kind": e.payload["kind"]}
            rows.put(ORGANISATIONS, key, values, e)

    def renamed(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        row = rows.get(ORGANISATIONS, key)
        if row is not None:
            rows.put(ORGANISATIONS, key, {**row, "name": e.payload["name"]}, e)
