"""An application's trail for auditors: the streams that hold its history, from the store.

The trail of an application is every event of the application itself (drafting, co-applicants'
confirmations, submission, reviewers, conflicts of interest, reviews, decisions, objections,
reconsiderations, payments, settlement), of its round (opening, every grant of the round's
ledger: what the budget held at each decision, closing), of its fund, and of the applicant's
accountability towards that fund (reports due and submitted, reminders). Read from the store,
not from a read model, with each event's position and chained hash (`audit/trail.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from verbinders.audit.trail import export_trail, trail_events
from verbinders.domain.funding_applications import FundingApplication
from verbinders.domain.funding_reports import accountability_id
from verbinders.errors import NotFound
from verbinders.store.mapping import stream_type_of

if TYPE_CHECKING:
    from verbinders.database import Connection

__all__ = ["application_streams", "application_trail", "trail_of"]


async def application_streams(
    conn: Connection, application_id: UUID, *, tenant: str
) -> tuple[list[UUID], dict[str, Any]]:
    """The streams of an application's trail, and what the trail is of."""
    first = await conn.fetchrow(
        "SELECT payload FROM events WHERE stream_id = $1 AND version = 1 AND tenant = $2"
        " AND stream_type = $3",
        application_id,
        tenant,
        stream_type_of(FundingApplication),
    )
    if first is None:
        raise NotFound(f"no funding application {application_id}", id=str(application_id))
    drafted = first[0]
    round_id = UUID(drafted["round_id"])
    fund_id = UUID(drafted["fund_id"])
    applicant = UUID(drafted["applicant"])
    streams = [application_id, round_id, fund_id, accountability_id(tenant, fund_id, applicant)]
    subject = {
        "application_id": str(application_id),
        "round_id": str(round_id),
        "fund_id": str(fund_id),
        "applicant": str(applicant),
        "title": drafted.get("title"),
    }
    return streams, subject


async def trail_of(conn: Connection, application_id: UUID, *, tenant: str) -> list[dict[str, Any]]:
    """The trail's events in position order (the HTTP route's answer)."""
    streams, _ = await application_streams(conn, application_id, tenant=tenant)
    return await trail_events(conn, streams, tenant=tenant)


async def application_trail(
    conn: Connection, application_id: UUID, *, tenant: str
) -> dict[str, Any]:
    """The whole export: events, seals and Merkle proofs (`verbinders audit export`)."""
    streams, subject = await application_streams(conn, application_id, tenant=tenant)
    return await export_trail(conn, streams, tenant=tenant, subject=subject)
