//! Verified facts as plain request/response headers (`x-verified-*`), the
//! form an app on loopback or nginx's `auth_request_set` reads.

use http::{HeaderMap, HeaderName, HeaderValue};
use origin_sdk::VerifiedFacts;
use serde_json::Value;

/// Prefix of the headers the sidecar sets; any a client sent are removed first.
pub const PREFIX: &str = "x-verified-";

/// One header per known fact (`client_ip` → `x-verified-client-ip`); claims
/// as compact JSON. Derived from the facts' serialization, so a fact added to
/// `VerifiedFacts` gets a header without code here. Unknown facts are absent.
pub fn facts_headers(facts: &VerifiedFacts) -> Vec<(HeaderName, HeaderValue)> {
    let Ok(Value::Object(map)) = serde_json::to_value(facts) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(key, value)| {
            let text = match value {
                Value::Null => return None,
                Value::String(s) => s,
                other => other.to_string(),
            };
            let name = HeaderName::from_bytes(format!("{PREFIX}{}", key.replace('_', "-")).as_bytes()).ok()?;
            Some((name, HeaderValue::from_bytes(text.as_bytes()).ok()?))
        })
        .collect()
}

/// Removes every `x-verified-*` header (a client's forgery of the sidecar's own).
pub fn remove_verified(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers.keys().filter(|n| n.as_str().starts_with(PREFIX)).cloned().collect();
    for n in names {
        headers.remove(n);
    }
}
