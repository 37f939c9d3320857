#!/usr/bin/env python3
"""Verifications per second of one edge-shaped Ed25519 request, measured in one run:

- the `edge_origin` binding (`Verifier.verify`, the Rust core through PyO3),
- the pure-Python `http-message-signatures` package on the same request,
- the Rust crate natively (`cargo bench -p origin-sdk --bench verify`, criterion's median),

and the ratios between them. The request is the one `origin-sdk/benches/verify.rs`
signs. A benchmark, not a test: it asserts only that each verifier accepts.

Usage: python3 origin-sdk/python/bench/bench_verify.py [--seconds 3] [--no-rust]
"""

import argparse
import base64
import datetime
import re
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from http_message_signatures import HTTPMessageVerifier, MappingKeyResolver, algorithms

import edge_origin
from edge_origin.verifier import sign

REPO = Path(__file__).resolve().parents[3]
NOW = 1_700_000_000
URL = "https://origin.example/api/orders?id=7&page=2"
SEED = bytes([7] * 32)
TRUST = [
    ("x-edge-client-ip", "203.0.113.7"),
    ("x-edge-country", "DE"),
    ("x-edge-asn", "3320"),
    ("x-edge-colo", "FRA"),
    ("x-edge-request-id", "5f0c6e1e-2f4b-4c2e-9a53-0d6f3f1b2a77"),
    ("x-edge-user", "alice"),
    ("x-edge-claims", "eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbImFkbWluIl19"),
    ("x-edge-bot-score", "87"),
    ("x-edge-bot-class", ""),
]
COMPONENTS = ["@method", "@authority", "@path", "@query"] + [n for n, _ in TRUST]


class Headers:
    """The read-only mapping `http-message-signatures` reads headers from."""

    def __init__(self, pairs):
        self._pairs = pairs
        self._map = {k.lower(): v for k, v in pairs}

    def items(self):
        return list(self._pairs)

    def __iter__(self):
        return iter(self._map)

    def __contains__(self, name):
        return name.lower() in self._map

    def __getitem__(self, name):
        return self._map[name.lower()]


class Request:
    def __init__(self, method, url, headers):
        self.method, self.url, self.headers = method, url, headers


def rate(fn, seconds):
    """(operations per second, µs per operation) over about `seconds`."""
    fn()
    n, batch, start = 0, 50, time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed, elapsed / n * 1e6


def rust_median_us():
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "origin-sdk", "--bench", "verify", "--", "--noplot", "--warm-up-time", "1", "--measurement-time", "3", "verify/ed25519"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout
    m = re.search(r"verify/ed25519\s+time:\s+\[\S+ \S+ (\S+) (\S+)", out)
    if not m:
        raise SystemExit(f"no criterion figure in:\n{out}")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3}[unit]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-rust", action="store_true")
    args = ap.parse_args()

    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key()
    public_b64 = base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    headers = [("host", "origin.example")] + TRUST + [("accept", "application/json")]
    si, sig = sign(f"edge-bench:ed25519:{base64.b64encode(SEED).decode()}", "GET", URL, headers, NOW, "5f0c6e1e")
    headers += [("signature-input", si), ("signature", sig)]

    native = edge_origin.Verifier(f"edge-bench:{public_b64}", replay_capacity=0)
    assert native.verify("GET", URL, headers, now=NOW + 1).user == "alice"

    pure = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={"edge-bench": public}, private_keys={}),
    )
    pure.max_clock_skew = datetime.timedelta(days=365 * 100)  # the request is from 2023
    request = Request("GET", URL, Headers(headers))
    assert pure.verify(request, max_age=None, expect_tag="edge-trust", require_components=COMPONENTS)

    binding_ops, binding_us = rate(lambda: native.verify("GET", URL, headers, now=NOW + 1), args.seconds)
    pure_ops, pure_us = rate(
        lambda: pure.verify(request, max_age=None, expect_tag="edge-trust", require_components=COMPONENTS), args.seconds
    )
    print(f"python {sys.version.split()[0]}, one edge-shaped Ed25519 request, {args.seconds:.0f} s each")
    print(f"edge_origin (Rust via PyO3):     {binding_us:8.1f} µs/verify  {binding_ops:9.0f}/s")
    print(f"http-message-signatures (pure):  {pure_us:8.1f} µs/verify  {pure_ops:9.0f}/s")
    print(f"binding vs pure Python:          {binding_ops / pure_ops:8.1f}x")
    if not args.no_rust:
        rust_us = rust_median_us()
        print(f"origin-sdk natively (criterion): {rust_us:8.1f} µs/verify  {1e6 / rust_us:9.0f}/s")
        print(f"binding time / native time:      {binding_us / rust_us:8.2f}x")


if __name__ == "__main__":
    main()
