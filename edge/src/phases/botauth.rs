//! Web Bot Auth at the edge: before the filter rules run, a request that
//! carries `Signature`, `Signature-Input` and `Signature-Agent` is checked
//! against its agent's key directory (see [`crate::botauth`]) by the first
//! matching filter rule with action `web_bot_auth`. A verified agent gets the
//! bot class `verified_signed_agent` (so filter rules can let it past bot
//! checks by `when.bot_classes` / `when.signed_agents`) and an identity, its
//! directory origin, that rate-limit keys use (`agent`). Anything that fails
//! leaves the request unverified, for the ordinary bot rules; only a
//! directory that cannot be had follows the rule's `on_error`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::botauth::{agent_origin, parse_directory, verify_request, Directory, DirectoryTimings, Rejection, SignedAgent, Window};
use crate::pipeline::{Ctx, EdgeResponse, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::validate::{params, Errors};
use crate::rules::{JsonPath, Mode, OnError, Rules};
use crate::waf::{BotClass, BotVerdict};

use super::filter::FilterAction;

/// Compiled params of a `web_bot_auth` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct WebBotAuth {
    /// Directories the operator pinned, by agent origin: never fetched.
    pub pinned: BTreeMap<String, Arc<Directory>>,
    /// Fetch the directories of agents not pinned.
    pub fetch: bool,
    /// Agent origins or key thumbprints accepted; empty accepts any.
    pub allow: Vec<String>,
    /// Agent origins or key thumbprints never verified.
    pub deny: Vec<String>,
    pub timings: DirectoryTimings,
    pub window: Window,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawParams {
    /// Agent origin → its JWKS (`{"keys": [...]}`).
    directories: BTreeMap<String, Value>,
    fetch: bool,
    allow: Vec<String>,
    deny: Vec<String>,
    ttl_seconds: u64,
    cooldown_seconds: u64,
    max_skew_seconds: u64,
    max_validity_seconds: u64,
}

impl Default for RawParams {
    fn default() -> Self {
        Self {
            directories: BTreeMap::new(),
            fetch: true,
            allow: Vec::new(),
            deny: Vec::new(),
            ttl_seconds: 3600,
            cooldown_seconds: 60,
            max_skew_seconds: 10,
            max_validity_seconds: 300,
        }
    }
}

impl WebBotAuth {
    pub fn compile(p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        let raw: RawParams = params(p, path, errors)?;
        let before = errors.0.len();
        let mut pinned = BTreeMap::new();
        for (origin, jwks) in &raw.directories {
            let at = path.key("directories").key(origin);
            match (agent_origin(origin), parse_directory(jwks.to_string().as_bytes())) {
                (Ok(o), Ok(d)) => {
                    pinned.insert(o, Arc::new(d));
                }
                (Err(e), _) => errors.push(at, format!("not an agent origin: {e}")),
                (_, Err(e)) => errors.push(at, e),
            }
        }
        if !(60..=7 * 86_400).contains(&raw.ttl_seconds) {
            errors.push(path.key("ttl_seconds"), "ttl_seconds must be 60 to 604800");
        }
        if !(1..=3600).contains(&raw.cooldown_seconds) {
            errors.push(path.key("cooldown_seconds"), "cooldown_seconds must be 1 to 3600");
        }
        if raw.max_skew_seconds > 300 {
            errors.push(path.key("max_skew_seconds"), "max_skew_seconds is at most 300");
        }
        if !(1..=86_400).contains(&raw.max_validity_seconds) {
            errors.push(path.key("max_validity_seconds"), "max_validity_seconds must be 1 to 86400");
        }
        if !raw.fetch && pinned.is_empty() {
            errors.push(path.key("fetch"), "with fetch off, pin at least one directory");
        }
        let norm = |v: &[String]| v.iter().map(|s| agent_origin(s).unwrap_or_else(|_| s.clone())).collect::<Vec<_>>();
        (errors.0.len() == before).then(|| Self {
            pinned,
            fetch: raw.fetch,
            allow: norm(&raw.allow),
            deny: norm(&raw.deny),
            timings: DirectoryTimings { ttl_ms: raw.ttl_seconds * 1000, cooldown_ms: raw.cooldown_seconds * 1000 },
            window: Window { max_skew_secs: raw.max_skew_seconds, max_validity_secs: raw.max_validity_seconds },
        })
    }

    fn listed(list: &[String], a: &SignedAgent) -> bool {
        list.iter().any(|x| *x == a.origin || *x == a.thumbprint)
    }
}

/// Agent key directories: fetched and cached by the shell (policy in
/// [`crate::botauth::cached_directory`]).
#[allow(async_fn_in_trait)]
pub trait Directories {
    async fn agent_directory(&self, origin: &str, t: DirectoryTimings, w: Window, now_ms: u64, refresh: bool) -> Result<Arc<Directory>, Rejection> {
        let _ = (origin, t, w, now_ms, refresh);
        Err(Rejection::DirectoryUnavailable("no directory fetcher here".into()))
    }
}

const ACTION: &str = "web_bot_auth";

pub async fn run<D: Directories>(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx, io: &D) -> Verdict {
    let Some(header) = req.header("signature-agent") else { return Verdict::Continue };
    if req.header("signature").is_none() || req.header("signature-input").is_none() {
        return Verdict::Continue;
    }
    let Some((rule, cfg)) = rules.filter.iter().find_map(|r| match &r.action {
        FilterAction::WebBotAuth(c) if r.when.matches(req) => Some((r, c)),
        _ => None,
    }) else {
        return Verdict::Continue;
    };
    match verify(cfg, header, req, ctx.now_ms, io).await {
        Ok(agent) if rule.mode == Mode::Log => {
            ctx.record(Phase::Filter, ACTION, Some(&rule.id), Some(&format!("log only: verified {}", agent.origin)));
        }
        Ok(agent) => {
            ctx.record(Phase::Filter, ACTION, Some(&rule.id), Some(&format!("verified {} key {}", agent.origin, agent.thumbprint)));
            ctx.facts.agent = Some(agent.origin.clone());
            // First use of the verdict: the filter phase reads it next.
            let _ = req.bot_verdict.set(BotVerdict { class: BotClass::VerifiedSignedAgent, score: 1, verified: true, reasons: vec!["web_bot_auth"] });
            let _ = req.signed_agent.set(agent);
        }
        Err(e @ Rejection::DirectoryUnavailable(_)) if rule.on_error == OnError::Closed && rule.mode == Mode::Enforce => {
            ctx.record(Phase::Filter, ACTION, Some(&rule.id), Some(&format!("unverified: {e}")));
            return Verdict::Respond(EdgeResponse::error(503, "agent key directory unavailable", Some(&rule.id), &ctx.request_id));
        }
        Err(e) => ctx.record(Phase::Filter, ACTION, Some(&rule.id), Some(&format!("unverified: {e}"))),
    }
    Verdict::Continue
}

async fn verify<D: Directories>(cfg: &WebBotAuth, header: &str, req: &RequestInfo, now_ms: u64, io: &D) -> Result<SignedAgent, Rejection> {
    let origin = agent_origin(header).map_err(Rejection::BadAgent)?;
    if cfg.deny.contains(&origin) {
        return Err(Rejection::Refused(format!("{origin} is denied")));
    }
    let now_s = now_ms / 1000;
    let agent = if let Some(dir) = cfg.pinned.get(&origin) {
        verify_request(req, &origin, dir, cfg.window, now_s)?
    } else if !cfg.fetch {
        return Err(Rejection::Refused(format!("{origin} is not pinned")));
    } else {
        let dir = io.agent_directory(&origin, cfg.timings, cfg.window, now_ms, false).await?;
        match verify_request(req, &origin, &dir, cfg.window, now_s) {
            // Perhaps a rotated key: refetch (at most once per cooldown).
            Err(Rejection::KeyidNotThumbprint(_)) => {
                let dir = io.agent_directory(&origin, cfg.timings, cfg.window, now_ms, true).await?;
                verify_request(req, &origin, &dir, cfg.window, now_s)?
            }
            other => other?,
        }
    };
    if WebBotAuth::listed(&cfg.deny, &agent) {
        return Err(Rejection::Refused(format!("key {} is denied", agent.thumbprint)));
    }
    if !cfg.allow.is_empty() && !WebBotAuth::listed(&cfg.allow, &agent) {
        return Err(Rejection::Refused(format!("{} is not allowed", agent.origin)));
    }
    Ok(agent)
}

#[cfg(test)]
mod tests;
