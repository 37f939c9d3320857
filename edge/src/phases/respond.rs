//! `respond`: shape response headers (security headers and the like) on every
//! response, from the origin or made at the edge.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::pipeline::{Ctx, Phase};
use crate::request::RequestInfo;
use crate::rules::validate::{params, Errors, PhaseAction};
use crate::rules::{JsonPath, Mode, Rules};

#[derive(Debug, Clone, PartialEq)]
pub enum RespondAction {
    Headers(HeaderEdits),
}

/// `set` replaces (or adds) a header, `remove` deletes what the origin sent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeaderEdits {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

impl PhaseAction for RespondAction {
    const PHASE: &'static str = "respond";
    const ACTIONS: &'static [&'static str] = &["headers"];

    fn compile(_action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        let edits: HeaderEdits = params(p, path, errors)?;
        let before = errors.0.len();
        for (name, value) in &edits.set {
            if !valid_header_name(name) {
                errors.push(path.key("set").key(name), "not a valid header name");
            } else if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                errors.push(path.key("set").key(name), "header values cannot contain CR, LF or NUL");
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

fn valid_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A change to a response header; the shell applies these to the real
/// response in place (so repeated headers like `Set-Cookie` survive untouched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp {
    Set(String, String),
    Remove(String),
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
        }
    }
}

/// The header edits of every matching rule, in rule order.
pub fn run(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx) -> Vec<HeaderOp> {
    let mut ops = Vec::new();
    for rule in rules.respond.iter().filter(|r| r.when.matches(req)) {
        let RespondAction::Headers(edits) = &rule.action;
        if rule.mode == Mode::Log {
            ctx.record(Phase::Respond, "headers", Some(&rule.id), Some("log only"));
            continue;
        }
        ops.extend(edits.remove.iter().map(|n| HeaderOp::Remove(n.to_ascii_lowercase())));
        ops.extend(edits.set.iter().map(|(n, v)| HeaderOp::Set(n.to_ascii_lowercase(), v.clone())));
        ctx.record(Phase::Respond, "headers", Some(&rule.id), None);
    }
    if ops.is_empty() {
        ctx.record(Phase::Respond, "continue", None, None);
    }
    ops
}
