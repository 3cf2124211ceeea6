"""Every part of the product is registered in one place (`verbinders.registry`), and what is
registered is what the docs say: a part that exists but is not registered, a route missing
from the README's table, or a layer that imports one it should not, fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from eventsourcing.domain import Aggregate
from litestar import Controller

import verbinders
from verbinders import registry
from verbinders.application.commands import Command
from verbinders.application.rights import ACTS_FOR_A_PARTY
from verbinders.domain.access import Role
from verbinders.policies.policy import Policy
from verbinders.projections.engine import Projection
from verbinders.projections.temporal import TemporalProjection

README = Path(__file__).resolve().parents[1] / "README.md"


def modules_of(package: str) -> list[ModuleType]:
    root = importlib.import_module(package)
    found = [root]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        found.append(importlib.import_module(info.name))
    return found


def defined_in(package: str, base: type) -> set[type]:
    """Concrete subclasses of `base` defined in the modules of `package`."""
    return {
        value
        for module in modules_of(package)
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, base)
        and value is not base
        and value.__module__ == module.__name__
        and not inspect.isabstract(value)
    }


def test_every_aggregate_of_the_domain_is_registered() -> None:
    assert defined_in("verbinders.domain", Aggregate) == set(registry.aggregates())


def test_every_read_model_is_registered() -> None:
    registered = {type(p) for p in registry.projections()}
    # `TemporalProjection`: the base of the read models that keep their history.
    assert defined_in("verbinders.projections", Projection) - {TemporalProjection} == registered


def test_every_policy_is_registered() -> None:
    registered = {type(p) for p in registry.policies()}
    assert defined_in("verbinders.policies", Policy) == registered
    assert registered  # the dissolution policy, at least


def test_every_route_controller_is_registered() -> None:
    assert defined_in("verbinders.api.routes", Controller) == set(registry.routes())


def test_every_command_lives_in_a_registered_service_module() -> None:
    services = {module.__name__ for module in registry.services()}
    for module in modules_of("verbinders.application"):
        commands = [v for v in vars(module).values() if isinstance(v, Command)]
        if any(c.fn.__module__ == module.__name__ for c in commands):
            assert module.__name__ in services, module.__name__


def test_migrations_are_plain_lists_in_order_collected_in_one_place() -> None:
    collected = registry.migrations()
    assert [name for name, _ in collected] == [
        "store",
        "projections",
        "access",
        "api",
        "overlap_cases",
        "mail",
        "call_timers",
        "call_board",
        "call_audience",
        "report_timers",
    ]
    for name, steps in collected:
        assert [version for version, _, _ in steps] == list(range(1, len(steps) + 1)), name
    source = Path(verbinders.__file__).parent
    for path in source.rglob("*.py"):
        assert "register_migrations(" not in path.read_text(), path


def test_a_feed_worker_imports_no_http_code() -> None:
    """`verbinders project` (its command, the runtime, every projection and policy)."""
    probe = (
        "import sys\n"
        "from verbinders.cli import main\n"
        "from verbinders.cli.store_commands import project_command\n"
        "import verbinders.workers, verbinders.runtime\n"
        "from verbinders import registry\n"
        "registry.projections(); registry.policies(); registry.migrations()\n"
        "http = sorted(m for m in sys.modules if m.split('.')[0] in ('litestar', 'uvicorn')"
        " or m.startswith('verbinders.api'))\n"
        "print(','.join(http))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


# -- the README's routes table -------------------------------------------------------------------

ROLE_PHRASES = {
    "every role": {r.value for r in Role},
    "anyone": {"public"},
    "the organisation itself": set(ACTS_FOR_A_PARTY),
}


def readme_routes() -> dict[tuple[str, str], set[str]]:
    """(method, path with `{}` for parameters) -> the roles the README's table names."""
    table = README.read_text().split("| route | roles | what |")[1].split("\n\n")[0]
    routes: dict[tuple[str, str], set[str]] = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        roles: set[str] = set()
        for phrase in (p.strip() for p in cells[1].split(",")):
            roles |= ROLE_PHRASES.get(phrase, {phrase})
        for method, path in re.findall(r"`([A-Z]+(?:/[A-Z]+)*) ([^`]+)`", cells[0]):
            for one in method.split("/"):
                routes[(one, re.sub(r"\{[^}]*\}", "{}", path))] = roles
    return routes


def served_routes() -> dict[tuple[str, str], set[str]]:
    from verbinders.api.app import create_app
    from verbinders.config import Settings

    app = create_app(Settings())
    served: dict[tuple[str, str], set[str]] = {}
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue
        handlers: Any = getattr(route, "route_handler_map", {})
        for method, handler in handlers.items():
            if method in ("HEAD", "OPTIONS"):
                continue
            handler = handler[0] if isinstance(handler, tuple) else handler
            path = re.sub(r"\{[^}]*\}", "{}", route.path)
            served[(method, path)] = set(handler.opt.get("roles", ()))
    return served


def test_every_route_is_in_the_readme_with_the_roles_it_admits() -> None:
    readme, served = readme_routes(), served_routes()
    assert sorted(served) == sorted(readme)
    for route, admitted in served.items():
        assert readme[route] == admitted, route
