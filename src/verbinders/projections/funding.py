"""Funding: funds, rounds, applications, their decisions and payments, keeping their history.

Tables (every row carries its tenant; every version valid over a range of positions, see
`temporal.py`):

- `funds`, `rounds` (what is granted is the sum of its applications' decisions in force),
  `organisations` (name and kind of
  each organisation, for reports by kind of applicant);
- `applications`: one row per application as it stands: the applicant, co-applicants and
  whether it is joint, title, summary, budget lines and the requested amount, state, when it
  was submitted and first decided, the amount the decision in force grants, what was paid
  and reclaimed, reviews counted and conflicts declared. Its history is what the application
  "was" at any position: the report of what the decider knew reads it as of the position just
  before each decision;
- `decisions`, `payments`: one row each (360Giving's awards and disbursement transactions).

Amounts are `numeric(14, 2)`, read from the events' strings, never through a float. Every
column is derived from the events only, so an answer as of a position equals a rebuild up to
it. Queries: `funding_queries.py`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from verbinders.domain.funding_applications import FundingApplication
from verbinders.domain.funds import Fund, Round
from verbinders.domain.organisations import Organisation
from verbinders.projections.temporal import Table, TemporalProjection, events_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from verbinders.projections.temporal import Key, Rows
    from verbinders.store.events import RecordedEvent

__all__ = [
    "APPLICATIONS",
    "DECISIONS",
    "FUNDS",
    "ORGANISATIONS",
    "PAYMENTS",
    "ROUNDS",
    "FundingProjection",
]

MONEY = "numeric(14, 2)"

ORGANISATIONS = Table(
    "organisations",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(("name", "text"), ("kind", "text")),
)
FUNDS = Table(
    "funds",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(("name", "text"), ("funder", "uuid"), ("funder_kind", "text")),
)
ROUNDS = Table(
    "rounds",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("fund_id", "uuid"),
        ("title", "text"),
        ("budget", MONEY),
        ("deadline", "timestamptz"),
        ("opened_at", "timestamptz"),
        ("state", "text"),
    ),
    indexes=("(tenant, fund_id)",),
)
APPLICATIONS = Table(
    "applications",
    keys=(("tenant", "text"), ("id", "uuid")),
    values=(
        ("round_id", "uuid"),
        ("fund_id", "uuid"),
        ("funder", "uuid"),
        ("applicant", "uuid"),
        ("co_applicants", "jsonb"),
        ("joint", "boolean"),
        ("title", "text"),
        ("summary", "text"),
        ("budget_lines", "jsonb"),
        ("requested", MONEY),
        ("activity_id", "uuid"),
        ("state", "text"),
        ("drafted_at", "timestamptz"),
        ("submitted_at", "timestamptz"),
        ("first_decided_at", "timestamptz"),
        ("decided_at", "timestamptz"),
        ("granted", MONEY),
        ("decisions", "integer"),
        ("paid", MONEY),
        ("reclaimed", MONEY),
        ("reviews", "integer"),
        ("conflicts", "integer"),
        ("version", "integer"),
    ),
    indexes=("(tenant, round_id)", "(tenant, applicant)", "(tenant, fund_id, submitted_at)"),
)
DECISIONS = Table(
    "decisions",
    keys=(("tenant", "text"), ("application_id", "uuid"), ("number", "integer")),
    values=(
        ("amount", MONEY),
        ("conditions", "jsonb"),
        ("rationale", "text"),
        ("decided_by", "text"),
        ("decided_at", "timestamptz"),
        ("replaces", "integer"),
        ("reviews", "integer"),
        ("position", "bigint"),
    ),
    indexes=("(tenant, application_id)",),
)
PAYMENTS = Table(
    "payments",
    keys=(("tenant", "text"), ("application_id", "uuid"), ("number", "integer")),
    values=(("amount", MONEY), ("paid_at", "timestamptz")),
    indexes=("(tenant, application_id)",),
)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _money(value: Any) -> Decimal:
    if isinstance(value, float):  # pragma: no cover - the events hold strings
        raise TypeError("an amount arrived as a float")
    return Decimal(str(value))


class FundingProjection(TemporalProjection):
    name = "funding"
    version = 1
    versioned = (ORGANISATIONS, FUNDS, ROUNDS, APPLICATIONS, DECISIONS, PAYMENTS)
    events = {
        **events_of(Organisation, Registered="organisation", Renamed="renamed"),
        **events_of(Fund, Created="fund_created"),
        **events_of(Round, Opened="round_opened", Closed="round_closed"),
        **events_of(
            FundingApplication,
            Drafted="drafted",
            Edited="edited",
            CoApplicantAdded="co_applicant_added",
            CoApplicantConfirmed="co_applicant_confirmed",
            Submitted="submitted",
            Withdrawn="withdrawn",
            Objected="objected",
            ReviewerAssigned="touched",
            ConflictDeclared="conflict_declared",
            Reviewed="reviewed",
            Decided="decided",
            Paid="paid",
            Settled="settled",
        ),
    }

    def touches(self, event: RecordedEvent) -> Iterable[tuple[Table, Key]]:
        method = self.dispatch[event.topic]
        key = (event.tenant, event.stream_id)
        if method in ("organisation", "renamed"):
            return [(ORGANISATIONS, key)]
        if method == "fund_created":
            return [(FUNDS, key)]
        if method.startswith("round"):
            return [(ROUNDS, key)]
        touched: list[tuple[Table, Key]] = [(APPLICATIONS, key)]
        if method == "decided":
            number = event.payload["decision"]["number"]
            touched.append((DECISIONS, (*key, number)))
        elif method == "paid":
            touched.append((PAYMENTS, (*key, event.payload["payment"]["number"])))
        return touched

    # -- organisations, funds, rounds ---------------------------------------------------------

    def organisation(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        rows.put(ORGANISATIONS, (e.tenant, e.stream_id), {"name": p["name"], "kind": p["kind"]}, e)

    def renamed(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        row = rows.get(ORGANISATIONS, key)
        if row is not None:
            rows.put(ORGANISATIONS, key, {**row, "name": e.payload["name"]}, e)

    def fund_created(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        rows.put(
            FUNDS,
            (e.tenant, e.stream_id),
            {"name": p["name"], "funder": _uuid(p["funder"]), "funder_kind": p["funder_kind"]},
            e,
        )

    def round_opened(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        rows.put(
            ROUNDS,
            (e.tenant, e.stream_id),
            {
                "fund_id": _uuid(p["fund_id"]),
                "title": p["title"],
                "budget": _money(p["budget"]),
                "deadline": _moment(p["deadline"]),
                "opened_at": _moment(p["at"]),
                "state": "open",
            },
            e,
        )

    def round_closed(self, rows: Rows, e: RecordedEvent) -> None:
        key = (e.tenant, e.stream_id)
        row = rows.get(ROUNDS, key)
        if row is not None:
            rows.put(ROUNDS, key, {**row, "state": "closed"}, e)

    # -- applications -------------------------------------------------------------------------

    def _change(self, rows: Rows, e: RecordedEvent, **values: Any) -> dict[str, Any] | None:
        key = (e.tenant, e.stream_id)
        row = rows.get(APPLICATIONS, key)
        if row is None:
            return None
        row.update(values, version=e.version)
        rows.put(APPLICATIONS, key, row, e)
        return row

    def drafted(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        lines = p["budget_lines"]
        co = {str(c): False for c in p["co_applicants"]}
        rows.put(
            APPLICATIONS,
            (e.tenant, e.stream_id),
            {
                "round_id": _uuid(p["round_id"]),
                "fund_id": _uuid(p["fund_id"]),
                "funder": _uuid(p["funder"]),
                "applicant": _uuid(p["applicant"]),
                "co_applicants": co,
                "joint": bool(co),
                "title": p["title"],
                "summary": p["summary"],
                "budget_lines": lines,
                "requested": sum((_money(x["amount"]) for x in lines), Decimal("0.00")),
                "activity_id": _uuid(p["activity_id"]) if p.get("activity_id") else None,
                "state": "draft",
                "drafted_at": _moment(p["at"]),
                "submitted_at": None,
                "first_decided_at": None,
                "decided_at": None,
                "granted": Decimal("0.00"),
                "decisions": 0,
                "paid": Decimal("0.00"),
                "reclaimed": Decimal("0.00"),
                "reviews": 0,
                "conflicts": 0,
                "version": e.version,
            },
            e,
        )

    def edited(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload
        row = rows.get(APPLICATIONS, (e.tenant, e.stream_id))
        co = {k: False for k in (row or {}).get("co_applicants", {})}
        self._change(
            rows,
            e,
            title=p["title"],
            summary=p["summary"],
            budget_lines=p["budget_lines"],
            requested=sum((_money(x["amount"]) for x in p["budget_lines"]), Decimal("0.00")),
            activity_id=_uuid(p["activity_id"]) if p.get("activity_id") else None,
            co_applicants=co,
        )

    def co_applicant_added(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get(APPLICATIONS, (e.tenant, e.stream_id))
        if row is not None:
            co = {**row["co_applicants"], str(e.payload["organisation"]): False}
            self._change(rows, e, co_applicants=co, joint=True)

    def co_applicant_confirmed(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get(APPLICATIONS, (e.tenant, e.stream_id))
        if row is not None:
            co = {**row["co_applicants"], str(e.payload["organisation"]): True}
            self._change(rows, e, co_applicants=co)

    def submitted(self, rows: Rows, e: RecordedEvent) -> None:
        self._change(rows, e, state="submitted", submitted_at=_moment(e.payload["at"]))

    def withdrawn(self, rows: Rows, e: RecordedEvent) -> None:
        self._change(rows, e, state="withdrawn")

    def objected(self, rows: Rows, e: RecordedEvent) -> None:
        self._change(rows, e, state="objected")

    def touched(self, rows: Rows, e: RecordedEvent) -> None:
        self._change(rows, e)

    def conflict_declared(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get(APPLICATIONS, (e.tenant, e.stream_id))
        if row is not None:
            self._change(rows, e, conflicts=row["conflicts"] + 1)

    def reviewed(self, rows: Rows, e: RecordedEvent) -> None:
        row = rows.get(APPLICATIONS, (e.tenant, e.stream_id))
        if row is not None:
            self._change(rows, e, reviews=row["reviews"] + 1)

    def decided(self, rows: Rows, e: RecordedEvent) -> None:
        d = e.payload["decision"]
        at = _moment(d["at"])
        row = rows.get(APPLICATIONS, (e.tenant, e.stream_id))
        if row is None:
            return
        self._change(
            rows,
            e,
            state="decided",
            granted=_money(d["amount"]),
            decided_at=at,
            first_decided_at=row["first_decided_at"] or at,
            decisions=row["decisions"] + 1,
        )
        rows.put(
            DECISIONS,
            (e.tenant, e.stream_id, d["number"]),
            {
                "amount": _money(d["amount"]),
                "conditions": d["conditions"],
                "rationale": d["rationale"],
                "decided_by": d["decided_by"],
                "decided_at": at,
                "replaces": d.get("replaces"),
                "reviews": d.get("reviews", 0),
                "position": e.position,
            },
            e,
        )

    def paid(self, rows: Rows, e: RecordedEvent) -> None:
        p = e.payload["payment"]
        row = rows.get(APPLICATIONS, (e.tenant, e.stream_id))
        if row is None:
            return
        self._change(rows, e, paid=row["paid"] + _money(p["amount"]))
        rows.put(
            PAYMENTS,
            (e.tenant, e.stream_id, p["number"]),
            {"amount": _money(p["amount"]), "paid_at": _moment(p["at"])},
            e,
        )

    def settled(self, rows: Rows, e: RecordedEvent) -> None:
        self._change(rows, e, state="settled", reclaimed=_money(e.payload["reclaimed"]))
