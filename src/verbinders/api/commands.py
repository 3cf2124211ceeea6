"""Commands over HTTP: a request becomes a `CommandRequest` for the pipeline, the outcome
becomes a response. A route handler is its decorator and one line:

    @post("/{meeting_id:uuid}/cancel", **roles("coordinator", command=True), summary=...)
    async def cancel(self, request: Request, meeting_id: UUID, data: CancelMeeting) -> ...:
        return await execute(request, service.cancel_meeting, meeting_id, reason=data.reason)

From the request: the actor (`authorize` left it), `Idempotency-Key` (with a fingerprint of
method, path, query and body), `If-Match` (parsed once into the versions the target may be
at), `X-Request-ID` (the correlation id). The answer: the route's status code, the result as
JSON, its `ETag` (when it has a version), `Location` (from the route's `location` template),
`Verbinders-Position` and `X-Request-ID`; a replay adds `Idempotency-Replayed: true`.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import msgspec
from litestar import Response

from verbinders.api.auth import get_actor
from verbinders.api.state import AppState
from verbinders.application.idempotency import Answer, Idempotency
from verbinders.application.unit_of_work import CommandRequest

if TYPE_CHECKING:
    from litestar import Request

    from verbinders.application.commands import Command

__all__ = ["POSITION_HEADER", "etag", "execute", "expected_versions"]

P = ParamSpec("P")
T = TypeVar("T")

POSITION_HEADER = "Verbinders-Position"
_encoder = msgspec.json.Encoder()


def etag(version: int) -> str:
    return f'"{version}"'


def expected_versions(header: str | None) -> frozenset[int] | None:
    """`If-Match` as the versions the target may be at: None for none or `*`; a tag that is
    no version of ours (`"abc"`) matches nothing."""
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        value = tag.strip().removeprefix("W/")
        if len(value) >= 2 and value[0] == value[-1] == '"' and value[1:-1].isdigit():
            versions.add(int(value[1:-1]))
    return frozenset(versions)


async def _fingerprint(request: Request[Any, Any, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b" ")
    digest.update(request.url.path.encode())
    digest.update(b"?")
    digest.update(request.url.query.encode())
    digest.update(b"\n")
    digest.update(await request.body())
    return digest.hexdigest()


def _presenter(request: Request[Any, Any, Any], correlation: str) -> Any:
    handler = request.route_handler
    status = handler.status_code
    location: str | None = handler.opt.get("location")

    def present(result: Any) -> Answer:
        headers = {"X-Request-ID": correlation}
        position = getattr(result, "position", 0)
        if position:
            headers[POSITION_HEADER] = str(position)
        version = getattr(result, "version", None)
        if isinstance(version, int):
            headers["ETag"] = etag(version)
        if location is not None:
            headers["Location"] = location.format(id=result.id)
        return Answer(body=_encoder.encode(result), status=status, headers=headers)

    return present


async def execute(
    request: Request[Any, Any, Any],
    command: Command[P, T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> Response[Any]:
    """Run `command` for this request through the pipeline and answer with its outcome."""
    key = request.headers.get("idempotency-key")
    correlation = request.headers.get("x-request-id") or str(uuid.uuid4())
    command_request = CommandRequest(
        actor=get_actor(request),
        correlation_id=correlation,
        idempotency=(
            Idempotency(key=key, fingerprint=await _fingerprint(request))
            if key is not None
            else None
        ),
        expected_version=expected_versions(request.headers.get("if-match")),
        present=_presenter(request, correlation),
    )
    state: AppState = request.app.state.verbinders
    outcome = await state.runtime.pipeline.execute(command, command_request, *args, **kwargs)
    answer = outcome.answer
    headers = dict(answer.headers)
    if outcome.replayed:
        headers["Idempotency-Replayed"] = "true"
    return Response(
        answer.body, status_code=answer.status, headers=headers, media_type="application/json"
    )
