"""`@command`: how an application service declares itself to the pipeline.

    @command(writes_once=True)
    async def revoke_token(uow: UnitOfWork, token_id: UUID, *, reason: str) -> CommandResult:
        token = await uow.target(AccessToken, token_id)
        token.revoke(revoked_by=uow.actor.name, reason=reason)
        uow.save(reason=reason)
        return CommandResult.of(token)

`writes_once`: the command writes nothing but its events, so without an idempotency key it
needs no transaction (see `unit_of_work.py`). A command that writes beside its events
(`uow.connection`) leaves it False. Run one with `runtime.pipeline.run(cmd, actor, ...)`, or
from inside another command of the same unit: `await cmd(uow, ...)`.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

if TYPE_CHECKING:
    from verbinders.application.unit_of_work import UnitOfWork

__all__ = ["Command", "command"]

P = ParamSpec("P")
T = TypeVar("T")


class Command(Generic[P, T]):
    """An application service the pipeline can run: the function and what it declares."""

    def __init__(
        self, fn: Callable[Concatenate[UnitOfWork, P], Awaitable[T]], *, writes_once: bool
    ) -> None:
        self.fn = fn
        self.writes_once = writes_once
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        functools.update_wrapper(self, fn)

    async def __call__(self, uow: UnitOfWork, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run inside another command's unit of work."""
        return await self.fn(uow, *args, **kwargs)

    @functools.cached_property
    def result_type(self) -> Any:
        """The declared result type (to decode an answer stored with an idempotency key)."""
        annotation = self.fn.__annotations__.get("return", Any)

        def returns() -> None: ...

        returns.__annotations__ = {"return": annotation}
        try:
            return typing.get_type_hints(returns, globalns=self.fn.__globals__).get("return", Any)
        except NameError:  # a type only imported for type checking: decoded as plain JSON
            return Any

    def __repr__(self) -> str:
        return f"<command {self.name}>"


def command(
    *, writes_once: bool = False
) -> Callable[[Callable[Concatenate[UnitOfWork, P], Awaitable[T]]], Command[P, T]]:
    """Declare an application service (see the module's notes)."""

    def declare(fn: Callable[Concatenate[UnitOfWork, P], Awaitable[T]]) -> Command[P, T]:
        return Command(fn, writes_once=writes_once)

    return declare
