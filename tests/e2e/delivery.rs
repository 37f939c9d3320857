//! Delivery duties of the nginx tier: HTTPS redirect, security headers, CORS.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use origin_sdk::{EdgeAuthLayer, KeySet, Verifier};
use reqwest::Method;
use serde_json::{json, Value};

use crate::ensure;
use crate::harness::{dev_keys, start_origin, Edge, Report};

struct World {
    edge: Edge,
    http: reqwest::Client,
}

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind noisy origin");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    port
}

fn rules(app: u16, noisy: u16) -> Value {
    json!({
        "version": 1,
        "settings": { "rules_ttl_seconds": 1, "default_origin": "app" },
        "origins": {
            "app": { "url": format!("http://127.0.0.1:{app}") },
            "noisy": { "url": format!("http://127.0.0.1:{noisy}") }
        },
        "phases": {
            "filter": [
                // wrangler dev only speaks plain HTTP: the redirect is scoped by a header.
                { "id": "to-https", "when": { "headers": { "x-test-redirect": [] } }, "action": "https_redirect" }
            ],
            "route": [
                { "id": "noisy", "when": { "paths": ["/noisy/*", "/api/*"] }, "action": "origin", "params": { "origin": "noisy" } }
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
        let mut req = self
            .http
            .request(method.clone(), self.edge.url(path))
            .header("MF-CF-Blob", cf_blob("DE", "FRA"))
            .header("CF-Connecting-IP", "198.51.100.7");
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

pub async fn run(report: &mut Report) {
    let app = start_origin("app", EdgeAuthLayer::new).await;
    let noisy = start_noisy_origin().await;
    let edge = Edge::start(&rules(app, noisy).to_string(), &format!("http://127.0.0.1:{app}"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let w = World { edge, http };

    report.check("https_redirect_with_acme_exception", https_redirect_with_acme_exception(&w)).await;
    report.check("security_headers_rendered_and_overridden", security_headers_rendered_and_overridden(&w)).await;
    report.check("cors_allowed_denied_preflight", cors_allowed_denied_preflight(&w)).await;
}
