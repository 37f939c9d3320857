//! One request through the Rust core (`layer::admit`: verify, strip, replay
//! cache) and the result as the JSON the JS wrapper reads.

use crate::options::Guard;
use origin_sdk::{trust, VerifiedFacts, VerifyError};
use serde_json::{json, Map, Value};

/// What happened to one request.
#[derive(Debug)]
pub struct Outcome {
    pub result: Result<VerifiedFacts, VerifyError>,
    /// Header names (lowercase) the app must not see: trust headers the
    /// signature does not cover, or every trust header if verification failed.
    pub strip: Vec<String>,
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Facts with camelCase keys (`clientIp`), the JS convention; derived from
/// the Rust struct's serialization so new facts appear without binding code.
pub fn facts_json(f: &VerifiedFacts) -> Value {
    match serde_json::to_value(f) {
        Ok(Value::Object(m)) => Value::Object(m.into_iter().map(|(k, v)| (camel(&k), v)).collect::<Map<_, _>>()),
        _ => Value::Null,
    }
}

/// Runs `req` through the guard at `now` (Unix seconds).
pub fn admit(guard: &Guard, mut req: http::Request<()>, now: u64) -> Outcome {
    let before: Vec<String> = req.headers().keys().map(|n| n.as_str()).filter(|n| trust::is_trust_header(n)).map(str::to_string).collect();
    let result = origin_sdk::layer::admit(&guard.verifier, guard.replay.as_ref(), &mut req, now);
    let strip = before.into_iter().filter(|n| !req.headers().contains_key(n.as_str())).collect();
    Outcome { result, strip }
}

impl Outcome {
    /// An outcome for a request that could not even be built.
    pub fn refused(e: VerifyError) -> Self {
        Outcome { result: Err(e), strip: Vec::new() }
    }

    /// `{"ok":true,"facts":{..},"strip":[..]}` or
    /// `{"ok":false,"reason":"bad_signature","message":"bad signature","strip":[..]}`.
    pub fn to_json(&self) -> String {
        let v = match &self.result {
            Ok(f) => json!({ "ok": true, "facts": facts_json(f), "strip": self.strip }),
            Err(e) => json!({ "ok": false, "reason": e.reason(), "message": e.to_string(), "strip": self.strip }),
        };
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_keys() {
        assert_eq!(camel("client_ip"), "clientIp");
        assert_eq!(camel("keyid"), "keyid");
    }
}
