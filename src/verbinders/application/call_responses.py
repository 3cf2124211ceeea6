"""Answering a call: acknowledge, respond (and revise), claim a need and release it.

An organisation answers only for itself (`rights.act_for`: the coordinator may answer on an
organisation's behalf, e.g. after a phone call), and only to a call that addresses it and is
open. Each command appends to the organisation's own response stream or to the need's claim
stream, never to the call's: hundreds of answers at once do not conflict (see
`domain/call_responses.py`).

A response or claim is judged against the call as the command read it: one that commits an
instant after the call was closed (the two commands ran at the same moment) is kept, and
the read models show it with its time.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from verbinders.application import rights
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.domain.call_responses import (
    CallResponse,
    NeedClaim,
    Response,
    check_response,
    claim_id,
    response_id,
)
from verbinders.domain.calls import Call
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.errors import Conflict, Forbidden, VerbindersError

if TYPE_CHECKING:
    from verbinders.application.unit_of_work import UnitOfWork

__all__ = ["acknowledge_call", "claim_need", "release_need", "respond_to_call"]


def _addressed(uow: UnitOfWork, call: Call, organisation_id: uuid.UUID, action: str) -> None:
    if not call.addresses(organisation_id):
        raise Forbidden(
            f"call {call.id} is not addressed to organisation {organisation_id}",
            organisation=str(organisation_id),
        )
    call.require_open(action)


@command(writes_once=True)
async def acknowledge_call(
    uow: UnitOfWork, call_id: uuid.UUID, organisation_id: uuid.UUID
) -> CommandResult:
    """The organisation received the call (again: nothing changes)."""
    rights.act_for(uow.actor, organisation_id)
    stream = response_id(uow.tenant, call_id, organisation_id)
    await uow.preload((Call, call_id), (CallResponse, stream))
    call = await uow.get(Call, call_id)
    _addressed(uow, call, organisation_id, "be acknowledged")
    found = await uow.find(CallResponse, stream)
    if found is not None:
        return CommandResult.of(found)
    response = CallResponse.acknowledge(
        tenant=uow.tenant,
        call_id=call_id,
        organisation_id=organisation_id,
        acknowledged_by=uow.actor.name,
        at=uow.now(),
    )
    uow.save(response)
    return CommandResult.of(response)


@command(writes_once=True)
async def respond_to_call(
    uow: UnitOfWork, call_id: uuid.UUID, organisation_id: uuid.UUID, response: Response
) -> CommandResult:
    """Respond, or revise the response (the whole response each time), until the call
    closes. `If-Match` names the response's version (to revise only what one has seen)."""
    rights.act_for(uow.actor, organisation_id)
    stream = response_id(uow.tenant, call_id, organisation_id)
    await uow.preload(
        (Call, call_id),
        (CallResponse, stream),
        (Organisation, organisation_id),
        (Platform, platform_id(uow.tenant)),
    )
    call = await uow.get(Call, call_id)
    _addressed(uow, call, organisation_id, "take responses")
    organisation = await uow.get(Organisation, organisation_id)
    checked = check_response(
        response,
        vocabulary=(await uow.get(Platform, platform_id(uow.tenant))).vocabulary,
        contacts=frozenset(organisation.contacts),
    )
    answer = await uow.target_or_none(CallResponse, stream)
    if answer is None:
        answer = CallResponse.acknowledge(
            tenant=uow.tenant,
            call_id=call_id,
            organisation_id=organisation_id,
            acknowledged_by=uow.actor.name,
            at=uow.now(),
        )
        uow.save(answer)
    answer.respond(checked, responded_by=uow.actor.name, at=uow.now())
    return CommandResult.of(answer)


@command(writes_once=True)
async def claim_need(
    uow: UnitOfWork,
    call_id: uuid.UUID,
    need_id: str,
    organisation_id: uuid.UUID,
    *,
    note: str = "",
) -> CommandResult:
    """Claim a need of the call for the organisation, so that no other does the same work.

    Two organisations claiming the same need at once: exactly one wins; the other gets a
    conflict naming the organisation that holds the claim (`claimed_by`)."""
    rights.act_for(uow.actor, organisation_id)
    stream = claim_id(uow.tenant, call_id, need_id)
    await uow.preload((Call, call_id), (NeedClaim, stream))
    call = await uow.get(Call, call_id)
    _addressed(uow, call, organisation_id, "take claims")
    call.need(need_id)
    claim = await uow.find(NeedClaim, stream)
    at = uow.now()
    if claim is None:
        claim = NeedClaim.claim(
            tenant=uow.tenant,
            call_id=call_id,
            need_id=need_id,
            organisation_id=organisation_id,
            note=note,
            claimed_by=uow.actor.name,
            at=at,
        )
    else:
        claim.claim_again(organisation_id, note=note, claimed_by=uow.actor.name, at=at)

    async def taken() -> VerbindersError:
        """The need was claimed meanwhile: say by whom (as the winner committed it)."""
        winner = await uow.reload(NeedClaim, stream)
        if winner is not None and winner.claimant is not None:
            return winner.held_elsewhere(organisation_id)
        return Conflict(
            f"need {need_id!r} changed meanwhile; try again", state="changed", need=need_id
        )

    uow.save(claim, on_conflict=taken)
    return CommandResult.of(claim)


@command(writes_once=True)
async def release_need(
    uow: UnitOfWork,
    call_id: uuid.UUID,
    need_id: str,
    organisation_id: uuid.UUID,
    *,
    reason: str = "",
) -> CommandResult:
    """Give a claimed need back (its holder, or the call's manager on the holder's behalf);
    it can then be claimed again. Allowed after the call closed too (the work fell through)."""
    stream = claim_id(uow.tenant, call_id, need_id)
    await uow.preload((Call, call_id), (NeedClaim, stream))
    call = await uow.get(Call, call_id)
    if not rights.manages_call(uow.actor, call.issued_by):
        rights.act_for(uow.actor, organisation_id)
        if not call.addresses(organisation_id):
            raise Forbidden(
                f"call {call.id} is not addressed to organisation {organisation_id}",
                organisation=str(organisation_id),
            )
    call.need(need_id)
    claim = await uow.target_or_none(NeedClaim, stream)
    if claim is None:
        raise Conflict(f"need {need_id!r} is not claimed", state="free")
    claim.release(organisation_id, reason=reason, released_by=uow.actor.name, at=uow.now())
    uow.save(reason=reason.strip() or None)
    return CommandResult.of(claim)
