"""What request hygiene (api/hygiene.py) costs per request, run by hand (never as a test).

    ./dev setup && .venv/bin/python bench/bench_hygiene.py [--rounds 5] [--requests 20000]

In one process, on the real app's route handlers (create_app; no database is opened), it calls
in turn (a) a middleware that only passes the request on and (b) `RequestHygiene`, on the same
ASGI scopes, in rounds whose order alternates (a b, b a, ...), and prints per case the median
microseconds per request of each, the difference (what hygiene adds) and the ratio b/a:

  query, repeated   GET /organisations?q=...&limit&offset&as_of (a query string seen before)
  query, each new   the same with a new offset every request (nothing remembered)
  no query          GET /me
  command           POST /tokens with Content-Type, X-Request-ID and Idempotency-Key

Only the differences and ratios of one run mean anything: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from verbinders.api.app import create_app
from verbinders.api.hygiene import RequestHygiene
from verbinders.config import Settings

HEADERS = [(b"host", b"bench"), (b"authorization", b"Bearer vb_x"), (b"accept", b"*/*")]


async def _next(scope: Any, receive: Any, send: Any) -> None:
    return None


async def _pass_on(scope: Any, receive: Any, send: Any, next_app: Any) -> None:
    await next_app(scope, receive, send)


def _scopes(handlers: dict[tuple[str, str], Any], requests: int, start: int) -> dict[str, list]:
    def scope(path: str, method: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict:
        return {
            "type": "http",
            "method": method,
            "path": path,
            "query_string": query,
            "headers": headers,
            "path_params": {},
            "route_handler": handlers[(path, method)],
        }

    query = b"q=zaal&limit=50&offset=%d&as_of=2024-01-01T00:00:00Z"
    command = [
        *HEADERS,
        (b"content-type", b"application/json"),
        (b"x-request-id", b"bench-1"),
        (b"idempotency-key", b"bench-key-1"),
    ]
    return {
        "query, repeated": [scope("/organisations", "GET", query % 0, HEADERS)] * requests,
        "query, each new": [
            scope("/organisations", "GET", query % (start + i), HEADERS) for i in range(requests)
        ],
        "no query": [scope("/me", "GET", b"", HEADERS)] * requests,
        "command": [scope("/tokens", "POST", b"", command)] * requests,
    }


async def _time(handle: Any, scopes: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for scope in scopes:
        await handle(scope, None, None, _next)
    return (time.perf_counter() - started) / len(scopes) * 1e6


async def main(rounds: int, requests: int) -> None:
    app = create_app(Settings())
    handlers = {
        (route.path, method): handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
    }
    hygiene = RequestHygiene()
    contenders = {"a": _pass_on, "b": hygiene.handle}
    results: dict[str, dict[str, list[float]]] = {}
    for number in range(rounds):
        scopes = _scopes(handlers, requests, start=(number + 1) * requests)
        order = ("a", "b") if number % 2 == 0 else ("b", "a")
        for case, case_scopes in scopes.items():
            for name in order:
                spent = await _time(contenders[name], case_scopes)
                results.setdefault(case, {}).setdefault(name, []).append(spent)
    print(f"{rounds} rounds of {requests:,} requests; median µs per request")
    print(f"{'case':<18}{'a: pass on':>12}{'b: hygiene':>12}{'b - a':>10}{'b / a':>8}")
    for case, spent in results.items():
        a, b = statistics.median(spent["a"]), statistics.median(spent["b"])
        print(f"{case:<18}{a:>12.2f}{b:>12.2f}{b - a:>10.2f}{b / a:>8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.requests))
