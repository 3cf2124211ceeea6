"""Overlap cases over HTTP: one case from the store (the coordinator and the two
organisations), an organisation's answer; the platform's overlap threshold.

An answer is `{"organisation_id": ..., "answer": {"type": "join-forces", "host_activity_id":
...}}`, `{"type": "coordinate", "note": ...}` or `{"type": "not-an-overlap", "reason": ...}`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.params import Parameter, QueryParameter

from verbinders.api.auth import get_actor, roles
from verbinders.api.results import CommandResult
from verbinders.api.routes.common import AsOf, Timeout, WaitFor, etag, execute, moment
from verbinders.api.state import runtime_of
from verbinders.application import overlap_cases as service
from verbinders.application import rights
from verbinders.domain import limits
from verbinders.domain.access import Role
from verbinders.domain.overlap import DEFAULT_THRESHOLD, Explanation
from verbinders.domain.overlap_cases import (
    Answer,
    Coordinate,
    Invitation,
    JoinForces,
    NotAnOverlap,
    OverlapCase,
)
from verbinders.domain.overlap_settings import (
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    OverlapSettings,
    overlap_settings_id,
)
from verbinders.errors import Forbidden
from verbinders.projections.activities_queries import list_cases
from verbinders.projections.reading import reading

__all__ = ["OverlapCasesController", "OverlapSettingsController"]

OWN = rights.OWN
READERS = tuple(role.value for role in Role)
Note = Annotated[str, msgspec.Meta(max_length=limits.NOTE_MAX)]


class JoinForcesIn(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="join-forces"
):
    host_activity_id: uuid.UUID
    """Which of the two activities goes on as the joint one."""
    note: Note = ""


class CoordinateIn(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="coordinate"
):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=limits.NOTE_MAX)]


class NotAnOverlapIn(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag="not-an-overlap"
):
    reason: limits.Reason


class AnswerCase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: uuid.UUID
    answer: JoinForcesIn | CoordinateIn | NotAnOverlapIn

    def domain_answer(self) -> Answer:
        given = self.answer
        if isinstance(given, JoinForcesIn):
            return JoinForces(host_activity_id=given.host_activity_id, note=given.note)
        if isinstance(given, CoordinateIn):
            return Coordinate(note=given.note)
        return NotAnOverlap(reason=given.reason)


class SetThreshold(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    threshold: Annotated[float, msgspec.Meta(ge=THRESHOLD_MIN, le=THRESHOLD_MAX)]
    reason: limits.Reason


class AnswerView(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: uuid.UUID
    answer: Answer


class CaseView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    activities: tuple[uuid.UUID, uuid.UUID]
    organisations: tuple[uuid.UUID, uuid.UUID]
    status: str
    score: float
    threshold: float
    explanation: Explanation
    answers: list[AnswerView]
    opened_at: datetime
    ended_at: datetime | None
    outcome: str | None
    invitation: Invitation | None
    version: int


class ThresholdView(msgspec.Struct, frozen=True, kw_only=True):
    threshold: float
    default: bool
    """True while the coordinator has not set one (`DEFAULT_THRESHOLD`)."""
    changed_at: datetime | None
    version: int


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    activities: tuple[uuid.UUID, uuid.UUID]
    titles: tuple[str | None, str | None]
    organisations: tuple[uuid.UUID, uuid.UUID]
    score: float
    summary: str
    status: str
    outcome: str | None
    opened_at: datetime
    ended_at: datetime | None


class CasePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


class OverlapCasesController(Controller):
    path = "/overlap-cases"
    tags = ["overlap"]

    @get("/", **roles(*OWN), summary="Overlap cases: all (coordinator) or your organisation's")
    async def list(
        self,
        request: Request[Any, Any, Any],
        case_status: Annotated[
            Literal["open", "resolved", "closed"] | None,
            QueryParameter(name="status", description="open, resolved or closed"),
        ] = None,
        organisation_id: uuid.UUID | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=limits.INT32_MAX)] = 0,
        as_of: AsOf = None,
        wait_for: WaitFor = None,
        timeout: Timeout = 5.0,
    ) -> CasePage:
        """The latest opened first. The coordinator sees every case (or one organisation's
        with `organisation_id`); a token acting for an organisation sees its own."""
        actor = get_actor(request)
        if not actor.has_any(Role.COORDINATOR.value):
            if organisation_id not in (None, actor.party) or actor.party is None:
                raise Forbidden(
                    "an organisation sees its own overlap cases",
                    organisation=str(organisation_id),
                )
            organisation_id = actor.party
        async with reading(
            runtime_of(request),
            "activities",
            tenant=actor.tenant,
            as_of=moment(as_of),
            wait_for=wait_for,
            timeout=timeout,
        ) as r:
            total, rows = await list_cases(
                r,
                actor.tenant,
                organisation=organisation_id,
                status=case_status,
                limit=limit,
                offset=offset,
            )
        items = [
            CaseSummary(
                id=row["id"],
                activities=(row["activity_a"], row["activity_b"]),
                titles=(row["title_a"], row["title_b"]),
                organisations=(row["organisation_a"], row["organisation_b"]),
                score=row["score"],
                summary=row["summary"],
                status=row["status"],
                outcome=row["outcome"],
                opened_at=row["opened_at"],
                ended_at=row["ended_at"],
            )
            for row in rows
        ]
        return CasePage(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/{case_id:uuid}",
        **roles(*OWN),
        summary="One overlap case: the score's explanation, the answers, how it ended",
    )
    async def show(
        self, request: Request[Any, Any, Any], case_id: uuid.UUID, as_of: AsOf = None
    ) -> Response[CaseView]:
        actor = get_actor(request)
        case = await runtime_of(request).repository.get(
            OverlapCase, case_id, tenant=actor.tenant, as_of=moment(as_of)
        )
        rights.see_overlap_case(actor, case.organisations)
        view = CaseView(
            id=case.id,
            activities=case.activities,
            organisations=case.organisations,
            status=case.status.value,
            score=case.score,
            threshold=case.threshold,
            explanation=case.explanation,
            answers=[AnswerView(organisation_id=k, answer=v) for k, v in case.answers.items()],
            opened_at=case.opened_at,
            ended_at=case.ended_at,
            outcome=case.outcome.value if case.outcome else None,
            invitation=case.invitation,
            version=case.version,
        )
        return Response(view, headers={"ETag": etag(case.version)})

    @post(
        "/{case_id:uuid}/answers",
        **roles(*OWN, command=True),
        summary="An organisation's answer: join forces, coordinate, or not an overlap",
        status_code=200,
    )
    async def answer(
        self, request: Request[Any, Any, Any], case_id: uuid.UUID, data: AnswerCase
    ) -> Response[CommandResult]:
        return await execute(
            request,
            service.answer_overlap_case,
            case_id,
            data.organisation_id,
            data.domain_answer(),
        )


class OverlapSettingsController(Controller):
    path = "/platform/overlap-threshold"
    tags = ["overlap"]

    @get("/", **roles(*READERS), summary="The score from which overlap cases open")
    async def show(self, request: Request[Any, Any, Any], as_of: AsOf = None) -> ThresholdView:
        actor = get_actor(request)
        settings = await runtime_of(request).repository.find(
            OverlapSettings,
            overlap_settings_id(actor.tenant),
            tenant=actor.tenant,
            as_of=moment(as_of),
        )
        if settings is None:
            return ThresholdView(
                threshold=DEFAULT_THRESHOLD, default=True, changed_at=None, version=0
            )
        return ThresholdView(
            threshold=settings.threshold,
            default=False,
            changed_at=settings.changed_at,
            version=settings.version,
        )

    @put(
        "/",
        **roles(Role.COORDINATOR.value, command=True),
        summary="Set the overlap threshold (for activities planned or changed from now on)",
        status_code=200,
    )
    async def set(
        self, request: Request[Any, Any, Any], data: SetThreshold
    ) -> Response[CommandResult]:
        return await execute(
            request, service.set_overlap_threshold, threshold=data.threshold, reason=data.reason
        )
