//! Signing/verification round trips and every `VerifyError` variant.

mod common;

use common::{key, request, signed, signed_with, verifier, NOW};
use origin_sdk::sf::BareItem;
use origin_sdk::{trust, Algorithm, Component, KeySet, SignatureParams, Signer, VerifyError};

fn set(r: &mut http::Request<()>, name: &'static str, value: &str) {
    r.headers_mut().insert(name, value.parse().unwrap());
}

fn err(r: &http::Request<()>) -> VerifyError {
    verifier().verify(r, NOW).unwrap_err()
}

/// Request signed with explicit params (default components) and `key()`.
fn signed_params(edit: impl FnOnce(SignatureParams) -> SignatureParams) -> http::Request<()> {
    let signer = Signer::new(key());
    let mut r = request();
    let params = edit(signer.params(NOW, "n").unwrap());
    let h = signer.sign_params(&r, &params).unwrap();
    set(&mut r, "signature-input", &h.signature_input);
    set(&mut r, "signature", &h.signature);
    r
}

fn without(params: SignatureParams, key: &str) -> SignatureParams {
    SignatureParams { params: params.params.into_iter().filter(|(k, _)| k != key).collect(), ..params }
}

#[test]
fn round_trip_facts() {
    let r = signed();
    let input = r.headers()["signature-input"].to_str().unwrap();
    assert!(input.starts_with("edge=(\"@method\" \"@authority\" \"@path\" \"@query\" \"x-edge-client-ip\""), "{input}");
    assert!(input.ends_with(&format!(";created={NOW};expires={};keyid=\"edge-test\";nonce=\"nonce-1\";alg=\"ed25519\";tag=\"edge-trust\"", NOW + 60)), "{input}");
    let f = verifier().verify(&r, NOW + 3).unwrap();
    assert_eq!(f.client_ip, Some("2001:db8::1".parse().unwrap()));
    assert_eq!(f.country.as_deref(), Some("NL"));
    assert_eq!(f.asn, Some(13335));
    assert_eq!(f.colo.as_deref(), Some("AMS"));
    assert_eq!(f.request_id.as_deref(), Some("req-123"));
    assert_eq!(f.user.as_deref(), Some("alice"));
    assert_eq!(f.claims, Some(serde_json::json!({"sub": "alice", "roles": ["admin"]})));
    assert_eq!(f.bot_score, Some(87));
    assert_eq!(f.bot_class, None); // signed empty
    assert_eq!((f.keyid.as_str(), f.created, f.expires, f.nonce.as_deref()), ("edge-test", NOW, NOW + 60, Some("nonce-1")));
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["client_ip"], "2001:db8::1");
}

#[test]
fn hmac_round_trip_and_unparseable_facts() {
    let mut r = request();
    set(&mut r, trust::BOT_SCORE, "lots");
    set(&mut r, trust::CLIENT_IP, "not-an-ip");
    set(&mut r, trust::CLAIMS, "{broken");
    Signer::new(common::hmac_key()).sign(&mut r, NOW, "n").unwrap();
    assert!(r.headers()["signature-input"].to_str().unwrap().contains("alg=\"hmac-sha256\""));
    let f = verifier().verify(&r, NOW).unwrap();
    assert_eq!((f.bot_score, f.client_ip, f.claims), (None, None, None));
    assert_eq!(f.keyid, "edge-hmac");
}

#[test]
fn sign_requires_covered_headers() {
    let mut r = request();
    r.headers_mut().remove(trust::COLO);
    let e = Signer::new(key()).sign(&mut r, NOW, "n").unwrap_err();
    assert_eq!(e.to_string(), "covered field `x-edge-colo` is missing from the message");
    assert!(Signer::new(key()).label("Bad Label").sign(&mut request(), NOW, "n").is_err());
    assert!(Signer::new(key()).sign(&mut request(), NOW, "bad\u{1}nonce").is_err());
}

#[test]
fn sign_replaces_existing_signature() {
    let mut r = request();
    set(&mut r, "signature", "evil=:AAAA:");
    set(&mut r, "signature-input", "evil=();created=1");
    Signer::new(key()).sign(&mut r, NOW, "n").unwrap();
    assert_eq!(r.headers().get_all("signature").iter().count(), 1);
    assert!(verifier().verify(&r, NOW).is_ok());
}

#[test]
fn missing_signature_and_input() {
    assert_eq!(err(&request()), VerifyError::MissingSignature);
    let mut r = signed();
    r.headers_mut().remove("signature");
    assert_eq!(err(&r), VerifyError::MissingSignature);
    let mut r = signed();
    r.headers_mut().remove("signature-input");
    assert_eq!(err(&r), VerifyError::MissingSignatureInput);
    // A label the verifier insists on that is absent.
    let r = signed();
    let v = verifier().label(Some("other"));
    assert_eq!(v.verify(&r, NOW).unwrap_err(), VerifyError::MissingSignatureInput);
    // Signature present under another label only.
    let mut r = signed();
    let sig = r.headers()["signature"].to_str().unwrap().replacen("edge=", "other=", 1);
    set(&mut r, "signature", &sig);
    assert_eq!(err(&r), VerifyError::MissingSignature);
}

#[test]
fn malformed() {
    for (field, value) in [
        ("signature-input", "edge=("),
        ("signature-input", "edge=1;tag=\"edge-trust\""),
        ("signature", "edge=(1)"),
        ("signature", "edge=:!!!:"),
        ("signature", "edge=\"str\""),
    ] {
        let mut r = signed();
        set(&mut r, field, value);
        assert!(matches!(err(&r), VerifyError::Malformed(_) | VerifyError::WrongTag(_)), "{field}: {value} -> {:?}", err(&r));
    }
    let mut r = signed();
    set(&mut r, "signature-input", "edge=(1 2);tag=\"edge-trust\"");
    assert!(matches!(err(&r), VerifyError::Malformed(_)));
    let r = signed_params(|p| without(p, "created").with_param("created", BareItem::String("x".into())));
    assert!(matches!(err(&r), VerifyError::Malformed(_)));
    let r = signed_params(|p| without(without(p, "expires"), "created").with_param("created", BareItem::Integer(NOW as i64)).with_param("expires", BareItem::Integer(NOW as i64 - 1)));
    assert_eq!(err(&r), VerifyError::Malformed("expires before created".into()));
}

#[test]
fn duplicates() {
    let mut r = signed();
    let input = r.headers()["signature-input"].to_str().unwrap().to_string();
    r.headers_mut().append("signature-input", input.parse().unwrap());
    assert_eq!(err(&r), VerifyError::DuplicateLabel("edge".into()));

    let mut r = signed();
    let sig = r.headers()["signature"].to_str().unwrap().to_string();
    r.headers_mut().append("signature", sig.parse().unwrap());
    assert_eq!(err(&r), VerifyError::DuplicateLabel("edge".into()));

    let mut r = signed();
    set(&mut r, "signature-input", &format!("{input};nonce=\"again\""));
    assert_eq!(err(&r), VerifyError::DuplicateParam("nonce".into()));

    let mut r = signed();
    set(&mut r, "signature-input", &input.replacen("(\"@method\"", "(\"@method\" \"@method\"", 1));
    assert_eq!(err(&r), VerifyError::DuplicateComponent("\"@method\"".into()));
}

#[test]
fn ambiguous() {
    let mut r = signed();
    let other = Signer::new(key()).label("edge2").signature_headers(&r, NOW, "n2").unwrap();
    r.headers_mut().append("signature-input", other.signature_input.parse().unwrap());
    r.headers_mut().append("signature", other.signature.parse().unwrap());
    assert_eq!(err(&r), VerifyError::AmbiguousSignature);
    // Choosing a label resolves it.
    assert!(verifier().label(Some("edge2")).verify(&r, NOW).is_ok());
}

#[test]
fn keyid_and_algorithm() {
    assert_eq!(err(&signed_params(|p| without(p, "keyid"))), VerifyError::MissingKeyId);
    let r = signed();
    let v = origin_sdk::Verifier::new(KeySet::new().with(common::hmac_key().verifying_key()));
    assert_eq!(v.verify(&r, NOW).unwrap_err(), VerifyError::UnknownKeyId("edge-test".into()));

    let r = signed_params(|p| without(p, "alg").with_param("alg", BareItem::String("hmac-sha256".into())));
    assert_eq!(err(&r), VerifyError::AlgorithmMismatch { key: Algorithm::Ed25519, alg: "hmac-sha256".into() });
    // Without `alg` the key's algorithm is used.
    assert!(verifier().verify(&signed_params(|p| without(p, "alg")), NOW).is_ok());
    // An HMAC key named by an Ed25519 signature's keyid: the key decides, and it fails.
    let hmac_as_edge = common::hmac_key().verifying_key().with_keyid("edge-test");
    let v = origin_sdk::Verifier::new(KeySet::new().with(hmac_as_edge));
    assert!(matches!(v.verify(&signed(), NOW).unwrap_err(), VerifyError::AlgorithmMismatch { .. }));
    let v = v.required_components(Vec::<Component>::new());
    assert!(v.verify(&signed_params(|p| without(p, "alg")), NOW).is_err());
}

#[test]
fn bad_signature() {
    let mut r = signed();
    set(&mut r, trust::USER, "admin");
    assert_eq!(err(&r), VerifyError::BadSignature);
    let mut r = signed();
    *r.uri_mut() = "https://origin.example/api/items?x=1&y=3".parse().unwrap();
    assert_eq!(err(&r), VerifyError::BadSignature);
    let mut r = signed();
    *r.method_mut() = http::Method::GET;
    assert_eq!(err(&r), VerifyError::BadSignature);
    let mut r = signed();
    set(&mut r, "signature", "edge=:AAAA:");
    assert_eq!(err(&r), VerifyError::BadSignature);
    // Appending a second value to a covered header changes its combined value.
    let mut r = signed();
    r.headers_mut().append(trust::USER, "root".parse().unwrap());
    assert_eq!(err(&r), VerifyError::BadSignature);
}

#[test]
fn missing_params() {
    assert_eq!(err(&signed_params(|p| without(p, "created"))), VerifyError::MissingCreated);
    assert_eq!(err(&signed_params(|p| without(p, "expires"))), VerifyError::MissingExpires);
    assert_eq!(err(&signed_params(|p| without(p, "nonce"))), VerifyError::MissingNonce);
    assert!(verifier().require_nonce(false).verify(&signed_params(|p| without(p, "nonce")), NOW).is_ok());
    assert!(verifier().require_expires(false).verify(&signed_params(|p| without(p, "expires")), NOW).is_ok());
}

#[test]
fn time_window() {
    let r = signed();
    let v = verifier(); // skew 10, validity 60
    assert!(v.verify(&r, NOW - 10).is_ok());
    assert_eq!(v.verify(&r, NOW - 11).unwrap_err(), VerifyError::CreatedInFuture { created: NOW, now: NOW - 11 });
    assert!(v.verify(&r, NOW + 70).is_ok());
    assert_eq!(v.verify(&r, NOW + 71).unwrap_err(), VerifyError::Expired { expires: NOW + 60, now: NOW + 71 });
    assert!(verifier().max_skew(0).verify(&r, NOW + 61).is_err());

    let long = signed_with(&Signer::new(key()).validity(301));
    assert_eq!(err(&long), VerifyError::ValidityTooLong { secs: 301, max: 300 });
    assert!(verifier().max_validity(301).verify(&long, NOW).is_ok());
    assert!(matches!(verifier().max_validity(30).verify(&r, NOW), Err(VerifyError::ValidityTooLong { .. })));
}

#[test]
fn required_components_and_tag() {
    let partial: Vec<&str> = ["@method", "@authority", "@path", "@query"].into_iter().chain(trust::ALL).filter(|c| *c != trust::USER).collect();
    let r = signed_with(&Signer::new(key()).components(partial.clone()));
    assert_eq!(err(&r), VerifyError::ComponentNotCovered("x-edge-user".into()));
    assert!(verifier().required_components(partial).verify(&r, NOW).is_ok());

    let r = signed_with(&Signer::new(key()).tag(Some("web-bot-auth")));
    assert_eq!(err(&r), VerifyError::WrongTag(Some("web-bot-auth".into())));
    let r = signed_with(&Signer::new(key()).tag(None));
    assert_eq!(err(&r), VerifyError::WrongTag(None));
    assert!(verifier().required_tag(None).verify(&r, NOW).is_ok());
    // With a configured label the tag is still enforced.
    let r = signed_with(&Signer::new(key()).tag(Some("x")));
    assert_eq!(verifier().label(Some("edge")).verify(&r, NOW).unwrap_err(), VerifyError::WrongTag(Some("x".into())));
}

#[test]
fn missing_covered_header_and_unsupported() {
    let mut r = signed();
    r.headers_mut().remove(trust::COLO);
    assert_eq!(err(&r), VerifyError::MissingHeader("x-edge-colo".into()));

    let mut r = signed();
    let input = r.headers()["signature-input"].to_str().unwrap().replacen("(\"@method\"", "(\"@status\" \"@method\"", 1);
    set(&mut r, "signature-input", &input);
    assert_eq!(err(&r), VerifyError::UnsupportedComponent("\"@status\"".into()));
}

#[test]
fn strip_on_success_keeps_only_covered() {
    let partial: Vec<&str> = ["@method", "@authority", "@path", "@query", trust::CLIENT_IP].into();
    let mut r = signed_with(&Signer::new(key()).components(partial.clone()));
    set(&mut r, "x-edge-injected", "1");
    let v = verifier().required_components(partial);
    let f = v.verify_and_strip(&mut r, NOW).unwrap();
    assert_eq!(f.user, None, "uncovered header is not a fact");
    assert_eq!(f.client_ip, Some("2001:db8::1".parse().unwrap()));
    let names: Vec<&str> = r.headers().keys().map(|k| k.as_str()).collect();
    assert!(names.contains(&trust::CLIENT_IP));
    assert!(names.contains(&"signature") && names.contains(&"signature-input") && names.contains(&"content-type"));
    assert!(!names.iter().any(|n| n.starts_with("x-edge-") && *n != trust::CLIENT_IP), "{names:?}");
}

#[test]
fn strip_on_error_removes_all_trust_headers() {
    let mut r = signed();
    set(&mut r, trust::USER, "admin");
    assert_eq!(verifier().verify_and_strip(&mut r, NOW).unwrap_err(), VerifyError::BadSignature);
    assert!(r.headers().keys().all(|k| !trust::is_trust_header(k.as_str())), "{:?}", r.headers());
    assert!(r.headers().contains_key("content-type"));
    let mut r = signed();
    assert!(verifier().verify_and_strip(&mut r, NOW).is_ok());
    assert_eq!(r.headers().keys().filter(|k| trust::is_trust_header(k.as_str())).count(), 11);
}

#[test]
fn errors_display() {
    let all = [
        VerifyError::MissingSignature,
        VerifyError::MissingSignatureInput,
        VerifyError::Malformed("x".into()),
        VerifyError::DuplicateLabel("a".into()),
        VerifyError::DuplicateParam("a".into()),
        VerifyError::DuplicateComponent("a".into()),
        VerifyError::AmbiguousSignature,
        VerifyError::MissingKeyId,
        VerifyError::UnknownKeyId("k".into()),
        VerifyError::AlgorithmMismatch { key: Algorithm::Ed25519, alg: "x".into() },
        VerifyError::BadSignature,
        VerifyError::MissingCreated,
        VerifyError::MissingExpires,
        VerifyError::MissingNonce,
        VerifyError::CreatedInFuture { created: 2, now: 1 },
        VerifyError::Expired { expires: 1, now: 2 },
        VerifyError::ValidityTooLong { secs: 2, max: 1 },
        VerifyError::ComponentNotCovered("a".into()),
        VerifyError::WrongTag(None),
        VerifyError::WrongTag(Some("t".into())),
        VerifyError::MissingHeader("h".into()),
        VerifyError::UnsupportedComponent("c".into()),
        VerifyError::Replayed,
    ];
    let texts: std::collections::HashSet<String> = all.iter().map(|e| e.to_string()).collect();
    assert_eq!(texts.len(), all.len());
    assert!(texts.iter().all(|t| !t.is_empty() && !t.contains('\n')));
}
