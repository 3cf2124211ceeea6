"""The membership register and its growth: who is a member, since when, and how that grew.

Tables (readers query the views in the schema `membership`):

- `platforms`: when each platform started (from `Platform.Created`), where growth begins;
- `organisations`: each organisation's kind and current name (from `Organisation.Registered`
  and `Renamed`), for the register and the breakdown by kind;
- `memberships`: one row per membership stream, its status now;
- `transitions`: every membership event with the status it led to, **effective from** its
  `at` **until** the next event's `at` (open while current), with who decided and why;
- `periods`: periods of membership (admitted until left; a suspension does not interrupt one);
- `suspensions`: periods of suspension.

Two kinds of time (see docs/architecture.md). The validity columns hold the world's time, the
events' `at` (when an admission took effect), not the time of recording: history loaded
afterwards (the demo, an import of the paper register) lands where it happened. So "the
register as things stood on 1 March 2021" is a condition on those columns (the queries' `at`),
with no replay. What the platform *knew* at a moment (`as_of` in the API: only the events
recorded by then) is a second condition, on the versions' positions (`temporal.py`): every
table keeps its history. Queries: `membership_queries.py`.

Months and years are counted in the platform's local time (`TIME_ZONE`): "members at the end of
March" are those whose period covers the last moment of 31 March in Amsterdam. Joins are
admissions (a readmission after leaving counts again), leaves are `Left` events; a suspended
organisation is still a member.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from verbinders.domain.membership import Membership
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform
from verbinders.projections.temporal import Table, TemporalProjection, as_uuid, events_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from verbinders.database import Connection
    from verbinders.projections.temporal import Key, Rows
    from verbinders.store.events import RecordedEvent

__all__ = [
    "MEMBERSHIPS",
    "ORGANISATIONS",
    "PERIODS",
    "PLATFORMS",
    "STATUS_AFTER",
    "SUSPENSIONS",
    "TIME_ZONE",
    "TRANSITIONS",
    "MembershipProjection",
]

TIME_ZONE = "Europe/Amsterdam"
"""Month and year boundaries of the growth report (every platform so far is Dutch)."""

STATUS_AFTER = {
    "Applied": "applied",
    "Reapplied": "applied",
    "ApplicationWithdrawn": "withdrawn",
    "Admitted": "member",
    "Rejected": "rejected",
    "Suspended": "suspended",
    "Reinstated": "member",
    "Left": "left",
}

PLATFORMS = Table("platforms", keys=(("tenant", "text"),), values=(("started_on", "date"),))
ORGANISATIONS = Table(
    "organisations",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(("kind", "text"), ("name", "text"), ("registered_at", "timestamptz")),
)
MEMBERSHIPS = Table(
    "memberships",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("organisation_id", "uuid"),
        ("status", "text"),
        ("applied_at", "timestamptz"),
        ("changed_at", "timestamptz"),
        ("member_since", "timestamptz"),
        ("first_admitted_at", "timestamptz"),
        ("version", "integer"),
        ("open_period", "integer"),
        ("open_suspension", "integer"),
    ),
    # No secondary index: no query reads this table (it is the fold's own state).
)
"""`open_period`/`open_suspension`: the version that opened the running period/suspension."""
TRANSITIONS = Table(
    "transitions",
    keys=(("tenant", "text"), ("membership_id", "uuid"), ("version", "integer")),
    values=(
        ("organisation_id", "uuid"),
        ("event", "text"),
        ("status", "text"),
        ("effective_from", "timestamptz"),
        ("effective_until", "timestamptz"),
        ("decided_by", "text"),
        ("reason", "text"),
        ("motivation", "text"),
        ("meeting_id", "uuid"),
        ("position", "bigint"),
    ),
    checks=("effective_until IS NULL OR effective_until >= effective_from",),
    # No secondary index: the register reads a platform's transitions through the key's own
    # indexes (they begin with the tenant); its conditions on the status and the effective
    # times are too few rows' worth to index, and every version of a transition (two per
    # membership event: the new one and the one it ends) would enter each index.
)
"""`effective_from`/`effective_until`: the world's time (the events' `at`) the status held."""
PERIODS = Table(
    "periods",
    keys=(("tenant", "text"), ("membership_id", "uuid"), ("admitted_version", "integer")),
    values=(("organisation_id", "uuid"), ("since", "timestamptz"), ("until", "timestamptz")),
    checks=("until IS NULL OR until >= since",),
    indexes=("(tenant, since)", "(tenant, until)"),
)
SUSPENSIONS = Table(
    "suspensions",
    keys=(("tenant", "text"), ("membership_id", "uuid"), ("suspended_version", "integer")),
    values=(("organisation_id", "uuid"), ("since", "timestamptz"), ("until", "timestamptz")),
    checks=("until IS NULL OR until >= since",),
    indexes=("(tenant, since)",),
)


def _at(event: RecordedEvent) -> datetime:
    """When it took effect in the world (the event's `at`), not when it was recorded."""
    return datetime.fromisoformat(event.payload["at"])


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else as_uuid(value)


class MembershipProjection(TemporalProjection):
    name = "membership"
    version = 3
    versioned = (PLATFORMS, ORGANISATIONS, MEMBERSHIPS, TRANSITIONS, PERIODS, SUSPENSIONS)
    events = {
        **events_of(Platform, Created="platform_created"),
        **events_of(Organisation, Registered="registered", Renamed="renamed"),
        **events_of(Membership, **dict.fromkeys(STATUS_AFTER, "membership")),
    }

    async def load(self, conn: Connection, rows: Rows, events: Sequence[RecordedEvent]) -> None:
        wanted: dict[Table, set[Key]] = {t: set() for t in self.versioned}
        for e in events:
            method = self.dispatch[e.topic]
            if method == "platform_created":
                wanted[PLATFORMS].add((e.tenant,))
            elif method == "membership":
                wanted[MEMBERSHIPS].add((e.tenant, e.stream_id))
                if e.version > 1:  # every membership event opens a transition
                    wanted[TRANSITIONS].add((e.tenant, e.stream_id, e.version - 1))
            else:
                wanted[ORGANISATIONS].add((e.tenant, e.stream_id))
        for table in (PLATFORMS, ORGANISATIONS, MEMBERSHIPS, TRANSITIONS):
            await rows.load(conn, table, wanted[table])
        # The running period and suspension, through their membership.
        for e in events:
            key = (e.tenant, e.stream_id)
            if self.dispatch[e.topic] == "membership" and rows.known(MEMBERSHIPS, key):
                membership = rows.get(MEMBERSHIPS, key)
                if membership is not None:
                    if membership["open_period"] is not None:
                        wanted[PERIODS].add((*key, membership["open_period"]))
                    if membership["open_suspension"] is not None:
                        wanted[SUSPENSIONS].add((*key, membership["open_suspension"]))
        await rows.load(conn, PERIODS, wanted[PERIODS])
        await rows.load(conn, SUSPENSIONS, wanted[SUSPENSIONS])

    def platform_created(self, rows: Rows, e: RecordedEvent) -> None:
        if rows.get(PLATFORMS, (e.tenant,)) is None:
            started = date.fromisoformat(e.payload["started_on"])
            rows.put(PLATFORMS, (e.tenant,), {"started_on": started}, e)

    def registered(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        if rows.get(ORGANISATIONS, key) is None:
            p = e.payload
            values = {"kind": p["kind"], "name": p["name"], "registered_at": _at(e)}
            rows.put(ORGANISATIONS, key, values, e)

    def renamed(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        row = rows.get(ORGANISATIONS, key)
        if row is not None:
            rows.put(ORGANISATIONS, key, {**row, "name": e.payload["name"]}, e)

    def membership(self, rows: Rows, e: RecordedEvent) -> None:
        name = e.topic.rsplit(".", 1)[-1]
        key, at, p = (e.tenant, e.stream_id), _at(e), e.payload
        membership = rows.get(MEMBERSHIPS, key)
        if name == "Applied" and membership is None:
            membership = {
                "organisation_id": _uuid(p["organisation_id"]),
                "status": "applied",
                "applied_at": at,
                "changed_at": at,
                "member_since": None,
                "first_admitted_at": None,
                "version": e.version,
                "open_period": None,
                "open_suspension": None,
            }
        if membership is None:  # every stream starts with Applied
            return
        organisation_id = membership["organisation_id"]
        status = STATUS_AFTER[name]
        previous = (*key, e.version - 1)
        if rows.known(TRANSITIONS, previous):
            before = rows.get(TRANSITIONS, previous)
            if before is not None and before["effective_until"] is None:
                rows.put(TRANSITIONS, previous, {**before, "effective_until": at}, e)
        rows.put(
            TRANSITIONS,
            (*key, e.version),
            {
                "organisation_id": organisation_id,
                "event": name,
                "status": status,
                "effective_from": at,
                "effective_until": None,
                "decided_by": p.get("decided_by") or e.metadata.get("actor"),
                "reason": p.get("reason"),
                "motivation": p.get("motivation"),
                "meeting_id": _uuid(p.get("meeting_id")),
                "position": e.position,
            },
            e,
        )
        opened = {"organisation_id": organisation_id, "since": at, "until": None}
        if name == "Admitted":
            rows.put(PERIODS, (*key, e.version), opened, e)
            membership["open_period"] = e.version
        elif name == "Suspended":
            rows.put(SUSPENSIONS, (*key, e.version), opened, e)
            membership["open_suspension"] = e.version
        if name in ("Reinstated", "Left"):
            self._close(rows, SUSPENSIONS, key, membership, "open_suspension", at, e)
        if name == "Left":
            self._close(rows, PERIODS, key, membership, "open_period", at, e)
        membership.update(status=status, changed_at=at, version=e.version)
        if name == "Admitted":
            membership["member_since"] = at
            membership["first_admitted_at"] = membership["first_admitted_at"] or at
        elif name == "Left":
            membership["member_since"] = None
        rows.put(MEMBERSHIPS, key, membership, e)

    @staticmethod
    def _close(
        rows: Rows,
        table: Table,
        key: Key,
        membership: dict[str, Any],
        column: str,
        at: datetime,
        e: RecordedEvent,
    ) -> None:
        version = membership[column]
        if version is None:
            return
        found = rows.get(table, (*key, version))
        if found is not None and found["until"] is None:
            rows.put(table, (*key, version), {**found, "until": at}, e)
        membership[column] = None
