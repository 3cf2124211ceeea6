"""The pipeline every command runs through (see `unit_of_work.py` for the steps): a
connection waited for a bounded time, a transaction when the command needs one (and the
idempotency claim), the command in a `UnitOfWork`, its one append, its answer.

A command that writes once and comes with an idempotency key first runs without a
transaction, its key claimed with its answer in the append's own statement (one round trip
on cached aggregates; see `idempotency.py`). If a stream it took from the cache unread had
moved on (`StaleRead`), it runs so once more, reading every stream. Whenever that way
cannot answer by itself (the key is claimed already, by a replay or a concurrent duplicate;
the command refused, which a replay of a request that succeeded must not; it appended
nothing; any other conflict or error), it has written nothing, and the request runs once
more the claim-first way, in a transaction: that way answers the stored answer, waits for a
duplicate in flight, or gives the command's own answer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import asyncpg
import msgspec

from verbinders.application import idempotency
from verbinders.application.idempotency import Answer, AnswerTemplate
from verbinders.application.unit_of_work import CommandRequest, Outcome, UnitOfWork
from verbinders.errors import Conflict, StaleRead, StreamConflict, Unavailable, VerbindersError
from verbinders.store.schema import STREAM_VERSION

if TYPE_CHECKING:
    from verbinders.application.commands import Command
    from verbinders.application.context import Actor
    from verbinders.database import Connection
    from verbinders.store.repository import Repository

__all__ = ["Pipeline", "default_answer", "principal_of"]

T = TypeVar("T")
P = ParamSpec("P")

_encoder = msgspec.json.Encoder()


def _with_position(result: T, position: int) -> T:
    if isinstance(result, msgspec.Struct) and "position" in result.__struct_fields__ and position:
        return msgspec.structs.replace(result, position=position)
    return result


def _for_retry(result: T) -> T:
    """What an idempotency key keeps of a result: `result.for_retry()` if it has one (a
    result with a secret), else the result itself."""
    redact = getattr(result, "for_retry", None)
    return redact() if callable(redact) else result


def default_answer(result: Any) -> Answer:
    return Answer(body=_encoder.encode(result))


class _ClaimFirst(Exception):
    """The keyed command could not answer with its claim in its append (nothing was written):
    run it the claim-first way (see the module's notes)."""


class Pipeline:
    """Runs commands (one per runtime; see the module's notes)."""

    def __init__(self, repository: Repository, *, wait: float = 5.0) -> None:
        self.repository = repository
        self.wait = wait

    @property
    def pool(self) -> Any:
        return self.repository.store.pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection, waited for at most `wait` seconds (`Unavailable` then)."""
        try:
            conn = await self.pool.acquire(timeout=self.wait)
        except TimeoutError as error:
            raise Unavailable(
                f"the server is busy: no database connection came free within {self.wait:g} s;"
                " retry shortly",
                retry_after=1,
            ) from error
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    async def run(
        self,
        command: Command[P, T],
        request: CommandRequest | Actor,
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `command` and return its result (a replay's result is the stored one)."""
        if not isinstance(request, CommandRequest):
            request = CommandRequest(actor=request)
        outcome = await self.execute(command, request, *args, **kwargs)
        return outcome.result

    async def execute(
        self, command: Command[P, T], request: CommandRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> Outcome[T]:
        if request.idempotency is not None and command.writes_once:
            try:
                try:
                    return await self._execute(
                        command, request, args, kwargs, trust_cache=True, claim_in_append=True
                    )
                except StaleRead:
                    # As below, once more reading every stream; the claim still goes with the
                    # append, so a duplicate that moved the stream on is found there.
                    return await self._execute(
                        command, request, args, kwargs, trust_cache=False, claim_in_append=True
                    )
            except _ClaimFirst:
                pass
        try:
            return await self._execute(command, request, args, kwargs, trust_cache=True)
        except StaleRead:
            # A stream taken from the aggregate cache without a read had moved on; nothing
            # was written (see step 6 in unit_of_work.py): once more, reading every stream.
            return await self._execute(command, request, args, kwargs, trust_cache=False)

    async def _execute(
        self,
        command: Command[P, T],
        request: CommandRequest,
        args: Any,
        kwargs: Any,
        *,
        trust_cache: bool,
        claim_in_append: bool = False,
    ) -> Outcome[T]:
        transactional = not claim_in_append and (
            request.idempotency is not None or not command.writes_once
        )
        async with self.connection() as conn:
            uow = UnitOfWork(
                self.repository,
                conn,
                request,
                in_transaction=transactional,
                trust_cache=trust_cache,
            )
            try:
                if claim_in_append:
                    outcome = await self._claimed_in_append(uow, command, args, kwargs)
                else:
                    outcome = await self._run(conn, uow, command, args, kwargs, transactional)
            except BaseException:
                uow.release()
                raise
            uow.settle()
            await uow.save_snapshots()
        return outcome

    async def _run(
        self,
        conn: Connection,
        uow: UnitOfWork,
        command: Command[P, T],
        args: Any,
        kwargs: Any,
        transactional: bool,
    ) -> Outcome[T]:
        """The command on `conn`, its errors turned into what the pipeline answers."""
        try:
            if transactional:
                return await self._in_transaction(conn, uow, command, args, kwargs)
            return await self._at_once(uow, command, args, kwargs)
        except StaleRead:
            raise
        except asyncpg.LockNotAvailableError as error:
            raise Unavailable(
                "another command held what this one needs for longer than"
                f" {idempotency.DUPLICATE_WAIT_MS / 1000:g} s; retry shortly",
                retry_after=1,
            ) from error
        except StreamConflict as error:
            if error.stream_id in uow.unverified:
                # Its cached version was behind the store's: nothing was written.
                raise StaleRead(error.stream_id, error.expected, error.actual) from error
            translated = await uow.translate(error)
            if translated is not None:
                raise translated from error
            if error.actual is not None:
                raise
            # Read once the transaction rolled back, on the unit's own connection.
            actual = int(await conn.fetchval(STREAM_VERSION, error.stream_id))
            raise StreamConflict(error.stream_id, error.expected, actual) from error
        except VerbindersError:
            # The command refused on state taken from the cache: only if it is current
            # (its transaction, if any, has rolled back by now).
            await uow.check_unverified()
            raise

    async def _at_once(
        self, uow: UnitOfWork, command: Command[P, T], args: Any, kwargs: Any
    ) -> Outcome[T]:
        result = await command.fn(uow, *args, **kwargs)
        position = await uow.flush()
        result = _with_position(result, position)
        return Outcome(result=result, answer=self._present(uow, result), position=position)

    async def _claimed_in_append(
        self, uow: UnitOfWork, command: Command[P, T], args: Any, kwargs: Any
    ) -> Outcome[T]:
        """A keyed command that writes once: its claim and answer in its append's statement,
        else `_ClaimFirst` with nothing written (see the module's notes)."""
        request = uow.request
        key = request.idempotency
        assert key is not None
        try:
            result = await command.fn(uow, *args, **kwargs)
        except Exception as error:
            # Maybe a replay of a request that succeeded: the claim-first way tells.
            raise _ClaimFirst from error
        if not uow.pending:
            raise _ClaimFirst  # nothing to append the claim with
        marked = _with_position(result, idempotency.POSITION_MARK)
        kept = _for_retry(marked)
        template = AnswerTemplate.of(self._present(uow, kept), has_position=marked is not result)
        claim = (
            idempotency.claim_with_answer(uow.tenant, principal_of(request.actor), key, template)
            if template is not None and idempotency.POSITION_MARK_TEXT not in uow.correlation_id
            else None
        )
        if claim is None:
            raise _ClaimFirst
        try:
            position = await uow.flush(also=claim)
        except asyncpg.LockNotAvailableError as error:
            # Only the claim waits so bounded: a request with this key is still in flight.
            raise Conflict(
                "a request with this Idempotency-Key is still being processed; retry soon",
                state="in-progress",
            ) from error
        except StaleRead:
            raise  # a stream taken from the cache unread had moved on: nothing was written
        except StreamConflict as error:
            if error.stream_id in uow.unverified:
                raise StaleRead(error.stream_id, error.expected, error.actual) from error
            raise _ClaimFirst from error
        except Exception as error:
            # A claim already there (a replay, a duplicate), a conflict, a stale cache entry:
            # the statement wrote nothing.
            raise _ClaimFirst from error
        result = _with_position(result, position)
        if kept is marked and template is not None:
            answer = template.fill(position)  # byte for byte what the claim stored
        else:
            answer = self._present(uow, result)
        return Outcome(result=result, answer=answer, position=position)

    async def _in_transaction(
        self,
        conn: Connection,
        uow: UnitOfWork,
        command: Command[P, T],
        args: Any,
        kwargs: Any,
    ) -> Outcome[T]:
        request = uow.request
        key = request.idempotency
        principal = principal_of(request.actor)
        try:
            if key is None:
                await conn.execute("BEGIN")
            else:
                # BEGIN (with the key's bounded lock waits) and the claim: one round trip.
                stored = await idempotency.begin_and_claim(conn, uow.tenant, principal, key)
                if stored is not None:
                    await conn.execute("ROLLBACK")
                    return self._replayed(command, stored)
            result = await command.fn(uow, *args, **kwargs)
            position = await uow.flush()
            result = _with_position(result, position)
            answer = self._present(uow, result)
            if key is not None:
                kept = _for_retry(result)
                stored = answer if kept is result else self._present(uow, kept)
                # The answer stored and COMMIT: one round trip.
                await idempotency.remember_and_commit(conn, uow.tenant, principal, key.key, stored)
            else:
                await conn.execute("COMMIT")
        except BaseException:
            if not conn.is_closed() and conn.is_in_transaction():
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
            raise
        if position:
            self.repository.store.announce(position)
        return Outcome(result=result, answer=answer, position=position)

    def _present(self, uow: UnitOfWork, result: Any) -> Answer:
        present = uow.request.present or default_answer
        return present(result)

    def _replayed(self, command: Command[P, T], stored: Answer) -> Outcome[T]:
        result: T = msgspec.json.decode(stored.body, type=command.result_type)
        position = getattr(result, "position", 0)
        return Outcome(
            result=result,
            answer=stored,
            position=position if isinstance(position, int) else 0,
            replayed=True,
        )


def principal_of(actor: Actor) -> str:
    """Whose idempotency keys these are: the token's, else the actor's (a policy, the CLI)."""
    return str(actor.token_id) if actor.token_id else actor.name
