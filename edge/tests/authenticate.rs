//! The authenticate phase natively: rules → decision, facts and challenge,
//! with an in-memory [`Keys`] that runs the real JWKS cache policy.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use base64ct::{Base64UrlUnpadded, Encoding};
use edge::auth::{cached_jwks, JwksCache, JwksSource, KeyStore};
use edge::phases::authenticate::{self, Keys};
use edge::pipeline::{Ctx, Verdict};
use edge::request::RequestInfo;
use edge::rules::Rules;
use edge::testing::block_on;
use jwt_compact::alg::{Ed25519, Hs256, Hs256Key};
use jwt_compact::{Algorithm, AlgorithmSignature};
use serde_json::{json, Value};

const NOW_S: u64 = 1_700_000_000;
const SECRET: &str = "an-hs256-secret-that-is-long-enough-0123456789";

type EdSigning = <Ed25519 as Algorithm>::SigningKey;

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

fn ed_key(seed: u8) -> EdSigning {
    EdSigning::from_bytes(&[seed; 32])
}

fn jwks_of(keys: &[(&str, &EdSigning)]) -> Vec<u8> {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(kid, k)| json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(&k.verifying_key().to_bytes())}))
        .collect();
    json!({ "keys": keys }).to_string().into_bytes()
}

fn sign_ed(kid: &str, key: &EdSigning, claims: &Value) -> String {
    let input = format!("{}.{}", b64(json!({"alg": "EdDSA", "kid": kid}).to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let sig = Ed25519.sign(key, input.as_bytes());
    format!("{input}.{}", b64(&sig.as_bytes()))
}

fn sign_hs(claims: &Value) -> String {
    let input = format!("{}.{}", b64(br#"{"alg":"HS256","typ":"JWT"}"#), b64(claims.to_string().as_bytes()));
    let sig = Hs256.sign(&Hs256Key::new(SECRET.as_bytes()), input.as_bytes());
    format!("{input}.{}", b64(&sig.as_bytes()))
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "alice", "iss": "https://id.example", "aud": "api", "exp": NOW_S + 300, "iat": NOW_S, "scope": "read write", "tenant": "t1"});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

/// Secrets in a map; the JWKS "server" is a byte buffer with a hit counter.
struct MemKeys {
    secrets: HashMap<String, String>,
    served: RefCell<Result<Vec<u8>, String>>,
    hits: Cell<usize>,
    cache: RefCell<JwksCache>,
}

impl MemKeys {
    fn new(jwks: Vec<u8>) -> Self {
        Self {
            secrets: HashMap::from([("JWT_SECRET".to_owned(), SECRET.to_owned())]),
            served: RefCell::new(Ok(jwks)),
            hits: Cell::new(0),
            cache: RefCell::new(JwksCache::new()),
        }
    }
}

impl Keys for MemKeys {
    async fn jwks(&self, source: &JwksSource, now_ms: u64, refresh: bool) -> Result<Arc<KeyStore>, String> {
        cached_jwks(&self.cache, source, now_ms, refresh, |_url| async {
            self.hits.set(self.hits.get() + 1);
            self.served.borrow().clone()
        })
        .await
    }

    fn secret(&self, name: &str) -> Option<Vec<u8>> {
        self.secrets.get(name).map(|s| s.as_bytes().to_vec())
    }
}

fn rules(auth: Value) -> Rules {
    let doc = json!({"version": 1, "phases": {"authenticate": auth}});
    edge::rules::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn api_rules() -> Rules {
    rules(json!([
        {"id": "public", "when": {"paths": ["/api/public/*"]}, "action": "skip"},
        {"id": "api-jwt", "when": {"paths": ["/api/*"]}, "action": "jwt", "params": {
            "realm": "api",
            "keys": {"jwks_url": "https://id.example/jwks.json", "secrets": [{"secret": "JWT_SECRET", "alg": "HS256"}]},
            "policy": {"issuers": ["https://id.example"], "audiences": ["api"],
                       "scopes": {"any_of": ["read"]},
                       "forward": {"claims": ["tenant", "scope"]}}}},
        {"id": "optional", "when": {"paths": ["/maybe/*"]}, "action": "jwt", "params": {
            "require": "optional", "source": {"type": "cookie", "name": "session"},
            "keys": {"secrets": [{"secret": "JWT_SECRET", "alg": "HS256"}]}}},
        {"id": "admin", "when": {"paths": ["/admin/*"]}, "action": "jwt", "params": {
            "keys": {"secrets": [{"secret": "JWT_SECRET", "alg": "HS256"}]},
            "policy": {"scopes": {"all_of": ["admin"]}}}},
        {"id": "broken", "when": {"paths": ["/broken/*"]}, "action": "jwt", "params": {
            "keys": {"secrets": [{"secret": "NOT_SET", "alg": "HS256"}]}}},
        {"id": "broken-open", "when": {"paths": ["/broken-open/*"]}, "action": "jwt", "on_error": "open", "params": {
            "keys": {"secrets": [{"secret": "NOT_SET", "alg": "HS256"}]}}}
    ]))
}

fn run(rules: &Rules, io: &MemKeys, path: &str, headers: &[(&str, &str)], now_s: u64) -> (Verdict, Ctx) {
    let mut req = RequestInfo::from_url("GET", &format!("https://shop.example{path}")).unwrap();
    req.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let mut ctx = Ctx::new("req-1", now_s * 1000);
    let v = block_on(authenticate::run(rules, &req, &mut ctx, io));
    (v, ctx)
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

fn denied(v: &Verdict) -> (u16, String) {
    match v {
        Verdict::Respond(r) => {
            let www = r.headers.iter().find(|(n, _)| n == "www-authenticate").map(|(_, v)| v.clone()).unwrap_or_default();
            (r.status, www)
        }
        Verdict::Continue => (0, String::new()),
    }
}

#[test]
fn valid_tokens_set_user_and_forwarded_claims() {
    let k1 = ed_key(1);
    let io = MemKeys::new(jwks_of(&[("k1", &k1)]));
    let r = api_rules();
    for token in [sign_ed("k1", &k1, &claims(json!({}))), sign_hs(&claims(json!({})))] {
        let (v, ctx) = run(&r, &io, "/api/orders", &[("authorization", &bearer(&token))], NOW_S);
        assert_eq!(v, Verdict::Continue, "{:?}", ctx.records);
        assert_eq!(ctx.facts.user.as_deref(), Some("alice"));
        assert_eq!(ctx.facts.claims, Some(json!({"tenant": "t1", "scope": "read write"})));
        assert_eq!(ctx.facts.verified_claims.as_ref().and_then(|c| c.get("aud")), Some(&json!("api")));
        assert_eq!(ctx.records.last().map(|r| r.action.as_str()), Some("allow"));
    }
}

#[test]
fn missing_invalid_and_insufficient_tokens_are_refused_with_challenges() {
    let k1 = ed_key(1);
    let io = MemKeys::new(jwks_of(&[("k1", &k1)]));
    let r = api_rules();
    let (v, _) = run(&r, &io, "/api/x", &[], NOW_S);
    assert_eq!(denied(&v), (401, r#"Bearer realm="api""#.to_owned()));

    let expired = sign_ed("k1", &k1, &claims(json!({"exp": NOW_S - 61})));
    let (v, ctx) = run(&r, &io, "/api/x", &[("authorization", &bearer(&expired))], NOW_S);
    let (status, www) = denied(&v);
    assert_eq!(status, 401);
    assert!(www.contains(r#"error="invalid_token""#) && www.contains("token expired"), "{www}");
    let note = ctx.records.last().and_then(|r| r.note.clone()).unwrap_or_default();
    assert!(note.contains("Expired") && !note.contains(&expired[..20]), "{note}");

    let wrong_aud = sign_hs(&claims(json!({"aud": "other"})));
    assert_eq!(denied(&run(&r, &io, "/api/x", &[("authorization", &bearer(&wrong_aud))], NOW_S).0).0, 401);

    let no_scope = sign_hs(&claims(json!({"scope": "write"})));
    let (status, www) = denied(&run(&r, &io, "/api/x", &[("authorization", &bearer(&no_scope))], NOW_S).0);
    assert_eq!(status, 403);
    assert!(www.contains("insufficient_scope"), "{www}");
}

#[test]
fn skip_optional_and_unmatched_routes() {
    let io = MemKeys::new(jwks_of(&[]));
    let r = api_rules();
    assert_eq!(run(&r, &io, "/api/public/x", &[], NOW_S).0, Verdict::Continue);
    assert_eq!(run(&r, &io, "/elsewhere", &[], NOW_S).0, Verdict::Continue);
    let (v, ctx) = run(&r, &io, "/maybe/x", &[], NOW_S);
    assert_eq!((v, ctx.facts.user), (Verdict::Continue, None));
    let cookie = format!("session={}", sign_hs(&claims(json!({"sub": "bob"}))));
    let (v, ctx) = run(&r, &io, "/maybe/x", &[("cookie", &cookie)], NOW_S);
    assert_eq!((v, ctx.facts.user.as_deref()), (Verdict::Continue, Some("bob")));
    // Optional means "no token is fine", not "a bad token is fine".
    let (v, _) = run(&r, &io, "/maybe/x", &[("cookie", "session=a.b.c")], NOW_S);
    assert_eq!(denied(&v).0, 401);
    assert_eq!(io.hits.get(), 0, "routes without a JWKS URL never fetch");
}

#[test]
fn missing_secret_fails_closed_by_default() {
    let io = MemKeys::new(jwks_of(&[]));
    let r = api_rules();
    let t = sign_hs(&claims(json!({})));
    let (v, ctx) = run(&r, &io, "/broken/x", &[("authorization", &bearer(&t))], NOW_S);
    assert_eq!(denied(&v).0, 503);
    assert!(ctx.records.last().and_then(|r| r.note.clone()).unwrap_or_default().contains("NOT_SET"));
    assert_eq!(run(&r, &io, "/broken-open/x", &[("authorization", &bearer(&t))], NOW_S).0, Verdict::Continue);
}

#[test]
fn jwks_is_cached_and_rotation_refetches_once_per_cooldown() {
    let (k1, k2, k3) = (ed_key(1), ed_key(2), ed_key(3));
    let io = MemKeys::new(jwks_of(&[("k1", &k1)]));
    let r = api_rules();
    let t1 = sign_ed("k1", &k1, &claims(json!({})));
    for i in 0..5 {
        assert_eq!(run(&r, &io, "/api/x", &[("authorization", &bearer(&t1))], NOW_S + i).0, Verdict::Continue);
    }
    assert_eq!(io.hits.get(), 1);

    // Rotation: the IdP now publishes k2; a k2 token refetches once.
    *io.served.borrow_mut() = Ok(jwks_of(&[("k1", &k1), ("k2", &k2)]));
    let t2 = sign_ed("k2", &k2, &claims(json!({})));
    let (v, ctx) = run(&r, &io, "/api/x", &[("authorization", &bearer(&t2))], NOW_S + 40);
    assert_eq!(v, Verdict::Continue, "{:?}", ctx.records);
    assert_eq!(io.hits.get(), 2);

    // Another unknown kid within the cooldown: refused without a fetch.
    *io.served.borrow_mut() = Ok(jwks_of(&[("k3", &k3)]));
    let t3 = sign_ed("k3", &k3, &claims(json!({})));
    let (v, _) = run(&r, &io, "/api/x", &[("authorization", &bearer(&t3))], NOW_S + 45);
    assert_eq!(denied(&v).0, 401);
    assert_eq!(io.hits.get(), 2);
}

#[test]
fn jwks_outage_fails_closed() {
    let k1 = ed_key(1);
    let io = MemKeys::new(jwks_of(&[("k1", &k1)]));
    *io.served.borrow_mut() = Err("connection refused".into());
    let r = api_rules();
    let t1 = sign_ed("k1", &k1, &claims(json!({})));
    assert_eq!(denied(&run(&r, &io, "/api/x", &[("authorization", &bearer(&t1))], NOW_S).0).0, 503);
    // The failure is remembered: no retry storm within the cooldown.
    assert_eq!(denied(&run(&r, &io, "/api/x", &[("authorization", &bearer(&t1))], NOW_S + 1).0).0, 503);
    assert_eq!(io.hits.get(), 1);
}

#[test]
fn log_mode_records_but_lets_through() {
    let r = rules(json!([{"id": "trial", "mode": "log", "action": "jwt",
        "params": {"keys": {"secrets": [{"secret": "JWT_SECRET", "alg": "HS256"}]}}}]));
    let io = MemKeys::new(jwks_of(&[]));
    let (v, ctx) = run(&r, &io, "/x", &[], NOW_S);
    assert_eq!(v, Verdict::Continue);
    assert!(ctx.records.iter().any(|r| r.action == "deny" && r.note.as_deref().unwrap_or("").starts_with("log only")));
}

#[test]
fn invalid_rules_name_the_json_path() {
    let bad = json!({"version": 1, "phases": {"authenticate": [
        {"id": "a", "action": "jwt", "params": {"keys": {}}},
        {"id": "b", "action": "jwt", "params": {"keys": {"jwks_url": "http://id.example/jwks"}}},
        {"id": "c", "action": "jwt", "params": {"keys": {"secrets": [{"secret": "lower", "alg": "RS256"}]}}},
        {"id": "d", "action": "jwt", "params": {"keys": {"jwks": {"keys": [{"kty": "oct", "k": "AAAA"}]}}}},
        {"id": "e", "action": "jwt", "params": {"keys": {"jwks_url": "https://id.example/jwks", "jwks_options": {"allow_oct": true}}}},
        {"id": "f", "action": "jwt", "params": {"keys": {"jwks_url": "https://id.example/jwks"}, "policy": {"scopes": {"any_of": ["x"], "typo": 1}}}},
        {"id": "g", "action": "skip", "params": {"x": 1}}
    ]}});
    let errors = edge::rules::parse(bad.to_string().as_bytes()).unwrap_err();
    let paths: Vec<&str> = errors.0.iter().map(|e| e.path.as_str()).collect();
    for want in [
        "$.phases.authenticate[0].params.keys",
        "$.phases.authenticate[1].params.keys.jwks_url",
        "$.phases.authenticate[2].params.keys.secrets[0].secret",
        "$.phases.authenticate[2].params.keys.secrets[0].alg",
        "$.phases.authenticate[3].params.keys.jwks",
        "$.phases.authenticate[4].params.keys.jwks_options.allow_oct",
        "$.phases.authenticate[6].params",
    ] {
        assert!(paths.contains(&want), "missing {want} in {errors}");
    }
    assert!(paths.iter().any(|p| p.starts_with("$.phases.authenticate[5].params.policy")), "{errors}");
}
