//! Web Bot Auth: agents that sign their requests (RFC 9421, Ed25519) and
//! publish their keys at `/.well-known/http-message-signatures-directory`.
//! A local axum server plays the agent's directory; the edge fetches it,
//! checks its signature, caches it, and verifies signed requests: the string
//! and the dictionary form of `Signature-Agent` (signed with the RFC 9421
//! test key, `tests/corpora/web-bot-auth/examples/rfc9421-keys/`), and
//! `@authority`-only signatures whose key the rules pin.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use edge::botauth::{directory_components, thumbprint, DirectoryResponse, SignedRequest, DIRECTORY_PATH, DIRECTORY_TAG, TAG};
use edge::request::RequestInfo;
use origin_sdk::base::Component;
use origin_sdk::sf::BareItem;
use origin_sdk::{EdgeAuthLayer, Signer, SigningKey};
use serde_json::{json, Value};

use crate::ensure;
use crate::harness::{start_origin, Edge, Report};

struct World {
    edge: Edge,
    http: reqwest::Client,
    key: SigningKey,
    agent: String,
    fetches: Arc<AtomicUsize>,
    /// A key the rules pin (agent registered out of band), and one they do not.
    pinned: SigningKey,
    stranger: SigningKey,
}

/// Where the pinned key's agent is known from; never fetched.
const PINNED_AGENT: &str = "https://pinned-agent.example";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The RFC 9421 test key (`test-key-ed25519`), vendored with the vectors.
fn rfc9421_seed() -> [u8; 32] {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/web-bot-auth/examples/rfc9421-keys/ed25519.json");
    let jwk: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("RFC 9421 test key")).expect("JWK");
    Base64UrlUnpadded::decode_vec(jwk["d"].as_str().expect("d")).expect("base64url").try_into().expect("32 bytes")
}

/// The agent's key (the RFC 9421 test key) with `keyid` = its RFC 7638 thumbprint, and its JWKS.
fn agent_key() -> (SigningKey, String) {
    key_and_jwks(&rfc9421_seed())
}

fn key_and_jwks(seed: &[u8; 32]) -> (SigningKey, String) {
    let k = SigningKey::ed25519_from_seed("", seed);
    let b64 = k.verifying_key().public_key_base64().expect("ed25519");
    let public: [u8; 32] = Base64::decode_vec(&b64).expect("base64").try_into().expect("32 bytes");
    let jwks = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": Base64UrlUnpadded::encode_string(&public) }] });
    (k.with_keyid(thumbprint(&public)), jwks.to_string())
}

/// The directory server: serves the JWKS signed for its own authority, counts fetches.
async fn start_directory(key: SigningKey, jwks: String, fetches: Arc<AtomicUsize>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind directory");
    let port = listener.local_addr().expect("addr").port();
    let authority = format!("127.0.0.1:{port}");
    let app = axum::Router::new().route(
        DIRECTORY_PATH,
        axum::routing::get(move || {
            let (key, jwks, authority) = (key.clone(), jwks.clone(), authority.clone());
            fetches.fetch_add(1, Ordering::SeqCst);
            async move {
                let none: Vec<(String, String)> = Vec::new();
                let signer = Signer::new(key).tag(Some(DIRECTORY_TAG)).label("sig1").components(directory_components()).validity(60);
                let params = signer.params(now(), "dir").expect("params");
                let h = signer.sign_params(&DirectoryResponse { authority: &authority, headers: &none }, &params).expect("sign");
                (
                    [
                        ("content-type", "application/http-message-signatures-directory+json".to_string()),
                        ("signature-input", h.signature_input),
                        ("signature", h.signature),
                    ],
                    jwks,
                )
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

fn rules(origin_port: u16, pinned_jwks: &str) -> Value {
    let pinned: Value = serde_json::from_str(pinned_jwks).unwrap_or_default();
    json!({
        "version": 1,
        "settings": { "default_origin": "app", "rules_ttl_seconds": 30 },
        "origins": { "app": { "url": format!("http://127.0.0.1:{origin_port}") } },
        "phases": {
            "filter": [
                { "id": "agents", "action": "web_bot_auth", "on_error": "open",
                  "params": { "ttl_seconds": 600, "cooldown_seconds": 30, "directories": { PINNED_AGENT: pinned } } },
                { "id": "signed-agents-welcome", "when": { "bot_classes": ["verified_signed_agent"] }, "action": "allow" },
                { "id": "no-tools", "when": { "bot_classes": ["http_library", "other_bot", "unknown", "empty"] }, "action": "block",
                  "params": { "message": "Automated clients are not allowed" } }
            ],
            "limit": [
                { "id": "per-agent", "when": { "paths": ["/limited/*"] }, "action": "block",
                  "params": { "key": ["agent"], "rate": 1, "period": 60, "burst": 1 } }
            ]
        }
    })
}

impl World {
    /// A request signed by the agent (`created` = now + `offset`), with `tamper`
    /// applied to the headers after signing.
    async fn signed_get(&self, path: &str, tamper: Option<(&str, &str)>) -> Result<(u16, Value), String> {
        let agent = format!("\"{}\"", self.agent);
        self.signed_with(&self.key, path, Some(&agent), &[Component::new("@authority"), Component::new("signature-agent")], tamper).await
    }

    /// The dictionary form: `Signature-Agent: agent2="…"`, covered as
    /// `"signature-agent";key="agent2"` (as Cloudflare's library signs).
    async fn dictionary_get(&self, path: &str, tamper: Option<(&str, &str)>) -> Result<(u16, Value), String> {
        let agent = format!("agent1=\"https://elsewhere.example\", agent2=\"{}\"", self.agent);
        let covered = Component::new("signature-agent").with_param("key", BareItem::String("agent2".into()));
        self.signed_with(&self.key, path, Some(&agent), &[Component::new("@authority"), covered], tamper).await
    }

    /// Signs `GET path` with `key` over `components`, sends it with
    /// `Signature-Agent: agent` (if any) and then applies `tamper`.
    async fn signed_with(&self, key: &SigningKey, path: &str, agent: Option<&str>, components: &[Component], tamper: Option<(&str, &str)>) -> Result<(u16, Value), String> {
        let authority = format!("127.0.0.1:{}", self.edge.port);
        let mut info = RequestInfo::from_url("GET", &self.edge.url(path))?;
        info.headers = vec![("host".into(), authority)];
        if let Some(a) = agent {
            info.headers.push(("signature-agent".into(), a.to_string()));
        }
        let signer = Signer::new(key.clone()).tag(Some(TAG)).label("sig1").components(components.iter().cloned()).validity(60);
        let h = signer.signature_headers(&SignedRequest::new(&info), now(), "n").map_err(|e| e.to_string())?;
        let mut headers = vec![
            ("user-agent".to_string(), "ExampleAgent/1.0 (+https://agent.example)".to_string()),
            ("signature-input".to_string(), h.signature_input),
            ("signature".to_string(), h.signature),
        ];
        if let Some(a) = agent {
            headers.push(("signature-agent".to_string(), a.to_string()));
        }
        if let Some((name, value)) = tamper {
            match headers.iter_mut().find(|(n, _)| n == name) {
                Some(h) => h.1 = value.to_string(),
                None => headers.push((name.to_string(), value.to_string())),
            }
        }
        self.get(path, &headers).await
    }

    async fn get(&self, path: &str, headers: &[(String, String)]) -> Result<(u16, Value), String> {
        let mut req = self
            .http
            .get(self.edge.url(path))
            .header("MF-CF-Blob", json!({ "country": "DE", "asn": 3320, "colo": "FRA", "clientAcceptEncoding": "" }).to_string())
            .header("CF-Connecting-IP", "198.51.100.20");
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }
}

async fn signed_agent_is_verified(w: &World) -> Result<(), String> {
    let (status, body) = w.signed_get("/catalog", None).await?;
    ensure!(status == 200, "signed agent: {status} {body}");
    ensure!(body["facts"]["bot_class"] == "verified_signed_agent", "bot class at origin: {}", body["facts"]);
    let log = w.edge.logs_since(0, &["verified http://127.0.0.1"]);
    ensure!(!log.is_empty(), "no verification record in the log");
    Ok(())
}

async fn changed_header_is_unverified(w: &World) -> Result<(), String> {
    // The agent origin changed after signing: the signature no longer matches,
    // and the ordinary bot rules see an unknown automated client.
    let (status, body) = w.signed_get("/catalog", Some(("signature-agent", "\"http://127.0.0.1:1\""))).await?;
    ensure!(status == 403 && body["rule"] == "no-tools", "tampered Signature-Agent: {status} {body}");
    let (status, body) = w.signed_get("/catalog", Some(("signature", "sig1=:AAAA:"))).await?;
    ensure!(status == 403 && body["rule"] == "no-tools", "forged signature: {status} {body}");
    // Without any signature the same client is just a tool.
    let (status, body) = w.get("/catalog", &[("user-agent".into(), "ExampleAgent/1.0 (+https://agent.example)".into())]).await?;
    ensure!(status == 403 && body["rule"] == "no-tools", "unsigned: {status} {body}");
    Ok(())
}

async fn dictionary_signature_agent_is_verified(w: &World) -> Result<(), String> {
    let (status, body) = w.dictionary_get("/catalog/dict", None).await?;
    ensure!(status == 200, "dictionary Signature-Agent: {status} {body}");
    ensure!(body["facts"]["bot_class"] == "verified_signed_agent", "bot class at origin: {}", body["facts"]);
    // The covered member pointed elsewhere after signing: unverified.
    let moved = "agent1=\"https://elsewhere.example\", agent2=\"http://127.0.0.1:1\"";
    let (status, body) = w.dictionary_get("/catalog/dict", Some(("signature-agent", moved))).await?;
    ensure!(status == 403 && body["rule"] == "no-tools", "tampered dictionary member: {status} {body}");
    // Only the other member changed: still the signed agent2, still verified
    // (the signature covers agent2 alone).
    let other = format!("agent1=\"https://changed.example\", agent2=\"{}\"", w.agent);
    let (status, body) = w.dictionary_get("/catalog/dict", Some(("signature-agent", &other))).await?;
    ensure!(status == 200 && body["facts"]["bot_class"] == "verified_signed_agent", "uncovered member changed: {status} {body}");
    Ok(())
}

async fn authority_only_signature_with_pinned_key(w: &World) -> Result<(), String> {
    let authority = [Component::new("@authority")];
    let (status, body) = w.signed_with(&w.pinned, "/catalog/pinned", None, &authority, None).await?;
    ensure!(status == 200 && body["facts"]["bot_class"] == "verified_signed_agent", "pinned keyid: {status} {body}");
    let log = w.edge.logs_since(0, &[&format!("verified {PINNED_AGENT}")]);
    ensure!(!log.is_empty(), "no verification of the pinned agent in the log");
    // The same signature by a key nobody pinned proves nothing.
    let (status, body) = w.signed_with(&w.stranger, "/catalog/pinned", None, &authority, None).await?;
    ensure!(status == 403 && body["rule"] == "no-tools", "unpinned keyid: {status} {body}");
    // A pinned key's signature on another host than it was made for.
    let (status, body) = w.signed_with(&w.pinned, "/catalog/pinned", None, &authority, Some(("host", "elsewhere.example"))).await?;
    ensure!(status == 403 && body["rule"] == "no-tools", "host changed: {status} {body}");
    Ok(())
}

async fn directory_is_cached(w: &World) -> Result<(), String> {
    let before = w.fetches.load(Ordering::SeqCst);
    for i in 0..8 {
        let (status, body) = w.signed_get(&format!("/many/{i}"), None).await?;
        ensure!(status == 200 && body["facts"]["bot_class"] == "verified_signed_agent", "request {i}: {status} {body}");
    }
    let after = w.fetches.load(Ordering::SeqCst);
    ensure!(after == before && after >= 1, "directory fetched {after} times in all ({before} before the 8 requests)");
    Ok(())
}

async fn rate_limited_by_agent(w: &World) -> Result<(), String> {
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(w.signed_get(&format!("/limited/{i}"), None).await?.0);
    }
    ensure!(statuses == [200, 200, 429], "per-agent limit: {statuses:?}");
    Ok(())
}

pub async fn run(report: &mut Report) {
    let origin_port = start_origin("app", EdgeAuthLayer::new).await;
    let (key, jwks) = agent_key();
    let (pinned, pinned_jwks) = key_and_jwks(&[0x5a; 32]);
    let (stranger, _) = key_and_jwks(&[0x33; 32]);
    let fetches = Arc::new(AtomicUsize::new(0));
    let dir_port = start_directory(key.clone(), jwks, fetches.clone()).await;
    let edge = Edge::start(&rules(origin_port, &pinned_jwks).to_string(), &format!("http://127.0.0.1:{origin_port}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    let w = World { edge, http, key, agent: format!("http://127.0.0.1:{dir_port}"), fetches, pinned, stranger };

    report.check("botauth::signed_agent_is_verified", signed_agent_is_verified(&w)).await;
    report.check("botauth::changed_header_is_unverified", changed_header_is_unverified(&w)).await;
    report.check("botauth::dictionary_signature_agent_is_verified", dictionary_signature_agent_is_verified(&w)).await;
    report.check("botauth::authority_only_signature_with_pinned_key", authority_only_signature_with_pinned_key(&w)).await;
    report.check("botauth::directory_is_cached", directory_is_cached(&w)).await;
    report.check("botauth::rate_limited_by_agent", rate_limited_by_agent(&w)).await;
}
