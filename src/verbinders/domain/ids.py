"""Deterministic ids: the same parts always give the same stream id (uuid5)."""

from __future__ import annotations

from uuid import UUID, uuid5

__all__ = ["NAMESPACE", "stable_id"]

NAMESPACE = UUID("a68cdb75-e4f4-52c5-ada4-4687221dcc27")
"""uuid5(NAMESPACE_URL, 'urn:verbinders:ids'). Never change it: stored stream ids depend on it."""


def stable_id(tenant: str, kind: str, key: str) -> UUID:
    """The id of the one stream of `kind` for `key` on `tenant`'s platform."""
    return uuid5(NAMESPACE, f"{tenant}/{kind}/{key}")
