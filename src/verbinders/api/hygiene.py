"""Request hygiene: what every request must be before any route reads it.

One middleware, run for every route after routing and before authentication and the route's
own parsing, refuses what no route can use and what the database cannot hold:

- a query string or path parameter with a control character (NUL, ...), a lone surrogate or a
  noncharacter, a query string that is not UTF-8, or a query value longer than
  `limits.QUERY_TEXT_MAX` (422, naming the parameter, rule `characters`, `encoding` or
  `max-length`);
- a query parameter the route declares as a whole number that does not fit PostgreSQL's
  `bigint` (422, rule `range`), as a date-time without a time zone (rule `timezone`) or outside
  `limits.MOMENT_EARLIEST`..`MOMENT_LATEST` (rule `range`), as a date outside
  `DATE_EARLIEST`..`DATE_LATEST` (rule `range`);
- an `X-Request-ID` or `Idempotency-Key` that is empty, longer than `limits.HEADER_TOKEN_MAX` or
  holds anything but printable ASCII, and a `Last-Event-ID` that is not a feed position (422);
- a body on a command route that is not JSON: a `Content-Type` other than `application/json`
  (or `application/<something>+json`), a charset other than UTF-8, or a `Content-Encoding`
  (415). A body without a `Content-Type` is read as JSON.

The route's types come from its signature, read once per route. Everything else (the values'
own types, the routes' own bounds) the routes' parsing checks as before. The query string is
parsed with Litestar's own (cached) parser, so the values checked are the values the route
gets, and parsing them costs nothing more; a query string that passed is remembered for its
route, so a repeated one costs a look-up (about 1 µs a request, against 20 µs to check one).
"""

from __future__ import annotations

import re
import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

import msgspec
from litestar._parsers import parse_query_string
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from verbinders.api.problems import InvalidRequest, UnsupportedMediaType
from verbinders.domain import limits, rules
from verbinders.domain.text import REFUSED_IN_QUERIES

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["RequestHygiene"]

Kind = Literal["int", "datetime", "date"]

_DIGITS = re.compile(r"[+-]?[0-9]+")
_RESERVED = frozenset(
    {"self", "request", "data", "state", "scope", "headers", "cookies", "query", "socket", "body"}
)
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TOKENS = {b"x-request-id": "X-Request-ID", b"idempotency-key": "Idempotency-Key"}


class _Plan(msgspec.Struct, frozen=True):
    """What one route handler takes: its typed query parameters, and whether it reads a body."""

    query: dict[str, Kind]
    takes_body: bool


def _kind(annotation: Any) -> Kind | None:
    """int, datetime or date, for the types a query parameter is checked as (else None)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        kinds = {_kind(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None
    if not isinstance(annotation, type) or issubclass(annotation, bool | Enum):
        return None
    if issubclass(annotation, datetime):
        return "datetime"
    if issubclass(annotation, date):
        return "date"
    return "int" if issubclass(annotation, int) else None


def _plan(handler: Any) -> _Plan:
    query: dict[str, Kind] = {}
    takes_body = False
    for name, field in handler.parsed_fn_signature.parameters.items():
        if name == "data":
            takes_body = True
        kwarg = field.kwarg_definition
        if name in _RESERVED or getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
            continue
        kind = _kind(field.annotation)
        if kind is not None:
            query[getattr(kwarg, "query", None) or name] = kind
    return _Plan(query=query, takes_body=takes_body)


def _text(value: str, field: str, kind: Kind | None = None) -> None:
    """No control characters; then the value as its route's type (`kind`); then its length."""
    refused = None if value.isascii() and value.isprintable() else REFUSED_IN_QUERIES.search(value)
    if refused is not None:
        raise InvalidRequest(
            f"{field} contains a character that is not allowed"
            f" (U+{ord(refused.group()):04X}) at position {refused.start()}",
            field=field,
            rule="characters",
        )
    if kind is not None:
        _typed(value, kind, field)
    if len(value) > limits.QUERY_TEXT_MAX:
        raise InvalidRequest(
            f"{field} must be at most {limits.QUERY_TEXT_MAX} characters long",
            field=field,
            rule="max-length",
        )


def _whole_number(value: str, field: str) -> None:
    if not _DIGITS.fullmatch(value.strip()):
        return  # not a number: the route's own parsing says so
    sign, digits = value.strip()[0], value.strip().lstrip("+-").lstrip("0") or "0"
    number = 0 if len(digits) > 19 else int(digits) * (-1 if sign == "-" else 1)
    if len(digits) > 19 or not -limits.INT64_MAX - 1 <= number <= limits.INT64_MAX:
        raise InvalidRequest(
            f"{field} must be a whole number that fits 64 bits (at most {limits.INT64_MAX})",
            field=field,
            rule="range",
        )


_ISO_DAY = re.compile(r"\s*\d{4}-\d{2}-\d{2}")
"""How every date and date-time a query names begins (not a number of seconds since 1970)."""


def _typed(value: str, kind: Kind, field: str) -> None:
    if kind == "int":
        _whole_number(value, field)
        return
    if not _ISO_DAY.match(value):
        shape = "a date-time with a time zone" if kind == "datetime" else "a date"
        raise InvalidRequest(
            f"{field} must be {shape} in ISO 8601 (2024-03-01...), got {value[:40]!r}",
            field=field,
            rule="format",
        )
    try:
        parsed = msgspec.convert(value, datetime if kind == "datetime" else date, strict=False)
    except msgspec.ValidationError:
        return  # not a date (or date-time): the route's own parsing says so
    if isinstance(parsed, datetime):
        rules.moment(parsed, field=field)
    else:
        rules.day(parsed, field=field)


def _utf8(raw: bytes) -> None:
    """Litestar decodes what is not UTF-8 as U+FFFD: whether the client sent that, or not UTF-8."""
    try:
        parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise InvalidRequest(
            "the query string is not UTF-8 (percent-encode its text as UTF-8)",
            field="query",
            rule="encoding",
        ) from None


def _query(raw: bytes, plan: _Plan, path_params: dict[str, Any]) -> None:
    for name, value in parse_query_string(raw):
        if "\ufffd" in name or "\ufffd" in value:
            _utf8(raw)
        _text(name, "query")
        _text(value, name, None if name in path_params else plan.query.get(name))


_HEADER_TOKEN = re.compile(rb"[\x20-\x7e]{1,%d}" % limits.HEADER_TOKEN_MAX)


def _header_token(value: bytes, field: str) -> None:
    if _HEADER_TOKEN.fullmatch(value) is None:
        raise InvalidRequest(
            f"{field} must be 1 to {limits.HEADER_TOKEN_MAX} printable ASCII characters",
            field=field,
            rule="format",
        )


def _last_event_id(value: bytes) -> None:
    text = value.decode("latin-1").strip()
    if not text.isascii() or not text.isdigit() or int(text[:20]) > limits.INT64_MAX:
        raise InvalidRequest(
            "Last-Event-ID must be a feed position (a whole number that fits 64 bits)",
            field="Last-Event-ID",
            rule="range",
        )


def _if_match(value: bytes) -> None:
    if len(value) > limits.HEADER_TOKEN_MAX:
        raise InvalidRequest(
            f"If-Match must be at most {limits.HEADER_TOKEN_MAX} characters",
            field="If-Match",
            rule="length",
        )


_CHECKED = {b"last-event-id": _last_event_id, b"if-match": _if_match}


def _content(content_type: bytes | None, content_encoding: bytes | None, method: str) -> None:
    """A command's body is JSON in UTF-8, sent as it is (without a Content-Type: read as JSON)."""
    if content_encoding is not None and content_encoding.strip().lower() != b"identity":
        raise UnsupportedMediaType(
            f"bodies are accepted without a Content-Encoding, got {content_encoding.decode()!r}",
            method=method,
        )
    if content_type is None:
        return
    media_type, _, parameters = content_type.decode("latin-1").partition(";")
    media_type = media_type.strip().lower()
    charset = ""
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    is_json = media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    if not is_json or charset not in ("", "utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"commands take a JSON body (Content-Type: application/json) in UTF-8,"
            f" got {content_type.decode('latin-1')[:100]!r}",
            method=method,
        )


class RequestHygiene(ASGIMiddleware):
    """Refuses what no route can use before any route reads it (see the module's notes)."""

    scopes = (ScopeType.HTTP,)

    REMEMBERED = 4096
    """Query strings that passed, remembered per route (forgotten all at once when full)."""
    REMEMBERED_LENGTH = 512
    """Longer query strings are checked every time (the memory stays under 2.5 MB)."""

    def __init__(self) -> None:
        self._plans: dict[int, _Plan] = {}
        self._passed: set[tuple[int, bytes]] = set()

    def plan_for(self, handler: Any) -> _Plan:
        plan = self._plans.get(id(handler))
        if plan is None:
            plan = self._plans[id(handler)] = _plan(handler)
        return plan

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        plan = self.plan_for(scope["route_handler"])
        content_type: bytes | None = None
        content_encoding: bytes | None = None
        for header, value in scope["headers"]:
            if header in _TOKENS:
                _header_token(value, _TOKENS[header])
            elif header in _CHECKED:
                _CHECKED[header](value)
            elif header == b"content-type":
                content_type = value
            elif header == b"content-encoding":
                content_encoding = value
        path_params: dict[str, Any] = scope["path_params"]
        for name, param in path_params.items():
            if isinstance(param, str):
                _text(param, name)
        query: bytes = scope["query_string"]
        if query and (id(plan), query) not in self._passed:
            _query(query, plan, path_params)
            if len(query) <= self.REMEMBERED_LENGTH:
                if len(self._passed) >= self.REMEMBERED:
                    self._passed.clear()
                self._passed.add((id(plan), query))
        method = str(scope.get("method", ""))
        if plan.takes_body and method in _WRITES:
            _content(content_type, content_encoding, method)
        await next_app(scope, receive, send)
