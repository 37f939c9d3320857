//! Both modes through the real router (auth-request by `oneshot`, proxy to a
//! real upstream on loopback), with requests signed as the edge signs them.

use axum::body::Body;
use edge_verify::{diagnose, router, Config, Gate, Mode};
use http::Request;
use http_body_util::BodyExt;
use origin_sdk::{trust, KeySet, Signer, SigningKey, Verifier};
use tower::ServiceExt;

const NOW: u64 = 1_700_000_000;

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed("edge-2026", &[5; 32])
}

fn gate() -> Gate {
    Gate::new(Verifier::new(KeySet::new().with(key().verifying_key())), 100, true).with_clock(|| NOW)
}

/// An edge-signed request for `path` on host `app.example`.
fn signed(path: &str, nonce: &str) -> Request<Body> {
    let mut req = Request::get(path).header("host", "app.example").body(()).unwrap();
    for h in trust::ALL {
        req.headers_mut().insert(h, http::HeaderValue::from_static(""));
    }
    req.headers_mut().insert(trust::USER, "alice".parse().unwrap());
    req.headers_mut().insert(trust::CLIENT_IP, "198.51.100.7".parse().unwrap());
    Signer::new(key()).sign(&mut req, NOW, nonce).unwrap();
    req.map(|()| Body::empty())
}

/// The subrequest nginx sends for `req` (its headers, the original target in X-Original-URI).
fn subrequest(req: Request<Body>, original_uri: Option<&str>) -> Request<Body> {
    let (parts, _) = req.into_parts();
    let mut sub = Request::get("/verify").body(Body::empty()).unwrap();
    *sub.headers_mut() = parts.headers;
    if let Some(u) = original_uri.map(str::to_string).or_else(|| parts.uri.path_and_query().map(|p| p.to_string())) {
        sub.headers_mut().insert("x-original-uri", u.parse().unwrap());
    }
    sub.headers_mut().insert("x-original-method", "GET".parse().unwrap());
    sub
}

fn header<'a>(res: &'a http::Response<Body>, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn auth_request_answers_facts_then_refuses_replay() {
    let app = router(gate(), &Mode::AuthRequest);
    let res = app.clone().oneshot(subrequest(signed("/orders?id=7", "n1"), None)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-verified-user"), "alice");
    assert_eq!(header(&res, "x-verified-client-ip"), "198.51.100.7");
    assert_eq!(header(&res, "x-verified-keyid"), "edge-2026");
    assert!(res.headers().get("x-verified-country").is_none(), "unknown facts are absent");
    let res = app.clone().oneshot(subrequest(signed("/orders?id=7", "n1"), None)).await.unwrap();
    assert_eq!((res.status().as_u16(), header(&res, "x-verify-error")), (401, "replayed"));
}

#[tokio::test]
async fn auth_request_refuses_a_rewritten_path_and_unsigned_requests() {
    let app = router(gate(), &Mode::AuthRequest);
    let res = app.clone().oneshot(subrequest(signed("/orders", "n2"), Some("/api/orders"))).await.unwrap();
    assert_eq!((res.status().as_u16(), header(&res, "x-verify-error")), (401, "bad_signature"));
    let unsigned = Request::get("/x").header("host", "app.example").header("x-edge-user", "admin").body(Body::empty()).unwrap();
    let res = app.clone().oneshot(subrequest(unsigned, None)).await.unwrap();
    assert_eq!((res.status().as_u16(), header(&res, "x-verify-error")), (401, "missing_signature"));
}

#[tokio::test]
async fn auth_request_without_original_uri_is_a_loud_config_error() {
    let app = router(gate(), &Mode::AuthRequest);
    let mut sub = subrequest(signed("/orders", "n3"), None);
    sub.headers_mut().remove("x-original-uri");
    let res = app.oneshot(sub).await.unwrap();
    assert_eq!(res.status(), 500);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("proxy_set_header X-Original-URI"));
}

#[test]
fn diagnosis_names_components_and_computed_values_not_secrets() {
    let req = signed("/orders?id=7", "n4");
    let (mut parts, _) = req.into_parts();
    parts.uri = "/rewritten/orders?id=7".parse().unwrap();
    let d = diagnose::covered_values(&parts);
    let covered = &d[0]["covered"];
    assert_eq!(covered["\"@path\""], "/rewritten/orders");
    assert_eq!(covered["\"@authority\""], "app.example");
    assert_eq!(covered["\"x-edge-user\""], "alice");
    let text = d.to_string();
    let sig = parts.headers["signature"].to_str().unwrap();
    assert!(!text.contains(&sig[6..20]), "signature bytes in the diagnosis: {text}");
    assert!(d[0]["params"].as_str().unwrap().contains("keyid=\"edge-2026\""));
}

#[tokio::test]
async fn proxy_forwards_verified_facts_and_strips_forgeries() {
    // The app: echoes the headers it received as JSON.
    let app = axum::Router::new().fallback(|req: Request<Body>| async move {
        let h: serde_json::Map<String, serde_json::Value> =
            req.headers().iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").into())).collect();
        serde_json::json!({ "path": req.uri().to_string(), "headers": h }).to_string()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let upstream = format!("http://127.0.0.1:{port}").parse().unwrap();
    let proxy = router(gate(), &Mode::Proxy { upstream });

    let mut req = signed("/orders?id=7", "p1");
    req.headers_mut().insert("x-verified-user", "root".parse().unwrap());
    req.headers_mut().insert("x-edge-injected", "1".parse().unwrap());
    let res = proxy.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let h = &body["headers"];
    assert_eq!(body["path"], "/orders?id=7");
    assert_eq!(h["host"], "app.example", "Host is passed on unchanged");
    assert_eq!(h["x-verified-user"], "alice");
    assert_eq!(h["x-verified-client-ip"], "198.51.100.7");
    assert!(h.get("x-edge-injected").is_none(), "uncovered trust header forwarded: {h}");

    let res = proxy.clone().oneshot(Request::get("/orders").header("host", "app.example").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), 401);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"error":"edge_signature_rejected","reason":"missing_signature"}"#);
}

#[test]
fn command_line() {
    let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let spec = format!("k:{}", key().verifying_key().public_key_base64().unwrap());
    let c = Config::parse(args("proxy --upstream http://127.0.0.1:3000 --listen 127.0.0.1:0 --debug"), Some(spec.clone())).unwrap();
    assert!(matches!(c.mode, Mode::Proxy { .. }) && c.debug);
    let c = Config::parse(args(&format!("auth-request --keys {spec} --replay-capacity 0")), None).unwrap();
    assert_eq!(c.replay_capacity, 0);
    for (a, needle) in [("", "usage"), ("proxy", "--upstream"), ("proxy --upstream https://x", "http://"), ("auth-request", "no keys"), ("auth-request --max-skew x", "number"), ("serve", "unknown mode")] {
        let e = Config::parse(args(a), None).err().unwrap_or_default();
        assert!(e.contains(needle), "{a}: {e}");
    }
    assert!(Config::parse(args("auth-request --keys k:AAAA"), None).unwrap_err().contains("keys"));
}
