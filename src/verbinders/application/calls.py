"""Calls: issue, update, add an addressee, close; and the two commands behind reminders.

Rights: the coordinator and municipality tokens issue calls; each call is managed by the
coordinator and by the municipality that issued it (`rights.manage_call`).

Every command that notifies organisations writes its notice to the outbox
(`mail/outbox.py`) in the same transaction as the call's events (`@command()`, not
`writes_once`): the notice exists if and only if the events do, and the delivery worker
sends it after the commit. The addressees are decided from the store's history at issue time
(`addressees.py`: why not from a read model).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from verbinders.application import rights
from verbinders.application.addressees import active_members, feed_horizon, narrow
from verbinders.application.call_timers import cancel_timers, set_timers
from verbinders.application.commands import command
from verbinders.application.context import CommandResult
from verbinders.application.unit_of_work import UnitOfWork
from verbinders.domain import rules
from verbinders.domain.call_responses import NeedClaim, claim_id
from verbinders.domain.calls import Audience, Call, CallChanges, CallKind, Need, Urgency
from verbinders.domain.organisations import Organisation
from verbinders.domain.platform import Platform, platform_id
from verbinders.domain.vocabulary import Vocabulary, language_codes
from verbinders.errors import Conflict, Forbidden, InvalidCommand
from verbinders.mail.outbox import enqueue

__all__ = [
    "IssuedCall",
    "add_addressee",
    "check_audience",
    "close_call",
    "issue_call",
    "record_reminder_due",
    "remind_unanswered",
    "update_call",
]


class IssuedCall(msgspec.Struct, frozen=True, kw_only=True):
    addressees: int
    """How many organisations the call addresses."""
    members_as_of: int
    """The feed position up to which the membership was read."""


def check_audience(audience: Audience, vocabulary: Vocabulary) -> Audience:
    return Audience(
        districts=rules.codes(
            audience.districts, allowed=vocabulary.district_codes, field="audience.districts"
        ),
        languages=language_codes(audience.languages, field="audience.languages"),
        themes=rules.codes(
            audience.themes, allowed=vocabulary.theme_codes, field="audience.themes"
        ),
    )


async def _managed(uow: UnitOfWork, call_id: uuid.UUID) -> Call:
    call = await uow.target(Call, call_id)
    rights.manage_call(uow.actor, call.issued_by)
    return call


async def _vocabulary(uow: UnitOfWork) -> Vocabulary:
    return (await uow.get(Platform, platform_id(uow.tenant))).vocabulary


@command()
async def issue_call(
    uow: UnitOfWork,
    *,
    kind: CallKind,
    title: str,
    message: str,
    respond_by: datetime,
    needs: Sequence[Need] = (),
    districts: Sequence[str] = (),
    urgency: Urgency = Urgency.NORMAL,
    audience: Audience | None = None,
    call_id: uuid.UUID | None = None,
) -> CommandResult:
    """Issue a call to every organisation with an active membership now (narrowed by
    `audience`), and write its notice for each of them to the outbox."""
    if not uow.actor.has_any(*rights.CALL_MANAGERS):
        raise Forbidden("only the coordinator and the municipality issue calls")
    vocabulary = await _vocabulary(uow)
    audience = check_audience(audience or Audience(), vocabulary)
    horizon = await feed_horizon(uow.connection)
    members = narrow(
        await active_members(uow.connection, uow.tenant, until_position=horizon), audience
    )
    call = Call.issue(
        call_id=call_id or uuid.uuid4(),
        tenant=uow.tenant,
        kind=kind,
        title=title,
        message=message,
        needs=needs,
        districts=districts,
        urgency=urgency,
        respond_by=respond_by,
        audience=audience,
        addressees=[member.organisation_id for member in members],
        members_as_of=horizon,
        issued_by=uow.actor.name,
        vocabulary=vocabulary,
        at=uow.now(),
    )
    uow.save(
        call,
        on_conflict=lambda: Conflict(
            f"call {call.id} already exists", state="exists", id=str(call.id)
        ),
    )
    await enqueue(uow.connection, call, "issued", "1", call.addressees)
    await set_timers(uow.connection, call)
    return CommandResult.of(
        call, data=IssuedCall(addressees=len(call.addressees), members_as_of=horizon)
    )


@command()
async def update_call(
    uow: UnitOfWork, call_id: uuid.UUID, changes: CallChanges, *, notify: bool = True
) -> CommandResult:
    """Change the fields given; with `notify`, the addressees are told (the whole call as it
    now reads). A new respond-by moves the reminder rounds not yet due."""
    call = await _managed(uow, call_id)
    if not isinstance(changes.needs, msgspec.UnsetType):
        await _removable(uow, call, {need.id for need in changes.needs})
    changed = call.update(changes, vocabulary=await _vocabulary(uow), at=uow.now())
    if changed and notify:
        await enqueue(uow.connection, call, "updated", str(call.version), call.addressees)
    if "respond_by" in changed:
        await set_timers(uow.connection, call)
    return CommandResult.of(call)


async def _removable(uow: UnitOfWork, call: Call, kept: set[str]) -> None:
    """A claimed need cannot be removed (its holder may be at work on it): 409 naming it."""
    removed = [need.id for need in call.needs if need.id not in kept]
    streams = [claim_id(uow.tenant, call.id, need_id) for need_id in removed]
    await uow.preload(*((NeedClaim, stream) for stream in streams))
    for need_id, stream in zip(removed, streams, strict=True):
        claim = await uow.find(NeedClaim, stream)
        if claim is not None and claim.claimant is not None:
            raise Conflict(
                f"need {need_id!r} is claimed by organisation {claim.claimant}: it can be"
                " removed once the claim is released",
                state="claimed",
                claimed_by=str(claim.claimant),
                need=need_id,
            )


@command()
async def add_addressee(
    uow: UnitOfWork, call_id: uuid.UUID, organisation_id: uuid.UUID, *, reason: str
) -> CommandResult:
    """Address one more organisation of the platform (a member who joined after the call was
    issued, or any organisation that is not dissolved), and notify it."""
    await uow.preload((Call, call_id), (Organisation, organisation_id))
    call = await _managed(uow, call_id)
    organisation = await uow.find(Organisation, organisation_id)
    if organisation is None:
        raise InvalidCommand(
            f"no organisation {organisation_id} on this platform",
            field="organisation_id",
            rule="unknown",
        )
    if organisation.is_dissolved:
        raise Conflict(f"organisation {organisation_id} is dissolved", state="dissolved")
    call.add_addressee(organisation_id, reason=reason, added_by=uow.actor.name, at=uow.now())
    uow.save(reason=reason)
    await enqueue(uow.connection, call, "added", str(organisation_id), [organisation_id])
    return CommandResult.of(call)


@command()
async def close_call(
    uow: UnitOfWork, call_id: uuid.UUID, *, reason: str, notify: bool = True
) -> CommandResult:
    """Close the call: responses and claims are refused from now on, reminders not yet due
    are dropped; with `notify`, the addressees are told."""
    call = await _managed(uow, call_id)
    call.close(reason=reason, decided_by=uow.actor.name, at=uow.now())
    uow.save(reason=reason)
    await cancel_timers(uow.connection, call.id)
    if notify:
        await enqueue(uow.connection, call, "closed", "1", call.addressees, reason=reason)
    return CommandResult.of(call)


@command(writes_once=True)
async def record_reminder_due(uow: UnitOfWork, call_id: uuid.UUID, round: int) -> CommandResult:
    """The timer's command: reminder `round` fell due (nothing for a closed call or a round
    recorded already)."""
    call = await uow.get(Call, call_id)
    rights.manage_call(uow.actor, call.issued_by)
    call.reminder_fell_due(round, at=uow.now())
    return CommandResult.of(call)


@command()
async def remind_unanswered(
    uow: UnitOfWork, call_id: uuid.UUID, round: int, organisations: Sequence[uuid.UUID]
) -> CommandResult:
    """The reminder policy's command: record reminder `round` to `organisations` and write
    the reminder to the outbox (nothing for a closed call)."""
    call = await uow.get(Call, call_id)
    rights.manage_call(uow.actor, call.issued_by)
    if call.is_open and organisations:
        call.remind(round, organisations, at=uow.now())
        await enqueue(uow.connection, call, "reminder", str(round), organisations)
    return CommandResult.of(call)
