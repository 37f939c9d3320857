//! The rules document as operators write it: plain serde types, every struct
//! `deny_unknown_fields` so a typo is an error rather than a silently ignored key.
//!
//! Every rule has the same shape in every phase (`id`, `when`, `action`, `params`,
//! `mode`, `on_error`); `params` is read per action in [`super::validate`], so one
//! error path names the exact field that is wrong.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only document version this edge understands.
pub const SUPPORTED_VERSION: u32 = 1;

/// The document stored in KV under the key `rules`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawDocument {
    /// Optional link to `schema/rules.schema.json`, so editors validate as you type.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub version: u32,
    #[serde(default)]
    pub settings: RawSettings,
    /// Named origins; routing rules refer to them by name.
    #[serde(default)]
    pub origins: BTreeMap<String, RawOrigin>,
    #[serde(default)]
    pub phases: RawPhases,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RawSettings {
    /// How long an isolate keeps a parsed document before reading KV again.
    pub rules_ttl_seconds: u64,
    /// Origin used when no route rule matches; must name an entry of `origins`.
    pub default_origin: Option<String>,
    /// Validity of the signature on forwarded requests (RFC 9421 `expires - created`).
    pub signature_validity_seconds: u64,
    /// Emit one JSON log line per request.
    pub log_requests: bool,
    /// Add a `Server-Timing` header naming each phase's decision (off by
    /// default: it tells clients which rules matched).
    pub server_timing: bool,
    /// Every this many requests an isolate logs one `isolate_stats` line
    /// (request count, wasm heap, cache sizes); 0 turns the lines off.
    pub isolate_stats_every: u64,
    /// Remove every client header whose name contains `_` before forwarding
    /// (nginx's `underscores_in_headers off`); the log line names them. Off
    /// still removes underscore twins of trust and forwarding headers.
    pub drop_underscore_headers: bool,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            rules_ttl_seconds: 30,
            default_origin: None,
            signature_validity_seconds: 60,
            log_requests: true,
            server_timing: false,
            isolate_stats_every: 10_000,
            drop_underscore_headers: true,
        }
    }
}

/// A pool of servers: `url` for one server, or `servers` with weights.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawOrigin {
    /// Base URL (`http` or `https`, no query); the request path is appended to its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Several servers; GET and HEAD fail over to the next on error, timeout or 5xx.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<RawServer>,
    /// Time to response headers, per attempt.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Failures within `fail_timeout_seconds` that mark a server down (nginx `max_fails`).
    #[serde(default = "default_max_fails")]
    pub max_fails: u32,
    /// How long a server stays skipped, and the window failures are counted in.
    #[serde(default = "default_fail_timeout")]
    pub fail_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub url: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_max_fails() -> u32 {
    1
}

fn default_fail_timeout() -> u64 {
    10
}

fn default_weight() -> u32 {
    1
}

/// Rules per phase, in request order. Each list is evaluated top to bottom.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RawPhases {
    pub filter: Vec<RawRule>,
    pub authenticate: Vec<RawRule>,
    pub limit: Vec<RawRule>,
    pub cache: Vec<RawRule>,
    pub route: Vec<RawRule>,
    pub respond: Vec<RawRule>,
}

/// One rule, the same shape in every phase.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// Unique across the document; shown in logs and `edge-rules explain`.
    pub id: String,
    /// Which requests the rule applies to; empty matches every request.
    #[serde(default)]
    pub when: RawWhen,
    /// What the phase does; each phase accepts only its own actions.
    pub action: String,
    /// Parameters of the action, checked per action.
    #[serde(default)]
    pub params: Value,
    #[serde(default)]
    pub mode: Mode,
    /// Unset: the phase's default (see `PhaseAction::DEFAULT_ON_ERROR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<OnError>,
    /// A disabled rule is validated but never evaluated.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// `enforce` acts; `log` decides and records what it would have done, and acts not.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Enforce,
    Log,
}

/// What a failing dependency (counter store, key fetch) means for the rule.
/// The default depends on the phase: open for limits, closed for authenticate.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Let the request through (the default for limits: an outage of the counter
    /// store must not become an outage of the site).
    #[default]
    Open,
    /// Refuse the request.
    Closed,
}

/// The match vocabulary shared by every phase. Fields are AND, the entries of a
/// list are OR, and an entry starting with `!` negates (a list of only negated
/// entries matches whatever none of them matches).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, default)]
pub struct RawWhen {
    /// Host names, exact or `*.example.com`.
    pub hosts: Vec<String>,
    /// Path globs: `*` matches within a segment, a trailing `/*` or `*` any suffix.
    pub paths: Vec<String>,
    /// Path regexes (the `regex` crate's syntax: linear time, no look-around or
    /// backreferences), unanchored unless written with `^`/`$`; for what globs
    /// cannot say, such as nginx's `location ~ \.php$`.
    pub path_regex: Vec<String>,
    pub methods: Vec<String>,
    /// `http` or `https`.
    pub schemes: Vec<String>,
    /// Client addresses or CIDR blocks, IPv4 or IPv6.
    pub ips: Vec<String>,
    /// ISO 3166-1 alpha-2 codes as `request.cf.country` gives them.
    pub countries: Vec<String>,
    /// Two-letter continent codes (`EU`, `NA`, …).
    pub continents: Vec<String>,
    pub asns: Vec<String>,
    /// Cloudflare data centres (IATA codes).
    pub colos: Vec<String>,
    /// Regions (ISO 3166-2 code such as `CA` or the name `request.cf.region` gives).
    pub regions: Vec<String>,
    /// Header name → accepted values; an empty list means "present".
    pub headers: BTreeMap<String, Vec<String>>,
    /// Query parameter name → accepted values; an empty list means "present".
    pub query: BTreeMap<String, Vec<String>>,
    /// Bot classes of the User-Agent: `browser`, `search_engine`, `monitoring`,
    /// `seo`, `ai_crawler`, `scanner`, `http_library`, `empty`, `other_bot`, `unknown`,
    /// `verified_signed_agent` (a verified Web Bot Auth signature).
    pub bot_classes: Vec<String>,
    /// Matches when the bot score (1 = automated … 99 = human; the lower of
    /// the edge's own and `cf.botManagement.score`) is below this.
    pub bot_score_below: Option<u8>,
    /// Matches on whether Cloudflare verified the bot (`cf.botManagement.verifiedBot`).
    pub bot_verified: Option<bool>,
    /// Verified Web Bot Auth agents, by directory origin or key thumbprint
    /// (see the `web_bot_auth` filter action).
    pub signed_agents: Vec<String>,
}
