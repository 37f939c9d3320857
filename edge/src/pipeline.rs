//! The request pipeline: named phases in request order, each a pure function of
//! the rules, the request and what earlier phases recorded.
//!
//! ```text
//! normalize → filter → authenticate → limit → cache → route → forward → respond → log
//! ```
//!
//! The shell runs [`Pipeline::request_filter`], performs the I/O the decision
//! asks for (fetch the origin), then [`Pipeline::response_filter`] and
//! [`Pipeline::logging`]. Everything here also runs natively, which is what
//! makes unit tests and `edge-rules explain` possible without workerd.

use serde::Serialize;

use crate::phases::respond::HeaderOp;
use crate::phases::cache::{self, CachePlan, CacheStatus};
use crate::phases::{authenticate, botauth, filter, limit, normalize, respond, route};
use crate::request::RequestInfo;
use crate::rules::Rules;

/// The phases, in request order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Normalize,
    Filter,
    Authenticate,
    Limit,
    Cache,
    Route,
    Forward,
    Respond,
    Log,
}

/// What one phase decided, for logs and `explain`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseRecord {
    pub phase: Phase,
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Facts later phases and the trust headers need; filled by authenticate and the
/// bot checks (empty until those phases set them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    pub user: Option<String>,
    /// The verified claims chosen for forwarding (the claims trust header).
    pub claims: Option<serde_json::Value>,
    /// Every verified claim, for later phases (rate-limit keys); never forwarded.
    #[serde(skip)]
    pub verified_claims: Option<serde_json::Map<String, serde_json::Value>>,
    pub bot_score: Option<u8>,
    pub bot_class: Option<String>,
    /// A verified Web Bot Auth agent: its directory origin (rate-limit key `agent`).
    pub agent: Option<String>,
}

/// Per-request state carried through the phases.
#[derive(Debug, Clone, PartialEq)]
pub struct Ctx {
    pub request_id: String,
    /// Milliseconds since the Unix epoch when the request arrived.
    pub now_ms: u64,
    pub records: Vec<PhaseRecord>,
    pub facts: Facts,
    /// Name of the origin chosen by `route`.
    pub origin: Option<String>,
    /// Header edits phases ask for on the response (e.g. `RateLimit`), applied
    /// by `respond` after the rules' own edits.
    pub response_ops: Vec<HeaderOp>,
    /// Most body bytes the shell may forward, set by a `limits` rule for a
    /// body streamed without `Content-Length` (413 beyond it).
    pub body_limit: Option<u64>,
    /// What the cache phase decided; the shell performs it.
    pub cache_plan: Option<CachePlan>,
    /// What the cache did (the `x-edge-cache` header); `BYPASS` when unset.
    pub cache_status: Option<CacheStatus>,
}

impl Ctx {
    pub fn new(request_id: impl Into<String>, now_ms: u64) -> Self {
        Self {
            request_id: request_id.into(),
            now_ms,
            records: Vec::new(),
            facts: Facts::default(),
            origin: None,
            response_ops: Vec::new(),
            body_limit: None,
            cache_plan: None,
            cache_status: None,
        }
    }

    pub fn record(&mut self, phase: Phase, action: &str, rule: Option<&str>, note: Option<&str>) {
        self.records.push(PhaseRecord {
            phase,
            action: action.to_string(),
            rule: rule.map(str::to_string),
            note: note.map(str::to_string),
        });
    }

    /// Ids of the rules that matched, in order (log-only ones included).
    pub fn matched_rules(&self) -> impl Iterator<Item = &str> {
        self.records.iter().filter_map(|r| r.rule.as_deref())
    }
}

/// A response made at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl EdgeResponse {
    /// A small JSON error naming the rule and request id, so an operator can
    /// find the log line a user reports.
    pub fn error(status: u16, message: &str, rule: Option<&str>, request_id: &str) -> Self {
        let body = serde_json::json!({ "error": message, "rule": rule, "request_id": request_id });
        Self {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body: body.to_string(),
        }
    }
}

/// The outcome of one phase.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Continue,
    Respond(EdgeResponse),
}

/// What the request phases decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer at the edge.
    Respond(EdgeResponse),
    /// Forward to this URL on the chosen origin.
    Forward { origin: String, url: String },
    /// The cache purge endpoint: the shell checks the bearer secret and
    /// deletes the URLs in the body.
    Purge { rule: String },
}

/// Everything the phases need from the outside world: the shell implements it
/// over workerd's bindings, tests and `edge-rules explain` over memory.
pub trait Io: authenticate::Keys + limit::Counters + filter::Secrets + botauth::Directories {}

impl<T: authenticate::Keys + limit::Counters + filter::Secrets + botauth::Directories> Io for T {}

/// The phases over one compiled rules document.
#[derive(Debug, Clone, Copy)]
pub struct Pipeline<'r> {
    pub rules: &'r Rules,
}

impl<'r> Pipeline<'r> {
    pub fn new(rules: &'r Rules) -> Self {
        Self { rules }
    }

    /// normalize → filter → authenticate → limit → cache → route.
    pub async fn request_filter<I: Io>(&self, req: &RequestInfo, ctx: &mut Ctx, io: &I) -> Decision {
        if let Verdict::Respond(r) = normalize::run(req, ctx) {
            return Decision::Respond(r);
        }
        normalize::record_removed_headers(req, &self.rules.settings, ctx);
        if let Verdict::Respond(r) = botauth::run(self.rules, req, ctx, io).await {
            return Decision::Respond(r);
        }
        if let Verdict::Respond(r) = filter::run(self.rules, req, ctx, io) {
            return Decision::Respond(r);
        }
        if let Some(r) = respond::cors_preflight(self.rules, req, ctx) {
            return Decision::Respond(r);
        }
        if let Verdict::Respond(r) = authenticate::run(self.rules, req, ctx, io).await {
            return Decision::Respond(r);
        }
        if let Verdict::Respond(r) = limit::run(self.rules, req, ctx, io).await {
            return Decision::Respond(r);
        }
        match cache::run(self.rules, req, ctx) {
            CachePlan::Purge { rule } => return Decision::Purge { rule },
            plan => ctx.cache_plan = Some(plan),
        }
        let Some(name) = route::run(self.rules, req, ctx) else {
            return Decision::Respond(EdgeResponse::error(503, "no origin configured for this request", None, &ctx.request_id));
        };
        match self.rules.origins.get(&name) {
            Some(origin) => {
                ctx.origin = Some(name.clone());
                Decision::Forward { origin: name, url: origin.url_for(&req.path, req.query.as_deref()) }
            }
            // Validation guarantees references resolve; stay total anyway.
            None => Decision::Respond(EdgeResponse::error(503, "origin not configured", None, &ctx.request_id)),
        }
    }

    /// respond: the header edits for any response, forwarded or made here.
    pub fn response_filter(&self, req: &RequestInfo, ctx: &mut Ctx) -> Vec<HeaderOp> {
        let mut ops = respond::run(self.rules, req, ctx);
        ops.append(&mut ctx.response_ops);
        ops.push(HeaderOp::Set("x-edge-request-id".into(), ctx.request_id.clone()));
        if self.rules.settings.server_timing {
            ops.push(HeaderOp::Set("server-timing".into(), crate::log::server_timing(req, ctx)));
        }
        let status = ctx.cache_status.unwrap_or(CacheStatus::Bypass);
        ops.push(HeaderOp::Set(cache::STATUS_HEADER.into(), status.as_str().into()));
        ops
    }
}
