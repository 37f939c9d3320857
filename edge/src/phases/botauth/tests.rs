use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use origin_sdk::keys::SigningKey;
use origin_sdk::sign::Signer;
use serde_json::json;

use super::*;
use crate::botauth::{thumbprint, SignedRequest, TAG};
use crate::limit::keys::KeyPart;
use crate::phases::filter;
use crate::testing::{block_on, NoIo};

const NOW_MS: u64 = 1_800_000_000_000;
const AGENT: &str = "https://agent.example";

fn agent() -> (SigningKey, serde_json::Value) {
    let k = SigningKey::ed25519_from_seed("", &[9; 32]);
    let public: [u8; 32] = STANDARD.decode(k.verifying_key().public_key_base64().unwrap()).unwrap().try_into().unwrap();
    let jwks = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(public) }] });
    (k.with_keyid(thumbprint(&public)), jwks)
}

fn rules(auth: serde_json::Value) -> Rules {
    let doc = json!({ "version": 1, "phases": { "filter": [
        auth,
        { "id": "welcome", "when": { "signed_agents": [AGENT] }, "action": "allow" },
        { "id": "no-tools", "when": { "bot_classes": ["unknown", "http_library", "other_bot"] }, "action": "block" },
    ] } });
    crate::rules::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn pinned() -> Rules {
    let (_, jwks) = agent();
    rules(json!({ "id": "agents", "action": "web_bot_auth", "params": { "directories": { AGENT: jwks }, "fetch": false } }))
}

fn signed(tamper: bool) -> RequestInfo {
    let (k, _) = agent();
    let mut r = RequestInfo::from_url("GET", "https://shop.example/").unwrap();
    r.headers = vec![
        ("host".into(), "shop.example".into()),
        ("user-agent".into(), "ExampleAgent/1.0".into()),
        ("signature-agent".into(), format!("\"{AGENT}\"")),
    ];
    let s = Signer::new(k).tag(Some(TAG)).label("sig1").components(["@authority", "signature-agent"]).validity(60);
    let h = s.signature_headers(&SignedRequest::new(&r), NOW_MS / 1000, "n").unwrap();
    r.headers.push(("signature-input".into(), h.signature_input));
    r.headers.push(("signature".into(), h.signature));
    if tamper {
        r.headers[0].1 = "other.example".into();
    }
    r
}

fn filter(rules: &Rules, r: &RequestInfo) -> (Verdict, Verdict, Ctx) {
    let mut ctx = Ctx::new("r-1", NOW_MS);
    let first = block_on(run(rules, r, &mut ctx, &NoIo));
    let second = filter::run(rules, r, &mut ctx, &NoIo);
    (first, second, ctx)
}

#[test]
fn a_verified_agent_is_classified_and_allowed_by_name() {
    let r = signed(false);
    let (first, second, ctx) = filter(&pinned(), &r);
    assert_eq!((first, second), (Verdict::Continue, Verdict::Continue));
    assert_eq!(ctx.facts.bot_class.as_deref(), Some("verified_signed_agent"));
    assert_eq!(ctx.facts.agent.as_deref(), Some(AGENT));
    assert!(ctx.matched_rules().any(|id| id == "welcome"));
    assert_eq!(KeyPart::Agent.value(&r, &ctx.facts).as_deref(), Some(AGENT));
}

#[test]
fn a_tampered_request_is_left_to_the_bot_rules() {
    let (first, second, ctx) = filter(&pinned(), &signed(true));
    assert_eq!(first, Verdict::Continue);
    assert!(matches!(second, Verdict::Respond(ref resp) if resp.status == 403), "{second:?}");
    assert_eq!(ctx.facts.agent, None);
    let note = ctx.records.iter().find(|r| r.action == "web_bot_auth").and_then(|r| r.note.clone()).unwrap_or_default();
    assert!(note.contains("unverified") && note.contains("bad signature"), "{note}");
}

#[test]
fn denied_agents_stay_unverified() {
    let (_, jwks) = agent();
    let r = rules(json!({ "id": "agents", "action": "web_bot_auth", "params": { "directories": { AGENT: jwks }, "deny": [AGENT] } }));
    let (_, second, ctx) = filter(&r, &signed(false));
    assert!(matches!(second, Verdict::Respond(_)));
    assert_eq!(ctx.facts.agent, None);
}

#[test]
fn an_unavailable_directory_follows_on_error() {
    let open = rules(json!({ "id": "agents", "action": "web_bot_auth" }));
    let (first, _, ctx) = filter(&open, &signed(false));
    assert_eq!(first, Verdict::Continue);
    assert_eq!(ctx.facts.agent, None);
    let closed = rules(json!({ "id": "agents", "action": "web_bot_auth", "on_error": "closed" }));
    let (first, _, _) = filter(&closed, &signed(false));
    assert!(matches!(first, Verdict::Respond(ref resp) if resp.status == 503), "{first:?}");
}

#[test]
fn params_are_validated_with_paths() {
    let doc = json!({ "version": 1, "phases": { "filter": [
        { "id": "agents", "action": "web_bot_auth", "params": { "directories": { "http://agent.example": { "keys": [] } }, "ttl_seconds": 1, "bogus": 1 } }
    ] } });
    let err = crate::rules::parse(doc.to_string().as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("bogus"), "{err}");
    let doc = json!({ "version": 1, "phases": { "filter": [
        { "id": "agents", "action": "web_bot_auth", "params": { "directories": { "http://agent.example": { "keys": [] } }, "ttl_seconds": 1 } }
    ] } });
    let err = crate::rules::parse(doc.to_string().as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("directories") && err.contains("ttl_seconds"), "{err}");
}
