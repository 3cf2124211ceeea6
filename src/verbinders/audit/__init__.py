"""Tamper evidence over the store: Merkle seals, verification, and auditors' trails.

The hash chain itself is written by the store's append (`store/chain.py`); this package seals
the feed (`seals.py`, the `Sealer` worker), recomputes everything (`verify.py`), and exports a
trail an auditor verifies offline (`trail.py`, `tools/verify_trail.py`). See docs/audit.md.
"""
