//! `filter`: first matching rule wins; `allow` ends the phase, `block` answers
//! at the edge. A rule in `log` mode records what it would have done and the
//! phase goes on to the next rule.

use serde::Deserialize;
use serde_json::Value;

use super::https_redirect::HttpsRedirect;
use crate::pipeline::{Ctx, EdgeResponse, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::validate::{params, Errors, PhaseAction};
use crate::rules::{JsonPath, Mode, Rules};

#[derive(Debug, Clone, PartialEq)]
pub enum FilterAction {
    /// Skip the remaining filter rules.
    Allow,
    /// Answer with `status` (default 403) and a small body.
    Block(BlockParams),
    /// Only record the match.
    Log,
    /// Send plain-HTTP requests to HTTPS (skipped, not ended, where it does not apply).
    HttpsRedirect(HttpsRedirect),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockParams {
    pub status: u16,
    pub message: String,
}

impl Default for BlockParams {
    fn default() -> Self {
        Self { status: 403, message: "Forbidden".to_string() }
    }
}

impl PhaseAction for FilterAction {
    const PHASE: &'static str = "filter";
    const ACTIONS: &'static [&'static str] = &["allow", "block", "log", "https_redirect"];

    fn compile(action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        match action {
            "allow" | "log" => {
                if !p.is_null() && p != &Value::Object(Default::default()) {
                    errors.push(path.clone(), format!("the {action} action takes no params"));
                    return None;
                }
                Some(if action == "allow" { Self::Allow } else { Self::Log })
            }
            "https_redirect" => HttpsRedirect::compile(p, path, errors).map(Self::HttpsRedirect),
            _ => {
                let b: BlockParams = params(p, path, errors)?;
                if !(400..=599).contains(&b.status) {
                    errors.push(path.key("status"), "block status must be 400 to 599");
                    return None;
                }
                if b.message.len() > 1024 {
                    errors.push(path.key("message"), "message is limited to 1024 characters");
                    return None;
                }
                Some(Self::Block(b))
            }
        }
    }
}

pub fn run(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx) -> Verdict {
    for rule in rules.filter.iter().filter(|r| r.when.matches(req)) {
        let name = match &rule.action {
            FilterAction::Allow => "allow",
            FilterAction::Block(_) => "block",
            FilterAction::Log => "log",
            FilterAction::HttpsRedirect(_) => "https_redirect",
        };
        let redirect = match &rule.action {
            FilterAction::HttpsRedirect(r) => match r.response(req) {
                Some(resp) => Some(resp),
                // Already HTTPS, or an excepted path: the rule does not apply.
                None => continue,
            },
            _ => None,
        };
        if rule.mode == Mode::Log || rule.action == FilterAction::Log {
            ctx.record(Phase::Filter, name, Some(&rule.id), Some("log only"));
            continue;
        }
        ctx.record(Phase::Filter, name, Some(&rule.id), None);
        if let Some(resp) = redirect {
            return Verdict::Respond(resp);
        }
        return match &rule.action {
            FilterAction::Block(b) => {
                Verdict::Respond(EdgeResponse::error(b.status, &b.message, Some(&rule.id), &ctx.request_id))
            }
            _ => Verdict::Continue,
        };
    }
    ctx.record(Phase::Filter, "continue", None, None);
    Verdict::Continue
}
