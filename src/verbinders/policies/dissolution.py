"""When an organisation is dissolved, its membership closes and its tokens stop working.

The membership ends (a member leaves, a pending application is withdrawn) at the moment of
the dissolution, and every token issued for the organisation before it is revoked, each with
the dissolution's reason, recorded as this policy's decisions (actor
`policy:organisation_dissolved`, causation id the dissolution's position).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from verbinders.application.membership import close_for_dissolution
from verbinders.application.tokens import revoke_if_open, tokens_of_party
from verbinders.domain.organisations import Organisation
from verbinders.policies.policy import Issue, Policy
from verbinders.store.mapping import topic_of

if TYPE_CHECKING:
    from verbinders.database import Connection
    from verbinders.store.events import RecordedEvent

__all__ = ["OrganisationDissolved"]


class OrganisationDissolved(Policy):
    name = "organisation_dissolved"
    # The event classes `@event` creates are invisible to type checkers.
    topics = (topic_of(Organisation.Dissolved),)  # type: ignore[attr-defined]

    async def decide(self, conn: Connection, event: RecordedEvent) -> list[Issue]:
        organisation = event.stream_id
        reason = f"organisation dissolved: {event.payload['reason']}"
        at = datetime.fromisoformat(event.payload["at"])
        tokens = await tokens_of_party(
            conn, event.tenant, organisation, until_position=event.position
        )
        return [
            Issue(close_for_dissolution, (organisation,), {"reason": reason}, at=at),
            *(Issue(revoke_if_open, (token,), {"reason": reason}, at=at) for token in tokens),
        ]
