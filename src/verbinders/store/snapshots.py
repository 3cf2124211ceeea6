"""Snapshot rows: an aggregate's state at a version, so long streams load fast."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

__all__ = ["SnapshotRow"]


class SnapshotRow(msgspec.Struct, frozen=True, kw_only=True):
    stream_id: UUID
    version: int
    tenant: str
    stream_type: str
    topic: str
    state: Any
    """JSON already encoded (bytes) when saving; decoded JSON values when loaded."""
