//! `filter`: the firewall. Rules are evaluated in order and the first one that
//! acts wins: `allow` ends the phase, `block` and an unsolved `challenge` answer
//! at the edge. `waf`, `limits` and a `challenge` the client has already passed
//! act only when their check fails; otherwise evaluation goes on with the next
//! rule. A rule in `log` mode records what it would have done and the phase
//! goes on.
//!
//! Every request gets a bot verdict here (User-Agent class, header
//! consistency, `request.cf.botManagement`), which rules match with
//! `when.bot_*` and which reaches the origin in the trust headers.

use serde::Deserialize;
use serde_json::Value;

use crate::challenge::{self, Client};
use super::https_redirect::HttpsRedirect;
use crate::pipeline::{Ctx, EdgeResponse, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::validate::{params, Errors, PhaseAction};
use crate::rules::{JsonPath, Mode, OnError, Rule, Rules};
use crate::waf::crs::{self, Ruleset};
use crate::waf::{self, Inspectable, WafConfig};

#[derive(Debug, Clone, PartialEq)]
pub enum FilterAction {
    /// Skip the remaining filter rules.
    Allow,
    /// Answer with `status` (default 403) and a small body.
    Block(BlockParams),
    /// Only record the match.
    Log,
    /// Proof-of-work interstitial unless the client holds a valid clearance.
    Challenge(ChallengeParams),
    /// Attack signatures (anomaly scoring); blocks with 403 over the threshold.
    Waf(WafConfig),
    /// Size limits: 413, 414 or 431 when exceeded.
    Limits(LimitsParams),
    /// Send plain-HTTP requests to HTTPS (skipped, not ended, where it does not apply).
    HttpsRedirect(HttpsRedirect),
    /// Web Bot Auth: verifies signed agents before the rules run (see [`super::botauth`]).
    WebBotAuth(super::botauth::WebBotAuth),
}

impl FilterAction {
    fn name(&self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Block(_) => "block",
            Self::Log => "log",
            Self::Challenge(_) => "challenge",
            Self::Waf(_) => "waf",
            Self::Limits(_) => "limits",
            Self::HttpsRedirect(_) => "https_redirect",
            Self::WebBotAuth(_) => "web_bot_auth",
        }
    }
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

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChallengeParams {
    /// Leading zero bits the SHA-256 puzzle asks for (each bit doubles the
    /// expected work: 16 ≈ 65,000 hashes, well under a second in a browser).
    pub difficulty: u8,
    /// Lifetime of the clearance cookie.
    pub ttl_seconds: u64,
}

impl Default for ChallengeParams {
    fn default() -> Self {
        Self { difficulty: 16, ttl_seconds: 3600 }
    }
}

/// nginx-style request size limits; each is off when absent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsParams {
    /// Body size (`client_max_body_size`): 413. Checked on `Content-Length`
    /// here; a body streamed without one is counted while it is forwarded.
    pub max_body_bytes: Option<u64>,
    /// Path plus query: 414.
    pub max_url_bytes: Option<usize>,
    /// Number of request headers: 431.
    pub max_headers: Option<usize>,
    /// Total size of the headers (names and values): 431.
    pub max_header_bytes: Option<usize>,
}

/// Secrets the filter phase needs from the environment.
pub trait Secrets {
    /// The challenge key (Worker secret [`challenge::SECRET_NAME`]).
    fn challenge_key(&self) -> Option<Vec<u8>> {
        None
    }
}

fn no_params(action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> bool {
    if !p.is_null() && p != &Value::Object(Default::default()) {
        errors.push(path.clone(), format!("the {action} action takes no params"));
        return false;
    }
    true
}

impl PhaseAction for FilterAction {
    const PHASE: &'static str = "filter";
    const ACTIONS: &'static [&'static str] = &["allow", "block", "log", "challenge", "waf", "limits", "https_redirect", "web_bot_auth"];

    fn compile(action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        match action {
            "allow" => no_params(action, p, path, errors).then_some(Self::Allow),
            "log" => no_params(action, p, path, errors).then_some(Self::Log),
            "challenge" => {
                let c: ChallengeParams = params(p, path, errors)?;
                if !(1..=challenge::MAX_DIFFICULTY).contains(&c.difficulty) {
                    errors.push(path.key("difficulty"), format!("difficulty must be 1 to {} bits", challenge::MAX_DIFFICULTY));
                    return None;
                }
                if !(60..=30 * 86_400).contains(&c.ttl_seconds) {
                    errors.push(path.key("ttl_seconds"), "ttl_seconds must be 60 to 2592000 (30 days)");
                    return None;
                }
                Some(Self::Challenge(c))
            }
            "waf" => {
                let c: WafConfig = params(p, path, errors)?;
                let before = errors.0.len();
                if !(1..=4).contains(&c.paranoia) {
                    errors.push(path.key("paranoia"), "paranoia must be 1 to 4");
                }
                if c.threshold == 0 {
                    errors.push(path.key("threshold"), "threshold must be at least 1");
                }
                if c.body_limit_bytes > waf::MAX_BODY_LIMIT {
                    errors.push(path.key("body_limit_bytes"), format!("body_limit_bytes is at most {}", waf::MAX_BODY_LIMIT));
                }
                check_rulesets(&c, path, errors);
                (errors.0.len() == before).then_some(Self::Waf(c))
            }
            "limits" => {
                let l: LimitsParams = params(p, path, errors)?;
                if l == LimitsParams::default() {
                    errors.push(path.clone(), "limits needs at least one of max_body_bytes, max_url_bytes, max_headers, max_header_bytes");
                    return None;
                }
                Some(Self::Limits(l))
            }
            "https_redirect" => HttpsRedirect::compile(p, path, errors).map(Self::HttpsRedirect),
            "web_bot_auth" => super::botauth::WebBotAuth::compile(p, path, errors).map(Self::WebBotAuth),
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

/// `rulesets` must name at least one set, once; with CRS, every exclusion must
/// be expressible as a CRS exclusion.
fn check_rulesets(c: &WafConfig, path: &JsonPath, errors: &mut Errors) {
    let sets = path.key("rulesets");
    if c.rulesets.is_empty() {
        errors.push(sets.clone(), "rulesets names at least one of \"edge\", \"owasp-crs\"");
    }
    for (i, r) in c.rulesets.iter().enumerate() {
        if c.rulesets[..i].contains(r) {
            errors.push(sets.index(i), "a ruleset is listed twice");
        }
    }
    if !c.rulesets.contains(&Ruleset::OwaspCrs) {
        return;
    }
    for (i, e) in c.exclusions.iter().enumerate() {
        if let Err(why) = crs::check_exclusion(e) {
            errors.push(path.key("exclusions").index(i), why);
        }
    }
}

/// Methods whose body the WAF reads.
fn has_body(method: &str) -> bool {
    !matches!(method.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// A body whose size is not declared up front.
fn streams_body(req: &RequestInfo) -> bool {
    has_body(&req.method) && req.header("content-length").is_none()
}

/// How many body bytes the shell should read for inspection: the largest cap
/// of the `waf` rules matching this request, `None` when none needs the body.
pub fn body_cap(rules: &Rules, req: &RequestInfo) -> Option<usize> {
    if !has_body(&req.method) {
        return None;
    }
    rules
        .filter
        .iter()
        .filter_map(|r| match &r.action {
            FilterAction::Waf(c) if c.enabled && c.body_limit() > 0 && r.when.matches(req) => Some(c.body_read_cap()),
            _ => None,
        })
        .max()
}

pub fn run<S: Secrets>(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx, secrets: &S) -> Verdict {
    let bot = req.bot();
    ctx.facts.bot_score = Some(bot.score);
    ctx.facts.bot_class = Some(bot.class.code().to_string());

    let challenges = rules.filter.iter().any(|r| matches!(r.action, FilterAction::Challenge(_)));
    if challenges && req.path == challenge::VERIFY_PATH {
        return verify_challenge(req, ctx, secrets);
    }

    for rule in rules.filter.iter().filter(|r| r.when.matches(req)) {
        let name = rule.action.name();
        let log_only = rule.mode == Mode::Log;
        let outcome = match &rule.action {
            FilterAction::Log => {
                ctx.record(Phase::Filter, name, Some(&rule.id), Some("log only"));
                continue;
            }
            FilterAction::Allow => Outcome::Allow,
            FilterAction::Block(b) => Outcome::Respond(blocked(b.status, &b.message, &rule.id, req, ctx), None),
            FilterAction::Limits(l) => match exceeded(l, req) {
                Some((status, why)) => Outcome::Respond(blocked(status, why, &rule.id, req, ctx), Some(why.to_string())),
                None => {
                    // A body without Content-Length is counted by the shell as it streams.
                    if let Some(max) = l.max_body_bytes.filter(|_| !log_only && streams_body(req)) {
                        ctx.body_limit = Some(ctx.body_limit.map_or(max, |m| m.min(max)));
                    }
                    Outcome::Pass(None)
                }
            },
            FilterAction::Waf(cfg) => inspect(cfg, rule, req, ctx),
            FilterAction::Challenge(p) => challenge_rule(rule, p, req, ctx, secrets),
            FilterAction::HttpsRedirect(r) => match r.response(req) {
                Some(resp) => Outcome::Respond(resp, None),
                // Already HTTPS, or an excepted path: the rule does not apply.
                None => continue,
            },
            // Already applied before the rules (it may need a fetch).
            FilterAction::WebBotAuth(_) => continue,
        };
        match outcome {
            Outcome::Pass(note) => {
                if let Some(note) = note {
                    ctx.record(Phase::Filter, name, Some(&rule.id), Some(&note));
                }
            }
            Outcome::Allow if log_only => ctx.record(Phase::Filter, name, Some(&rule.id), Some("log only")),
            Outcome::Allow => {
                ctx.record(Phase::Filter, name, Some(&rule.id), None);
                return Verdict::Continue;
            }
            Outcome::Respond(_, note) if log_only => {
                let note = match note {
                    Some(n) => format!("log only: {n}"),
                    None => "log only".to_string(),
                };
                ctx.record(Phase::Filter, name, Some(&rule.id), Some(&note));
            }
            Outcome::Respond(r, note) => {
                ctx.record(Phase::Filter, name, Some(&rule.id), note.as_deref());
                return Verdict::Respond(r);
            }
        }
    }
    ctx.record(Phase::Filter, "continue", None, None);
    Verdict::Continue
}

/// What one matching rule decided.
enum Outcome {
    /// Its check passed: go on to the next rule (with a note worth logging).
    Pass(Option<String>),
    Allow,
    /// Answer at the edge (unless the rule is in log mode).
    Respond(EdgeResponse, Option<String>),
}

fn exceeded(l: &LimitsParams, req: &RequestInfo) -> Option<(u16, &'static str)> {
    let over = |limit: Option<usize>, n: usize| limit.is_some_and(|max| n > max);
    let url_bytes = req.path.len() + req.query.as_ref().map_or(0, |q| q.len() + 1);
    if over(l.max_url_bytes, url_bytes) {
        return Some((414, "URI too long"));
    }
    if over(l.max_headers, req.headers.len()) {
        return Some((431, "too many request headers"));
    }
    let header_bytes: usize = req.headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    if over(l.max_header_bytes, header_bytes) {
        return Some((431, "request headers too large"));
    }
    let declared = req.header("content-length").map(|v| v.trim().parse::<u64>());
    match (l.max_body_bytes, declared) {
        (Some(max), Some(Ok(len))) if len > max => Some((413, "request body too large")),
        (Some(_), Some(Err(_))) => Some((400, "invalid Content-Length")),
        _ => None,
    }
}

fn inspect(cfg: &WafConfig, rule: &Rule<FilterAction>, req: &RequestInfo, ctx: &mut Ctx) -> Outcome {
    let rule_id = rule.id.as_str();
    if cfg.enabled && has_body(&req.method) {
        let seen = req.body.as_ref().map_or(0, Vec::len);
        let declared = req.header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        if cfg.refuses_oversize(seen, declared) {
            let why = "request body larger than the inspected limit";
            return Outcome::Respond(blocked(413, why, rule_id, req, ctx), Some(why.to_string()));
        }
    }
    let mut notes: Vec<String> = Vec::new();
    let mut block = false;
    if cfg.rulesets.contains(&Ruleset::Edge) {
        let (exceeded, note) = inspect_edge(cfg, req);
        block |= exceeded;
        notes.extend(note);
    }
    if cfg.rulesets.contains(&Ruleset::OwaspCrs) {
        match inspect_crs(cfg, req) {
            Ok((blocked, note)) => {
                block |= blocked;
                notes.extend(note);
            }
            // Only a bug gets here (the shipped rules are loaded by the tests);
            // the rule's `on_error` decides, like any check that cannot run.
            Err(e) => match rule.on_error {
                OnError::Open => notes.push(format!("owasp-crs unavailable, failing open: {e}")),
                OnError::Closed => {
                    let r = EdgeResponse::error(503, "web application firewall unavailable", Some(rule_id), &ctx.request_id);
                    return Outcome::Respond(r, Some(format!("owasp-crs unavailable: {e}")));
                }
            },
        }
    }
    if notes.is_empty() {
        return Outcome::Pass(None);
    }
    let note = notes.join("; ");
    if block {
        let r = blocked(403, "Request blocked by the web application firewall", rule_id, req, ctx);
        Outcome::Respond(r, Some(note))
    } else {
        Outcome::Pass(Some(format!("below threshold, {note}")))
    }
}

/// The edge's own detectors: (threshold exceeded, log note).
fn inspect_edge(cfg: &WafConfig, req: &RequestInfo) -> (bool, Option<String>) {
    let target = Inspectable {
        path: &req.path,
        query: req.query.as_deref().unwrap_or(""),
        headers: req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(),
        content_type: req.header("content-type"),
        body: req.body.as_deref().unwrap_or(&[]),
    };
    let verdict = waf::inspect(&target, cfg);
    if verdict.matches.is_empty() {
        return (false, None);
    }
    // Rule ids and targets only: never the matched values.
    let mut seen: Vec<String> = Vec::new();
    for m in &verdict.matches {
        let s = format!("{}@{}", m.rule_id, m.target);
        if !seen.contains(&s) && seen.len() < 8 {
            seen.push(s);
        }
    }
    (verdict.threshold_exceeded, Some(format!("score {}: {}", verdict.score, seen.join(" "))))
}

/// OWASP CRS: (CRS denied, log note naming the CRS rule ids and variables).
fn inspect_crs(cfg: &WafConfig, req: &RequestInfo) -> Result<(bool, Option<String>), crs::CrsError> {
    let engine = crs::engine(cfg)?;
    let uri = match &req.query {
        Some(q) => format!("{}?{q}", req.path),
        None => req.path.clone(),
    };
    let mut headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    // The Workers runtime keeps `Host` in the URL; CRS scores a request without one.
    if req.header("host").is_none() && !req.host.is_empty() {
        headers.push(("host", &req.host));
    }
    let ip = req.client_ip.map(|ip| ip.to_string());
    let body = req.body.as_deref().unwrap_or(&[]);
    let target = crs::Request {
        method: &req.method,
        uri: &uri,
        protocol: req.cf.http_protocol.as_deref().unwrap_or("HTTP/1.1"),
        headers: &headers,
        body: &body[..body.len().min(cfg.body_limit())],
        client_ip: ip.as_deref(),
    };
    let verdict = engine.inspect(&target);
    if verdict.matches.is_empty() && !verdict.blocked {
        return Ok((false, None));
    }
    let mut seen: Vec<String> = Vec::new();
    for m in &verdict.matches {
        let s = format!("crs-{}@{}", m.rule_id, m.target);
        if !seen.contains(&s) && seen.len() < 8 {
            seen.push(s);
        }
    }
    Ok((verdict.blocked, Some(format!("owasp-crs score {}: {}", verdict.score, seen.join(" ")))))
}

fn client(req: &RequestInfo) -> (String, &str) {
    (req.client_ip.map(|ip| ip.to_string()).unwrap_or_default(), req.header("user-agent").unwrap_or(""))
}

fn key<S: Secrets>(secrets: &S) -> Option<Vec<u8>> {
    secrets.challenge_key().filter(|k| k.len() >= challenge::MIN_KEY_BYTES)
}

fn challenge_rule<S: Secrets>(
    rule: &Rule<FilterAction>,
    p: &ChallengeParams,
    req: &RequestInfo,
    ctx: &mut Ctx,
    secrets: &S,
) -> Outcome {
    let Some(key) = key(secrets) else {
        return match rule.on_error {
            OnError::Open => Outcome::Pass(Some("no challenge key; failing open".into())),
            OnError::Closed => Outcome::Respond(
                EdgeResponse::error(503, "challenge unavailable", Some(&rule.id), &ctx.request_id),
                Some("no challenge key".into()),
            ),
        };
    };
    let (ip, ua) = client(req);
    let who = Client { ip: &ip, user_agent: ua };
    let now_s = ctx.now_ms / 1000;
    let presented = req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("cookie")).find_map(|(_, v)| challenge::cookie(v, challenge::COOKIE));
    let refused = match presented {
        Some(value) => match challenge::check_clearance(&key, who, value, now_s) {
            Ok(()) => return Outcome::Pass(Some("cleared".into())),
            Err(why) => Some(why),
        },
        None => None,
    };
    let token = challenge::issue(&key, who, now_s, p.difficulty, p.ttl_seconds, &ctx.request_id);
    let return_to = match &req.query {
        Some(q) => format!("{}?{q}", req.path),
        None => req.path.clone(),
    };
    let response = EdgeResponse {
        status: 403,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "no-store".into()),
            ("x-edge-challenge".into(), "pow".into()),
        ],
        body: challenge::page(&token, p.difficulty, &return_to),
    };
    let note = match refused {
        Some(why) => format!("clearance refused: {}", why.as_str()),
        None => "issued".to_string(),
    };
    Outcome::Respond(response, Some(note))
}

/// `GET /__edge/challenge?token=…&answer=…&return=…`: the page's answer. A
/// correct one sets the clearance cookie and redirects back.
fn verify_challenge<S: Secrets>(req: &RequestInfo, ctx: &mut Ctx, secrets: &S) -> Verdict {
    let fail = |ctx: &mut Ctx, status: u16, why: &str| {
        ctx.record(Phase::Filter, "challenge", None, Some(&format!("answer refused: {why}")));
        Verdict::Respond(EdgeResponse::error(status, &format!("challenge failed: {why}"), None, &ctx.request_id))
    };
    let Some(key) = key(secrets) else {
        return fail(ctx, 503, "no challenge key");
    };
    let first = |name: &str| req.query_values(name).next().map(challenge::percent_decode);
    let (Some(token), Some(answer)) = (first("token"), first("answer")) else {
        return fail(ctx, 400, "token and answer required");
    };
    let (ip, ua) = client(req);
    let who = Client { ip: &ip, user_agent: ua };
    let now_s = ctx.now_ms / 1000;
    let puzzle = match challenge::verify_answer(&key, who, &token, &answer, now_s) {
        Ok(p) => p,
        Err(why) => return fail(ctx, 403, why.as_str()),
    };
    let expires = now_s.saturating_add(puzzle.ttl_seconds);
    let secure = if req.scheme == "https" { "; Secure" } else { "" };
    let cookie = format!(
        "{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        challenge::COOKIE,
        challenge::clearance(&key, who, expires),
        puzzle.ttl_seconds
    );
    let location = challenge::safe_return_path(req.query_values("return").next().unwrap_or("/"));
    ctx.record(Phase::Filter, "challenge", None, Some("solved"));
    Verdict::Respond(EdgeResponse {
        status: 303,
        headers: vec![
            ("location".into(), location),
            ("set-cookie".into(), cookie),
            ("cache-control".into(), "no-store".into()),
        ],
        body: String::new(),
    })
}

/// A refusal in the client's language: HTML for browsers, JSON otherwise.
fn blocked(status: u16, message: &str, rule: &str, req: &RequestInfo, ctx: &Ctx) -> EdgeResponse {
    if !prefers_html(req.header("accept").unwrap_or("")) {
        return EdgeResponse::error(status, message, Some(rule), &ctx.request_id);
    }
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    EdgeResponse {
        status,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            ("cache-control".into(), "no-store".into()),
        ],
        body: format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{status} {m}</title></head>\
             <body><h1>{m}</h1><p>Rule <code>{r}</code>, request id <code>{id}</code>.</p></body></html>\n",
            m = esc(message),
            r = esc(rule),
            id = esc(&ctx.request_id),
        ),
    }
}

/// Whether `Accept` asks for HTML before JSON (browsers do; API clients and
/// `*/*` get JSON).
fn prefers_html(accept: &str) -> bool {
    let pos = |needle: &str| accept.find(needle);
    match (pos("text/html"), pos("application/json")) {
        (Some(h), Some(j)) => h < j,
        (Some(_), None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
