#!/usr/bin/env python3
"""Verify an edge-signed capture with the `edge_origin` binding (the Rust core).

Same input as `tests/py/verify_capture.py` (JSON on stdin: method, url,
headers, public_key_b64, keyid, optional tag and ignore_time); also `now`
(Unix seconds) to verify an old capture at its own time. Prints `verified`
and exits 0, or prints `failed: <reason>` and exits 1 (2 on bad input).
"""

import json
import re
import sys

from edge_origin import Verifier, VerifyError


def main() -> int:
    try:
        data = json.load(sys.stdin)
        headers = data["headers"]
        pairs = list(headers.items()) if isinstance(headers, dict) else [tuple(p) for p in headers]
        now = data.get("now")
        if data.get("ignore_time") and now is None:
            si = next(v for k, v in pairs if k.lower() == "signature-input")
            now = int(re.search(r";created=(\d+)", si).group(1))
        verifier = Verifier(f"{data['keyid']}:{data['public_key_b64']}", tag=data.get("tag", "edge-trust"), replay_capacity=0)
    except (KeyError, ValueError, TypeError, StopIteration, AttributeError) as e:
        print(f"bad input: {e}", file=sys.stderr)
        return 2
    try:
        facts = verifier.verify(data["method"], data["url"], pairs, now=now)
    except VerifyError as e:
        print(f"failed: {e.reason}: {e.message}")
        return 1
    if facts.keyid != data["keyid"]:
        print("failed: unexpected keyid")
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
