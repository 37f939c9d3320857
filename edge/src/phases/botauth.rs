//! Web Bot Auth at the edge: before the filter rules run, a request that
//! carries `Signature` and `Signature-Input` is checked by the first matching
//! filter rule with action `web_bot_auth`: against the key directory of the
//! `Signature-Agent` entry its `web-bot-auth` signature covers, or, for a
//! signature over `@authority` only, against the pinned directory holding its
//! `keyid` (agents registered out of band; see [`crate::botauth`]). A verified agent gets the
//! bot class `verified_signed_agent` (so filter rules can let it past bot
//! checks by `when.bot_classes` / `when.signed_agents`) and an identity, its
//! directory origin, that rate-limit keys use (`agent`). Anything that fails
//! leaves the request unverified, for the ordinary bot rules; only a
//! directory that cannot be had follows the rule's `on_error`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::botauth::{agent_origin, claim, parse_card, parse_directory, verify_claim, AgentKind, Directory, DirectoryTimings, Rejection, SignedAgent, Window};
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
    /// Agent origin → its JWKS (`{"keys": [...]}`) or its signature-agent
    /// card with inline `jwks`.
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
            match (agent_origin(origin), pinned_keys(origin, jwks)) {
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

    /// The pinned directory holding `keyid`, with its agent origin.
    fn pinned_by_keyid(&self, keyid: &str) -> Option<(&String, &Arc<Directory>)> {
        self.pinned.iter().find(|(_, d)| d.thumbprints.iter().any(|t| t == keyid))
    }

    fn listed(list: &[String], a: &SignedAgent) -> bool {
        list.iter().any(|x| *x == a.origin || *x == a.thumbprint)
    }
}

/// A pinned directory: a JWKS, or a signature-agent card (`client_id` = the
/// pinned URL) carrying its keys inline.
fn pinned_keys(url: &str, value: &Value) -> Result<Directory, String> {
    let bytes = value.to_string();
    if value.get("client_id").is_none() {
        return parse_directory(bytes.as_bytes());
    }
    let card = parse_card(url, bytes.as_bytes())?;
    card.jwks.ok_or_else(|| "pin the card with its keys inline (`jwks`); `jwks_uri` is not fetched".to_string())
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
    if req.header("signature").is_none() || req.header("signature-input").is_none() {
        return Verdict::Continue;
    }
    let Some((rule, cfg)) = rules.filter.iter().find_map(|r| match &r.action {
        FilterAction::WebBotAuth(c) if r.when.matches(req) => Some((r, c)),
        _ => None,
    }) else {
        return Verdict::Continue;
    };
    // Signatures without an agent are someone else's unless a key is pinned.
    if req.header("signature-agent").is_none() && cfg.pinned.is_empty() {
        return Verdict::Continue;
    }
    match verify(cfg, req, ctx.now_ms, io).await {
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

async fn verify<D: Directories>(cfg: &WebBotAuth, req: &RequestInfo, now_ms: u64, io: &D) -> Result<SignedAgent, Rejection> {
    let claim = claim(req)?;
    let now_s = now_ms / 1000;
    let agent = match &claim.agent {
        // `@authority` only: known by its keyid in a pinned directory.
        None => match cfg.pinned_by_keyid(&claim.keyid) {
            Some((origin, dir)) => verify_claim(req, &claim, origin, dir, cfg.window, now_s)?,
            None if req.header("signature-agent").is_some() => {
                return Err(Rejection::Signature(origin_sdk::verify::VerifyError::ComponentNotCovered("signature-agent".into())))
            }
            None => return Err(Rejection::KeyidNotPinned(claim.keyid.clone())),
        },
        Some((entry, _)) => {
            let origin = agent_origin(&entry.uri).map_err(Rejection::BadAgent)?;
            if cfg.deny.contains(&origin) {
                return Err(Rejection::Refused(format!("{origin} is denied")));
            }
            if let Some(dir) = cfg.pinned.get(&origin) {
                verify_claim(req, &claim, &origin, dir, cfg.window, now_s)?
            } else if !cfg.fetch {
                return Err(Rejection::Refused(format!("{origin} is not pinned")));
            } else if entry.kind != AgentKind::Directory {
                return Err(Rejection::BadAgent(format!("Signature-Agent type `{}` is not fetched; pin the agent's keys", entry.kind.code())));
            } else {
                let dir = io.agent_directory(&origin, cfg.timings, cfg.window, now_ms, false).await?;
                match verify_claim(req, &claim, &origin, &dir, cfg.window, now_s) {
                    // Perhaps a rotated key: refetch (at most once per cooldown).
                    Err(Rejection::KeyidNotThumbprint(_)) => {
                        let dir = io.agent_directory(&origin, cfg.timings, cfg.window, now_ms, true).await?;
                        verify_claim(req, &claim, &origin, &dir, cfg.window, now_s)?
                    }
                    other => other?,
                }
            }
        }
    };
    if cfg.deny.contains(&agent.origin) || WebBotAuth::listed(&cfg.deny, &agent) {
        return Err(Rejection::Refused(format!("{} key {} is denied", agent.origin, agent.thumbprint)));
    }
    if !cfg.allow.is_empty() && !WebBotAuth::listed(&cfg.allow, &agent) {
        return Err(Rejection::Refused(format!("{} is not allowed", agent.origin)));
    }
    Ok(agent)
}

#[cfg(test)]
mod tests;
