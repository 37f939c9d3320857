//! Faults end to end: broken origins (garbage bytes, a huge body, a stall
//! mid-body), broken rules in KV (not JSON, 10 MB), a JWKS endpoint serving
//! junk, and an origin whose clock is off. Each ends in a defined status and a
//! log line, never a hang (every client call is bounded) and never a worker
//! exception.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::Ed25519;
use jwt_compact::{Algorithm, AlgorithmSignature};
use origin_sdk::{EdgeAuthLayer, KeySet, Verifier};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::ensure;
use crate::harness::{dev_keys, start_origin, Edge, JwksServer, Report};

type EdKey = <Ed25519 as Algorithm>::SigningKey;

const HUGE_BYTES: usize = 50 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;
const ISS: &str = "https://id.test";
const AUD: &str = "edge-api";
/// Short, so the test can wait out a JWKS refetch cooldown.
const COOLDOWN_S: u64 = 2;

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn b64(b: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(b)
}

/// An "origin" that is not HTTP: it writes junk bytes and closes.
async fn start_garbage_origin() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind garbage origin");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = sock.write_all(b"\x00\xffSSH-2.0-not-http\r\n\x16\x03\x01garbage\r\n\r\n").await;
                let _ = sock.shutdown().await;
            });
        }
    });
    port
}

/// Verifies the edge's signature, then streams: `/huge/*` 50 MB in 64 KiB
/// chunks; `/stall/*` one chunk, a pause past the pool timeout, then a broken
/// connection (the stream errors, so hyper drops it mid-body).
async fn start_streaming_origin() -> u16 {
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let app = axum::Router::new()
        .route(
            "/huge/{*rest}",
            axum::routing::get(|| async {
                let chunks = futures_util::stream::iter((0..HUGE_BYTES / CHUNK).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; CHUNK]))));
                ([("content-type", "application/octet-stream")], Body::from_stream(chunks))
            }),
        )
        .route(
            "/stall/{*rest}",
            axum::routing::get(|| async {
                let chunks = futures_util::stream::unfold(0u8, |step| async move {
                    match step {
                        0 => Some((Ok(Bytes::from_static(b"first part;")), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            Some((Err(std::io::Error::other("origin gave up mid-body")), 2))
                        }
                        _ => None,
                    }
                });
                ([("content-type", "text/plain")], Body::from_stream(chunks))
            }),
        )
        .layer(EdgeAuthLayer::new(Verifier::new(keys)));
    crate::harness::serve(app).await
}

struct Ports {
    app: u16,
    garbage: u16,
    streaming: u16,
    jwks: u16,
    /// Origins whose clocks are off by the given seconds.
    skewed: Vec<(i64, u16)>,
}

const SKEWS: [i64; 4] = [-5, 5, -60, 120];

fn skew_name(s: i64) -> String {
    if s < 0 { format!("behind{}", -s) } else { format!("ahead{s}") }
}

fn rules(p: &Ports) -> Value {
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    let mut origins = json!({
        "app": { "url": url(p.app) },
        "garbage": { "url": url(p.garbage), "timeout_ms": 2000 },
        "streaming": { "url": url(p.streaming), "timeout_ms": 1000 }
    });
    let mut route = vec![
        json!({ "id": "garbage", "when": { "paths": ["/garbage/*"] }, "action": "origin", "params": { "origin": "garbage" } }),
        json!({ "id": "streaming", "when": { "paths": ["/huge/*", "/stall/*"] }, "action": "origin", "params": { "origin": "streaming" } }),
    ];
    for (skew, port) in &p.skewed {
        let name = skew_name(*skew);
        origins[&name] = json!({ "url": url(*port) });
        route.push(json!({ "id": name, "when": { "paths": [format!("/{name}/*")] }, "action": "origin", "params": { "origin": name } }));
    }
    json!({
        "version": 1,
        "settings": { "rules_ttl_seconds": 1, "default_origin": "app", "signature_validity_seconds": 60 },
        "origins": origins,
        "phases": {
            "filter": [
                // Marks this document: a replacement without it would open /marked.
                { "id": "marker", "when": { "paths": ["/marked"] }, "action": "block", "params": { "status": 451 } }
            ],
            "authenticate": [
                { "id": "idp", "when": { "paths": ["/idp/*"] }, "action": "jwt", "params": {
                    "keys": { "jwks_url": format!("http://127.0.0.1:{}/jwks.json", p.jwks),
                              "jwks_ttl_s": 300, "jwks_refresh_cooldown_s": COOLDOWN_S },
                    "policy": { "issuers": [ISS], "audiences": [AUD] } } }
            ],
            "route": route
        }
    })
}

struct World {
    edge: Edge,
    http: reqwest::Client,
    rules: Value,
    jwks: JwksServer,
    known: EdKey,
}

impl World {
    async fn get(&self, path: &str, bearer: Option<&str>) -> Result<(u16, String), String> {
        let mut req = self
            .http
            .get(self.edge.url(path))
            .header("MF-CF-Blob", json!({"colo": "FRA", "country": "DE", "clientAcceptEncoding": ""}).to_string())
            .header("CF-Connecting-IP", "198.51.100.7");
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.map_err(|e| format!("GET {path} body: {e}"))?))
    }

    /// Waits briefly for the worker's log line, which is written after the response.
    async fn log_line(&self, from: usize, needles: &[&str]) -> Result<String, String> {
        for _ in 0..20 {
            if let Some(l) = self.edge.logs_since(from, needles).into_iter().next() {
                return Ok(l);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("no log line with {needles:?}"))
    }

    /// A worker exception is a bug whatever the input: none may appear.
    fn no_exceptions(&self, from: usize) -> Result<(), String> {
        let bad: Vec<String> = self
            .edge
            .logs()
            .into_iter()
            .skip(from)
            .filter(|l| l.contains("Uncaught") || l.to_lowercase().contains("exception") || l.contains("panicked"))
            .collect();
        ensure!(bad.is_empty(), "worker exceptions: {bad:?}");
        Ok(())
    }

    fn token(&self, kid: &str, key: &EdKey) -> String {
        let now = now_s();
        let header = json!({"alg": "EdDSA", "kid": kid}).to_string();
        let claims = json!({"sub": "user-1", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 600}).to_string();
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let sig = Ed25519.sign(key, input.as_bytes());
        format!("{input}.{}", b64(&sig.as_bytes()))
    }
}

fn ed_key() -> EdKey {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    EdKey::from_bytes(&seed)
}

fn jwks_of(kid: &str, key: &EdKey) -> String {
    json!({"keys": [{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(&key.verifying_key().to_bytes())}]}).to_string()
}

async fn garbage_origin_is_502(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let started = Instant::now();
    let (status, body) = w.get("/garbage/x", None).await?;
    ensure!(status == 502 && body.contains("origin unavailable"), "garbage origin: {status} {body}");
    ensure!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    w.log_line(mark, &["\"msg\":\"origin_exhausted\"", "\"origin\":\"garbage\""]).await?;
    w.no_exceptions(mark)
}

async fn huge_body_streams_through(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let started = Instant::now();
    let mut resp = w.http.get(w.edge.url("/huge/file")).header("MF-CF-Blob", json!({"colo": "FRA", "clientAcceptEncoding": ""}).to_string())
        .send().await.map_err(|e| format!("huge: {e}"))?;
    ensure!(resp.status() == 200, "huge: {}", resp.status());
    let mut total = 0usize;
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("huge body after {total} bytes: {e}"))? {
        ensure!(chunk.iter().all(|&b| b == b'x'), "corrupted bytes after {total}");
        total += chunk.len();
    }
    ensure!(total == HUGE_BYTES, "streamed {total} of {HUGE_BYTES} bytes");
    println!("    50 MB through the edge in {:?}", started.elapsed());
    w.log_line(mark, &["\"msg\":\"request\"", "/huge/file", "\"status\":200"]).await?;
    // The worker still serves afterwards.
    let (status, _) = w.get("/ok", None).await?;
    ensure!(status == 200, "after the huge body: {status}");
    w.no_exceptions(mark)
}

async fn stall_mid_body_ends_not_hangs(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let started = Instant::now();
    let mut resp = w.http.get(w.edge.url("/stall/x")).header("MF-CF-Blob", json!({"colo": "FRA", "clientAcceptEncoding": ""}).to_string())
        .send().await.map_err(|e| format!("stall: {e}"))?;
    // Headers came before the timeout; the stall is past it (pool timeout
    // bounds the wait for headers, the body then streams as it comes).
    ensure!(resp.status() == 200, "stall: {}", resp.status());
    let mut got = Vec::new();
    let end = loop {
        match resp.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => break "end",
            Err(_) => break "error",
        }
    };
    let took = started.elapsed();
    // The origin broke the connection: the client sees a truncated body (an
    // error, or an early end), promptly, never the rest of a body or a hang.
    ensure!(got.starts_with(b"first part;") || got.is_empty(), "unexpected body {:?}", String::from_utf8_lossy(&got));
    ensure!(took < Duration::from_secs(15), "stalled body took {took:?}");
    println!("    stalled body: {} bytes then {end} after {took:?}", got.len());
    w.log_line(mark, &["\"msg\":\"request\"", "/stall/x"]).await?;
    let (status, _) = w.get("/ok", None).await?;
    ensure!(status == 200, "after the stall: {status}");
    w.no_exceptions(mark)
}

/// Puts `doc` into KV, waits past the TTL, and expects the marked document
/// still in force plus a `rules_rejected` line containing `why`.
async fn rejected_keeps_last_good(w: &World, doc: &str, why: &str) -> Result<(), String> {
    let mark = w.edge.log_len();
    w.edge.put_rules(doc);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = w.get("/marked", None).await?;
    ensure!(status == 451, "last good document not in force: {status} {body}");
    let (status, _) = w.get("/ok", None).await?;
    ensure!(status == 200, "edge stopped serving: {status}");
    w.log_line(mark, &["\"msg\":\"rules_rejected\"", why]).await?;
    w.no_exceptions(mark)
}

async fn kv_not_json_keeps_last_good(w: &World) -> Result<(), String> {
    let result = rejected_keeps_last_good(w, "{\"version\": 1, \"phases\": {\"filter\": [ this is not json", "last_good").await;
    w.edge.put_rules(&w.rules.to_string());
    result
}

async fn kv_10mb_keeps_last_good(w: &World) -> Result<(), String> {
    let mut huge = w.rules.clone();
    huge["phases"]["filter"] = json!([]); // would open /marked if applied
    huge["padding"] = json!("y".repeat(10 * 1024 * 1024));
    let result = rejected_keeps_last_good(w, &huge.to_string(), "limit").await;
    w.edge.put_rules(&w.rules.to_string());
    result
}

/// Keys fetched earlier keep working when the JWKS endpoint turns to junk;
/// a token naming a kid nobody has seen fails closed.
async fn jwks_junk_keeps_cached_keys(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let known = w.token("k1", &w.known);
    let (status, body) = w.get("/idp/a", Some(&known)).await?;
    ensure!(status == 200, "known key before junk: {status} {body}");
    w.jwks.serve("<html>502 Bad Gateway</html>\u{0}\u{fffd}");
    tokio::time::sleep(Duration::from_millis(COOLDOWN_S * 1000 + 500)).await;
    // An unknown kid forces a refetch, which yields junk: the failed fetch
    // keeps the cached keys, which lack the kid, so 401 (not 503: keys exist).
    let stranger = w.token("k2", &ed_key());
    let (status, body) = w.get("/idp/b", Some(&stranger)).await?;
    ensure!(status == 401, "unknown kid with a junk JWKS: {status} {body}");
    w.log_line(mark, &["\"msg\":\"request\"", "/idp/b", "\"rule\":\"idp\"", "UnknownKid"]).await?;
    // The cached key still verifies.
    let (status, body) = w.get("/idp/c", Some(&known)).await?;
    ensure!(status == 200, "known key after junk: {status} {body}");
    w.no_exceptions(mark)
}

async fn origin_clock_skew(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    for (skew, want, text) in [(-5, 200, ""), (5, 200, ""), (-60, 401, "in the future"), (120, 401, "expired")] {
        let path = format!("/{}/x", skew_name(skew));
        let (status, body) = w.get(&path, None).await?;
        ensure!(status == want && body.contains(text), "origin clock {skew:+} s: {status} {body}");
        w.log_line(mark, &["\"msg\":\"request\"", &path, &format!("\"status\":{want}")]).await?;
    }
    w.no_exceptions(mark)
}

/// wrangler.toml without the Durable Object binding: the global counter store
/// is unavailable, as during a Durable Objects outage.
fn config_without_limiter() -> std::path::PathBuf {
    let text = std::fs::read_to_string(crate::harness::repo_root().join("wrangler.toml")).expect("wrangler.toml");
    let mut out = String::new();
    let mut skip = false;
    for line in text.lines() {
        if line.starts_with("[[") || line.starts_with('[') {
            skip = line == "[[durable_objects.bindings]]" || line == "[[migrations]]";
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    // The config lives in target/: paths are relative to it.
    let out = out
        .replace("main = \"edge/build/worker/shim.mjs\"", "main = \"../edge/build/worker/shim.mjs\"")
        .replace("watch_dir = [\"edge/src\", \"origin-sdk/src\"]", "watch_dir = [\"../edge/src\"]");
    let path = crate::harness::repo_root().join("target/e2e-no-limiter.wrangler.toml");
    std::fs::write(&path, out).expect("write config");
    path
}

/// With the Durable Object store gone, `global` limits follow `on_error`:
/// `open` lets requests through, `closed` refuses them; both are logged.
async fn limit_store_unavailable_follows_on_error(app: u16, http: &reqwest::Client) -> Result<(), String> {
    let rules = json!({
        "version": 1,
        "settings": { "default_origin": "app", "rules_ttl_seconds": 1 },
        "origins": { "app": { "url": format!("http://127.0.0.1:{app}") } },
        "phases": { "limit": [
            { "id": "open-limit", "when": { "paths": ["/open/*"] }, "action": "block",
              "params": { "key": ["ip"], "rate": 100, "period": 60, "store": "global" } },
            { "id": "closed-limit", "when": { "paths": ["/closed/*"] }, "action": "block", "on_error": "closed",
              "params": { "key": ["ip"], "rate": 100, "period": 60, "store": "global" } }
        ] }
    });
    let config = config_without_limiter();
    let edge = Edge::start_with_config(&rules.to_string(), &format!("http://127.0.0.1:{app}"), &[], Some(&config));
    let get = |path: &str| {
        http.get(edge.url(path))
            .header("MF-CF-Blob", json!({"colo": "FRA", "clientAcceptEncoding": ""}).to_string())
            .header("CF-Connecting-IP", "198.51.100.7")
            .send()
    };
    let open = get("/open/x").await.map_err(|e| e.to_string())?.status().as_u16();
    let closed = get("/closed/x").await.map_err(|e| e.to_string())?.status().as_u16();
    ensure!(open == 200, "on_error open with the store down: {open}");
    ensure!(closed == 503, "on_error closed with the store down: {closed}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let logged = edge.logs_since(0, &["limit_store_error"]);
    ensure!(logged.len() >= 2, "store errors not logged: {logged:?}");
    ensure!(!edge.logs().iter().any(|l| l.contains("Uncaught") || l.contains("panicked")), "worker exception in the log");
    Ok(())
}

pub async fn run(report: &mut Report) {
    let app = start_origin("app", EdgeAuthLayer::new).await;
    let garbage = start_garbage_origin().await;
    let streaming = start_streaming_origin().await;
    let known = ed_key();
    let (jwks_server, jwks) = JwksServer::start(&jwks_of("k1", &known)).await;
    let mut skewed = Vec::new();
    for skew in SKEWS {
        let clock = move || now_s().saturating_add_signed(skew);
        skewed.push((skew, start_origin(&skew_name(skew), move |v| EdgeAuthLayer::new(v).clock(clock)).await));
    }
    let ports = Ports { app, garbage, streaming, jwks, skewed };
    let rules = rules(&ports);
    let edge = Edge::start(&rules.to_string(), &format!("http://127.0.0.1:{app}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("http client");
    let w = World { edge, http, rules, jwks: jwks_server, known };

    report.check("faults_garbage_origin_is_502", garbage_origin_is_502(&w)).await;
    report.check("faults_huge_body_streams_through", huge_body_streams_through(&w)).await;
    report.check("faults_stall_mid_body_ends_not_hangs", stall_mid_body_ends_not_hangs(&w)).await;
    report.check("faults_kv_not_json_keeps_last_good", kv_not_json_keeps_last_good(&w)).await;
    report.check("faults_kv_10mb_keeps_last_good", kv_10mb_keeps_last_good(&w)).await;
    report.check("faults_jwks_junk_keeps_cached_keys", jwks_junk_keeps_cached_keys(&w)).await;
    report.check("faults_origin_clock_skew", origin_clock_skew(&w)).await;
    let http = w.http.clone();
    drop(w);
    report.check("faults_limit_store_unavailable_follows_on_error", limit_store_unavailable_follows_on_error(app, &http)).await;
}
