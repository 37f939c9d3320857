//! `limit`: rate limiting (GCRA, see [`crate::limit`]).
//!
//! Every matching rule counts the request under its own key (see
//! [`crate::limit::keys`]), in rule order. The first rule in `enforce` mode
//! that is over its limit answers with its status and `Retry-After`; a rule
//! in `log` mode (or with the `log` action) only records that it would have.
//! Every response on a route with an enforced rule carries the rules'
//! `RateLimit-Policy` and `RateLimit` fields.
//!
//! The counting itself is I/O ([`Counters`]): a Durable Object per key
//! (`global`), or the Rate Limiting binding / an in-isolate store (`local`).

use serde::Deserialize;
use serde_json::Value;

use crate::limit::headers::{self, PolicyName};
use crate::limit::keys::{counting_key, KeyPart, MAX_PARTS};
use crate::limit::{Outcome, Quota};
use crate::phases::respond::HeaderOp;
use crate::pipeline::{Ctx, EdgeResponse, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::validate::{params_required, Errors, PhaseAction};
use crate::rules::when::Glob;
use crate::rules::{JsonPath, Mode, OnError, Rules};

/// Bounds that keep a rule meaningful (and its numbers representable).
pub const MAX_RATE: u32 = 1_000_000;
pub const MAX_PERIOD_S: u64 = 86_400;
pub const MAX_BURST: u32 = 100_000;
pub const MAX_TIMEOUT_S: u64 = 86_400;
/// Periods the Workers Rate Limiting binding supports.
pub const BINDING_PERIODS_S: [u64; 2] = [10, 60];

/// The actions of the limit phase; both count, only `block` refuses.
#[derive(Debug, Clone, PartialEq)]
pub enum LimitAction {
    Block(LimitParams),
    /// Shadow mode: count and record "would limit", never refuse.
    Log(LimitParams),
}

impl LimitAction {
    pub fn params(&self) -> &LimitParams {
        match self {
            Self::Block(p) | Self::Log(p) => p,
        }
    }
}

/// Where a rule's counters live, and what each promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// Exact: one Durable Object per counting key serializes every decision,
    /// worldwide. Costs one subrequest per counted request (an isolate skips
    /// it while it knows the key is limited).
    Global,
    /// Approximate, no round trip to a single place. With `binding`: the
    /// Workers Rate Limiting binding of that name (per Cloudflare location,
    /// eventually consistent; its own `limit`/`period` apply and must equal
    /// the rule's). Without: a GCRA store in this isolate's memory (each
    /// isolate counts alone).
    Local { binding: Option<String> },
}

/// A compiled rate-limit rule.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitParams {
    pub key: Vec<KeyPart>,
    pub quota: Quota,
    /// Status of a refused request (block only).
    pub status: u16,
    /// Once limited, stay refused this long (0: plain GCRA).
    pub timeout_ms: u64,
    pub store: Store,
    /// Paths this rule never counts (health checks).
    pub exempt: Vec<Glob>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParams {
    /// Characteristics the counting key combines, e.g. `["ip"]`, `["header:x-api-key"]`.
    key: Vec<String>,
    /// Requests per `period`.
    rate: u32,
    /// Seconds.
    period: u64,
    /// Extra requests that may arrive at once: up to `burst + 1` back to back.
    #[serde(default)]
    burst: u32,
    status: Option<u16>,
    /// Mitigation timeout in seconds.
    #[serde(default)]
    timeout: u64,
    #[serde(default)]
    store: RawStore,
    /// Name of a `[[ratelimits]]` binding (store `local` only).
    binding: Option<String>,
    #[serde(default)]
    exempt: Vec<String>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawStore {
    #[default]
    Global,
    Local,
}

impl PhaseAction for LimitAction {
    const PHASE: &'static str = "limit";
    const ACTIONS: &'static [&'static str] = &["block", "log"];

    fn compile(action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        let raw: RawParams = params_required(p, path, errors)?;
        let before = errors.0.len();

        if raw.key.is_empty() {
            errors.push(path.key("key"), "the counting key needs at least one characteristic, e.g. [\"ip\"]");
        } else if raw.key.len() > MAX_PARTS {
            errors.push(path.key("key"), format!("a key combines at most {MAX_PARTS} characteristics"));
        }
        let mut key = Vec::new();
        for (i, s) in raw.key.iter().enumerate() {
            match KeyPart::parse(s) {
                Ok(k) if key.contains(&k) => errors.push(path.key("key").index(i), format!("{s:?} is listed twice")),
                Ok(k) => key.push(k),
                Err(msg) => errors.push(path.key("key").index(i), msg),
            }
        }
        if !(1..=MAX_RATE).contains(&raw.rate) {
            errors.push(path.key("rate"), format!("rate must be 1 to {MAX_RATE} requests per period"));
        }
        if !(1..=MAX_PERIOD_S).contains(&raw.period) {
            errors.push(path.key("period"), format!("period must be 1 to {MAX_PERIOD_S} seconds"));
        }
        if raw.burst > MAX_BURST {
            errors.push(path.key("burst"), format!("burst must be at most {MAX_BURST}"));
        }
        if raw.timeout > MAX_TIMEOUT_S {
            errors.push(path.key("timeout"), format!("timeout must be at most {MAX_TIMEOUT_S} seconds"));
        }
        let status = match (action, raw.status) {
            ("log", Some(_)) => {
                errors.push(path.key("status"), "status applies to the block action only");
                0
            }
            (_, Some(s)) if !(400..=599).contains(&s) => {
                errors.push(path.key("status"), "status must be 400 to 599");
                0
            }
            (_, s) => s.unwrap_or(429),
        };
        let store = match (raw.store, raw.binding) {
            (RawStore::Global, None) => Store::Global,
            (RawStore::Global, Some(_)) => {
                errors.push(path.key("binding"), "a Rate Limiting binding is a local store: set \"store\": \"local\"");
                Store::Global
            }
            (RawStore::Local, None) => Store::Local { binding: None },
            (RawStore::Local, Some(b)) => {
                if b.is_empty() || b.len() > 64 || !b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    errors.push(path.key("binding"), "binding names use letters, digits and '_' (1 to 64)");
                }
                if !BINDING_PERIODS_S.contains(&raw.period) {
                    errors.push(path.key("period"), "the Rate Limiting binding counts per 10 or 60 seconds only");
                }
                if raw.burst != 0 {
                    errors.push(path.key("burst"), "the Rate Limiting binding has no burst: it admits `rate` per period");
                }
                if raw.timeout != 0 {
                    errors.push(path.key("timeout"), "the Rate Limiting binding cannot hold a mitigation timeout");
                }
                Store::Local { binding: Some(b) }
            }
        };
        let mut exempt = Vec::new();
        for (i, s) in raw.exempt.iter().enumerate() {
            match Glob::parse(s) {
                Ok(g) => exempt.push(g),
                Err(msg) => errors.push(path.key("exempt").index(i), msg),
            }
        }
        if errors.0.len() != before {
            return None;
        }
        let quota = match Quota::new(raw.rate, raw.period.saturating_mul(1000), raw.burst) {
            Ok(q) => q,
            Err(e) => {
                errors.push(path.clone(), e.to_string());
                return None;
            }
        };
        let params = LimitParams { key, quota, status, timeout_ms: raw.timeout.saturating_mul(1000), store, exempt };
        Some(if action == "log" { Self::Log(params) } else { Self::Block(params) })
    }
}

/// One counting request to a store.
#[derive(Debug, Clone, Copy)]
pub struct Take<'a> {
    pub store: &'a Store,
    /// Opaque and bounded (see [`counting_key`]).
    pub key: &'a str,
    pub quota: &'a Quota,
    pub cost: u32,
    pub timeout_ms: u64,
    pub now_ms: u64,
}

/// The counter stores the limit phase needs from the shell (Durable Objects,
/// the Rate Limiting binding, isolate memory) or from tests (memory).
#[allow(async_fn_in_trait)]
pub trait Counters {
    /// Charges `cost` to the key and decides. `Err` is a store failure (the
    /// rule's `on_error` decides), never a limit.
    async fn take(&self, take: &Take<'_>) -> Result<Outcome, String>;
}

/// The response fields one rule contributes.
struct Fields {
    policy: String,
    state: Option<String>,
}

pub async fn run<C: Counters>(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx, io: &C) -> Verdict {
    let mut fields: Vec<Fields> = Vec::new();
    let mut counted = false;
    for rule in rules.limit.iter().filter(|r| r.when.matches(req)) {
        let p = rule.action.params();
        if p.exempt.iter().any(|g| g.matches(&req.path)) {
            continue;
        }
        counted = true;
        let shadow = rule.mode == Mode::Log || matches!(rule.action, LimitAction::Log(_));
        let Some(key) = counting_key(&rule.id, &p.key, req, &ctx.facts) else {
            ctx.record(Phase::Limit, "skip", Some(&rule.id), Some("no key: a key characteristic is missing"));
            continue;
        };
        let take = Take { store: &p.store, key: &key, quota: &p.quota, cost: 1, timeout_ms: p.timeout_ms, now_ms: ctx.now_ms };
        let outcome = match io.take(&take).await {
            Ok(o) => o,
            Err(e) => {
                let note: String = format!("counter store failed ({}): {e}", on_error_name(rule.on_error)).chars().take(200).collect();
                ctx.record(Phase::Limit, "error", Some(&rule.id), Some(&note));
                if rule.on_error == OnError::Closed && !shadow {
                    push_fields(ctx, &fields);
                    let r = EdgeResponse::error(503, "rate limit unavailable", Some(&rule.id), &ctx.request_id);
                    return Verdict::Respond(r);
                }
                continue;
            }
        };
        if !shadow {
            if let Some(f) = rule_fields(&rule.id, p, &outcome) {
                fields.push(f);
            }
        }
        let retry = headers::retry_after(&outcome);
        if outcome.allowed {
            ctx.record(Phase::Limit, "pass", Some(&rule.id), None);
        } else if shadow {
            let note = match &retry {
                Some(s) => format!("would limit; retry after {s} s"),
                None => "would limit".to_string(),
            };
            ctx.record(Phase::Limit, "log", Some(&rule.id), Some(&note));
        } else {
            ctx.record(Phase::Limit, "block", Some(&rule.id), Some("limited"));
            push_fields(ctx, &fields);
            let mut r = EdgeResponse::error(p.status, "rate limited", Some(&rule.id), &ctx.request_id);
            if let Some(s) = retry {
                r.headers.push((headers::RETRY_AFTER.to_ascii_lowercase(), s));
            }
            return Verdict::Respond(r);
        }
    }
    push_fields(ctx, &fields);
    if !counted {
        ctx.record(Phase::Limit, "continue", None, None);
    }
    Verdict::Continue
}

fn on_error_name(o: OnError) -> &'static str {
    match o {
        OnError::Open => "open",
        OnError::Closed => "closed",
    }
}

/// `RateLimit-Policy` always; `RateLimit` when the store knows what remains
/// (the binding only says yes or no, so it gets `r=0` once limited).
fn rule_fields(rule_id: &str, p: &LimitParams, o: &Outcome) -> Option<Fields> {
    let name = PolicyName::new(rule_id).ok()?;
    let exact = !matches!(p.store, Store::Local { binding: Some(_) });
    let policy = if exact {
        headers::ratelimit_policy(&name, &p.quota)
    } else {
        // The binding counts `rate` per fixed `period`, not a GCRA bucket.
        format!("{};q={};w={}", name.as_sf_string(), p.quota.rate(), p.quota.period_ms() / 1000)
    };
    let state = (exact || !o.allowed).then(|| headers::ratelimit(&name, &p.quota, o));
    Some(Fields { policy, state })
}

/// Several rules make one list per field (the draft's List syntax).
fn push_fields(ctx: &mut Ctx, fields: &[Fields]) {
    if fields.is_empty() {
        return;
    }
    let policy: Vec<&str> = fields.iter().map(|f| f.policy.as_str()).collect();
    ctx.response_ops.push(HeaderOp::Set(headers::RATELIMIT_POLICY.to_ascii_lowercase(), policy.join(", ")));
    let state: Vec<&str> = fields.iter().filter_map(|f| f.state.as_deref()).collect();
    if !state.is_empty() {
        ctx.response_ops.push(HeaderOp::Set(headers::RATELIMIT.to_ascii_lowercase(), state.join(", ")));
    }
}
