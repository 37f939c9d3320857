//! The tower middleware and axum extractor.
#![cfg(feature = "tower")]

mod common;

use http_body_util::{BodyExt, Full};
use origin_sdk::{EdgeAuthLayer, Signer, VerifiedFacts};
use std::convert::Infallible;
use tower::{service_fn, Layer, ServiceExt};

type Body = Full<bytes::Bytes>;

async fn echo(req: http::Request<Body>) -> Result<http::Response<Body>, Infallible> {
    let facts = req.extensions().get::<VerifiedFacts>().cloned();
    let user = facts.and_then(|f| f.user).unwrap_or_default();
    let leaked = req.headers().keys().filter(|k| k.as_str().starts_with("x-edge-")).count();
    Ok(http::Response::new(Body::from(format!("user={user} edge_headers={leaked}"))))
}

fn to_body(r: http::Request<()>) -> http::Request<Body> {
    r.map(|()| Body::default())
}

async fn call(layer: &EdgeAuthLayer, req: http::Request<()>) -> (http::StatusCode, String) {
    let svc = layer.layer(service_fn(echo));
    let res = svc.oneshot(to_body(req)).await.unwrap();
    let status = res.status();
    if status == http::StatusCode::UNAUTHORIZED {
        assert_eq!(res.headers()["content-type"], "text/plain; charset=utf-8");
    }
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn layer() -> EdgeAuthLayer {
    EdgeAuthLayer::new(common::verifier()).clock(|| common::NOW + 1)
}

#[tokio::test]
async fn accepts_signed_and_inserts_facts() {
    let (status, body) = call(&layer(), common::signed()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "user=alice edge_headers=9");
}

#[tokio::test]
async fn rejects_unsigned_and_forged() {
    let l = layer();
    let (status, body) = call(&l, common::request()).await;
    assert_eq!((status.as_u16(), body.as_str()), (401, "edge signature rejected: missing Signature\n"));
    let mut forged = common::signed();
    forged.headers_mut().insert("x-edge-user", "admin".parse().unwrap());
    let (status, body) = call(&l, forged).await;
    assert_eq!((status.as_u16(), body.as_str()), (401, "edge signature rejected: bad signature\n"));
}

#[tokio::test]
async fn refuses_replayed_nonce() {
    let l = layer();
    let req = common::signed();
    assert_eq!(call(&l, req.clone()).await.0, 200);
    let (status, body) = call(&l, req.clone()).await;
    assert_eq!((status.as_u16(), body.as_str()), (401, "edge signature rejected: nonce replayed\n"));
    // A clone of the layer shares the cache.
    assert_eq!(call(&l.clone(), req.clone()).await.0, 401);
    // A fresh nonce passes.
    let mut other = common::request();
    Signer::new(common::key()).sign(&mut other, common::NOW, "nonce-2").unwrap();
    assert_eq!(call(&l, other).await.0, 200);
    // Without the cache, replays are not detected.
    let no_cache = layer().without_replay_cache();
    assert_eq!(call(&no_cache, req.clone()).await.0, 200);
    assert_eq!(call(&no_cache, req).await.0, 200);
}

#[tokio::test]
async fn expired_per_system_clock() {
    // Default clock is the system clock: a 2023 signature is long expired.
    let l = EdgeAuthLayer::new(common::verifier());
    let (status, body) = call(&l, common::signed()).await;
    assert_eq!(status, 401);
    assert!(body.contains("expired"), "{body}");
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn axum_extractor() {
    use axum_core::extract::FromRequestParts;
    use axum_core::response::IntoResponse;
    let (mut parts, ()) = common::request().into_parts();
    let rejection = VerifiedFacts::from_request_parts(&mut parts, &()).await.unwrap_err();
    assert_eq!(rejection.into_response().status(), 401);
    let facts = common::verifier().verify(&common::signed(), common::NOW).unwrap();
    parts.extensions.insert(facts.clone());
    assert_eq!(VerifiedFacts::from_request_parts(&mut parts, &()).await.unwrap(), facts);
}
