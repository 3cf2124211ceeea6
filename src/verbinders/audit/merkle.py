"""Merkle trees over event hashes, and proofs that one event is in a sealed range.

    leaf(h)    = SHA-256(0x00 || h)            h: an event's chained hash (32 bytes)
    node(l, r) = SHA-256(0x01 || l || r)

Levels are built pairwise from the leaves in position order; a level of odd length carries its
last node up unchanged. A proof is the list of sibling hashes from the leaf up, each marked
`L` (the sibling is on the left) or `R`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["levels", "proof", "root", "root_from_proof"]


def _leaf(event_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + event_hash).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def levels(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, root last (one node)."""
    if not hashes:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = [_leaf(h) for h in hashes]
    tree = [level]
    while len(level) > 1:
        upper = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            upper.append(level[-1])
        tree.append(upper)
        level = upper
    return tree


def root(hashes: Sequence[bytes]) -> bytes:
    return levels(hashes)[-1][0]


def proof(tree: list[list[bytes]], index: int) -> list[tuple[str, bytes]]:
    """The siblings from leaf `index` up to the root of `tree` (from `levels`)."""
    path: list[tuple[str, bytes]] = []
    for level in tree[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(("L" if sibling < index else "R", level[sibling]))
        index //= 2
    return path


def root_from_proof(event_hash: bytes, path: Sequence[tuple[str, bytes]]) -> bytes:
    current = _leaf(event_hash)
    for side, sibling in path:
        current = _node(sibling, current) if side == "L" else _node(current, sibling)
    return current
