"""The platforms the tests run on: a platform, the organisations its test tokens act for, and
a token for every role, made through the command pipeline (no HTTP)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from verbinders.application.context import Actor
from verbinders.application.organisations import register_organisation
from verbinders.application.platforms import create_platform
from verbinders.application.tokens import issue_token
from verbinders.domain.access import Role
from verbinders.domain.vocabulary import OrganisationKind
from verbinders.runtime import Runtime

__all__ = ["PARTIES", "Platform", "make_platform"]


@dataclass
class Platform:
    slug: str
    tokens: dict[str, str]
    """role -> bearer secret; organisation, municipality and fund act for their own party:
    `party` (a self-organisation), `municipality` and `fund`."""
    party: uuid.UUID
    other_party: uuid.UUID
    """A formal organisation, acted for by `other_org_token`."""
    other_org_token: str
    municipality: uuid.UUID
    fund: uuid.UUID

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


PARTIES = {
    "party": ("De Verbinding", OrganisationKind.SELF_ORGANISATION),
    "other_party": ("Welzijn Haarlem", OrganisationKind.FORMAL_ORGANISATION),
    "municipality": ("Gemeente", OrganisationKind.MUNICIPALITY),
    "fund": ("Fonds", OrganisationKind.FUND),
}
"""The organisations the test tokens act for, registered with every test platform."""


async def make_platform(runtime: Runtime, slug: str, *, parties: bool = True) -> Platform:
    """A platform, the organisations the test tokens act for, and a token for every role.

    Without `parties` (for tests that count the organisations they register themselves), no
    organisation is registered and only the roles without a party get a token."""
    operator = Actor.operator(slug, "tests")
    run = runtime.pipeline.run
    created = await run(
        create_platform,
        operator,
        name=f"Platform {slug}",
        city="Haarlem",
        started_on=date(2019, 12, 1),
    )
    ids = {key: uuid.uuid4() for key in PARTIES}
    for key, (name, kind) in PARTIES.items() if parties else ():
        registered = await run(register_organisation, operator, kind=kind, name=f"{name} {slug}")
        ids[key] = uuid.UUID(registered.id)
    assert created.token.token is not None
    tokens = {Role.COORDINATOR.value: created.token.token}
    parties_of = {
        Role.ORGANISATION.value: ids["party"],
        Role.MUNICIPALITY.value: ids["municipality"],
        Role.FUND.value: ids["fund"],
    }
    for role in Role:
        if role is Role.COORDINATOR or (role.value in parties_of and not parties):
            continue
        issued = await run(
            issue_token,
            operator,
            roles=(role.value,),
            label=f"{role.value} for tests",
            party=parties_of.get(role.value),
        )
        assert issued.token is not None
        tokens[role.value] = issued.token
    other_org_token = ""
    if parties:
        other_org = await run(
            issue_token,
            operator,
            roles=("organisation",),
            label="another organisation",
            party=ids["other_party"],
        )
        assert other_org.token is not None
        other_org_token = other_org.token
    return Platform(
        slug=slug,
        tokens=tokens,
        party=ids["party"],
        other_party=ids["other_party"],
        other_org_token=other_org_token,
        municipality=ids["municipality"],
        fund=ids["fund"],
    )
