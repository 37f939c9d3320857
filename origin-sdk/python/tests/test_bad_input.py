"""Bad input from the network or a caller never crashes the process: it is a
VerifyError (refusal) or, for wrong Python types, a TypeError/ValueError."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DEV_VERIFY, edge_request
from edge_origin import InvalidSignature, Verifier, VerifyError

VERIFIER = Verifier(DEV_VERIFY, replay_capacity=1000)
octets = st.binary(max_size=300)
text = st.text(max_size=100)
names = st.one_of(
    octets, text,
    st.sampled_from(["signature", "signature-input", "x-edge-user", "host", "X_Edge_User", "Signature-Input"]),
)
signature_inputs = st.one_of(
    octets,
    st.builds(lambda l, c, p: f'{l}=({c});{p}', st.sampled_from(["edge", "a", "*", ""]),
              st.sampled_from(['"@method"', '"@method" "@method"', '"x-edge-user";bs', '"@query-param";name="a"', "1", ""]),
              st.sampled_from(['created=1;keyid="dev-2026";tag="edge-trust"', "created=-1", 'keyid=1', 'tag="edge-trust";tag="x"', ""])),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=text, url=text, headers=st.lists(st.tuples(names, st.one_of(octets, text, signature_inputs)), max_size=20))
def test_arbitrary_requests_are_refused_cleanly(method, url, headers):
    with pytest.raises(VerifyError):
        VERIFIER.verify(method, url, headers)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_signed_requests_verify_or_refuse(data):
    method, target, headers = edge_request({"x-edge-user": "alice"})
    i = data.draw(st.integers(0, len(headers) - 1))
    name, value = headers[i]
    new_value = data.draw(st.one_of(octets, st.just(value.encode() + b"\xff"), st.just(value + ", " + value)))
    mutated = headers[:i] + [(name, new_value)] + headers[i + 1:]
    try:
        facts = Verifier(DEV_VERIFY).verify(method, target, mutated)
    except VerifyError:
        return
    # What passes (an uncovered header, a no-op, whitespace the base trims)
    # carries exactly the facts that were signed.
    assert (facts.user, facts.country, facts.client_ip) == ("alice", None, None)


def test_duplicate_signature_input_is_refused():
    method, target, headers = edge_request()
    si = next(v for n, v in headers if n == "signature-input")
    with pytest.raises(InvalidSignature) as e:
        Verifier(DEV_VERIFY).verify(method, target, headers + [("Signature-Input", si)])
    assert e.value.reason == "duplicate_label"


def test_non_utf8_and_control_bytes():
    method, target, headers = edge_request({"x-edge-user": "alice"})
    for bad in (b"\xff\xfe", b"al\x00ice", b"al\r\nice", "ali\udcffce".encode("utf-8", "surrogateescape")):
        mutated = [(n, bad if n == "x-edge-user" else v) for n, v in headers]
        with pytest.raises(InvalidSignature):
            Verifier(DEV_VERIFY).verify(method, target, mutated)
    with pytest.raises(VerifyError):
        Verifier(DEV_VERIFY).verify("G\xe9T", "/\udcff", [(b"\xff", b"\xff")])


def test_huge_headers():
    method, target, headers = edge_request()
    started = time.monotonic()
    with pytest.raises(InvalidSignature):
        Verifier(DEV_VERIFY).verify(method, target, headers + [("x-edge-user", "a" * 2_000_000)])
    with pytest.raises(VerifyError):
        Verifier(DEV_VERIFY).verify(method, target, [("x-pad", "v")] * 50_000 + [("signature", "x" * 1_000_000)])
    assert time.monotonic() - started < 30  # sanity bound, not a speed target


@pytest.mark.parametrize("headers", [None, 5, "host: x", b"host: x", [("a",)], [("a", "b", "c")], [(1, 2)], [("a", None)], [object()]])
def test_wrong_header_types_are_type_errors(headers):
    with pytest.raises(TypeError):
        VERIFIER.verify("GET", "/", headers)


@pytest.mark.parametrize("kwargs", [{"method": None}, {"url": 5}, {"now": "soon"}, {"now": -1}])
def test_wrong_argument_types(kwargs):
    args = {"method": "GET", "url": "/", "headers": [], **kwargs}
    with pytest.raises((TypeError, ValueError)):
        VERIFIER.verify(**args)


trust_names = st.sampled_from(["x-edge-user", "x-edge-country", "x-edge-role", "signature", "signature-input", "x-edge-"])


@st.composite
def spellings(draw):
    """A trust header name with random case and `-`/`_` spelling."""
    out = []
    for c in draw(trust_names):
        if c == "-":
            c = draw(st.sampled_from(["-", "_"]))
        elif draw(st.booleans()):
            c = c.upper()
        out.append(c)
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(extra=st.lists(st.tuples(spellings(), st.sampled_from(["admin", "XX", ""])), max_size=6))
def test_no_uncovered_spelling_of_a_trust_header_survives(extra):
    method, target, headers = edge_request({"x-edge-user": "alice"}, extra=extra)
    try:
        facts, strip = Verifier(DEV_VERIFY).verify_and_strip(method, target, headers)
    except VerifyError as e:
        # A second value for a covered field or a signature field breaks it, nothing else.
        assert isinstance(e, InvalidSignature), e
        return
    assert facts.user == "alice"
    signed = len(headers) - len(extra)
    for i, (name, value) in enumerate(headers):
        if i in strip:
            continue
        folded = name.lower().replace("_", "-")
        if folded.startswith("x-edge-"):
            # The only facts the app can read are the edge's own, signed ones.
            assert "_" not in name and i < signed, (name, value)
        elif folded in ("signature", "signature-input"):
            # The signature fields stay (as with the tower layer), never an underscore twin.
            assert "_" not in name, (name, value)
