//! The example origin's router, driven in-process.

use axum::body::Body;
use axum::http;
use http_body_util::BodyExt;
use origin_sdk::{trust, EdgeAuthLayer, KeySet, Signer, SigningKey, Verifier};
use serde_json::Value;
use tower::ServiceExt;

const NOW: u64 = 1_700_000_000;

fn key() -> SigningKey {
    SigningKey::ed25519_from_seed("edge-1", &[3; 32])
}

fn app() -> axum::Router {
    let keys = KeySet::new().with(key().verifying_key());
    example_origin::router_with_layer("origin-a".into(), EdgeAuthLayer::new(Verifier::new(keys)).clock(|| NOW))
}

fn signed(nonce: &str) -> http::Request<Body> {
    let mut b = http::Request::builder().method("PUT").uri("/things/1?a=b").header("host", "origin.example:9000");
    for h in trust::ALL {
        b = b.header(h, "");
    }
    let mut req = b.body(()).unwrap();
    req.headers_mut().insert(trust::USER, "bob".parse().unwrap());
    req.headers_mut().insert(trust::COUNTRY, "FR".parse().unwrap());
    Signer::new(key()).sign(&mut req, NOW, nonce).unwrap();
    req.map(|()| Body::empty())
}

async fn send(req: http::Request<Body>) -> (u16, Vec<u8>) {
    let res = app().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    (status, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn health_is_open() {
    let (status, body) = send(http::Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body.as_slice()), (200, &b"ok"[..]));
}

#[tokio::test]
async fn unsigned_is_refused() {
    let (status, body) = send(http::Request::get("/anything").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 401);
    assert!(String::from_utf8(body).unwrap().contains("missing Signature"));
}

#[tokio::test]
async fn signed_is_echoed() {
    let (status, body) = send(signed("n1")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["origin"], "origin-a");
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["path"], "/things/1");
    assert_eq!(v["query"], "a=b");
    assert_eq!(v["facts"]["user"], "bob");
    assert_eq!(v["facts"]["country"], "FR");
    assert_eq!(v["facts"]["client_ip"], Value::Null);
    assert_eq!(v["facts"]["keyid"], "edge-1");
    assert_eq!(v["headers"]["x-edge-user"], "bob");
    assert!(v["headers"]["signature-input"].as_str().unwrap().starts_with("edge=("));
    assert!(v["headers"]["signature"].as_str().unwrap().starts_with("edge=:"));
}

#[tokio::test]
async fn forged_fact_is_refused() {
    let mut req = signed("n2");
    req.headers_mut().insert(trust::USER, "admin".parse().unwrap());
    assert_eq!(send(req).await.0, 401);
}

#[test]
fn config_parsing() {
    let c = example_origin::Config::from_env(["--addr".to_string(), "127.0.0.1:0".to_string()]).unwrap();
    assert_eq!(c.addr, "127.0.0.1:0");
    assert!(example_origin::Config::from_env(["--bogus".to_string()]).is_err());
}
