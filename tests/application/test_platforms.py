"""Creating a platform: its first coordinator token, and its own city's districts."""

from __future__ import annotations

from datetime import date

import pytest

from verbinders.application.authentication import Authenticator
from verbinders.application.context import Actor
from verbinders.application.platforms import create_platform, get_platform
from verbinders.domain.vocabulary import DEFAULT_DISTRICTS, Term
from verbinders.errors import Conflict, InvalidCommand
from verbinders.runtime import Runtime

UTRECHT = (Term(code="binnenstad", label="Binnenstad"), Term(code="overvecht", label="Overvecht"))


async def create(runtime: Runtime, slug: str, city: str, **extra: object) -> object:
    return await runtime.pipeline.run(
        create_platform,
        Actor.operator(slug, "tests"),
        name=f"Verbinders {city}",
        city=city,
        started_on=date(2026, 1, 1),
        **extra,
    )


async def test_haarlem_s_districts_are_the_default_for_haarlem_only(runtime: Runtime) -> None:
    await create(runtime, "haarlem", " haarlem ")
    assert (await get_platform(runtime, "haarlem")).districts == DEFAULT_DISTRICTS
    with pytest.raises(InvalidCommand) as refused:
        await create(runtime, "utrecht", "Utrecht")
    assert (refused.value.field, refused.value.rule) == ("districts", "required")
    assert "Utrecht" in refused.value.message
    await create(runtime, "utrecht", "Utrecht", districts=UTRECHT)
    assert (await get_platform(runtime, "utrecht")).districts == UTRECHT


async def test_a_platform_is_created_once_with_a_working_coordinator_token(
    runtime: Runtime,
) -> None:
    created = await create(runtime, "zaanstad", "Zaanstad", districts=UTRECHT)
    secret = created.token.token  # type: ignore[attr-defined]
    actor = await Authenticator(runtime.pipeline).authenticate(secret)
    assert (actor.tenant, actor.roles) == ("zaanstad", ("coordinator",))
    with pytest.raises(Conflict) as again:
        await create(runtime, "zaanstad", "Zaanstad", districts=UTRECHT)
    assert again.value.details["state"] == "exists"
