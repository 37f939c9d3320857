#!/usr/bin/env python3
"""Independently verify an edge signature with the PyPI `http-message-signatures` library.

Reads JSON on stdin:
  {"method": "GET", "url": "https://origin.example/p?q=1",
   "headers": {"name": "value", ...},          # as received (multi-values joined ", ")
   "public_key_b64": "<32-byte Ed25519 public key, base64 or base64url>",
   "keyid": "edge-1",
   "ignore_time": false,                       # optional: skip created/expires checks (old captures)
   "tag": "edge-trust",                        # optional, default "edge-trust"
   "require_components": [...]}                # optional, default: edge default set
Exits 0 and prints `verified` on success; prints `failed: <reason>` and exits 1 otherwise
(2 on bad input).
"""

import base64
import binascii
import datetime
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import HTTPMessageVerifier, InvalidSignature, MappingKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException

TRUST_HEADERS = [
    "x-edge-client-ip", "x-edge-country", "x-edge-asn", "x-edge-colo", "x-edge-request-id",
    "x-edge-user", "x-edge-claims", "x-edge-bot-score", "x-edge-bot-class",
]
DEFAULT_COMPONENTS = ["@method", "@authority", "@path", "@query", *TRUST_HEADERS]


class Headers:
    """Read-only ordered header view with the interface the library expects."""

    def __init__(self, pairs):
        self._pairs = [(str(k), str(v)) for k, v in pairs]

    def items(self):
        return list(self._pairs)

    def __iter__(self):
        return iter(dict.fromkeys(k for k, _ in self._pairs))

    def __contains__(self, name):
        return any(k.lower() == name.lower() for k, _ in self._pairs)

    def __getitem__(self, name):
        vals = [v for k, v in self._pairs if k.lower() == name.lower()]
        if not vals:
            raise KeyError(name)
        return ", ".join(vals)

    def __setitem__(self, name, value):
        raise TypeError("read-only")

    def __delitem__(self, name):
        raise TypeError("read-only")


class Request:
    def __init__(self, method, url, headers):
        self.method = method.upper()
        self.url = url
        self.headers = headers


def b64decode_any(s):
    s = s.strip()
    pad = "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s + pad, altchars=b"-_" if ("-" in s or "_" in s) else None, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"bad base64: {e}") from e


def main():
    try:
        data = json.load(sys.stdin)
        raw = b64decode_any(data["public_key_b64"])
        public_key = Ed25519PublicKey.from_public_bytes(raw)
        headers = data["headers"]
        pairs = headers.items() if isinstance(headers, dict) else [tuple(p) for p in headers]
        request = Request(data["method"], data["url"], Headers(pairs))
        keyid = data["keyid"]
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as e:
        print(f"bad input: {e}", file=sys.stderr)
        return 2

    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={keyid: public_key}, private_keys={}),
    )
    max_age = datetime.timedelta(seconds=300)
    if data.get("ignore_time"):
        verifier.max_clock_skew = datetime.timedelta(days=365 * 100)
        max_age = None
    try:
        results = verifier.verify(
            request,
            max_age=max_age,
            expect_tag=data.get("tag", "edge-trust"),
            require_components=data.get("require_components", DEFAULT_COMPONENTS),
        )
    except (InvalidSignature, HTTPMessageSignaturesException) as e:
        print(f"failed: {type(e).__name__}: {e}")
        return 1
    if len(results) != 1 or results[0].parameters.get("keyid") != keyid:
        print("failed: unexpected verification result")
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
