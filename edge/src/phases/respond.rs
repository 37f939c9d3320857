//! `respond`: shape response headers (security headers and the like) on every
//! response, from the origin or made at the edge.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::cors::Cors;
use super::security_headers::SecurityHeaders;
use crate::pipeline::{Ctx, EdgeResponse, Phase};
use crate::request::RequestInfo;
use crate::rules::validate::{params, Errors, PhaseAction};
use crate::rules::{JsonPath, Mode, Rules};

#[derive(Debug, Clone, PartialEq)]
pub enum RespondAction {
    Headers(HeaderEdits),
    SecurityHeaders(SecurityHeaders),
    /// Only the first matching `cors` rule applies.
    Cors(Cors),
}

/// `set` replaces (or adds) a header, `add` sets it only where the origin sent
/// none, `remove` deletes what the origin sent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeaderEdits {
    pub set: BTreeMap<String, String>,
    pub add: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

impl PhaseAction for RespondAction {
    const PHASE: &'static str = "respond";
    const ACTIONS: &'static [&'static str] = &["headers", "security_headers", "cors"];

    fn compile(action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        match action {
            "security_headers" => return SecurityHeaders::compile(p, path, errors).map(Self::SecurityHeaders),
            "cors" => return Cors::compile(p, path, errors).map(Self::Cors),
            _ => {}
        }
        let edits: HeaderEdits = params(p, path, errors)?;
        let before = errors.0.len();
        for (key, map) in [("set", &edits.set), ("add", &edits.add)] {
            for (name, value) in map {
                if !valid_header_name(name) {
                    errors.push(path.key(key).key(name), "not a valid header name");
                } else if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                    errors.push(path.key(key).key(name), "header values cannot contain CR, LF or NUL");
                }
            }
        }
        for (i, name) in edits.remove.iter().enumerate() {
            if !valid_header_name(name) {
                errors.push(path.key("remove").index(i), "not a valid header name");
            }
        }
        (errors.0.len() == before).then_some(Self::Headers(edits))
    }
}

pub(crate) fn valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A change to a response header; the shell applies these to the real
/// response in place (so repeated headers like `Set-Cookie` survive untouched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp {
    Set(String, String),
    /// Set only when the response has no such header.
    SetIfAbsent(String, String),
    /// Add a token to a comma-separated list header (`Vary`) unless present.
    AppendToken(String, String),
    Remove(String),
}

/// `existing` with `token` added, unless already listed (case-insensitive).
pub fn with_token(existing: Option<&str>, token: &str) -> String {
    match existing.map(str::trim).filter(|e| !e.is_empty()) {
        None => token.to_string(),
        Some(e) if e.split(',').any(|t| t.trim().eq_ignore_ascii_case(token) || t.trim() == "*") => e.to_string(),
        Some(e) => format!("{e}, {token}"),
    }
}

/// Applies [`HeaderOp`]s to a plain header list (native tests, `explain`).
pub fn apply(ops: &[HeaderOp], headers: &mut Vec<(String, String)>) {
    for op in ops {
        match op {
            HeaderOp::Remove(n) => headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n)),
            HeaderOp::Set(n, v) => {
                headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n));
                headers.push((n.clone(), v.clone()));
            }
            HeaderOp::SetIfAbsent(n, v) => {
                if !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n)) {
                    headers.push((n.clone(), v.clone()));
                }
            }
            HeaderOp::AppendToken(n, t) => {
                let joined = headers.iter().filter(|(h, _)| h.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", ");
                let value = with_token(Some(&joined), t);
                headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n));
                headers.push((n.clone(), value));
            }
        }
    }
}

/// The header edits of every matching rule, in rule order.
pub fn run(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx) -> Vec<HeaderOp> {
    let mut ops = Vec::new();
    let mut cors_done = false;
    for rule in rules.respond.iter().filter(|r| r.when.matches(req)) {
        let name = match &rule.action {
            RespondAction::Headers(_) => "headers",
            RespondAction::SecurityHeaders(_) => "security_headers",
            RespondAction::Cors(_) if cors_done => continue,
            RespondAction::Cors(_) => "cors",
        };
        if rule.mode == Mode::Log {
            ctx.record(Phase::Respond, name, Some(&rule.id), Some("log only"));
            continue;
        }
        match &rule.action {
            RespondAction::Headers(edits) => {
                ops.extend(edits.remove.iter().map(|n| HeaderOp::Remove(n.to_ascii_lowercase())));
                ops.extend(edits.set.iter().map(|(n, v)| HeaderOp::Set(n.to_ascii_lowercase(), v.clone())));
                ops.extend(edits.add.iter().map(|(n, v)| HeaderOp::SetIfAbsent(n.to_ascii_lowercase(), v.clone())));
            }
            RespondAction::SecurityHeaders(s) => ops.extend(s.ops.iter().cloned()),
            RespondAction::Cors(c) => {
                cors_done = true;
                ops.extend(c.response_ops(req));
            }
        }
        ctx.record(Phase::Respond, name, Some(&rule.id), None);
    }
    if ops.is_empty() {
        ctx.record(Phase::Respond, "continue", None, None);
    }
    ops
}

/// A CORS preflight covered by the first matching enforced `cors` rule,
/// answered at the edge (before authentication: preflights carry no credentials).
pub fn cors_preflight(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx) -> Option<EdgeResponse> {
    if !Cors::is_preflight(req) {
        return None;
    }
    let (rule, cors) = rules.respond.iter().filter(|r| r.mode == Mode::Enforce && r.when.matches(req)).find_map(|r| match &r.action {
        RespondAction::Cors(c) => Some((r, c)),
        _ => None,
    })?;
    ctx.record(Phase::Respond, "cors_preflight", Some(&rule.id), None);
    Some(cors.preflight(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_only_fills_gaps_and_tokens_merge() {
        let mut h = vec![("x-a".to_string(), "origin".to_string()), ("vary".to_string(), "accept-encoding".to_string())];
        apply(
            &[
                HeaderOp::SetIfAbsent("x-a".into(), "edge".into()),
                HeaderOp::SetIfAbsent("x-b".into(), "edge".into()),
                HeaderOp::AppendToken("vary".into(), "Origin".into()),
                HeaderOp::AppendToken("vary".into(), "origin".into()),
            ],
            &mut h,
        );
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("x-a").as_deref(), Some("origin"));
        assert_eq!(get("x-b").as_deref(), Some("edge"));
        assert_eq!(get("vary").as_deref(), Some("accept-encoding, Origin"));
        assert_eq!(with_token(Some("*"), "Origin"), "*");
        assert_eq!(with_token(None, "Origin"), "Origin");
    }
}
