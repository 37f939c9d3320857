//! nginx `auth_request` mode: nginx sends a subrequest with the original
//! request's headers plus `X-Original-Method` / `X-Original-URI`; the answer
//! is 200 with the facts as `x-verified-*` response headers (for
//! `auth_request_set`), or 401 with `x-verify-error: <reason>`.

use crate::facts_headers::facts_headers;
use crate::gate::Gate;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderValue, Request, StatusCode};

/// Header carrying the original request target (`$request_uri`).
pub const ORIGINAL_URI: &str = "x-original-uri";
/// Header carrying the original method (`$request_method`).
pub const ORIGINAL_METHOD: &str = "x-original-method";

fn respond(status: StatusCode, body: String) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// The subrequest turned back into the request the edge signed.
fn original(sub: &Request<Body>) -> Result<Request<()>, String> {
    let h = sub.headers();
    let uri = h.get(ORIGINAL_URI).ok_or("X-Original-URI missing: add `proxy_set_header X-Original-URI $request_uri;` to the auth location")?;
    let uri: http::Uri = uri.to_str().ok().and_then(|u| u.parse().ok()).ok_or("X-Original-URI is not a request target")?;
    let method = match h.get(ORIGINAL_METHOD) {
        Some(m) => http::Method::from_bytes(m.as_bytes()).map_err(|_| "X-Original-Method is not a method")?,
        None => sub.method().clone(),
    };
    let mut req = Request::new(());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    for (name, value) in h {
        if name != ORIGINAL_URI && name != ORIGINAL_METHOD {
            req.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(req)
}

/// The auth endpoint (any path).
pub async fn handle(State(gate): State<Gate>, sub: Request<Body>) -> Response {
    let mut req = match original(&sub) {
        Ok(r) => r,
        Err(e) => {
            // A configuration error, not a client's: fail closed and loudly.
            eprintln!("{}", serde_json::json!({ "msg": "edge_verify_misconfigured", "detail": e }));
            return respond(StatusCode::INTERNAL_SERVER_ERROR, serde_json::json!({ "error": e }).to_string());
        }
    };
    match gate.admit(&mut req) {
        Ok(facts) => {
            let mut res = respond(StatusCode::OK, String::new());
            for (name, value) in facts_headers(&facts) {
                res.headers_mut().insert(name, value);
            }
            res
        }
        Err(e) => {
            let body = serde_json::json!({ "error": "edge_signature_rejected", "reason": e.reason() }).to_string();
            let mut res = respond(StatusCode::UNAUTHORIZED, body);
            if let Ok(v) = HeaderValue::from_str(&e.reason()) {
                res.headers_mut().insert("x-verify-error", v);
            }
            res
        }
    }
}
