"""What the calls' tests share: member organisations with contact persons, made through the
command pipeline, and a call issued to them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from verbinders.application import membership as membership_service
from verbinders.application import organisations as org_service
from verbinders.application.calls import issue_call
from verbinders.application.context import Actor
from verbinders.domain.calls import CallKind, Need, NeedKind, Urgency
from verbinders.domain.profile import Profile
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.runtime import Runtime

__all__ = ["NEEDS", "Member", "add_member", "issue"]

NEEDS = (
    Need(
        id="catering-schalkwijk",
        kind=NeedKind.CATERING,
        description="Warme maaltijden",
        quantity=200,
        district="schalkwijk",
    ),
    Need(
        id="tolken-arabisch",
        kind=NeedKind.LANGUAGES,
        description="Tolken",
        quantity=4,
        language="ar",
    ),
    Need(
        id="vrijwilligers", kind=NeedKind.VOLUNTEERS, description="Zandzakken vullen", quantity=30
    ),
)


@dataclass(frozen=True)
class Member:
    organisation_id: uuid.UUID
    persons: tuple[uuid.UUID, ...]
    """Its contact persons (each with an e-mail address: `<person>@<org slug>.example`)."""
    emails: tuple[str, ...]


async def add_member(
    runtime: Runtime,
    tenant: str,
    name: str,
    *,
    districts: tuple[str, ...] = (),
    languages: tuple[str, ...] = (),
    themes: tuple[str, ...] = (),
    contacts: int = 1,
    admit: bool = True,
    kind: OrganisationKind = OrganisationKind.SELF_ORGANISATION,
) -> Member:
    """A registered organisation with `contacts` contact persons that applied and (with
    `admit`) was admitted."""
    operator = Actor.operator(tenant, "tests")
    run = runtime.pipeline.run
    registered = await run(
        org_service.register_organisation,
        operator,
        kind=kind,
        name=name,
        profile=Profile(districts=districts, languages=languages, themes=themes),
    )
    organisation_id = uuid.UUID(registered.id)
    slug = "".join(c for c in name.lower() if c.isalnum())[:30] or "org"
    persons, emails = [], []
    for n in range(contacts):
        email = f"contact{n}@{slug}.example"
        added = await run(
            org_service.add_contact,
            operator,
            organisation_id,
            name=f"Contact {n} van {name}",
            email=email,
        )
        persons.append(uuid.UUID(added.id))
        emails.append(email)
    await run(membership_service.apply, operator, organisation_id, motivation="Wij doen mee")
    if admit:
        await run(membership_service.admit, operator, organisation_id, reason="Welkom")
    return Member(organisation_id, tuple(persons), tuple(emails))


async def issue(runtime: Runtime, actor: Actor, **overrides: Any) -> Any:
    """A calamity call, respond-by tomorrow, with `NEEDS`; returns its CommandResult."""
    fields: dict[str, Any] = {
        "kind": CallKind.CALAMITY,
        "title": "Wateroverlast Schalkwijk",
        "message": "De Molenwijk staat onder water. Wie kan helpen?",
        "respond_by": datetime.now(UTC) + timedelta(days=1),
        "needs": NEEDS,
        "districts": ("schalkwijk",),
        "urgency": Urgency.CRITICAL,
    }
    fields.update(overrides)
    return await runtime.pipeline.run(issue_call, actor, **fields)
