"""Shared helpers: the repository's development keys and edge-shaped signed requests."""

import base64
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from edge_origin.verifier import sign

# Nothing in the working tree (no example database, no charmap cache), and no
# "too slow" failure while a fresh machine builds that cache: every run draws afresh.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "edge-origin-hypothesis")
settings.register_profile("edge", database=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("edge")

REPO = Path(__file__).resolve().parents[3]
TRUST = [
    "x-edge-client-ip", "x-edge-country", "x-edge-asn", "x-edge-colo", "x-edge-request-id",
    "x-edge-user", "x-edge-claims", "x-edge-bot-score", "x-edge-bot-class",
]


def _dev_keys():
    env = dict(
        line.split("=", 1)
        for line in (REPO / "examples/dev-keys.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return env["EDGE_SIGNING_KEY"], env["EDGE_VERIFY_KEYS"]


DEV_SIGNING, DEV_VERIFY = _dev_keys()


def make_key(keyid: str, seed: bytes):
    """(signing spec, verify spec) for an Ed25519 key from a 32-byte seed."""
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return f"{keyid}:ed25519:{base64.b64encode(seed).decode()}", f"{keyid}:{base64.b64encode(public).decode()}"


def edge_request(facts=None, *, key=DEV_SIGNING, host="origin.test", target="/orders?id=7", method="GET",
                 created=None, nonce=None, extra=()):
    """(method, target, header pairs) as the edge forwards a request: every
    trust header present (empty where unknown), signed with `key`."""
    facts = facts or {}
    headers = [("host", host), ("accept", "application/json")] + [(h, facts.get(h, "")) for h in TRUST]
    created = int(time.time()) if created is None else created
    si, sig = sign(key, method, target, headers, created, nonce or uuid.uuid4().hex)
    return method, target, headers + [("signature-input", si), ("signature", sig)] + list(extra)


FACTS = {
    "x-edge-client-ip": "203.0.113.9",
    "x-edge-country": "DE",
    "x-edge-asn": "AS3320",
    "x-edge-colo": "FRA",
    "x-edge-request-id": "rid-1",
    "x-edge-user": "alice",
    "x-edge-claims": base64.urlsafe_b64encode(b'{"sub":"alice","roles":["admin"]}').decode().rstrip("="),
    "x-edge-bot-score": "87",
    "x-edge-bot-class": "human",
}


@pytest.fixture
def facts():
    return dict(FACTS)
