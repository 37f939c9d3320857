//! RFC 9421 Appendix B conformance, from the vendored corpus (`tests/corpora/rfc9421/`).

mod common;

use base64::Engine as _;
use origin_sdk::{sf, signature_base, Algorithm, KeyError, KeySet, SignatureParams, Signer, SigningKey, Verifier, VerifyError, VerifyingKey};
use serde_json::Value;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpora/rfc9421");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{CORPUS}/{rel}")).unwrap_or_else(|e| panic!("{CORPUS}/{rel}: {e}"))
}

fn vectors() -> Vec<Value> {
    serde_json::from_str(&read("rfc9421_vectors.json")).unwrap()
}

fn vector(id: &str) -> Value {
    vectors().into_iter().find(|v| v["id"] == id).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap()
}

/// Splits `label=<member>` of a one-member dictionary field.
fn member(field: &str) -> (String, SignatureParams) {
    let (label, value) = field.split_once('=').unwrap();
    (label.to_string(), SignatureParams::parse(value).unwrap())
}

fn ed25519_signing() -> SigningKey {
    SigningKey::from_jwk(&read("keys/test-key-ed25519.jwk.json")).unwrap()
}

fn ed25519_verifying() -> VerifyingKey {
    VerifyingKey::from_jwk(&read("keys/test-key-ed25519.jwk.json")).unwrap()
}

fn hmac_signing() -> SigningKey {
    SigningKey::hmac_from_base64("test-shared-secret", &read("keys/test-shared-secret.b64")).unwrap()
}

fn rfc_verifier(keys: KeySet, label: &str, params: &SignatureParams) -> Verifier {
    Verifier::new(keys)
        .label(Some(label))
        .required_tag(None)
        .require_nonce(false)
        .require_expires(false)
        .required_components(params.components.clone())
}

fn reproduce(id: &str, key: SigningKey) {
    let v = vector(id);
    let mut req = common::parse_http(&read(s(&v, "message")));
    let (label, params) = member(s(&v, "signature_input"));
    assert_eq!(params.get_str("keyid"), Some(s(&v, "keyid")));

    let base = signature_base(&req, &params).unwrap();
    assert_eq!(String::from_utf8(base).unwrap(), s(&v, "signature_base"), "{id} signature base");

    let headers = Signer::new(key.clone()).label(&label).sign_params(&req, &params).unwrap();
    assert_eq!(headers.signature_input, s(&v, "signature_input"), "{id} Signature-Input");
    assert_eq!(headers.signature, s(&v, "signature"), "{id} Signature");

    req.headers_mut().insert("signature-input", s(&v, "signature_input").parse().unwrap());
    req.headers_mut().insert("signature", s(&v, "signature").parse().unwrap());
    let created = params.get_int("created").unwrap() as u64;
    let verifier = rfc_verifier(KeySet::new().with(key.verifying_key()), &label, &params);
    let sig = verifier.verify_signature(&req, created + 5).unwrap();
    assert_eq!(sig.keyid, s(&v, "keyid"));
    assert_eq!(sig.created, created);

    // Same request, verified long after: the default max validity applies.
    assert!(matches!(verifier.verify_signature(&req, created + 3600), Err(VerifyError::Expired { .. })));
    // Any change to a covered component breaks it.
    req.headers_mut().insert("content-type", "text/plain".parse().unwrap());
    assert_eq!(verifier.verify_signature(&req, created), Err(VerifyError::BadSignature));
}

#[test]
fn b_2_5_hmac_sha256() {
    reproduce("B.2.5", hmac_signing());
}

#[test]
fn b_2_6_ed25519() {
    let key = ed25519_signing();
    assert_eq!(key.keyid(), "test-key-ed25519");
    reproduce("B.2.6", key);
}

fn rsa_pss_verifying() -> VerifyingKey {
    VerifyingKey::from_jwk(&read("keys/test-key-rsa-pss.jwk.json")).unwrap()
}

/// RSA-PSS signatures are randomized (salted), so the RFC's ones cannot be
/// reproduced: they are verified as published, then tampered with.
#[test]
fn b_2_1_and_b_2_3_rsa_pss_sha512_verify() {
    let key = rsa_pss_verifying();
    assert_eq!((key.keyid(), key.algorithm()), ("test-key-rsa-pss", Algorithm::RsaPssSha512));
    for id in ["B.2.1", "B.2.3"] {
        let v = vector(id);
        assert_eq!(s(&v, "alg"), "rsa-pss-sha512");
        let mut req = common::parse_http(&read(s(&v, "message")));
        let (label, params) = member(s(&v, "signature_input"));
        req.headers_mut().insert("signature-input", s(&v, "signature_input").parse().unwrap());
        req.headers_mut().insert("signature", s(&v, "signature").parse().unwrap());
        let created = params.get_int("created").unwrap() as u64;
        let verifier = rfc_verifier(KeySet::new().with(key.clone()), &label, &params);
        let sig = verifier.verify_signature(&req, created + 5).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!((sig.keyid.as_str(), sig.algorithm), ("test-key-rsa-pss", Algorithm::RsaPssSha512), "{id}");

        // The signature's bytes, checked directly against its base, and one bit off.
        let base = signature_base(&req, &params).unwrap();
        let (_, sig_b64) = s(&v, "signature").split_once('=').unwrap();
        let mut bytes = base64::engine::general_purpose::STANDARD.decode(sig_b64.trim_matches(':')).unwrap();
        assert!(key.verify(&base, &bytes), "{id}");
        bytes[10] ^= 1;
        assert!(!key.verify(&base, &bytes), "{id}: flipped bit");
        assert!(!key.verify(&base, &bytes[1..]), "{id}: short signature");
        assert!(!key.verify(&base, &[]), "{id}: empty signature");

        // A covered component changed.
        req.headers_mut().insert("signature-input", s(&v, "signature_input").replace("created=1618884473", "created=1618884474").parse().unwrap());
        assert_eq!(verifier.verify_signature(&req, created + 5), Err(VerifyError::BadSignature), "{id}");
    }
    // B.2.2 needs `@query-param`, which is refused rather than mis-verified.
    let v = vector("B.2.2");
    let mut req = common::parse_http(&read(s(&v, "message")));
    let (label, params) = member(s(&v, "signature_input"));
    req.headers_mut().insert("signature-input", s(&v, "signature_input").parse().unwrap());
    req.headers_mut().insert("signature", s(&v, "signature").parse().unwrap());
    let verifier = rfc_verifier(KeySet::new().with(key), &label, &params);
    assert!(matches!(verifier.verify_signature(&req, 1618884473), Err(VerifyError::UnsupportedComponent(_))));
}

/// The algorithm is the key's: the RSA-PSS key refuses a signature claiming
/// `ed25519`, and the plain RSA test key's JWK verifies as PSS only.
#[test]
fn rsa_pss_key_pins_its_algorithm() {
    let v = vector("B.2.1");
    let mut req = common::parse_http(&read(s(&v, "message")));
    let input = s(&v, "signature_input").replace(";nonce=", ";alg=\"ed25519\";nonce=");
    let (label, params) = member(&input);
    req.headers_mut().insert("signature-input", input.parse().unwrap());
    req.headers_mut().insert("signature", s(&v, "signature").parse().unwrap());
    let verifier = rfc_verifier(KeySet::new().with(rsa_pss_verifying()), &label, &params);
    assert!(matches!(
        verifier.verify_signature(&req, 1618884473),
        Err(VerifyError::AlgorithmMismatch { key: Algorithm::RsaPssSha512, .. })
    ));
    // An Ed25519 key (found by another keyid) does not take the RSA signature.
    let input = s(&v, "signature_input").replace("test-key-rsa-pss", "test-key-ed25519");
    let (label, params) = member(&input);
    req.headers_mut().insert("signature-input", input.parse().unwrap());
    let verifier = rfc_verifier(KeySet::new().with(ed25519_verifying()), &label, &params);
    assert_eq!(verifier.verify_signature(&req, 1618884473), Err(VerifyError::BadSignature));
    // A JWK that declares another RSA algorithm is refused; RSA keys do not sign here.
    let mut jwk: Value = serde_json::from_str(&read("keys/test-key-rsa-pss.jwk.json")).unwrap();
    jwk["alg"] = "RS256".into();
    assert!(matches!(VerifyingKey::from_jwk(&jwk.to_string()), Err(KeyError::InvalidJwk(_))));
    jwk["alg"] = "PS512".into();
    assert!(VerifyingKey::from_jwk(&jwk.to_string()).is_ok());
    assert_eq!(SigningKey::from_jwk(&jwk.to_string()).unwrap_err(), KeyError::UnsupportedJwk);
}

/// Signature bases of the other RSA/ECDSA vectors also match, though only
/// RSA-PSS verification is implemented of those (the edge signs Ed25519/HMAC).
#[test]
fn other_request_bases_match() {
    for id in ["B.2.1", "B.2.3"] {
        let v = vector(id);
        let req = common::parse_http(&read(s(&v, "message")));
        let (_, params) = member(s(&v, "signature_input"));
        let base = signature_base(&req, &params).unwrap();
        assert_eq!(String::from_utf8(base).unwrap(), s(&v, "signature_base"), "{id}");
    }
    // B.2.2 uses @query-param, which is not supported: refused, not mis-signed.
    let v = vector("B.2.2");
    let req = common::parse_http(&read(s(&v, "message")));
    let (_, params) = member(s(&v, "signature_input"));
    assert!(matches!(signature_base(&req, &params), Err(origin_sdk::BaseError::Unsupported(_))));

    // B.3: a TLS-terminating proxy's signature base over the proxied request.
    let v = vector("B.3");
    let req = common::parse_http(s(&v, "proxied_request"));
    let final_req = common::parse_http(s(&v, "final_request"));
    let input = final_req.headers()["signature-input"].to_str().unwrap();
    let (_, params) = member(input);
    let base = signature_base(&req, &params).unwrap();
    assert_eq!(String::from_utf8(base).unwrap(), s(&v, "signature_base"));
}

#[test]
fn b_4_transformations() {
    let keys = KeySet::new().with(ed25519_verifying());
    let mut count = 0;
    for v in vectors().into_iter().filter(|v| s(v, "id").starts_with("B.4")) {
        let id = s(&v, "id");
        let req = common::parse_http(s(&v, "message"));
        let (label, params) = member(req.headers()["signature-input"].to_str().unwrap());
        if id == "B.4.0" {
            let base = signature_base(&req, &params).unwrap();
            assert_eq!(String::from_utf8(base).unwrap(), s(&v, "signature_base_of_original"));
        }
        let verifier = rfc_verifier(keys.clone(), &label, &params);
        let result = verifier.verify_signature(&req, 1618884473);
        if v["expect_verify"].as_bool().unwrap() {
            assert!(result.is_ok(), "{id}: {result:?}");
        } else {
            assert_eq!(result, Err(VerifyError::BadSignature), "{id}");
        }
        count += 1;
    }
    assert_eq!(count, 6);
}

#[test]
fn jwk_public_part_matches_pem_key() {
    // The JWK `x` and the signing key derived from `d` agree.
    let pk = ed25519_verifying().public_key_base64().unwrap();
    assert_eq!(ed25519_signing().verifying_key().public_key_base64().unwrap(), pk);
    // The PEM public key (SPKI) ends with the same 32 bytes.
    let pem = read("keys/test-key-ed25519.pub.pem");
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let raw = base64::engine::general_purpose::STANDARD.encode(&der[der.len() - 32..]);
    assert_eq!(raw, pk);
    let _ = sf::is_valid_key("sig-b26");
}
