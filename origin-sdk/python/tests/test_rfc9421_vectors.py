"""RFC 9421 Appendix B vectors (B.2.5 HMAC, B.2.6 Ed25519, B.4 transformations)
through the Python binding, from the vendored corpus `tests/corpora/rfc9421/`."""

import json

import pytest

from conftest import REPO
from edge_origin import InvalidSignature, StaleSignature, Verifier

CORPUS = REPO / "tests/corpora/rfc9421"
VECTORS = {v["id"]: v for v in json.loads((CORPUS / "rfc9421_vectors.json").read_text())}
JWK = json.loads((CORPUS / "keys/test-key-ed25519.jwk.json").read_text())
ED25519 = f"test-key-ed25519:{JWK['x']}"
HMAC = f"test-shared-secret:hmac:{(CORPUS / 'keys/test-shared-secret.b64').read_text().strip()}"


def parse_http(text):
    """(method, target, header pairs) of an HTTP/1.1 request message."""
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")
    method, target, _ = head[0].split(" ", 2)
    return method, target, [tuple(p.strip() for p in line.split(":", 1)) for line in head[1:] if line]


def member(field):
    label, value = field.split("=", 1)
    components = json.loads("[" + value[1:value.index(")")].replace('" "', '", "') + "]") if value.startswith("(") else []
    return label, components


def rfc_verifier(keys, signature_input):
    label, components = member(signature_input)
    return Verifier(keys, tag=None, label=label, required_components=components, require_nonce=False,
                    require_expires=False, replay_capacity=0)


@pytest.mark.parametrize("vid,keys", [("B.2.5", HMAC), ("B.2.6", ED25519)])
def test_signed_request_vectors_verify(vid, keys):
    v = VECTORS[vid]
    method, target, headers = parse_http((CORPUS / v["message"]).read_text())
    headers += [("Signature-Input", v["signature_input"]), ("Signature", v["signature"])]
    verifier = rfc_verifier(keys, v["signature_input"])
    facts = verifier.verify(method, target, headers, now=1618884473 + 5)
    assert (facts.keyid, facts.created, facts.nonce) == (v["keyid"], 1618884473, None)
    # Long after, the default max validity (300 s) applies.
    with pytest.raises(StaleSignature) as e:
        verifier.verify(method, target, headers, now=1618884473 + 3600)
    assert e.value.reason == "expired"
    # Any change to a covered component breaks it.
    tampered = [(n, "text/plain" if n.lower() == "content-type" else val) for n, val in headers]
    with pytest.raises(InvalidSignature) as e:
        verifier.verify(method, target, tampered, now=1618884473)
    assert e.value.reason == "bad_signature"
    # The same request with the wrong key type is refused, never accepted.
    with pytest.raises(InvalidSignature):
        rfc_verifier(ED25519 if keys == HMAC else HMAC.replace("test-shared-secret", "test-key-ed25519"),
                     v["signature_input"]).verify(method, target, headers, now=1618884473)


def test_b4_transformations():
    cases = [v for k, v in VECTORS.items() if k.startswith("B.4")]
    assert len(cases) == 6
    for v in cases:
        method, target, headers = parse_http(v["message"])
        si = next(val for n, val in headers if n.lower() == "signature-input")
        verifier = rfc_verifier(ED25519, si)
        if v["expect_verify"]:
            assert verifier.verify(method, target, headers, now=1618884473).keyid == "test-key-ed25519", v["id"]
        else:
            with pytest.raises(InvalidSignature) as e:
                verifier.verify(method, target, headers, now=1618884473)
            assert e.value.reason == "bad_signature", v["id"]
