"""Configuration from `VERBINDERS_*` environment variables, validated once at start."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from verbinders.errors import VerbindersError

__all__ = ["ConfigError", "Settings"]


class ConfigError(VerbindersError):
    kind = "configuration"
    title = "Invalid configuration"


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _float(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be one of true/false, yes/no, on/off, 1/0")


def _database_url(raw: str) -> str:
    if not raw.startswith(("postgres://", "postgresql://")):
        raise ValueError("must be a postgresql:// URL")
    return raw


def _smtp_url(raw: str) -> str:
    from verbinders.mail.smtp import parse_smtp_url

    parse_smtp_url(raw)  # raises ValueError naming what is wrong
    return raw


def _mail_from(raw: str) -> str:
    from email.utils import parseaddr

    _, address = parseaddr(raw)
    if "@" not in address or any(c in raw for c in "\r\n"):
        raise ValueError("must be an e-mail address, optionally with a name: Name <a@b.nl>")
    return raw


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
    return level


def _setting(default: Any, parse: Callable[[str], Any], doc: str) -> Any:
    return field(default=default, metadata={"parse": parse, "doc": doc})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every setting, its default, and how it is read from the environment."""

    database_url: str | None = _setting(
        None, _database_url, "PostgreSQL server to use; unset runs an embedded PostgreSQL"
    )
    data_dir: Path = _setting(
        Path(".verbinders"), Path, "folder of the embedded PostgreSQL's data (unused with a URL)"
    )
    host: str = _setting("127.0.0.1", str, "address `verbinders serve` listens on")
    port: int = _setting(8000, _int(1, 65535), "port `verbinders serve` listens on")
    pool_min_size: int = _setting(2, _int(1, 100), "smallest number of pooled connections")
    pool_max_size: int = _setting(20, _int(1, 500), "largest number of pooled connections")
    pool_wait_s: float = _setting(
        5.0,
        _float(0.01, 600),
        "longest a command waits for a pooled connection before it is refused (503 with"
        " Retry-After)",
    )
    append_connections: int = _setting(
        16,
        _int(0, 100),
        "connections the event store keeps for appends outside a transaction, besides the pool"
        " (0: they use the pool)",
    )
    statement_timeout_s: float = _setting(
        30.0, _float(0.1, 3600), "longest a single SQL statement may run"
    )
    idle_in_transaction_timeout_s: float = _setting(
        10.0,
        _float(0.1, 3600),
        "longest a connection may sit idle inside a transaction (bounds a stalled writer)",
    )
    append_transaction_timeout_s: float = _setting(
        10.0,
        _float(0.1, 3600),
        "longest a transaction may go on after its first append (it holds the event feed back"
        " meanwhile): ended by the server (PostgreSQL 17+) or the store's watchdog",
    )
    ready_max_lag: int = _setting(
        10_000,
        _int(0, 1_000_000_000),
        "`/health/ready` answers 503 when a projection is more positions than this behind the"
        " last allocated position",
    )
    ready_max_held_s: float = _setting(
        5.0,
        _float(0.1, 3600),
        "`/health/ready` answers 503 when one transaction has held the event feed back for"
        " longer than this",
    )
    run_projections: bool = _setting(
        True, _bool, "run the projection runner inside `verbinders serve`"
    )
    snapshot_every: int = _setting(
        50,
        _int(0, 1_000_000),
        "snapshot a stream when loading it replayed at least N events (0: never)",
    )
    aggregate_cache_size: int = _setting(
        10_000,
        _int(0, 10_000_000),
        "aggregates kept in the process at their last committed version, so that a command"
        " reads only the events after it (0: none)",
    )
    max_body_bytes: int = _setting(
        1_048_576, _int(1024, 100_000_000), "largest accepted request body"
    )
    write_rate_per_minute: int = _setting(
        600, _int(1, 1_000_000), "commands one token may send per minute"
    )
    smtp_url: str | None = _setting(
        None,
        _smtp_url,
        "SMTP server that delivers calls' e-mail: `smtp://host:25`, `smtp+starttls://user:pass@"
        "host:587` or `smtps://user:pass@host:465`; unset: messages wait in the outbox",
    )
    mail_from: str = _setting(
        "Verbinders <verbinders@localhost>", _mail_from, "sender of calls' e-mail"
    )
    smtp_connections: int = _setting(
        4, _int(1, 64), "SMTP connections the mail worker sends over at once"
    )
    smtp_timeout_s: float = _setting(
        30.0, _float(0.1, 600), "longest the mail worker waits for the SMTP server"
    )
    log_level: str = _setting("INFO", _log_level, "DEBUG, INFO, WARNING or ERROR")

    @property
    def log_level_no(self) -> int:
        return int(logging.getLevelName(self.log_level))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; a bad value raises `ConfigError` naming the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            name = f"VERBINDERS_{item.name.upper()}"
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[item.name] = item.metadata["parse"](raw)
            except ValueError as error:
                raise ConfigError(f"{name}={raw!r} is invalid: {error}", variable=name) from error
        settings = cls(**values)
        if settings.pool_min_size > settings.pool_max_size:
            raise ConfigError(
                "VERBINDERS_POOL_MIN_SIZE must not exceed VERBINDERS_POOL_MAX_SIZE",
                variable="VERBINDERS_POOL_MIN_SIZE",
            )
        return settings

    @classmethod
    def documentation(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) for every setting, for the README and `--help`."""
        return [
            (f"VERBINDERS_{item.name.upper()}", str(item.default), item.metadata["doc"])
            for item in fields(cls)
        ]
