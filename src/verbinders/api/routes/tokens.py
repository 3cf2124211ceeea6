"""Access tokens over HTTP: the coordinator grants and revokes access."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_201_CREATED

from verbinders.api.auth import get_actor, roles
from verbinders.api.idempotency import run_command
from verbinders.api.routes.common import (
    Timeout,
    WaitFor,
    check_if_match,
    resource_command,
    wait_for_position,
)
from verbinders.api.state import runtime_of
from verbinders.application.access import (
    IssuedToken,
    TokenView,
    issue_token,
    list_tokens,
    revoke_token,
)
from verbinders.application.context import CommandContext, CommandResult

__all__ = ["TokensController"]


class IssueToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    roles: tuple[str, ...]
    label: str = msgspec.field(default="")
    party: uuid.UUID | None = None
    expires_at: datetime | None = None
    reason: str = ""


class RevokeToken(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str


class TokensController(Controller):
    path = "/tokens"
    tags = ["access"]

    @post(
        "/",
        **roles("coordinator", command=True),
        summary="Issue a token (its secret is shown once)",
        status_code=HTTP_201_CREATED,
    )
    async def issue(
        self, request: Request[Any, Any, Any], data: IssueToken
    ) -> Response[IssuedToken]:
        runtime = runtime_of(request)
        actor = get_actor(request)

        async def command(ctx: CommandContext) -> IssuedToken:
            return await issue_token(
                ctx,
                roles=data.roles,
                label=data.label or f"token for {data.party or 'the platform'}",
                party=data.party,
                expires_at=data.expires_at,
                reason=data.reason,
            )

        return await run_command(
            request,
            runtime,
            actor,
            command,
            status_code=HTTP_201_CREATED,
            headers=lambda t: {"Location": f"/tokens/{t.id}"},
            one_write=True,
        )

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
        runtime = runtime_of(request)
        await wait_for_position(runtime, "tokens", wait_for, timeout)
        return await list_tokens(runtime.pool, get_actor(request).tenant)

    @post("/{token_id:uuid}/revoke", **roles("coordinator", command=True), summary="Revoke a token")
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        token_id: uuid.UUID,
        data: RevokeToken,
    ) -> Response[CommandResult]:
        runtime = runtime_of(request)

        async def command(ctx: CommandContext) -> CommandResult:
            return await revoke_token(
                ctx,
                token_id,
                reason=data.reason,
                check=lambda version: check_if_match(request, version),
            )

        return await resource_command(request, runtime, command, one_write=True)
