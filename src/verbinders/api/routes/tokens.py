"""Access tokens over HTTP: the coordinator grants and revokes access."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_201_CREATED

from verbinders.api.auth import get_actor, roles
from verbinders.api.routes.common import Timeout, WaitFor, execute
from verbinders.api.state import runtime_of
from verbinders.application.context import CommandResult
from verbinders.application.tokens import (
    IssuedToken,
    TokenView,
    issue_token,
    revoke_token,
    token_views,
)
from verbinders.projections.reading import reading
from verbinders.projections.tokens import token_rows

__all__ = ["TokensController"]


class IssueToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    roles: tuple[str, ...]
    label: str = msgspec.field(default="")
    party: uuid.UUID | None = None
    """The organisation of this platform the token acts for (required for organisation,
    municipality and fund; of kind municipality or fund for those roles)."""
    expires_at: datetime | None = None
    reason: str = ""

    def fields(self) -> dict[str, Any]:
        fields = msgspec.structs.asdict(self)
        fields["label"] = self.label or f"token for {self.party or 'the platform'}"
        return fields


class RevokeToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str


class TokensController(Controller):
    path = "/tokens"
    tags = ["access"]

    @post(
        "/",
        **roles("coordinator", command=True, location="/tokens/{id}"),
        summary="Issue a token (its secret is shown once: a retry answers without it)",
        status_code=HTTP_201_CREATED,
    )
    async def issue(
        self, request: Request[Any, Any, Any], data: IssueToken
    ) -> Response[IssuedToken]:
        return await execute(request, issue_token, **data.fields())

    @get(
        "/",
        **roles("coordinator"),
        summary="List the platform's tokens (no secrets; `wait_for` a command's position)",
    )
    async def index(
        self,
        request: Request[Any, Any, Any],
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> list[TokenView]:
        tenant = get_actor(request).tenant
        async with reading(
            runtime_of(request), "tokens", tenant=tenant, wait_for=wait_for, timeout=timeout
        ) as r:
            return token_views(await token_rows(r, tenant))

    @post(
        "/{token_id:uuid}/revoke",
        **roles("coordinator", command=True),
        summary="Revoke a token",
        status_code=200,
    )
    async def revoke(
        self, request: Request[Any, Any, Any], token_id: uuid.UUID, data: RevokeToken
    ) -> Response[CommandResult]:
        return await execute(request, revoke_token, token_id, reason=data.reason)
