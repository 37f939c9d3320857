//! The `Verifier` options object, as JSON from the JS wrapper: keys and the
//! same knobs as the Rust `Verifier` builder and the tower Layer.

use origin_sdk::layer::{ReplayCache, DEFAULT_REPLAY_CAPACITY};
use origin_sdk::{KeySet, Verifier, VerifyingKey};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Mutex;

/// `new Verifier({...})` as the JS caller wrote it (camelCase).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    /// `"kid:BASE64,kid2:BASE64"` (the `EDGE_VERIFY_KEYS` format), or a list
    /// of such strings and JWK objects.
    keys: Value,
    max_skew: Option<u64>,
    max_validity: Option<u64>,
    label: Option<String>,
    /// Absent: the edge's tag; `null` or `false`: any tag.
    #[serde(default, deserialize_with = "present")]
    required_tag: Option<Value>,
    required_components: Option<Vec<String>>,
    require_nonce: Option<bool>,
    require_expires: Option<bool>,
    /// Nonces remembered against replay; `0` turns the cache off.
    replay_capacity: Option<usize>,
}

/// `Some(Value::Null)` for an explicit `null` (serde's `Option` would read
/// it as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A configured verifier and its replay cache: what one `Verifier` object holds.
#[derive(Debug)]
pub struct Guard {
    pub verifier: Verifier,
    pub replay: Option<Mutex<ReplayCache>>,
}

fn key_set(keys: &Value) -> Result<KeySet, String> {
    let bad = |e: &dyn std::fmt::Display| format!("keys: {e}");
    let shape = "keys: a key-list string (\"kid:BASE64,...\") or an array of such strings and JWK objects";
    let items = match keys {
        Value::String(_) => std::slice::from_ref(keys),
        Value::Array(items) => items.as_slice(),
        _ => return Err(shape.into()),
    };
    // Strings share one spec (KeySet has no merge); JWKs are added after.
    let mut spec = String::new();
    let mut jwks = Vec::new();
    for item in items {
        match item {
            Value::String(s) => {
                spec.push_str(s);
                spec.push(',');
            }
            Value::Object(_) => jwks.push(VerifyingKey::from_jwk(&item.to_string()).map_err(|e| bad(&e))?),
            _ => return Err(shape.into()),
        }
    }
    let mut set = KeySet::from_spec(&spec).map_err(|e| bad(&e))?;
    for k in jwks {
        set.insert(k);
    }
    Ok(set)
}

impl Guard {
    /// Parses the options JSON; every error names the option. With
    /// `ed25519_host` (see `host.rs`), Ed25519 keys are checked by the host.
    pub fn from_options_json(json: &str, ed25519_host: Option<&js_sys::Function>) -> Result<Guard, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        let o: Options = serde_path_to_error::deserialize(&mut de).map_err(|e| match e.path().to_string() {
            p if p == "." => format!("invalid options: {}", e.inner()),
            p => format!("invalid options: {p}: {}", e.inner()),
        })?;
        let mut keys = key_set(&o.keys)?;
        if keys.is_empty() {
            return Err("keys: no key given (every request would be refused)".into());
        }
        if let Some(factory) = ed25519_host {
            keys = crate::host::route_ed25519(keys, factory)?;
        }
        let mut v = Verifier::new(keys);
        if let Some(s) = o.max_skew {
            v = v.max_skew(s);
        }
        if let Some(s) = o.max_validity {
            v = v.max_validity(s);
        }
        if let Some(l) = o.label.as_deref() {
            v = v.label(Some(l));
        }
        match o.required_tag {
            None => {}
            Some(Value::Null | Value::Bool(false)) => v = v.required_tag(None),
            Some(Value::String(t)) => v = v.required_tag(Some(&t)),
            Some(_) => return Err("requiredTag: a string, or null/false for any tag".into()),
        }
        if let Some(c) = o.required_components {
            v = v.required_components(c.iter().map(String::as_str));
        }
        if let Some(b) = o.require_nonce {
            v = v.require_nonce(b);
        }
        if let Some(b) = o.require_expires {
            v = v.require_expires(b);
        }
        let replay = match o.replay_capacity.unwrap_or(DEFAULT_REPLAY_CAPACITY) {
            0 => None,
            n => Some(Mutex::new(ReplayCache::new(n))),
        };
        Ok(Guard { verifier: v, replay })
    }
}
