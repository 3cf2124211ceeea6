"""The tokens read model: built inside PostgreSQL from the events' stored payloads, its rows say
what each token's events say (party, roles, expiry, issue and revocation), also when a token is
issued and revoked within one batch, and nothing of another platform's tokens leaks in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from verbinders.application.context import Actor
from verbinders.application.pipeline import Pipeline
from verbinders.application.tokens import IssuedToken, hash_secret, issue_token, revoke_token
from verbinders.domain.access import AccessToken
from verbinders.projections.engine import build_generation, create_generation, replay, try_lead
from verbinders.projections.tokens import TokensProjection
from verbinders.store.events import Metadata
from verbinders.store.eventstore import EventStore
from verbinders.store.repository import Repository

COLUMNS = (
    "token_id, tenant, party, roles, label, issued_at, issued_by, expires_at, revoked_at,"
    " revoked_by"
)


async def issue(repository: Repository, tenant: str, **fields: object) -> IssuedToken:
    return await Pipeline(repository).run(issue_token, Actor.operator(tenant, "tests"), **fields)


async def revoke(repository: Repository, tenant: str, token_id: uuid.UUID, reason: str) -> None:
    await Pipeline(repository).run(
        revoke_token, Actor.operator(tenant, "tests"), token_id, reason=reason
    )


async def issue_for_party(
    repository: Repository, tenant: str, party: uuid.UUID, expires: datetime
) -> AccessToken:
    """A party's token written straight through the repository: the read model takes what
    the events say (the application's check that the party exists is not under test here)."""
    token = AccessToken.issue(
        token_id=uuid.uuid4(),
        tenant=tenant,
        party=party,
        roles=("organisation", "fund"),
        label="Buurtcentrum De Til",
        secret_hash=hash_secret("vb_test"),
        expires_at=expires,
        issued_by="operator:tests",
        reason="issued",
        now=datetime.now(UTC),
    )
    await repository.save(token, metadata=Metadata(tenant=tenant, actor="operator:tests"))
    return token


async def test_rows_say_what_the_events_say_fed_batch_by_batch_or_rebuilt(
    store: EventStore, repository: Repository, database: str
) -> None:
    party = uuid.uuid4()
    expires = datetime(2031, 5, 1, 12, 30, tzinfo=UTC)
    conn = await asyncpg.connect(database)
    try:
        live = await create_generation(conn, TokensProjection(), state="building")
        assert await try_lead(conn, live)
        issued = [
            await issue_for_party(repository, "haarlem", party, expires),
            await issue(repository, "haarlem", roles=("analyst",), label="cijfers"),
            await issue(repository, "zaanstad", roles=("auditor",), label="elders"),
        ]
        # Fed in batches of two: the revocation lands in a later batch than its issue.
        await build_generation(conn, TokensProjection(), live, batch_size=2)
        await revoke(repository, "haarlem", issued[0].id, reason="left")
        # Issued and revoked between two batches: both in the next one.
        late = await issue(repository, "haarlem", roles=("auditor",), label="kort")
        await revoke(repository, "haarlem", late.id, reason="done")
        await build_generation(conn, TokensProjection(), live, batch_size=100)
        fed = await conn.fetch(f'SELECT {COLUMNS} FROM "{live.schema_name}".tokens ORDER BY label')
        rebuilt = await replay(conn, TokensProjection())
        again = await conn.fetch(
            f'SELECT {COLUMNS} FROM "{rebuilt.schema_name}".tokens ORDER BY label'
        )
        events = {
            (row["stream_id"], row["topic"].rpartition(".")[2]): row
            for row in await conn.fetch("SELECT stream_id, topic, recorded_at FROM events")
        }
    finally:
        await conn.close()

    assert [dict(r) for r in fed] == [dict(r) for r in again]
    rows = {row["label"]: row for row in fed}
    assert sorted(rows) == ["Buurtcentrum De Til", "cijfers", "elders", "kort"]
    til = rows["Buurtcentrum De Til"]
    assert til["token_id"] == issued[0].id and til["tenant"] == "haarlem"
    assert til["party"] == party and til["roles"] == ["organisation", "fund"]
    assert til["expires_at"] == expires and til["issued_by"] == "operator:tests"
    assert til["issued_at"] == events[(issued[0].id, "Issued")]["recorded_at"]
    assert til["revoked_at"] == events[(issued[0].id, "Revoked")]["recorded_at"]
    assert til["revoked_by"] == "operator:tests"
    figures = rows["cijfers"]
    assert figures["party"] is None and figures["expires_at"] is None
    assert figures["roles"] == ["analyst"] and figures["revoked_at"] is None
    assert rows["elders"]["tenant"] == "zaanstad"
    assert rows["kort"]["revoked_at"] == events[(late.id, "Revoked")]["recorded_at"]
    assert rows["kort"]["revoked_at"] >= rows["kort"]["issued_at"]
