//! Reverse-proxy mode: verify, strip, forward to the app on loopback with the
//! facts as `x-verified-*` headers; 401 with a small JSON body otherwise.
//! `Host` and the path are passed on unchanged (the app sees what was signed).

use crate::facts_headers::{facts_headers, remove_verified};
use crate::gate::Gate;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Request, StatusCode, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// Shared state of the proxy handler.
#[derive(Clone)]
pub struct Proxy {
    gate: Gate,
    upstream: Uri,
    client: Client<HttpConnector, Body>,
}

/// Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [&str; 8] = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authorization"];

fn remove_hop_by_hop(h: &mut HeaderMap) {
    let listed: Vec<String> = h
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .collect();
    for n in HOP_BY_HOP.iter().copied().chain(listed.iter().map(String::as_str)) {
        h.remove(n);
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    let mut res = Response::new(Body::from(body.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

impl Proxy {
    /// `upstream` is the app's base URL (`http://127.0.0.1:3000`); only its
    /// scheme and authority are used.
    pub fn new(gate: Gate, upstream: Uri) -> Self {
        Proxy { gate, upstream, client: Client::builder(TokioExecutor::new()).build_http() }
    }

    fn target(&self, uri: &Uri) -> Option<Uri> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = self.upstream.scheme().cloned();
        parts.authority = self.upstream.authority().cloned();
        parts.path_and_query = Some(uri.path_and_query().cloned().unwrap_or_else(|| http::uri::PathAndQuery::from_static("/")));
        Uri::from_parts(parts).ok()
    }
}

/// The proxy handler (any path).
pub async fn handle(State(proxy): State<Proxy>, mut req: Request<Body>) -> Response {
    let facts = match proxy.gate.admit(&mut req) {
        Ok(f) => f,
        Err(e) => return json(StatusCode::UNAUTHORIZED, serde_json::json!({ "error": "edge_signature_rejected", "reason": e.reason() })),
    };
    let Some(target) = proxy.target(req.uri()) else {
        return json(StatusCode::BAD_GATEWAY, serde_json::json!({ "error": "bad_upstream_uri" }));
    };
    *req.uri_mut() = target;
    let headers = req.headers_mut();
    remove_hop_by_hop(headers);
    remove_verified(headers);
    for (name, value) in facts_headers(&facts) {
        headers.insert(name, value);
    }
    match proxy.client.request(req).await {
        Ok(mut res) => {
            remove_hop_by_hop(res.headers_mut());
            res.map(Body::new)
        }
        Err(e) => {
            eprintln!("{}", serde_json::json!({ "msg": "edge_verify_upstream_error", "detail": e.to_string() }));
            json(StatusCode::BAD_GATEWAY, serde_json::json!({ "error": "upstream_unreachable" }))
        }
    }
}
