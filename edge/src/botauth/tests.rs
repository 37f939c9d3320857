use std::cell::RefCell;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use origin_sdk::keys::SigningKey;
use origin_sdk::sign::Signer;
use origin_sdk::verify::VerifyError;

use super::*;
use crate::request::RequestInfo;
use crate::testing::block_on;

const NOW: u64 = 1_800_000_000;
const AGENT: &str = "https://agent.example";

/// An agent key, its public bytes and its directory JWKS.
fn agent(seed: u8) -> (SigningKey, [u8; 32], String) {
    let k = SigningKey::ed25519_from_seed("", &[seed; 32]);
    let b64 = k.verifying_key().public_key_base64().unwrap_or_default();
    let public: [u8; 32] = STANDARD.decode(b64).unwrap().try_into().unwrap();
    let jwks = format!(r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{}"}}]}}"#, URL_SAFE_NO_PAD.encode(public));
    (k.with_keyid(thumbprint(&public)), public, jwks)
}

fn request() -> RequestInfo {
    let mut r = RequestInfo::from_url("GET", "https://shop.example/products?page=2").unwrap();
    r.headers = vec![
        ("host".into(), "shop.example".into()),
        ("user-agent".into(), "ExampleAgent/1.0".into()),
        ("signature-agent".into(), format!("\"{AGENT}\"")),
    ];
    r
}

fn signer(key: &SigningKey, tag: &str, components: &[&str]) -> Signer {
    Signer::new(key.clone()).tag(Some(tag)).label("sig1").components(components.iter().copied()).validity(60)
}

fn sign_with(mut r: RequestInfo, s: &Signer, created: u64) -> RequestInfo {
    let h = s.signature_headers(&SignedRequest::new(&r), created, "n-1").unwrap();
    r.headers.push(("signature-input".into(), h.signature_input));
    r.headers.push(("signature".into(), h.signature));
    r
}

fn signed(key: &SigningKey) -> RequestInfo {
    sign_with(request(), &signer(key, TAG, &["@authority", "signature-agent"]), NOW)
}

fn dir(jwks: &str) -> Directory {
    parse_directory(jwks.as_bytes()).unwrap()
}

fn check(r: &RequestInfo, d: &Directory) -> Result<SignedAgent, Rejection> {
    verify_request(r, AGENT, d, Window::default(), NOW + 2)
}

#[test]
fn rfc7638_thumbprint_of_the_rfc8037_example_key() {
    // RFC 8037 appendix A.3: the Ed25519 example key's thumbprint.
    let x = URL_SAFE_NO_PAD.decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
    assert_eq!(thumbprint(&x.try_into().unwrap()), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn a_valid_agent_signature_verifies() {
    let (k, public, jwks) = agent(1);
    let got = check(&signed(&k), &dir(&jwks)).unwrap();
    assert_eq!(got, SignedAgent { origin: AGENT.into(), thumbprint: thumbprint(&public) });
}

#[test]
fn a_tampered_covered_component_is_rejected() {
    let (k, _, jwks) = agent(1);
    let mut r = signed(&k);
    r.headers[0].1 = "evil.example".into();
    assert_eq!(check(&r, &dir(&jwks)), Err(Rejection::Signature(VerifyError::BadSignature)));
    let mut r = signed(&k);
    r.headers[2].1 = "\"https://other.example\"".into();
    assert_eq!(check(&r, &dir(&jwks)), Err(Rejection::Signature(VerifyError::BadSignature)));
}

#[test]
fn a_wrong_tag_is_rejected() {
    let (k, _, jwks) = agent(1);
    let r = sign_with(request(), &signer(&k, "edge-trust", &["@authority", "signature-agent"]), NOW);
    assert_eq!(check(&r, &dir(&jwks)), Err(Rejection::Signature(VerifyError::WrongTag(Some("edge-trust".into())))));
}

#[test]
fn expired_and_far_future_signatures_are_rejected() {
    let (k, _, jwks) = agent(1);
    let s = signer(&k, TAG, &["@authority", "signature-agent"]);
    let old = sign_with(request(), &s, NOW - 600);
    assert!(matches!(check(&old, &dir(&jwks)), Err(Rejection::Signature(VerifyError::Expired { .. }))));
    let future = sign_with(request(), &s, NOW + 3600);
    assert!(matches!(check(&future, &dir(&jwks)), Err(Rejection::Signature(VerifyError::CreatedInFuture { .. }))));
    // Within the skew it passes.
    assert!(check(&sign_with(request(), &s, NOW + 5), &dir(&jwks)).is_ok());
}

#[test]
fn signature_agent_must_be_covered() {
    let (k, _, jwks) = agent(1);
    let r = sign_with(request(), &signer(&k, TAG, &["@authority"]), NOW);
    assert_eq!(check(&r, &dir(&jwks)), Err(Rejection::Signature(VerifyError::ComponentNotCovered("signature-agent".into()))));
}

#[test]
fn a_keyid_that_is_not_the_thumbprint_is_rejected() {
    let (k, _, jwks) = agent(1);
    let r = signed(&k.with_keyid("agent-key-1"));
    assert_eq!(check(&r, &dir(&jwks)), Err(Rejection::KeyidNotThumbprint("agent-key-1".into())));
    // Another agent's key is not in this directory either.
    let (other, _, _) = agent(2);
    assert!(matches!(check(&signed(&other), &dir(&jwks)), Err(Rejection::KeyidNotThumbprint(_))));
}

#[test]
fn garbage_signatures_are_rejections_not_panics() {
    let (_, _, jwks) = agent(1);
    let mut r = request();
    r.headers.push(("signature-input".into(), "sig1=(\"@authority\";created=".into()));
    r.headers.push(("signature".into(), "sig1=:!!:".into()));
    assert!(matches!(check(&r, &dir(&jwks)), Err(Rejection::Signature(_))));
}

#[test]
fn directories_parse_ed25519_keys_only() {
    let (_, public, _) = agent(3);
    let x = URL_SAFE_NO_PAD.encode(public);
    let d = parse_directory(format!(r#"{{"keys":[{{"kty":"RSA","n":"AQAB","e":"AQAB"}},{{"kty":"OKP","crv":"Ed25519","x":"{x}"}},{{"kty":"OKP","crv":"Ed25519","x":"short"}}]}}"#).as_bytes()).unwrap();
    assert_eq!(d.thumbprints, vec![thumbprint(&public)]);
    assert!(parse_directory(br#"{"keys":[]}"#).is_err());
    assert!(parse_directory(b"not json").is_err());
}

#[test]
fn agent_origins_are_https_or_loopback_http() {
    assert_eq!(agent_origin("\"https://Agent.example/\"").unwrap(), "https://agent.example");
    assert_eq!(agent_origin("sig1=\"https://agent.example\"").unwrap(), "https://agent.example");
    assert_eq!(agent_origin("http://127.0.0.1:9000").unwrap(), "http://127.0.0.1:9000");
    assert!(agent_origin("\"http://agent.example\"").is_err());
    assert!(agent_origin("\"ftp://agent.example\"").is_err());
    assert!(agent_origin("nonsense").is_err());
}

fn signed_directory(key: &SigningKey, jwks: &str, authority: &str, tag: &str, created: u64) -> (Vec<(String, String)>, Vec<u8>) {
    let none: Vec<(String, String)> = vec![];
    let params = Signer::new(key.clone()).tag(Some(tag)).label("sig1").components(directory_components()).validity(60).params(created, "d").unwrap();
    let h = Signer::new(key.clone())
        .label("sig1")
        .sign_params(&DirectoryResponse { authority, headers: &none }, &params)
        .unwrap();
    let headers = vec![("content-type".into(), DIRECTORY_MEDIA_TYPE.into()), ("signature-input".into(), h.signature_input), ("signature".into(), h.signature)];
    (headers, jwks.as_bytes().to_vec())
}

#[test]
fn a_directory_signed_by_its_own_key_verifies() {
    let (k, _, jwks) = agent(1);
    let (headers, _) = signed_directory(&k, &jwks, "agent.example", DIRECTORY_TAG, NOW);
    let d = dir(&jwks);
    assert_eq!(verify_directory_response(&d, &DirectoryResponse { authority: "agent.example", headers: &headers }, Window::default(), NOW), Ok(()));
}

#[test]
fn a_directory_with_a_bad_signature_is_rejected() {
    let (k, _, jwks) = agent(1);
    let (other, _, _) = agent(2);
    let d = dir(&jwks);
    let resp = |h: &Vec<(String, String)>, a: &str| verify_directory_response(&d, &DirectoryResponse { authority: a, headers: h }, Window::default(), NOW);
    // Signed by a key not in the directory.
    let (h, _) = signed_directory(&other, &jwks, "agent.example", DIRECTORY_TAG, NOW);
    assert!(matches!(resp(&h, "agent.example"), Err(Rejection::DirectorySignature(VerifyError::UnknownKeyId(_)))));
    // Signed for another authority (a directory replayed from elsewhere).
    let (h, _) = signed_directory(&k, &jwks, "evil.example", DIRECTORY_TAG, NOW);
    assert_eq!(resp(&h, "agent.example"), Err(Rejection::DirectorySignature(VerifyError::BadSignature)));
    // Wrong tag, stale, unsigned.
    let (h, _) = signed_directory(&k, &jwks, "agent.example", TAG, NOW);
    assert!(matches!(resp(&h, "agent.example"), Err(Rejection::DirectorySignature(VerifyError::WrongTag(_)))));
    let (h, _) = signed_directory(&k, &jwks, "agent.example", DIRECTORY_TAG, NOW - 3600);
    assert!(matches!(resp(&h, "agent.example"), Err(Rejection::DirectorySignature(VerifyError::Expired { .. }))));
    assert_eq!(resp(&vec![], "agent.example"), Err(Rejection::DirectorySignature(VerifyError::MissingSignature)));
}

const T: DirectoryTimings = DirectoryTimings { ttl_ms: 300_000, cooldown_ms: 30_000 };

#[test]
fn directories_are_fetched_once_and_cached_for_the_ttl() {
    let (k, _, jwks) = agent(1);
    let cache = RefCell::new(DirectoryCache::new());
    let fetches = RefCell::new(Vec::new());
    let get = |now_ms: u64| {
        block_on(cached_directory(&cache, AGENT, T, Window::default(), now_ms, false, |url| {
            fetches.borrow_mut().push(url);
            let resp = signed_directory(&k, &jwks, "agent.example", DIRECTORY_TAG, now_ms / 1000);
            async move { Ok(resp) }
        }))
    };
    for i in 0..5 {
        assert!(get(NOW * 1000 + i * 1000).is_ok());
    }
    assert_eq!(*fetches.borrow(), vec![format!("{AGENT}{DIRECTORY_PATH}")]);
    assert!(get(NOW * 1000 + 300_000).is_ok());
    assert_eq!(fetches.borrow().len(), 2);
}

#[test]
fn failed_fetches_and_bad_directories_cool_down() {
    let (k, _, jwks) = agent(1);
    let (other, _, _) = agent(2);
    let cache = RefCell::new(DirectoryCache::new());
    let t0 = NOW * 1000;
    let bad = block_on(cached_directory(&cache, AGENT, T, Window::default(), t0, false, |_| {
        let resp = signed_directory(&other, &jwks, "agent.example", DIRECTORY_TAG, NOW);
        async move { Ok(resp) }
    }));
    assert!(matches!(bad, Err(Rejection::DirectorySignature(_))));
    let again = block_on(cached_directory(&cache, AGENT, T, Window::default(), t0 + 1000, false, |_| async { Err("must not fetch".to_string()) }));
    assert!(matches!(again, Err(Rejection::DirectoryUnavailable(_))));
    let later = block_on(cached_directory(&cache, AGENT, T, Window::default(), t0 + 30_000, false, |_| {
        let resp = signed_directory(&k, &jwks, "agent.example", DIRECTORY_TAG, NOW + 30);
        async move { Ok(resp) }
    }));
    assert!(later.is_ok());
}

#[test]
fn directory_signature_covers_authority_of_the_request() {
    // Per the directory draft the signature covers `"@authority";req`; one over
    // the response's plain `@authority` does not satisfy it.
    let key = SigningKey::ed25519_from_seed("k", &[5; 32]);
    let params = Signer::new(key.clone()).components(directory_components()).tag(Some(DIRECTORY_TAG)).params(NOW, "d").unwrap();
    let none: Vec<(String, String)> = Vec::new();
    let h = Signer::new(key.clone()).sign_params(&DirectoryResponse { authority: "agent.example", headers: &none }, &params).unwrap();
    let base = String::from_utf8(h.base).unwrap();
    assert!(base.starts_with("\"@authority\";req: agent.example\n"), "{base}");
    let plain = Signer::new(key).components(["@authority"]).tag(Some(DIRECTORY_TAG)).params(NOW, "d").unwrap();
    assert!(!plain.serialize().unwrap().contains(";req"));
}
