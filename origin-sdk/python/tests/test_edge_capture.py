"""A request the worker signed under workerd (recorded by the e2e suite
`python_origins`, dev key `dev-2026`): the binding and the independent
`http-message-signatures` (`tests/py/verify_capture.py`) both accept it, and
both refuse it with one fact changed."""

import json
import subprocess
import sys

import pytest

from conftest import REPO
from edge_origin import InvalidSignature, Verifier

CAPTURE = json.loads((REPO / "origin-sdk/python/tests/data/edge_capture.json").read_text())


def created(capture):
    si = next(v for k, v in capture["headers"] if k == "signature-input")
    return int(si.split(";created=")[1].split(";")[0])


def independent(capture):
    out = subprocess.run([sys.executable, str(REPO / "tests/py/verify_capture.py")], input=json.dumps({**capture, "ignore_time": True}),
                         capture_output=True, text=True)
    return out.returncode == 0 and "verified" in out.stdout


def tampered(capture, name, value):
    return {**capture, "headers": [[k, value if k == name else v] for k, v in capture["headers"]]}


def test_edge_capture_verifies_with_both():
    verifier = Verifier(f"{CAPTURE['keyid']}:{CAPTURE['public_key_b64']}", replay_capacity=0)
    facts = verifier.verify(CAPTURE["method"], CAPTURE["url"], CAPTURE["headers"], now=created(CAPTURE))
    assert facts.keyid == "dev-2026" and facts.country == "DE" and str(facts.client_ip) == "198.51.100.7"
    assert facts.user == "user-42" and facts.claims == {"tenant": "acme", "roles": ["buyer"]}
    assert facts.request_id and facts.nonce
    assert independent(CAPTURE)


@pytest.mark.parametrize("name,value", [("x-edge-country", "FR"), ("x-edge-user", "admin"), ("x-edge-client-ip", "10.0.0.1")])
def test_tampered_capture_is_refused_by_both(name, value):
    bad = tampered(CAPTURE, name, value)
    with pytest.raises(InvalidSignature):
        Verifier(f"{CAPTURE['keyid']}:{CAPTURE['public_key_b64']}", replay_capacity=0).verify(
            bad["method"], bad["url"], bad["headers"], now=created(bad))
    assert not independent(bad)
