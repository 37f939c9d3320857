//! Cloudflare's Web Bot Auth test data (cloudflare/web-bot-auth @ 19fd120,
//! Apache-2.0, vendored under `tests/corpora/web-bot-auth/`): the signed
//! requests of the architecture draft v1 (string `Signature-Agent`) and v2
//! (dictionary `Signature-Agent` with `;key=`), the `Signature-Agent` header,
//! signature-agent card and registry cases. Signed requests (Ed25519 and
//! `rsa-pss-sha512`) are verified with the clock pinned to their `created`
//! (v1 expired on 2025-01-01).

use std::path::Path;

use edge::botauth::{claim, parse_card, parse_directory, parse_registry, parse_signature_agent, rsa_thumbprint, thumbprint, verify_claim, AgentKind, Rejection, Window};
use edge::phases::botauth::run;
use edge::pipeline::{Ctx, Verdict};
use edge::request::RequestInfo;
use edge::testing::{block_on, NoIo};
use origin_sdk::verify::VerifyError;
use serde_json::{json, Value};

fn data(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpora/web-bot-auth").join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn vectors(version: &str) -> Vec<Value> {
    let v = data(&format!("packages/web-bot-auth/test/test_data/web_bot_auth_architecture_{version}.json"));
    v.as_array().cloned().unwrap_or_default()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

/// The vector's request: `GET target_url` with its signature headers.
fn request(v: &Value) -> RequestInfo {
    let mut r = RequestInfo::from_url("GET", s(v, "target_url")).unwrap_or_else(|e| panic!("{e}"));
    r.headers = vec![("signature-input".into(), s(v, "signature_input").into()), ("signature".into(), s(v, "signature").into())];
    if let Some(agent) = v["signature_agent"].as_str() {
        r.headers.push(("signature-agent".into(), agent.into()));
    }
    r
}

/// The vector key's public part as a one-key directory.
fn jwks(v: &Value) -> Value {
    let k = &v["key"];
    match k["kty"].as_str() {
        Some("RSA") => json!({ "keys": [{ "kty": "RSA", "alg": k["alg"], "n": k["n"], "e": k["e"] }] }),
        _ => json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": k["x"] }] }),
    }
}

/// The RFC 7638 thumbprint of the vector key, computed from its members.
fn key_thumbprint(v: &Value) -> String {
    let k = &v["key"];
    match k["kty"].as_str() {
        Some("RSA") => rsa_thumbprint(&b64url(s(k, "n")), &b64url(s(k, "e"))),
        _ => thumbprint(&base64ct_decode(s(k, "x"))),
    }
}

fn b64url(x: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(x).unwrap_or_default()
}

fn created(v: &Value) -> u64 {
    v["created_ms"].as_u64().unwrap_or_default() / 1000
}

const AGENT: &str = "https://signature-agent.test";

/// Wide enough for v2's hundred-year signatures; the edge's own limits are
/// exercised through the phase below.
const WIDE: Window = Window { max_skew_secs: 0, max_validity_secs: u64::MAX / 2 };

fn verify_vector(v: &Value, r: &RequestInfo, now: u64) -> Result<String, Rejection> {
    let c = claim(r)?;
    let dir = parse_directory(jwks(v).to_string().as_bytes()).map_err(Rejection::BadAgent)?;
    let origin = match &c.agent {
        Some((entry, _)) => entry.uri.clone(),
        None if dir.thumbprints.contains(&c.keyid) => "pinned".to_string(),
        None => return Err(Rejection::KeyidNotPinned(c.keyid)),
    };
    verify_claim(r, &c, &origin, &dir, WIDE, now).map(|a| a.origin)
}

#[test]
fn ed25519_and_rsa_pss_vectors_verify() {
    let mut verified = Vec::new();
    for version in ["v1", "v2"] {
        for v in vectors(version) {
            let r = request(&v);
            let at = format!("{version} {} {}", s(&v, "label"), v["key"]["kid"]);
            assert!(s(&v, "signature_input").contains(&format!("keyid=\"{}\"", key_thumbprint(&v))), "{at}: keyid is the RFC 7638 thumbprint");
            let origin = verify_vector(&v, &r, created(&v)).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(origin, if v["signature_agent"].is_string() { AGENT } else { "pinned" }, "{at}");
            verified.push(s(&v["key"], "kty").to_string());
        }
    }
    verified.sort();
    assert_eq!(verified, ["OKP", "OKP", "OKP", "OKP", "RSA", "RSA", "RSA", "RSA"]);
}

/// An RSA key verifies `rsa-pss-sha512` only: another `alg` on its signature,
/// or a directory entry declaring another JWS algorithm, is refused.
#[test]
fn rsa_keys_are_pinned_to_rsa_pss_sha512() {
    let v = vectors("v2").into_iter().find(|v| v["key"]["kty"] == "RSA" && !v["signature_agent"].is_string()).unwrap_or_default();
    let now = created(&v);
    let mut r = request(&v);
    let input = s(&v, "signature_input").replace("alg=\"rsa-pss-sha512\"", "alg=\"ed25519\"");
    assert_ne!(input, s(&v, "signature_input"));
    tamper(&mut r, "signature-input", Some(&input));
    assert!(matches!(verify_vector(&v, &r, now), Err(Rejection::Signature(VerifyError::AlgorithmMismatch { alg, .. })) if alg == "ed25519"));
    let input = s(&v, "signature_input").replace("alg=\"rsa-pss-sha512\"", "alg=\"rsa-v1_5-sha256\"");
    tamper(&mut r, "signature-input", Some(&input));
    assert_eq!(verify_vector(&v, &r, now), Err(Rejection::UnsupportedAlgorithm("rsa-v1_5-sha256".into())));
    // The same key declared for RS256 is not a key the edge verifies with.
    let mut k = jwks(&v);
    k["keys"][0]["alg"] = json!("RS256");
    assert!(parse_directory(k.to_string().as_bytes()).is_err());
    // A signature one byte short of the modulus fails as a bad signature, no panic.
    let mut r = request(&v);
    let sig = s(&v, "signature");
    let short = format!("{}:", &sig[..sig.len() - 5]);
    tamper(&mut r, "signature", Some(&short));
    assert!(matches!(verify_vector(&v, &r, now), Err(Rejection::Signature(_))));
}

#[test]
fn the_dictionary_form_is_read_by_key() {
    let v = vectors("v2").into_iter().find(|v| v["key"]["kty"] == "OKP" && v["signature_agent"].is_string()).unwrap_or_default();
    let c = claim(&request(&v)).unwrap_or_else(|e| panic!("{e}"));
    let (entry, component) = c.agent.unwrap_or_else(|| panic!("no agent"));
    assert_eq!((entry.label.as_deref(), entry.uri.as_str(), entry.kind), (Some("agent2"), AGENT, AgentKind::Directory));
    assert_eq!(component.to_string(), "\"signature-agent\";key=\"agent2\"");
}

fn tamper(r: &mut RequestInfo, name: &str, value: Option<&str>) {
    r.headers.retain(|(n, _)| n != name);
    if let Some(v) = value {
        r.headers.push((name.into(), v.into()));
    }
}

#[test]
fn invalid_cases_fail_with_their_reason() {
    for kty in ["OKP", "RSA"] {
        invalid_cases_of(kty);
    }
}

/// Flips one base64 character in the middle of a `label=:…:` signature.
fn flip_signature(field: &str) -> String {
    let mut bytes = field.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap_or_default()
}

fn invalid_cases_of(kty: &str) {
    let v2: Vec<Value> = vectors("v2").into_iter().filter(|v| v["key"]["kty"] == kty).collect();
    let dict = v2.iter().find(|v| v["signature_agent"].is_string()).cloned().unwrap_or_default();
    let authority_only = v2.iter().find(|v| !v["signature_agent"].is_string()).cloned().unwrap_or_default();
    let now = created(&dict);

    // Another agent than the one signed.
    let mut r = request(&dict);
    tamper(&mut r, "signature-agent", Some("agent2=\"https://evil.test\""));
    assert_eq!(verify_vector(&dict, &r, now), Err(Rejection::Signature(VerifyError::BadSignature)));
    // The covered member missing from the field.
    tamper(&mut r, "signature-agent", Some("agent1=\"https://signature-agent.test\""));
    assert!(matches!(verify_vector(&dict, &r, now), Err(Rejection::BadAgent(m)) if m.contains("agent2")));
    // The covered field removed.
    tamper(&mut r, "signature-agent", None);
    assert_eq!(verify_vector(&dict, &r, now), Err(Rejection::Signature(VerifyError::MissingHeader("signature-agent".into()))));
    // Another host than the one signed.
    let mut r = request(&authority_only);
    r.host = "example.org".into();
    assert_eq!(verify_vector(&authority_only, &r, now), Err(Rejection::Signature(VerifyError::BadSignature)));
    // The signature bytes changed.
    let mut r = request(&authority_only);
    let sig = flip_signature(s(&authority_only, "signature"));
    tamper(&mut r, "signature", Some(&sig));
    assert_eq!(verify_vector(&authority_only, &r, now), Err(Rejection::Signature(VerifyError::BadSignature)));
    // v1 at today's clock: expired.
    let v1 = vectors("v1").into_iter().find(|v| v["key"]["kty"] == kty).unwrap_or_default();
    assert!(matches!(verify_vector(&v1, &request(&v1), 1_800_000_000), Err(Rejection::Signature(VerifyError::Expired { .. }))));
    // A signature without a web-bot-auth tag is not the agent's.
    let mut r = request(&authority_only);
    let input = s(&authority_only, "signature_input").replace("tag=\"web-bot-auth\"", "tag=\"other\"");
    tamper(&mut r, "signature-input", Some(&input));
    assert_eq!(claim(&r).err(), Some(Rejection::Signature(VerifyError::WrongTag(Some("other".into())))));
}

/// Several signatures on one request: the `web-bot-auth` one is the agent's.
#[test]
fn the_web_bot_auth_signature_is_picked_among_several() {
    let v = vectors("v2").into_iter().find(|v| v["key"]["kty"] == "OKP" && v["signature_agent"].is_string()).unwrap_or_default();
    let mut r = request(&v);
    let input = format!("edge=(\"@method\");created=1;keyid=\"edge-1\";tag=\"edge-trust\", {}", s(&v, "signature_input"));
    let sig = format!("edge=:AAAA:, {}", s(&v, "signature"));
    tamper(&mut r, "signature-input", Some(&input));
    tamper(&mut r, "signature", Some(&sig));
    assert_eq!(verify_vector(&v, &r, created(&v)).as_deref(), Ok(AGENT));
}

fn rules(params: Value) -> edge::rules::Rules {
    let doc = json!({ "version": 1, "phases": { "filter": [
        { "id": "agents", "action": "web_bot_auth", "params": params },
        { "id": "signed", "when": { "bot_classes": ["verified_signed_agent"] }, "action": "allow" }
    ] } });
    edge::rules::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

/// Through the edge's phase, with its own limits (v1's one-hour signatures):
/// the string form against a pinned directory, and an `@authority`-only
/// signature found by its keyid among the pinned directories.
#[test]
fn v1_vectors_verify_through_the_phase_with_pinned_keys() {
    for v in vectors("v1").into_iter().filter(|v| v["key"]["kty"] == "OKP") {
        let rules = rules(json!({ "directories": { AGENT: jwks(&v) }, "fetch": false, "max_validity_seconds": 3600 }));
        let r = request(&v);
        let mut ctx = Ctx::new("r", created(&v) * 1000);
        assert_eq!(block_on(run(&rules, &r, &mut ctx, &NoIo)), Verdict::Continue);
        assert_eq!(ctx.facts.agent.as_deref(), Some(AGENT), "{}: {:?}", s(&v, "label"), ctx.records);
        assert_eq!(r.bot().class.code(), "verified_signed_agent");
        // Without the pin, the keyid-only signature is unverified.
        let unpinned = rules_without_pin();
        let mut ctx = Ctx::new("r", created(&v) * 1000);
        let r = request(&v);
        let _ = block_on(run(&unpinned, &r, &mut ctx, &NoIo));
        assert_eq!(ctx.facts.agent, None);
    }
}

fn rules_without_pin() -> edge::rules::Rules {
    rules(json!({ "directories": { "https://other.test": { "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }] } }, "fetch": false, "max_validity_seconds": 3600 }))
}

#[test]
fn signature_agent_header_cases() {
    for case in data("packages/web-bot-auth/test/test_data/web_bot_auth_signature_agent_v1.json").as_array().cloned().unwrap_or_default() {
        let got = parse_signature_agent(s(&case, "header")).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        let want: Vec<(String, String, String)> = case["entries"].as_array().cloned().unwrap_or_default().iter().map(|e| (s(e, "label").into(), s(e, "uri").into(), s(e, "type").into())).collect();
        let got: Vec<(String, String, String)> = got.into_iter().map(|e| (e.label.unwrap_or_default(), e.uri, e.kind.code().into())).collect();
        assert_eq!(got, want, "{}", case["name"]);
    }
}

#[test]
fn signature_agent_card_cases() {
    for case in data("packages/web-bot-auth/test/test_data/web_bot_auth_signature_agent_card_v1.json").as_array().cloned().unwrap_or_default() {
        let got = parse_card(s(&case, "url"), case["card"].to_string().as_bytes());
        if case["valid"] == true {
            let card = got.unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
            assert_eq!(card.client_id, s(&case["card"], "client_id"));
            if let Some(keys) = card.jwks {
                assert_eq!(keys.thumbprints, vec!["poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U".to_string()]);
            }
            if let Some(ua) = case["card"]["web_bot_auth"]["expected-user-agent"].as_str() {
                assert_eq!(card.meta.expected_user_agent.as_deref(), Some(ua));
            }
        } else {
            assert_eq!(got.err().as_deref(), case["error"].as_str(), "{}", case["name"]);
        }
    }
}

#[test]
fn registry_cases() {
    for case in data("packages/web-bot-auth/test/test_data/web_bot_auth_registry_v1.json").as_array().cloned().unwrap_or_default() {
        let want: Vec<String> = case["signature_agent_cards"].as_array().cloned().unwrap_or_default().iter().map(|u| u.as_str().unwrap_or_default().to_string()).collect();
        assert_eq!(parse_registry(s(&case, "registry_txt")), want, "{}", case["name"]);
    }
}

/// The RFC 9421 test key published beside the vectors is the vectors' key.
#[test]
fn the_rfc9421_test_key_is_the_vector_key() {
    let key = data("examples/rfc9421-keys/ed25519.json");
    assert_eq!(thumbprint(&base64ct_decode(s(&key, "x"))), "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U");
}

fn base64ct_decode(x: &str) -> [u8; 32] {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(x).unwrap_or_default();
    bytes.try_into().unwrap_or([0; 32])
}
