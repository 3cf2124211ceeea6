"""Every error as an RFC 9457 problem document, mapped in this one place.

Besides the product's own errors (`verbinders.errors`) and Litestar's, this maps what hostile
input can still provoke below the request's checks (`hygiene`) and the domain's bounds, so that
it never surfaces as a 500: JSON nested deeper than the decoder recurses (400), and values the
database refuses to hold, such as a NUL character or a number past 64 bits (422; logged as a
warning, since a bound upstream should have caught them first).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_405_METHOD_NOT_ALLOWED,
    HTTP_409_CONFLICT,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from verbinders.domain.limits import NO_CONTROLS_PATTERN
from verbinders.errors import (
    Conflict,
    Forbidden,
    InvalidCommand,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    Unavailable,
    VerbindersError,
)
from verbinders.store.feed_guards import FEED_REFUSALS, feed_refusal

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_JSON",
    "FieldError",
    "InvalidRequest",
    "MalformedRequest",
    "Problem",
    "RateLimited",
    "UnsupportedMediaType",
    "exception_handlers",
    "problem_response",
]

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://verbinders.nl/problems/"
PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One value the request's validation refused."""

    field: str | None = None
    """The field, with its path (`districts[0].label`), or the query parameter or header."""
    source: str | None = None
    """Where it was: `body`, `query`, `path`, `header`."""
    message: str | None = None


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document. `type` is stable (a client may branch on it); further
    members carry what the client can act on (`required_roles`, `current_version`, `state`,
    `retry_after`, ...), named in docs/api.md."""

    type: str
    """`https://verbinders.nl/problems/<kind>`: the kind of problem."""
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    """The request's path."""
    field: str | None = None
    """The field a 422 is about."""
    rule: str | None = None
    """The rule a 422 names (`max-length`, `range`, `unknown-field`, `required`, ...)."""
    errors: list[FieldError] | None = None


class RateLimited(VerbindersError):
    kind = "rate-limited"
    title = "Too many requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class TooLarge(VerbindersError):
    kind = "request-too-large"
    title = "Request body too large"


class InvalidRequest(InvalidCommand):
    """A request's query string, path or headers hold what no route accepts (422)."""

    kind = "invalid-request"
    title = "Invalid request"


class MalformedRequest(VerbindersError):
    """The request cannot be read at all (its JSON is malformed or nested too deeply)."""

    kind = "malformed-request"
    title = "Malformed request"


class UnsupportedMediaType(VerbindersError):
    """A command's body is not JSON (or is encoded); `method` picks the `Accept-*` header."""

    kind = "unsupported-media-type"
    title = "Unsupported media type"

    def __init__(self, message: str, *, method: str) -> None:
        super().__init__(message, accepted="application/json")
        self.method = method


STATUS: dict[type[VerbindersError], int] = {
    InvalidCommand: HTTP_422_UNPROCESSABLE_ENTITY,
    NotFound: HTTP_404_NOT_FOUND,
    Conflict: HTTP_409_CONFLICT,
    PreconditionFailed: HTTP_412_PRECONDITION_FAILED,
    Unauthorized: HTTP_401_UNAUTHORIZED,
    Forbidden: HTTP_403_FORBIDDEN,
    RateLimited: HTTP_429_TOO_MANY_REQUESTS,
    TooLarge: HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    MalformedRequest: HTTP_400_BAD_REQUEST,
    UnsupportedMediaType: HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    Unavailable: HTTP_503_SERVICE_UNAVAILABLE,
}


def status_of(error: VerbindersError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return HTTP_400_BAD_REQUEST


def problem_response(
    request: Request[Any, Any, Any],
    *,
    kind: str,
    title: str,
    status: int,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> Response[dict[str, Any]]:
    """A problem document; `members` become extension members at its top level (RFC 9457)."""
    problem: dict[str, Any] = {
        "type": PROBLEM_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    problem.update({k: v for k, v in members.items() if v is not None and k not in problem})
    problem = {k: v for k, v in problem.items() if v is not None}
    response_headers = dict(headers or {})
    if status == HTTP_401_UNAUTHORIZED:
        response_headers.setdefault("WWW-Authenticate", 'Bearer realm="verbinders"')
    return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=response_headers)


def _product_error(
    request: Request[Any, Any, Any], error: VerbindersError
) -> Response[dict[str, Any]]:
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unavailable):
        headers["Retry-After"] = "1"
    if isinstance(error, UnsupportedMediaType) and error.method in ("POST", "PATCH"):
        headers[f"Accept-{error.method.capitalize()}"] = "application/json"
    details = dict(error.details)
    return problem_response(
        request,
        kind=error.kind,
        title=error.title,
        status=status_of(error),
        detail=error.message,
        headers=headers,
        **details,
    )


def _validation_error(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": item.get("key"),
                    "source": item.get("source"),
                    "message": item.get("message"),
                }
            )
    first = errors[0] if errors else {}
    message = str(first.get("message") or error.detail)
    field = _field_of(message, first.get("field"))
    rule = _rule_of(message)
    if rule == "characters":  # the pattern itself says little to a person
        message = CONTROL_CHARACTERS
    return problem_response(
        request,
        kind="invalid-request",
        title="Invalid request",
        status=HTTP_422_UNPROCESSABLE_ENTITY,
        detail=f"{field}: {message}" if field else message,
        field=field,
        rule=rule,
        errors=errors or None,
    )


CONTROL_CHARACTERS = (
    "holds a control character (U+0000 to U+001F other than tab, line feed and carriage"
    " return, or U+007F to U+009F), which no text may hold"
)
_PATH = re.compile(r"at `\$\.([^`]+)`")
_NAMED = re.compile(r"field `([^`]+)`")


def _field_of(message: str, key: str | None = None) -> str | None:
    """The field a msgspec message is about, with its path: `at $.roles[0]`, or a field named
    in the message (`unknown field colour`) inside the object at `key` (`districts[0].label`)."""
    path = _PATH.search(message)
    if path:
        return path.group(1)
    if key == "data":  # Litestar's name for the request body itself
        key = None
    named = _NAMED.search(message)
    if named is None:
        return key or None
    if key and key != named.group(1):
        return f"{key}.{named.group(1)}"
    return named.group(1)


_SIZED = re.compile(r"expected `(\w+)` of length ([<>]=?)")


def _rule_of(message: str) -> str:
    """The rule a msgspec (or Litestar) message reports, named as the domain names its rules."""
    lowered = message.lower()
    sized = _SIZED.search(lowered)
    if sized:
        kind, operator = sized.groups()
        if kind == "array":
            return "max-items" if operator.startswith("<") else "min-items"
        return "max-length" if operator.startswith("<") else "min-length"
    if "matching regex" in lowered:
        # msgspec quotes the pattern (its backslashes doubled): look for its first range
        controls = NO_CONTROLS_PATTERN.lower() in lowered or "x00-" in lowered
        return "characters" if controls else "format"
    if "timezone" in lowered:
        return "timezone"
    if any(op in lowered for op in (">=", "<=", "` >", "` <")):
        return "range"
    for needle, rule in (
        ("unknown field", "unknown-field"),
        ("missing required", "required"),
        ("invalid enum value", "choice"),
        ("expected", "type"),
        ("length", "length"),
        ("must be", "range"),
        ("invalid", "format"),
    ):
        if needle in lowered:
            return rule
    return "invalid"


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(error, ValidationException):
        return _validation_error(request, error)
    status = error.status_code
    kinds = {
        HTTP_401_UNAUTHORIZED: ("unauthorized", "Unauthorized"),
        HTTP_403_FORBIDDEN: ("forbidden", "Forbidden"),
        HTTP_404_NOT_FOUND: ("not-found", "Not found"),
        HTTP_405_METHOD_NOT_ALLOWED: ("method-not-allowed", "Method not allowed"),
        HTTP_413_REQUEST_ENTITY_TOO_LARGE: ("request-too-large", "Request body too large"),
        HTTP_429_TOO_MANY_REQUESTS: ("rate-limited", "Too many requests"),
    }
    kind, title = kinds.get(status, ("http-error", "HTTP error"))
    if status == HTTP_400_BAD_REQUEST:
        kind, title = MalformedRequest.kind, MalformedRequest.title
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        return _internal_error(request, error)
    return problem_response(
        request,
        kind=kind,
        title=title,
        status=status,
        detail=str(error.detail) or None,
        headers=dict(error.headers or {}),
    )


def _internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(
        request,
        kind="internal-error",
        title="Internal server error",
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        detail="The server could not complete the request; the error was logged.",
    )


def _database_error(
    request: Request[Any, Any, Any], error: asyncpg.PostgresError
) -> Response[dict[str, Any]]:
    """The event feed's refusals (store/feed_guards.py) are 503s naming the fix; the rest 500."""
    if (error.sqlstate or "") in FEED_REFUSALS:
        try:
            with feed_refusal():
                raise error
        except VerbindersError as refused:
            return _product_error(request, refused)
    return _internal_error(request, error)


def _read_model_missing(
    request: Request[Any, Any, Any], error: asyncpg.UndefinedTableError
) -> Response[dict[str, Any]]:
    log.warning("read model missing on %s: %s", request.url.path, error)
    return problem_response(
        request,
        kind="read-model-unavailable",
        title="Read model not built yet",
        status=HTTP_503_SERVICE_UNAVAILABLE,
        detail="This read model is not built yet; the projections build it at start. Retry soon.",
        headers={"Retry-After": "5"},
    )


def _too_deep(request: Request[Any, Any, Any], error: RecursionError) -> Response[dict[str, Any]]:
    """The JSON decoder recursed past Python's limit: a body nested absurdly deep."""
    if "deserializ" not in str(error):
        return _internal_error(request, error)
    return _product_error(request, MalformedRequest("the JSON body is nested too deeply"))


_UNSTORABLE_TEXT = (asyncpg.UntranslatableCharacterError, asyncpg.CharacterNotInRepertoireError)
_OUT_OF_RANGE = (asyncpg.NumericValueOutOfRangeError, asyncpg.DatetimeFieldOverflowError)


def _unstorable(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    """A value the database cannot hold reached it: refused (422), and logged, because a bound
    in the domain or in `hygiene` should have refused it first. Other data errors (an argument
    of the wrong type: a bug of ours) stay 500s."""
    if isinstance(error, _UNSTORABLE_TEXT):
        message, rule = "a text holds a character the database cannot store (NUL)", "characters"
    elif isinstance(error, _OUT_OF_RANGE) or isinstance(error.__cause__, OverflowError):
        message, rule = "a number or date lies outside what the database can hold", "range"
    else:
        return _internal_error(request, error)
    log.warning("unstorable value on %s %s: %s", request.method, request.url.path, error)
    return _product_error(request, InvalidRequest(message, rule=rule))


def exception_handlers() -> dict[type[Exception] | int, Callable[..., Response[Any]]]:
    return {
        RecursionError: _too_deep,
        asyncpg.DataError: _unstorable,  # PostgreSQL's class 22, and bad query arguments
        asyncpg.exceptions._base.DataError: _unstorable,
        asyncpg.UndefinedTableError: _read_model_missing,
        asyncpg.PostgresError: _database_error,
        VerbindersError: _product_error,
        HTTPException: _http_error,
        NotAuthorizedException: _http_error,
        PermissionDeniedException: _http_error,
        NotFoundException: _http_error,
        MethodNotAllowedException: _http_error,
        ValidationException: _http_error,
        Exception: _internal_error,
    }
