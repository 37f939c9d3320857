//! Example origin: every route except `/health` requires a valid edge
//! signature and echoes what it received, so end-to-end tests can see the
//! verified facts and capture the signed request.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use origin_sdk::{EdgeAuthLayer, KeySet, VerifiedFacts, Verifier};
use serde_json::{json, Map, Value};

/// Configuration read from the environment / command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listen address (`ORIGIN_ADDR` or `--addr`, default `127.0.0.1:9000`).
    pub addr: String,
    /// Echoed as `origin` so tests can tell origins apart (`ORIGIN_NAME`, default `origin`).
    pub name: String,
    /// Keys from `EDGE_VERIFY_KEYS` (`keyid:base64-ed25519-public`, `keyid:hmac:base64-secret`, comma-separated).
    pub keys: KeySet,
}

impl Config {
    /// Reads `ORIGIN_ADDR`, `ORIGIN_NAME`, `EDGE_VERIFY_KEYS`, then `--addr ADDR` / `--addr=ADDR` from `args`.
    pub fn from_env(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut addr = std::env::var("ORIGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:9000".to_string());
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            if a == "--addr" {
                addr = args.next().ok_or("--addr needs a value")?;
            } else if let Some(v) = a.strip_prefix("--addr=") {
                addr = v.to_string();
            } else {
                return Err(format!("unknown argument `{a}` (usage: example-origin [--addr HOST:PORT])"));
            }
        }
        let name = std::env::var("ORIGIN_NAME").unwrap_or_else(|_| "origin".to_string());
        let spec = std::env::var("EDGE_VERIFY_KEYS").unwrap_or_default();
        let keys = KeySet::from_spec(&spec).map_err(|e| format!("EDGE_VERIFY_KEYS: {e}"))?;
        Ok(Config { addr, name, keys })
    }
}

/// Builds the router: `GET /health` open, everything else behind [`EdgeAuthLayer`]
/// with default verifier settings and replay cache.
pub fn router(name: String, keys: KeySet) -> Router {
    router_with_layer(name, EdgeAuthLayer::new(Verifier::new(keys)))
}

/// Like [`router`] with a custom layer (tests use a fixed clock).
pub fn router_with_layer(name: String, layer: EdgeAuthLayer) -> Router {
    let protected = Router::new().fallback(move |facts: VerifiedFacts, req: Request| echo(name.clone(), facts, req)).layer(layer);
    Router::new().route("/health", get(|| async { (StatusCode::OK, "ok") })).merge(protected)
}

async fn echo(name: String, facts: VerifiedFacts, req: Request) -> Json<Value> {
    let mut headers = Map::new();
    for (k, v) in req.headers() {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        match headers.get_mut(k.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&v);
            }
            _ => {
                headers.insert(k.as_str().to_string(), Value::String(v));
            }
        }
    }
    Json(json!({
        "origin": name,
        "method": req.method().as_str(),
        "path": req.uri().path(),
        "query": req.uri().query(),
        "facts": facts,
        "headers": headers,
    }))
}
