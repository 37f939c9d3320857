//! Delivery duties of the nginx tier: HTTPS redirect, security headers, CORS,
//! geo routing over origin pools with failover and passive health, caching,
//! WebSocket and server-sent-event pass-through.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use origin_sdk::{EdgeAuthLayer, KeySet, Verifier};
use reqwest::Method;
use serde_json::{json, Value};

use crate::ensure;
use crate::harness::{dev_keys, free_port, start_origin, Edge, Report};

struct World {
    edge: Edge,
    http: reqwest::Client,
    /// Requests that reached the always-503 test double.
    failing_hits: Arc<AtomicUsize>,
    sse: SseGate,
}

/// Holds the SSE origin's second event until the test has seen the first.
#[derive(Clone, Default)]
struct SseGate {
    release: Arc<tokio::sync::Notify>,
    last_sent: Arc<std::sync::atomic::AtomicBool>,
}

const PURGE_TOKEN: &str = "purge-test-token-0123456789";

fn cf_blob(country: &str, colo: &str) -> String {
    json!({ "country": country, "colo": colo, "continent": "EU", "clientAcceptEncoding": "" }).to_string()
}

/// An origin that verifies the edge's signature and answers with the kind of
/// headers an application sets on its own (some the edge must override).
async fn start_noisy_origin() -> u16 {
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let app = axum::Router::new()
        .fallback(|| async {
            let mut h = HeaderMap::new();
            for (n, v) in [
                ("x-frame-options", "SAMEORIGIN"),
                ("content-security-policy", "default-src *"),
                ("permissions-policy", "camera=(self)"),
                ("x-added", "origin"),
                ("access-control-allow-origin", "*"),
            ] {
                h.insert(n, HeaderValue::from_static(v));
            }
            (h, "noisy")
        })
        .layer(EdgeAuthLayer::new(Verifier::new(keys)));
    crate::harness::serve(app).await
}

/// A test double for a broken origin: it verifies the edge's signature (so it
/// counts only what the edge sent), counts the hit, and answers 503.
async fn start_failing_origin(hits: Arc<AtomicUsize>) -> u16 {
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let app = axum::Router::new()
        .fallback(move || {
            let hits = hits.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down for maintenance")
            }
        })
        .layer(EdgeAuthLayer::new(Verifier::new(keys)));
    crate::harness::serve(app).await
}

/// A test double for an overloaded origin: verifies, then answers after 5 s.
async fn start_slow_origin() -> u16 {
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let app = axum::Router::new()
        .fallback(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        })
        .layer(EdgeAuthLayer::new(Verifier::new(keys)));
    crate::harness::serve(app).await
}

/// An origin for cache checks: verifies the edge's signature, numbers each
/// response it makes (so a cached copy is recognisable), and sends
/// `Set-Cookie` or `Cache-Control: private` where the path asks for it.
async fn start_counting_origin() -> u16 {
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let made = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .fallback(move |uri: axum::http::Uri| {
            let n = made.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                let mut h = HeaderMap::new();
                if uri.path().contains("/cookie") {
                    h.insert("set-cookie", HeaderValue::from_static("sessionid=abc; HttpOnly"));
                }
                if uri.path().contains("/private") {
                    h.insert("cache-control", HeaderValue::from_static("private, max-age=600"));
                }
                (h, format!("response {n} for {uri}"))
            }
        })
        .layer(EdgeAuthLayer::new(Verifier::new(keys)));
    crate::harness::serve(app).await
}

/// An origin that streams (SSE at `/stream/sse`, WebSocket echo at
/// `/stream/ws`), verifying the edge's signature like the real one.
async fn start_streaming_origin(gate: SseGate) -> u16 {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let app = axum::Router::new()
        .route(
            "/stream/sse",
            axum::routing::get(move || {
                let gate = gate.clone();
                async move {
                    let events = futures_util::stream::unfold(0u8, move |step| {
                        let gate = gate.clone();
                        async move {
                            let chunk = match step {
                                0 => "data: one\n\n",
                                1 => {
                                    let _ = tokio::time::timeout(Duration::from_secs(10), gate.release.notified()).await;
                                    gate.last_sent.store(true, Ordering::SeqCst);
                                    "data: two\n\n"
                                }
                                _ => return None,
                            };
                            Some((Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(chunk)), step + 1))
                        }
                    });
                    ([("content-type", "text/event-stream"), ("cache-control", "no-cache")], axum::body::Body::from_stream(events))
                }
            }),
        )
        .route(
            "/stream/ws",
            axum::routing::get(|up: WebSocketUpgrade| async move {
                up.on_upgrade(|mut socket| async move {
                    while let Some(Ok(msg)) = socket.recv().await {
                        if let Message::Text(t) = msg {
                            if socket.send(Message::Text(format!("echo: {}", t.as_str()).into())).await.is_err() {
                                break;
                            }
                        }
                    }
                })
            }),
        )
        .layer(EdgeAuthLayer::new(Verifier::new(keys)));
    crate::harness::serve(app).await
}

struct Ports {
    app: u16,
    noisy: u16,
    eu: u16,
    us: u16,
    by: u16,
    failing: u16,
    slow: u16,
    counting: u16,
    streaming: u16,
}

fn rules(p: &Ports) -> Value {
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    // Nothing listens on these: connection refused.
    let (closed_a, closed_b) = (free_port(), free_port());
    json!({
        "version": 1,
        "settings": { "rules_ttl_seconds": 1, "default_origin": "app" },
        "origins": {
            "app": { "url": url(p.app) },
            "noisy": { "url": url(p.noisy) },
            "eu": { "url": url(p.eu) },
            "us": { "url": url(p.us) },
            "by": { "url": url(p.by) },
            "flaky": { "servers": [ { "url": url(closed_a), "weight": 100 }, { "url": url(p.app) } ] },
            "skippy": { "servers": [ { "url": url(p.failing), "weight": 100 }, { "url": url(p.app) } ],
                        "max_fails": 2, "fail_timeout_seconds": 120 },
            "dead": { "servers": [ { "url": url(closed_a) }, { "url": url(closed_b) } ] },
            "slow": { "url": url(p.slow), "timeout_ms": 500 },
            "counting": { "url": url(p.counting) },
            "streaming": { "url": url(p.streaming) }
        },
        "phases": {
            "filter": [
                // wrangler dev only speaks plain HTTP: the redirect is scoped by a header.
                { "id": "to-https", "when": { "headers": { "x-test-redirect": [] } }, "action": "https_redirect" }
            ],
            "cache": [
                { "id": "purge", "when": { "paths": ["/__edge/purge"] }, "action": "purge" },
                { "id": "cache-static", "when": { "paths": ["/cache/*"] }, "action": "cache",
                  "params": { "ttl_seconds": 2, "query": { "exclude": ["utm_*"] } } },
                { "id": "cache-swr", "when": { "paths": ["/swr/*"] }, "action": "cache",
                  "params": { "ttl_seconds": 1, "stale_while_revalidate_seconds": 30 } }
            ],
            "route": [
                { "id": "streaming", "when": { "paths": ["/stream/*"] }, "action": "origin", "params": { "origin": "streaming" } },
                { "id": "counting", "when": { "paths": ["/cache/*", "/swr/*"] }, "action": "origin", "params": { "origin": "counting" } },
                { "id": "noisy", "when": { "paths": ["/noisy/*", "/api/*"] }, "action": "origin", "params": { "origin": "noisy" } },
                { "id": "geo-bavaria", "when": { "paths": ["/geo/*"], "regions": ["BY"] }, "action": "origin", "params": { "origin": "by" } },
                { "id": "geo-dach", "when": { "paths": ["/geo/*"], "countries": ["DE", "AT", "CH"] }, "action": "origin", "params": { "origin": "eu" } },
                { "id": "geo-na", "when": { "paths": ["/geo/*"], "continents": ["NA"] }, "action": "origin", "params": { "origin": "us" } },
                { "id": "flaky", "when": { "paths": ["/flaky/*"] }, "action": "origin", "params": { "origin": "flaky" } },
                { "id": "skippy", "when": { "paths": ["/skippy/*"] }, "action": "origin", "params": { "origin": "skippy" } },
                { "id": "dead", "when": { "paths": ["/dead/*"] }, "action": "origin", "params": { "origin": "dead" } },
                { "id": "slow", "when": { "paths": ["/slow/*"] }, "action": "origin", "params": { "origin": "slow" } }
            ],
            "respond": [
                { "id": "site-security", "action": "security_headers", "params": {
                    "hsts": { "max_age": 31536000, "include_subdomains": true },
                    "content_security_policy": "default-src 'self'",
                    "frame_options": "DENY",
                    "content_type_options": true,
                    "referrer_policy": "strict-origin-when-cross-origin",
                    "cross_origin_opener_policy": "same-origin" } },
                { "id": "noisy-keeps-some", "when": { "paths": ["/noisy/*"] }, "action": "security_headers", "params": {
                    "override": false, "permissions_policy": "camera=()", "cross_origin_resource_policy": "same-site",
                    "content_security_policy": false } },
                { "id": "noisy-add", "when": { "paths": ["/noisy/*"] }, "action": "headers", "params": {
                    "add": { "x-added": "edge", "x-only-edge": "edge" } } },
                { "id": "api-cors", "when": { "paths": ["/api/*"] }, "action": "cors", "params": {
                    "allow_origins": ["https://app.example.com", "https://*.example.org"],
                    "allow_methods": ["GET", "PUT"], "allow_headers": ["content-type"],
                    "allow_credentials": true, "max_age": 300 } }
            ]
        }
    })
}

type Resp = (u16, reqwest::header::HeaderMap, String);

impl World {
    async fn send(&self, method: Method, path: &str, extra: &[(&str, &str)]) -> Result<Resp, String> {
        let mut req = self.http.request(method.clone(), self.edge.url(path)).header("CF-Connecting-IP", "198.51.100.7");
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("MF-CF-Blob")) {
            req = req.header("MF-CF-Blob", cf_blob("DE", "FRA"));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Ok((status, headers, resp.text().await.map_err(|e| e.to_string())?))
    }

    async fn get(&self, path: &str, extra: &[(&str, &str)]) -> Result<Resp, String> {
        self.send(Method::GET, path, extra).await
    }
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn https_redirect_with_acme_exception(w: &World) -> Result<(), String> {
    let (status, h, body) = w.get("/page/a?x=1&y=2", &[("x-test-redirect", "1")]).await?;
    ensure!(status == 301, "plain HTTP: {status} {body}");
    let location = header(&h, "location").unwrap_or_default();
    ensure!(location.starts_with("https://") && location.ends_with("/page/a?x=1&y=2"), "location {location}");
    ensure!(!location.contains(":8") && !location.contains(&w.edge.port.to_string()), "HTTP port kept: {location}");
    ensure!(header(&h, "strict-transport-security").is_some(), "edge-made redirect lacks security headers: {h:?}");
    let (status, _, body) = w.get("/.well-known/acme-challenge/token123", &[("x-test-redirect", "1")]).await?;
    ensure!(status == 200 && body.contains("\"origin\":\"app\""), "ACME challenge not forwarded: {status} {body}");
    let (status, _, _) = w.get("/page/a", &[]).await?;
    ensure!(status == 200, "rule out of scope still redirected: {status}");
    Ok(())
}

async fn security_headers_rendered_and_overridden(w: &World) -> Result<(), String> {
    let (status, h, _) = w.get("/hello", &[]).await?;
    ensure!(status == 200, "status {status}");
    for (n, v) in [
        ("strict-transport-security", "max-age=31536000; includeSubDomains"),
        ("content-security-policy", "default-src 'self'"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        ensure!(header(&h, n) == Some(v), "{n}: {:?}", header(&h, n));
    }
    let (status, h, body) = w.get("/noisy/page", &[]).await?;
    ensure!(status == 200 && body == "noisy", "noisy origin: {status} {body}");
    ensure!(header(&h, "x-frame-options") == Some("DENY"), "origin's SAMEORIGIN not overridden: {h:?}");
    ensure!(header(&h, "content-security-policy").is_none(), "CSP not removed: {h:?}");
    ensure!(header(&h, "permissions-policy") == Some("camera=(self)"), "add-only replaced the origin's value: {h:?}");
    ensure!(header(&h, "cross-origin-resource-policy") == Some("same-site"), "add-only did not add: {h:?}");
    ensure!(header(&h, "x-added") == Some("origin") && header(&h, "x-only-edge") == Some("edge"), "headers.add: {h:?}");
    Ok(())
}

async fn cors_allowed_denied_preflight(w: &World) -> Result<(), String> {
    // Allowed: the origin is echoed with credentials, whatever the server sent.
    let (status, h, _) = w.get("/api/items", &[("origin", "https://app.example.com")]).await?;
    ensure!(status == 200, "status {status}");
    ensure!(header(&h, "access-control-allow-origin") == Some("https://app.example.com"), "ACAO: {h:?}");
    ensure!(header(&h, "access-control-allow-credentials") == Some("true"), "ACAC: {h:?}");
    ensure!(header(&h, "vary").is_some_and(|v| v.contains("Origin")), "Vary: {h:?}");
    let (_, h, _) = w.get("/api/items", &[("origin", "https://shop.example.org")]).await?;
    ensure!(header(&h, "access-control-allow-origin") == Some("https://shop.example.org"), "pattern origin: {h:?}");
    // Denied: no ACAO even though the origin server sends `*`.
    for origin in ["https://evil.example", "https://example.org.evil.example"] {
        let (status, h, _) = w.get("/api/items", &[("origin", origin)]).await?;
        ensure!(status == 200, "status {status}");
        ensure!(header(&h, "access-control-allow-origin").is_none(), "{origin} got ACAO: {h:?}");
        ensure!(header(&h, "vary").is_some_and(|v| v.contains("Origin")), "Vary: {h:?}");
    }
    // Preflight: answered at the edge (the origin server would answer 200 with a body).
    let pre = [("origin", "https://app.example.com"), ("access-control-request-method", "PUT"), ("access-control-request-headers", "content-type")];
    let (status, h, body) = w.send(Method::OPTIONS, "/api/items", &pre).await?;
    ensure!(status == 204 && body.is_empty(), "preflight: {status} {body}");
    ensure!(header(&h, "access-control-allow-origin") == Some("https://app.example.com"), "preflight ACAO: {h:?}");
    ensure!(header(&h, "access-control-allow-methods") == Some("GET, PUT"), "ACAM: {h:?}");
    ensure!(header(&h, "access-control-allow-headers") == Some("content-type"), "ACAH: {h:?}");
    ensure!(header(&h, "access-control-max-age") == Some("300"), "max-age: {h:?}");
    let denied = [("origin", "https://evil.example"), ("access-control-request-method", "PUT")];
    let (status, h, _) = w.send(Method::OPTIONS, "/api/items", &denied).await?;
    ensure!(status == 204, "denied preflight: {status}");
    ensure!(
        header(&h, "access-control-allow-origin").is_none() && header(&h, "access-control-allow-methods").is_none(),
        "denied preflight got CORS headers: {h:?}"
    );
    Ok(())
}

async fn geo_routing_by_country_continent_region(w: &World) -> Result<(), String> {
    let cases = [
        (json!({ "country": "DE", "continent": "EU", "colo": "FRA", "clientAcceptEncoding": "" }), "eu"),
        (json!({ "country": "DE", "continent": "EU", "regionCode": "BY", "colo": "MUC", "clientAcceptEncoding": "" }), "by"),
        (json!({ "country": "US", "continent": "NA", "colo": "IAD", "clientAcceptEncoding": "" }), "us"),
        (json!({ "country": "CA", "continent": "NA", "colo": "YYZ", "clientAcceptEncoding": "" }), "us"),
        (json!({ "country": "FR", "continent": "EU", "colo": "CDG", "clientAcceptEncoding": "" }), "app"),
    ];
    for (cf, want) in cases {
        let blob = cf.to_string();
        let (status, _, body) = w.get("/geo/page", &[("MF-CF-Blob", &blob)]).await?;
        ensure!(status == 200 && body.contains(&format!("\"origin\":\"{want}\"")), "{cf} → {status} {body}, want {want}");
    }
    Ok(())
}

async fn failover_to_the_next_server(w: &World) -> Result<(), String> {
    // The pool's first choice (weight 100 of 101) refuses connections.
    for _ in 0..3 {
        let (status, _, body) = w.get("/flaky/x", &[]).await?;
        ensure!(status == 200 && body.contains("\"origin\":\"app\""), "flaky pool: {status} {body}");
    }
    // POST is not replayed on another server: one attempt only.
    let mark = w.edge.log_len();
    let resp = w.http.post(w.edge.url("/dead/post")).header("MF-CF-Blob", cf_blob("DE", "FRA")).body("x").send().await.map_err(|e| e.to_string())?;
    ensure!(resp.status() == 502, "POST to a dead pool: {}", resp.status());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts = w.edge.logs_since(mark, &["origin_exhausted", "\"attempts\":1"]);
    ensure!(attempts.len() == 1, "POST attempts: {:?}", w.edge.logs_since(mark, &["origin_exhausted"]));
    Ok(())
}

async fn failing_server_skipped_after_max_fails(w: &World) -> Result<(), String> {
    let before = w.failing_hits.load(Ordering::SeqCst);
    for i in 0..8 {
        let (status, _, body) = w.get("/skippy/x", &[]).await?;
        ensure!(status == 200 && body.contains("\"origin\":\"app\""), "request {i}: {status} {body}");
    }
    let hits = w.failing_hits.load(Ordering::SeqCst) - before;
    ensure!(hits == 2, "the 503 server was hit {hits} times; max_fails is 2, then skipped for 120 s");
    Ok(())
}

async fn all_servers_down_is_502_not_a_hang(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let started = Instant::now();
    let (status, h, body) = w.get("/dead/x", &[]).await?;
    ensure!(status == 502, "dead pool: {status} {body}");
    ensure!(body.contains("origin unavailable") && body.contains("request_id"), "body: {body}");
    ensure!(header(&h, "x-edge-request-id").is_some(), "no request id: {h:?}");
    ensure!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = w.edge.logs_since(mark, &["origin_exhausted", "\"attempts\":2"]);
    ensure!(lines.len() == 1, "expected one origin_exhausted line with 2 attempts: {lines:?}");
    // A server slower than the pool's timeout: 504, well before it answers.
    let started = Instant::now();
    let (status, _, body) = w.get("/slow/x", &[]).await?;
    ensure!(status == 504 && body.contains("origin timed out"), "slow origin: {status} {body}");
    ensure!(started.elapsed() < Duration::from_secs(4), "timeout not applied: {:?}", started.elapsed());
    Ok(())
}

fn cache_status(h: &reqwest::header::HeaderMap) -> String {
    header(h, "x-edge-cache").unwrap_or("(none)").to_string()
}

/// GET `path` and expect this `x-edge-cache`; returns the body.
async fn expect_cache(w: &World, path: &str, extra: &[(&str, &str)], want: &str) -> Result<String, String> {
    let (status, h, body) = w.get(path, extra).await?;
    ensure!(status == 200, "{path}: {status} {body}");
    ensure!(cache_status(&h) == want, "{path}: x-edge-cache {} (want {want}); body {body}", cache_status(&h));
    // Let the background put land before the next request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(body)
}

async fn cache_miss_hit_expired(w: &World) -> Result<(), String> {
    let first = expect_cache(w, "/cache/a", &[], "MISS").await?;
    let (_, h, again) = w.get("/cache/a", &[]).await?;
    ensure!(cache_status(&h) == "HIT" && again == first, "second GET: {} {again} vs {first}", cache_status(&h));
    ensure!(header(&h, "age").is_some() && header(&h, "x-edge-cache-meta").is_none(), "served headers: {h:?}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let fresh = expect_cache(w, "/cache/a", &[], "EXPIRED").await?;
    ensure!(fresh != first, "expired entry served: {fresh}");
    let last = expect_cache(w, "/cache/a", &[], "HIT").await?;
    ensure!(last == fresh, "refreshed copy not stored: {last} vs {fresh}");
    // Outside any cache rule: BYPASS, on every response.
    let (_, h, _) = w.get("/hello", &[]).await?;
    ensure!(cache_status(&h) == "BYPASS", "uncached path: {}", cache_status(&h));
    Ok(())
}

async fn cache_bypass_credentials_and_set_cookie(w: &World) -> Result<(), String> {
    expect_cache(w, "/cache/creds", &[], "MISS").await?;
    expect_cache(w, "/cache/creds", &[], "HIT").await?;
    // Credentials never read the cache (nor write it).
    let a = expect_cache(w, "/cache/creds", &[("authorization", "Bearer abc")], "BYPASS").await?;
    let b = expect_cache(w, "/cache/creds", &[("cookie", "theme=dark; sessionid=42")], "BYPASS").await?;
    ensure!(a != b, "credentialed requests got one copy: {a}");
    // Responses that set cookies or say private are never stored.
    let c1 = expect_cache(w, "/cache/cookie", &[], "BYPASS").await?;
    let c2 = expect_cache(w, "/cache/cookie", &[], "BYPASS").await?;
    ensure!(c1 != c2, "Set-Cookie response was served from cache");
    expect_cache(w, "/cache/private", &[], "BYPASS").await?;
    expect_cache(w, "/cache/private", &[], "BYPASS").await?;
    Ok(())
}

async fn cache_query_normalised(w: &World) -> Result<(), String> {
    let first = expect_cache(w, "/cache/q?b=2&a=1&utm_source=mail", &[], "MISS").await?;
    let second = expect_cache(w, "/cache/q?a=1&b=2", &[], "HIT").await?;
    ensure!(first == second, "{first} vs {second}");
    expect_cache(w, "/cache/q?a=1&b=3", &[], "MISS").await?;
    Ok(())
}

async fn cache_purge(w: &World) -> Result<(), String> {
    expect_cache(w, "/cache/p?x=1", &[], "MISS").await?;
    expect_cache(w, "/cache/p?x=1", &[], "HIT").await?;
    let body = json!({ "urls": [w.edge.url("/cache/p?x=1&utm_campaign=z")] }).to_string();
    let post = |token: Option<&str>| {
        let mut r = w.http.post(w.edge.url("/__edge/purge")).header("MF-CF-Blob", cf_blob("DE", "FRA")).body(body.clone());
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.send()
    };
    let resp = post(None).await.map_err(|e| e.to_string())?;
    ensure!(resp.status() == 401, "purge without token: {}", resp.status());
    let resp = post(Some("wrong-token-0123456789abcdef")).await.map_err(|e| e.to_string())?;
    ensure!(resp.status() == 401, "purge with a wrong token: {}", resp.status());
    expect_cache(w, "/cache/p?x=1", &[], "HIT").await?;
    let resp = post(Some(PURGE_TOKEN)).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    ensure!(status == 200 && text.contains("\"deleted\":1"), "purge: {status} {text}");
    expect_cache(w, "/cache/p?x=1", &[], "MISS").await?;
    Ok(())
}

async fn cache_stale_while_revalidate(w: &World) -> Result<(), String> {
    let first = expect_cache(w, "/swr/a", &[], "MISS").await?;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let stale = expect_cache(w, "/swr/a", &[], "STALE").await?;
    ensure!(stale == first, "stale copy differs: {stale} vs {first}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fresh = expect_cache(w, "/swr/a", &[], "HIT").await?;
    ensure!(fresh != first, "not revalidated in the background: {fresh}");
    Ok(())
}

async fn sse_first_event_before_the_last(w: &World) -> Result<(), String> {
    let mut resp = w
        .http
        .get(w.edge.url("/stream/sse"))
        .header("MF-CF-Blob", cf_blob("DE", "FRA"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    ensure!(resp.status() == 200, "status {}", resp.status());
    let mut seen = String::new();
    while !seen.contains("data: one") {
        let chunk = tokio::time::timeout(Duration::from_secs(8), resp.chunk()).await;
        match chunk {
            Ok(Ok(Some(c))) => seen.push_str(&String::from_utf8_lossy(&c)),
            other => return Err(format!("first event not received: {other:?} after {seen:?}")),
        }
    }
    ensure!(!w.sse.last_sent.load(Ordering::SeqCst), "first event arrived only after the origin sent the last: buffered");
    ensure!(!seen.contains("data: two"), "both events at once: {seen}");
    w.sse.release.notify_one();
    while let Ok(Some(c)) = resp.chunk().await {
        seen.push_str(&String::from_utf8_lossy(&c));
    }
    ensure!(seen.contains("data: two"), "second event missing: {seen}");
    Ok(())
}

async fn websocket_echo_through_the_edge(w: &World) -> Result<(), String> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let mut req = format!("ws://127.0.0.1:{}/stream/ws", w.edge.port).into_client_request().map_err(|e| e.to_string())?;
    let blob = cf_blob("DE", "FRA");
    req.headers_mut().insert("MF-CF-Blob", blob.parse().map_err(|_| "header")?);
    let (mut ws, resp) = tokio::time::timeout(Duration::from_secs(15), tokio_tungstenite::connect_async(req))
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| format!("handshake: {e}"))?;
    ensure!(resp.status() == 101, "status {}", resp.status());
    for text in ["hello", "world"] {
        ws.send(Message::Text(text.into())).await.map_err(|e| e.to_string())?;
        let reply = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.map_err(|_| "no reply".to_string())?;
        match reply {
            Some(Ok(Message::Text(t))) => ensure!(t.as_str() == format!("echo: {text}"), "reply {t}"),
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

pub async fn run(report: &mut Report) {
    let app = start_origin("app", EdgeAuthLayer::new).await;
    let failing_hits = Arc::new(AtomicUsize::new(0));
    let sse = SseGate::default();
    let ports = Ports {
        app,
        noisy: start_noisy_origin().await,
        eu: start_origin("eu", EdgeAuthLayer::new).await,
        us: start_origin("us", EdgeAuthLayer::new).await,
        by: start_origin("by", EdgeAuthLayer::new).await,
        failing: start_failing_origin(failing_hits.clone()).await,
        slow: start_slow_origin().await,
        counting: start_counting_origin().await,
        streaming: start_streaming_origin(sse.clone()).await,
    };
    let edge = Edge::start_with_secrets(
        &rules(&ports).to_string(),
        &format!("http://127.0.0.1:{app}"),
        &[("EDGE_PURGE_TOKEN", PURGE_TOKEN)],
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let w = World { edge, http, failing_hits, sse };

    report.check("https_redirect_with_acme_exception", https_redirect_with_acme_exception(&w)).await;
    report.check("security_headers_rendered_and_overridden", security_headers_rendered_and_overridden(&w)).await;
    report.check("cors_allowed_denied_preflight", cors_allowed_denied_preflight(&w)).await;
    report.check("geo_routing_by_country_continent_region", geo_routing_by_country_continent_region(&w)).await;
    report.check("failover_to_the_next_server", failover_to_the_next_server(&w)).await;
    report.check("failing_server_skipped_after_max_fails", failing_server_skipped_after_max_fails(&w)).await;
    report.check("all_servers_down_is_502_not_a_hang", all_servers_down_is_502_not_a_hang(&w)).await;
    report.check("cache_miss_hit_expired", cache_miss_hit_expired(&w)).await;
    report.check("cache_bypass_credentials_and_set_cookie", cache_bypass_credentials_and_set_cookie(&w)).await;
    report.check("cache_query_normalised", cache_query_normalised(&w)).await;
    report.check("cache_purge", cache_purge(&w)).await;
    report.check("cache_stale_while_revalidate", cache_stale_while_revalidate(&w)).await;
    report.check("sse_first_event_before_the_last", sse_first_event_before_the_last(&w)).await;
    report.check("websocket_echo_through_the_edge", websocket_echo_through_the_edge(&w)).await;
}
