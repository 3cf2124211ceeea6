#!/usr/bin/env python3
"""Verify a Verbinders trail export offline, with Python's standard library only.

    python3 tools/verify_trail.py trail.json        exit 0: intact; 1: altered (names where)

The algorithm is docs/audit.md's "Verifying a trail offline".
"""

import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta

ZERO = bytes(32)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sha(data):
    return hashlib.sha256(data).digest()


def check(trail):
    chains, hashes = {}, {}
    for e in trail["events"]:
        version, previous = chains.get(e["stream_id"], (0, ZERO))
        where = f"position {e['position']}, stream {e['stream_id']} version {e['version']}"
        if e["version"] != version + 1:
            return f"{where}: follows version {version} of its stream"
        when = (datetime.fromisoformat(e["recorded_at"]) - EPOCH) // timedelta(microseconds=1)
        fields = [
            "verbinders-event-1",
            e["tenant"],
            e["stream_id"],
            e["stream_type"],
            str(e["version"]),
            str(e["position"]),
            e["topic"],
            str(when),
            e["metadata"],
            e["payload"],
        ]
        digest = sha(previous + "\n".join(fields).encode("utf-8"))
        if digest.hex() != e["hash"]:
            return f"{where}: its hash does not match its content and predecessor"
        chains[e["stream_id"]] = (e["version"], digest)
        hashes[e["position"]] = digest
    seals, previous, up_to = {}, ZERO, 0
    for s in trail["seals"]:
        head = (
            f"verbinders-seal-1\n{s['number']}\n{s['after_position']}\n"
            f"{s['up_to_position']}\n{s['events']}\n"
        ).encode("ascii")
        root = bytes.fromhex(s["root"])
        if (
            s["after_position"] != up_to
            or bytes.fromhex(s["previous"]) != previous
            or sha(head + previous + root).hex() != s["hash"]
        ):
            return f"seal {s['number']}: broken seal chain"
        seals[s["number"]] = s
        previous, up_to = bytes.fromhex(s["hash"]), s["up_to_position"]
    proven = set()
    for p in trail["proofs"]:
        s = seals[p["seal"]]
        node = sha(b"\x00" + hashes[p["position"]])
        for side, sibling in p["path"]:
            sib = bytes.fromhex(sibling)
            node = sha(b"\x01" + sib + node) if side == "L" else sha(b"\x01" + node + sib)
        if (
            node.hex() != s["root"]
            or not s["after_position"] < p["position"] <= s["up_to_position"]
        ):
            return f"position {p['position']}: not in seal {p['seal']}"
        proven.add(p["position"])
    for position in hashes:
        if position <= up_to and position not in proven:
            return f"position {position}: sealed but without a proof"
    unsealed = sum(1 for position in hashes if position > up_to)
    latest = trail["seals"][-1]["hash"] if trail["seals"] else "none"
    return None, len(hashes), len(proven), unsealed, latest


def main(path):
    with open(path, encoding="utf-8") as f:
        result = check(json.load(f))
    if isinstance(result, str):
        print(f"ALTERED: {result}")
        return 1
    _, events, proven, unsealed, latest = result
    print(
        f"intact: {events} events chained, {proven} proven in seals, {unsealed} not yet"
        f" sealed; latest seal hash {latest} (compare with a copy kept elsewhere)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
