"""The Verifier on edge-shaped requests: facts, errors, replay, rotation, stripping."""

import ipaddress
import time

import pytest

from conftest import DEV_SIGNING, DEV_VERIFY, TRUST, edge_request, make_key
from edge_origin import (
    InvalidSignature, MissingSignature, ReplayedSignature, StaleSignature, VerifiedFacts, Verifier, VerifyError,
)


def test_facts_are_typed_and_frozen(facts):
    facts["x-edge-client-ip"] = "2001:db8::7"
    f = Verifier(DEV_VERIFY).verify(*edge_request(facts, nonce="n-typed"))
    assert isinstance(f, VerifiedFacts)
    assert f.client_ip == ipaddress.IPv6Address("2001:db8::7")
    assert (f.country, f.asn, f.colo, f.request_id, f.user) == ("DE", 3320, "FRA", "rid-1", "alice")
    assert f.claims == {"sub": "alice", "roles": ["admin"]}
    assert (f.bot_score, f.bot_class, f.keyid, f.nonce) == (87, "human", "dev-2026", "n-typed")
    assert f.expires - f.created == 60
    with pytest.raises(AttributeError):
        f.user = "mallory"  # type: ignore[misc]
    assert f.as_dict()["client_ip"] == "2001:db8::7"


def test_empty_facts_are_none():
    f = Verifier(DEV_VERIFY).verify(*edge_request({}))
    assert (f.client_ip, f.country, f.user, f.claims, f.bot_score) == (None, None, None, None, None)


def test_forged_fact_breaks_the_signature(facts):
    method, target, headers = edge_request(facts)
    forged = [(n, "admin" if n == "x-edge-user" else v) for n, v in headers]
    with pytest.raises(InvalidSignature) as e:
        Verifier(DEV_VERIFY).verify(method, target, forged)
    assert e.value.reason == "bad_signature" and "bad signature" in str(e.value)


def test_unsigned_request_is_missing():
    with pytest.raises(MissingSignature) as e:
        Verifier(DEV_VERIFY).verify("GET", "/", {"host": "origin.test", "x-edge-user": "admin"})
    assert e.value.reason == "missing_signature"


def test_stale_and_future_signatures():
    v = Verifier(DEV_VERIFY, max_skew=5)
    now = int(time.time())
    with pytest.raises(StaleSignature) as e:
        v.verify(*edge_request(created=now - 300))
    assert e.value.reason == "expired"
    with pytest.raises(StaleSignature) as e:
        v.verify(*edge_request(created=now + 60))
    assert e.value.reason == "created_in_future"
    # `now` pins the clock: the same request verifies at its own time.
    assert v.verify(*edge_request(created=now - 300), now=now - 299).created == now - 300


def test_replay_is_refused_once_seen():
    v = Verifier(DEV_VERIFY)
    req = edge_request(nonce="n-replay")
    v.verify(*req)
    with pytest.raises(ReplayedSignature) as e:
        v.verify(*req)
    assert e.value.reason == "replayed"
    # Without a cache the same request passes again (expiry still bounds it).
    lax = Verifier(DEV_VERIFY, replay_capacity=0)
    assert lax.verify(*req).nonce == lax.verify(*req).nonce == "n-replay"


def test_replay_cache_is_bounded():
    v = Verifier(DEV_VERIFY, replay_capacity=2)
    reqs = [edge_request(nonce=f"n-{i}") for i in range(3)]
    for r in reqs:
        v.verify(*r)
    # The oldest nonce was forgotten to make room; the newest is still refused.
    v.verify(*reqs[0])
    with pytest.raises(ReplayedSignature):
        v.verify(*reqs[2])


def test_rotation_two_keyids():
    old_sign, old_verify = make_key("edge-2025", bytes(range(32)))
    new_sign, new_verify = make_key("edge-2026", bytes(range(32, 64)))
    v = Verifier(f"{old_verify}, {new_verify}")
    assert v.verify(*edge_request(key=old_sign)).keyid == "edge-2025"
    assert v.verify(*edge_request(key=new_sign)).keyid == "edge-2026"
    with pytest.raises(InvalidSignature) as e:
        Verifier(new_verify).verify(*edge_request(key=old_sign))
    assert e.value.reason == "unknown_keyid"


def test_strip_list_names_uncovered_trust_headers(facts):
    extra = [("x-edge-role", "admin"), ("x_forwarded_for", "1.2.3.4")]
    method, target, headers = edge_request(facts, extra=extra)
    f, strip = Verifier(DEV_VERIFY).verify_and_strip(method, target, headers)
    assert f.user == "alice"
    assert [headers[i][0] for i in strip] == ["x-edge-role"]
    kept = {n.lower() for i, (n, _) in enumerate(headers) if i not in strip}
    assert set(TRUST) <= kept and {"signature", "signature-input", "x_forwarded_for", "accept"} <= kept


@pytest.mark.parametrize("twin", ["X_Edge_User", "x_edge_country", "signature_input", "X-Edge_Claims"])
def test_underscore_twin_is_stripped_or_refused(facts, twin):
    """A server that maps `_` to `-` could hand the twin to the app as the real
    header: it never survives (stripped, or the request refused as ambiguous)."""
    method, target, headers = edge_request(facts, extra=[(twin, "admin")])
    try:
        f, strip = Verifier(DEV_VERIFY).verify_and_strip(method, target, headers)
    except InvalidSignature as e:
        assert e.reason == "ambiguous_header"
        return
    assert f.user == "alice" and [headers[i][0] for i in strip] == [twin]


def test_header_forms_and_bytes(facts):
    method, target, headers = edge_request(facts)
    as_bytes = [(n.encode(), v.encode()) for n, v in headers]
    as_lists = [[n.upper(), bytearray(v.encode())] for n, v in headers]
    for form in (as_bytes, as_lists, dict(headers)):
        v = Verifier(DEV_VERIFY, replay_capacity=0)
        assert v.verify(method, target, form).user == "alice"
    # An absolute URL carries the authority itself.
    assert Verifier(DEV_VERIFY).verify(method, "http://origin.test/orders?id=7", headers[1:]).country == "DE"


def test_bad_configuration_is_a_clear_error():
    for keys, exc in [("", ValueError), ("nokey", ValueError), ("k:!!!", ValueError), ("k:hmac:c2hvcnQ=", ValueError), (None, TypeError)]:
        with pytest.raises(exc):
            Verifier(keys)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Verifier(DEV_VERIFY, max_skew=-1)


def test_every_error_is_a_verify_error():
    assert issubclass(ReplayedSignature, VerifyError) and issubclass(StaleSignature, VerifyError)
    with pytest.raises(VerifyError):
        Verifier(DEV_VERIFY).verify("GET", "/", [])


def test_signing_key_must_match(facts):
    other_sign, _ = make_key("dev-2026", bytes(32))
    with pytest.raises(InvalidSignature):
        Verifier(DEV_VERIFY).verify(*edge_request(facts, key=other_sign))
    assert DEV_SIGNING.startswith("dev-2026:")
