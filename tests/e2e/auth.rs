//! JWT validation at the edge: protected routes in front of the example
//! origin, tokens signed here with keys generated per run, a JWKS served by
//! a local server whose hits are counted.

use std::time::Duration;

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Rsa, RsaPrivateKey};
use jwt_compact::{Algorithm, AlgorithmSignature};
use origin_sdk::EdgeAuthLayer;
use rand_core::{OsRng, RngCore};
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

use crate::ensure;
use crate::harness::{free_port, start_origin, Edge, JwksServer, Report};

type EcKey = <Es256 as Algorithm>::SigningKey;
type EdKey = <Ed25519 as Algorithm>::SigningKey;

const SECRET_NAME: &str = "JWT_HS256_SECRET";
const ISS: &str = "https://id.test";
const AUD: &str = "edge-api";
/// Cooldown between JWKS refetches of the rotating route.
const COOLDOWN_S: u64 = 3;

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Signing keys for every algorithm, fresh per run.
struct Keys {
    hmac: String,
    rsa: RsaPrivateKey,
    ec: EcKey,
    ed: EdKey,
}

#[derive(Clone, Copy)]
enum Signer {
    Hs256,
    Rs256,
    Ps256,
    Es256,
    EdDsa,
}

impl Keys {
    fn generate() -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        Self {
            hmac: b64(&secret),
            rsa: RsaPrivateKey::new(&mut OsRng, 2048).expect("rsa keygen"),
            ec: EcKey::random(&mut OsRng),
            ed: EdKey::from_bytes(&seed),
        }
    }

    fn sign(&self, signer: Signer, input: &str) -> Vec<u8> {
        let m = input.as_bytes();
        match signer {
            Signer::Hs256 => Hs256.sign(&Hs256Key::new(self.hmac.as_bytes()), m).as_bytes().into_owned(),
            Signer::Rs256 => Rsa::rs256().sign(&self.rsa, m).as_bytes().into_owned(),
            Signer::Ps256 => Rsa::ps256().sign(&self.rsa, m).as_bytes().into_owned(),
            Signer::Es256 => Es256.sign(&self.ec, m).as_bytes().into_owned(),
            Signer::EdDsa => Ed25519.sign(&self.ed, m).as_bytes().into_owned(),
        }
    }

    /// The public keys as the rules' static JWKS (RSA once per algorithm:
    /// a key verifies exactly one).
    fn jwks(&self) -> Value {
        let rsa = self.rsa.to_public_key();
        let (n, e) = (b64(&rsa.n().to_bytes_be()), b64(&rsa.e().to_bytes_be()));
        let point = self.ec.verifying_key().to_encoded_point(false);
        json!({"keys": [
            {"kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig", "n": n, "e": e},
            {"kty": "RSA", "kid": "pss1", "alg": "PS256", "n": n, "e": e},
            {"kty": "EC", "kid": "ec1", "crv": "P-256", "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y"))},
            {"kty": "OKP", "kid": "ed1", "crv": "Ed25519", "x": b64(&self.ed.verifying_key().to_bytes())},
        ]})
    }
}

fn ed_jwk(kid: &str, key: &EdKey) -> Value {
    json!({"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(&key.verifying_key().to_bytes())})
}

fn kid_of(s: Signer) -> &'static str {
    match s {
        Signer::Hs256 => "hs1",
        Signer::Rs256 => "rsa1",
        Signer::Ps256 => "pss1",
        Signer::Es256 => "ec1",
        Signer::EdDsa => "ed1",
    }
}

fn alg_of(s: Signer) -> &'static str {
    match s {
        Signer::Hs256 => "HS256",
        Signer::Rs256 => "RS256",
        Signer::Ps256 => "PS256",
        Signer::Es256 => "ES256",
        Signer::EdDsa => "EdDSA",
    }
}

/// `header.payload` from raw JSON text (so tests can send what serde
/// would never produce).
fn input(header: &str, payload: &str) -> String {
    format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()))
}

fn claims(extra: Value) -> Value {
    let now = now_s();
    let mut c = json!({"sub": "user-42", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 600,
                       "scope": "orders:read profile", "tenant": "acme", "roles": ["buyer"], "email": "not@forwarded"});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

struct World {
    edge: Edge,
    http: reqwest::Client,
    keys: Keys,
    jwks: JwksServer,
    rot1: EdKey,
}

fn rules(origin_port: u16, jwks_port: u16, keys: &Keys, dead_port: u16) -> Value {
    let policy = json!({"issuers": [ISS], "audiences": [AUD],
                        "scopes": {"claim": "scope", "any_of": ["orders:read"]},
                        "forward": {"user_claim": "sub", "claims": ["tenant", "roles"]}});
    json!({
        "version": 1,
        "settings": {"default_origin": "app", "rules_ttl_seconds": 1},
        "origins": {"app": {"url": format!("http://127.0.0.1:{origin_port}")}},
        "phases": {"authenticate": [
            {"id": "api-public", "when": {"paths": ["/api/public/*"]}, "action": "skip"},
            {"id": "api-jwt", "when": {"paths": ["/api/*"]}, "action": "jwt", "params": {
                "realm": "api",
                "keys": {"jwks": keys.jwks(), "secrets": [{"secret": SECRET_NAME, "alg": "HS256", "kid": "hs1"}]},
                "policy": policy}},
            {"id": "rotating", "when": {"paths": ["/rotating/*"]}, "action": "jwt", "params": {
                "keys": {"jwks_url": format!("http://127.0.0.1:{jwks_port}/jwks.json"),
                         "jwks_ttl_s": 300, "jwks_refresh_cooldown_s": COOLDOWN_S},
                "policy": {"issuers": [ISS], "audiences": [AUD], "forward": {"claims": ["tenant"]}}}},
            {"id": "idp-down", "when": {"paths": ["/down/*"]}, "action": "jwt", "params": {
                "keys": {"jwks_url": format!("http://127.0.0.1:{dead_port}/jwks.json")}}},
            {"id": "idp-down-open", "when": {"paths": ["/down-open/*"]}, "action": "jwt", "on_error": "open", "params": {
                "keys": {"jwks_url": format!("http://127.0.0.1:{dead_port}/other.json")}}}
        ],
        "limit": [
            {"id": "per-user", "when": {"paths": ["/api/quota/*"]}, "action": "block",
             "params": {"key": ["claim:sub"], "rate": 2, "period": 60, "burst": 1}}
        ]}
    })
}

impl World {
    fn token(&self, s: Signer, c: &Value) -> String {
        let i = input(&json!({"alg": alg_of(s), "kid": kid_of(s), "typ": "JWT"}).to_string(), &c.to_string());
        format!("{i}.{}", b64(&self.keys.sign(s, &i)))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Result<(u16, String, Value), String> {
        let mut req = self
            .http
            .get(self.edge.url(path))
            .header("MF-CF-Blob", json!({"colo": "FRA", "country": "DE", "clientAcceptEncoding": ""}).to_string())
            .header("CF-Connecting-IP", "198.51.100.7");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let www = resp.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((status, www, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    /// Expects a refusal with an RFC 6750 challenge carrying `error`.
    async fn refused(&self, path: &str, token: &str, status: u16, error: &str) -> Result<(), String> {
        let (got, www, body) = self.get(path, Some(token)).await?;
        ensure!(got == status, "{path}: want {status}, got {got} {body}");
        ensure!(www.starts_with("Bearer ") && www.contains(&format!("error=\"{error}\"")), "challenge {www:?}");
        ensure!(www.contains("error_description="), "no error_description in {www:?}");
        Ok(())
    }
}

async fn each_algorithm_reaches_origin_with_facts(w: &World) -> Result<(), String> {
    for s in [Signer::Hs256, Signer::Rs256, Signer::Ps256, Signer::Es256, Signer::EdDsa] {
        let (status, _, body) = w.get("/api/orders", Some(&w.token(s, &claims(json!({}))))).await?;
        ensure!(status == 200, "{}: {status} {body}", alg_of(s));
        ensure!(body["facts"]["user"] == "user-42", "{}: user {}", alg_of(s), body["facts"]);
        ensure!(
            body["facts"]["claims"] == json!({"tenant": "acme", "roles": ["buyer"]}),
            "{}: claims {}",
            alg_of(s),
            body["facts"]
        );
    }
    Ok(())
}

async fn missing_token_and_exempt_route(w: &World) -> Result<(), String> {
    let (status, www, _) = w.get("/api/orders", None).await?;
    ensure!(status == 401 && www == r#"Bearer realm="api""#, "missing token: {status} {www:?}");
    let (status, _, body) = w.get("/api/public/info", None).await?;
    ensure!(status == 200 && body["facts"]["user"].is_null(), "skip route: {status} {body}");
    // The origin-sdk sees the trust headers stripped of anything a client sent.
    Ok(())
}

async fn missing_scope_is_403(w: &World) -> Result<(), String> {
    let t = w.token(Signer::EdDsa, &claims(json!({"scope": "profile"})));
    w.refused("/api/orders", &t, 403, "insufficient_scope").await
}

/// Each attack of the issue, end to end: 401 `invalid_token` (or
/// `invalid_request`/400 where the request itself is malformed).
async fn attacks_are_refused(w: &World) -> Result<(), String> {
    let k = &w.keys;
    let good = claims(json!({})).to_string();
    let signed = |header: &str, payload: &str, s: Signer| {
        let i = input(header, payload);
        format!("{i}.{}", b64(&k.sign(s, &i)))
    };
    let pem = k.rsa.to_public_key().to_public_key_pem(LineEnding::LF).map_err(|e| e.to_string())?;
    let hmac_with = |key: &[u8], header: &str| {
        let i = input(header, &good);
        format!("{i}.{}", b64(&Hs256.sign(&Hs256Key::new(key), i.as_bytes()).as_bytes()))
    };
    let ed = |header: Value| signed(&header.to_string(), &good, Signer::EdDsa);
    let es = k.sign(Signer::Es256, &input(r#"{"alg":"ES256","kid":"ec1"}"#, &good));
    let es_input = input(r#"{"alg":"ES256","kid":"ec1"}"#, &good);
    let p256_n = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    let n_bytes: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&p256_n[2 * i..2 * i + 2], 16).unwrap_or(0)).collect();
    let with_rs = |r: &[u8], s: &[u8]| format!("{es_input}.{}", b64(&[r, s].concat()));
    let now = now_s();
    let cases: Vec<(&str, String)> = vec![
        ("alg none", format!("{}.", input(r#"{"alg":"none"}"#, &good)) + "x"),
        ("alg None", format!("{}.x", input(r#"{"alg":"None","kid":"ed1"}"#, &good))),
        ("rsa public key as hs256 secret (kid)", hmac_with(pem.as_bytes(), r#"{"alg":"HS256","kid":"rsa1"}"#)),
        ("rsa public key as hs256 secret (no kid)", hmac_with(pem.as_bytes(), r#"{"alg":"HS256"}"#)),
        ("unknown crit", ed(json!({"alg": "EdDSA", "kid": "ed1", "crit": ["x-custom"], "x-custom": 1}))),
        ("kid path traversal", ed(json!({"alg": "EdDSA", "kid": "../../../../etc/passwd"}))),
        ("kid injection", ed(json!({"alg": "EdDSA", "kid": "ed1' OR '1'='1"}))),
        ("jku header", ed(json!({"alg": "EdDSA", "kid": "ed1", "jku": "https://evil.example/jwks"}))),
        ("x5u header", ed(json!({"alg": "EdDSA", "kid": "ed1", "x5u": "https://evil.example/cert"}))),
        ("jwk header", ed(json!({"alg": "EdDSA", "kid": "ed1", "jwk": ed_jwk("ed1", &k.ed)}))),
        ("token over 8 KB", w.token(Signer::EdDsa, &claims(json!({"pad": "a".repeat(9000)})))),
        ("expired", w.token(Signer::EdDsa, &claims(json!({"exp": now - 120})))),
        ("nbf in the future", w.token(Signer::EdDsa, &claims(json!({"nbf": now + 600})))),
        ("iat far in the future", w.token(Signer::EdDsa, &claims(json!({"iat": now + 3600, "exp": now + 7200})))),
        ("wrong aud", w.token(Signer::EdDsa, &claims(json!({"aud": "other-api"})))),
        ("wrong iss", w.token(Signer::EdDsa, &claims(json!({"iss": "https://evil.example"})))),
        ("malformed base64", format!("{}+/.{}", input(r#"{"alg":"EdDSA","kid":"ed1"}"#, &good), "AAAA")),
        ("payload not JSON", signed(r#"{"alg":"EdDSA","kid":"ed1"}"#, "not json", Signer::EdDsa)),
        ("duplicate header key", signed(r#"{"alg":"EdDSA","kid":"ed1","kid":"ed1"}"#, &good, Signer::EdDsa)),
        ("duplicate claim", signed(r#"{"alg":"EdDSA","kid":"ed1"}"#, &good.replacen('{', r#"{"sub":"admin","#, 1), Signer::EdDsa)),
        ("trailing JSON garbage", signed(r#"{"alg":"EdDSA","kid":"ed1"}"#, &format!("{good}x"), Signer::EdDsa)),
        ("trailing segment", format!("{}.extra", w.token(Signer::EdDsa, &claims(json!({}))))),
        ("tampered payload", {
            let t = w.token(Signer::EdDsa, &claims(json!({})));
            let parts: Vec<&str> = t.split('.').collect();
            format!("{}.{}.{}", parts[0], b64(claims(json!({"sub": "admin"})).to_string().as_bytes()), parts[2])
        }),
        ("es256 r = 0", with_rs(&[0; 32], &es[32..])),
        ("es256 s = 0", with_rs(&es[..32], &[0; 32])),
        ("es256 s = n", with_rs(&es[..32], &n_bytes)),
        ("es256 r = s = 0", with_rs(&[0; 32], &[0; 32])),
    ];
    let mut failures = Vec::new();
    for (name, token) in &cases {
        let (status, www, body) = w.get("/api/orders", Some(token)).await?;
        let ok = status == 401 && www.contains(r#"error="invalid_token""#);
        if !ok {
            failures.push(format!("{name}: {status} {www:?} {body}"));
        }
    }
    ensure!(failures.is_empty(), "{} of {} attacks not refused with 401:\n    {}", failures.len(), cases.len(), failures.join("\n    "));
    ensure!(w.jwks.hits() == 0, "static-key routes never fetch a JWKS");
    Ok(())
}

async fn log_says_why_without_the_token(w: &World) -> Result<(), String> {
    let from = w.edge.log_len();
    let t = w.token(Signer::EdDsa, &claims(json!({"exp": now_s() - 120})));
    w.refused("/api/orders", &t, 401, "invalid_token").await?;
    let sig = t.rsplit('.').next().unwrap_or_default().to_string();
    for _ in 0..50 {
        let lines = w.edge.logs_since(from, &["api-jwt", "token expired"]);
        if let Some(line) = lines.first() {
            ensure!(!line.contains(&sig) && !line.contains(&t[..30]), "token in log line: {line}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("no log line naming the rule and the reason".into())
}

/// Many requests, one fetch; a rotated key is picked up after one refetch; a
/// second unknown kid within the cooldown fails closed without a fetch.
async fn jwks_cached_and_rotated(w: &World) -> Result<(), String> {
    let c = claims(json!({}));
    let ed_token = |kid: &str, key: &EdKey| {
        let i = input(&json!({"alg": "EdDSA", "kid": kid}).to_string(), &c.to_string());
        format!("{i}.{}", b64(&Ed25519.sign(key, i.as_bytes()).as_bytes()))
    };
    let t1 = ed_token("rot1", &w.rot1);
    for i in 0..10 {
        let (status, _, body) = w.get("/rotating/x", Some(&t1)).await?;
        ensure!(status == 200 && body["facts"]["claims"] == json!({"tenant": "acme"}), "request {i}: {status} {body}");
    }
    ensure!(w.jwks.hits() == 1, "10 requests, {} JWKS fetches", w.jwks.hits());

    // Rotation, after the cooldown of the first fetch.
    tokio::time::sleep(Duration::from_millis(COOLDOWN_S * 1000 + 500)).await;
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let rot2 = EdKey::from_bytes(&seed);
    w.jwks.serve(&json!({"keys": [ed_jwk("rot1", &w.rot1), ed_jwk("rot2", &rot2)]}).to_string());
    let (status, _, body) = w.get("/rotating/x", Some(&ed_token("rot2", &rot2))).await?;
    ensure!(status == 200, "rotated key: {status} {body}");
    ensure!(w.jwks.hits() == 2, "rotated key: {} JWKS fetches, want 2", w.jwks.hits());
    let (status, _, _) = w.get("/rotating/x", Some(&t1)).await?;
    ensure!(status == 200 && w.jwks.hits() == 2, "old key still valid from cache: {status}, {} fetches", w.jwks.hits());

    // A second unknown kid within the cooldown: refused, no fetch.
    OsRng.fill_bytes(&mut seed);
    let rot3 = EdKey::from_bytes(&seed);
    w.jwks.serve(&json!({"keys": [ed_jwk("rot3", &rot3)]}).to_string());
    let (status, www, _) = w.get("/rotating/x", Some(&ed_token("rot3", &rot3))).await?;
    ensure!(status == 401 && www.contains("invalid_token"), "unknown kid within cooldown: {status} {www}");
    ensure!(w.jwks.hits() == 2, "unknown kid within cooldown fetched: {} fetches", w.jwks.hits());
    Ok(())
}

/// Keys that cannot be fetched: refused (503) unless the rule says
/// `on_error: open`, which lets the request through unauthenticated.
/// A limit keyed on `claim:sub` counts per verified user, not per address:
/// two users behind one IP have separate allowances.
async fn limit_keyed_on_verified_claim(w: &World) -> Result<(), String> {
    let alice = w.token(Signer::Hs256, &claims(json!({"sub": "alice"})));
    let bob = w.token(Signer::Hs256, &claims(json!({"sub": "bob"})));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(w.get("/api/quota/x", Some(&alice)).await?.0);
    }
    ensure!(statuses == [200, 200, 429], "alice: {statuses:?}");
    let (status, _, body) = w.get("/api/quota/x", Some(&bob)).await?;
    ensure!(status == 200, "bob shares alice's allowance: {status} {body}");
    // A token that fails verification is refused before the limit counts it.
    let last = if bob.ends_with('A') { "Q" } else { "A" };
    let forged = format!("{}{last}", &bob[..bob.len() - 1]);
    let (status, _, _) = w.get("/api/quota/x", Some(&forged)).await?;
    ensure!(status == 401, "forged token: {status}");
    let (status, _, _) = w.get("/api/quota/x", Some(&bob)).await?;
    ensure!(status == 200, "bob's second request (burst 1): {status}");
    Ok(())
}

async fn jwks_unreachable_fails_closed(w: &World) -> Result<(), String> {
    let t = w.token(Signer::EdDsa, &claims(json!({})));
    let (status, _, body) = w.get("/down/x", Some(&t)).await?;
    ensure!(status == 503 && body["rule"] == "idp-down", "closed: {status} {body}");
    let (status, _, body) = w.get("/down-open/x", Some(&t)).await?;
    ensure!(status == 200 && body["facts"]["user"].is_null(), "open: {status} {body}");
    Ok(())
}

pub async fn run(report: &mut Report) {
    let keys = Keys::generate();
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let rot1 = EdKey::from_bytes(&seed);
    let (jwks, jwks_port) = JwksServer::start(&json!({"keys": [ed_jwk("rot1", &rot1)]}).to_string()).await;
    let origin_port = start_origin("app", EdgeAuthLayer::new).await;
    let rules = rules(origin_port, jwks_port, &keys, free_port());
    let secrets = [(SECRET_NAME, keys.hmac.as_str())];
    let edge = Edge::start_with_secrets(&rules.to_string(), &format!("http://127.0.0.1:{origin_port}"), &secrets);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    let w = World { edge, http, keys, jwks, rot1 };

    report.check("auth_each_algorithm_reaches_origin_with_facts", each_algorithm_reaches_origin_with_facts(&w)).await;
    report.check("auth_missing_token_and_exempt_route", missing_token_and_exempt_route(&w)).await;
    report.check("auth_missing_scope_is_403", missing_scope_is_403(&w)).await;
    report.check("auth_attacks_are_refused", attacks_are_refused(&w)).await;
    report.check("auth_log_says_why_without_the_token", log_says_why_without_the_token(&w)).await;
    report.check("auth_jwks_cached_and_rotated", jwks_cached_and_rotated(&w)).await;
    report.check("auth_jwks_unreachable_fails_closed", jwks_unreachable_fails_closed(&w)).await;
    report.check("auth_limit_keyed_on_verified_claim", limit_keyed_on_verified_claim(&w)).await;
}
