//! From the raw document to compiled [`Rules`]: every fault is collected with its
//! JSON path, so one `edge-rules check` shows them all.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::document::{Mode, OnError, RawDocument, RawRule, SUPPORTED_VERSION};
use super::path::JsonPath;
use super::when::When;
use super::document::RawOrigin;
use super::{Origin, Rules, Server, Settings};
use crate::phases::{
    authenticate::AuthAction, cache::CacheAction, filter::FilterAction, limit::LimitAction, respond::RespondAction, route::RouteAction,
};

/// One fault in a rules document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleError {
    /// Where, as a JSON path (`$.phases.filter[0].when.ips[1]`).
    pub path: String,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every fault found, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Errors(pub Vec<RuleError>);

impl Errors {
    pub fn push(&mut self, path: JsonPath, message: impl Into<String>) {
        self.0.push(RuleError { path: path.to_string(), message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

/// The actions one phase accepts, each with its own parameters.
pub trait PhaseAction: Sized {
    /// The phase's key under `phases`.
    const PHASE: &'static str;
    /// Action names accepted, for error messages.
    const ACTIONS: &'static [&'static str];
    /// `on_error` when a rule does not say (limits open, auth closed).
    const DEFAULT_ON_ERROR: OnError = OnError::Open;
    /// Reads `params` for `action`; `None` (with errors pushed) when invalid.
    fn compile(action: &str, params: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self>;
}

/// A compiled rule of one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule<A> {
    pub id: String,
    pub when: When,
    pub action: A,
    pub mode: Mode,
    pub on_error: OnError,
}

/// Reads `params` into a typed struct, reporting serde's own path inside it.
pub fn params<T: DeserializeOwned + Default>(params: &Value, path: &JsonPath, errors: &mut Errors) -> Option<T> {
    if params.is_null() {
        return Some(T::default());
    }
    params_required(params, path, errors)
}

/// Like [`params`] for actions whose parameters have no defaults.
pub fn params_required<T: DeserializeOwned>(params: &Value, path: &JsonPath, errors: &mut Errors) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(params) {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = e.path().to_string();
            let at = if inner == "." { path.to_string() } else { format!("{path}.{inner}") };
            errors.0.push(RuleError { path: at, message: e.into_inner().to_string() });
            None
        }
    }
}

pub(super) fn compile(raw: RawDocument) -> Result<Rules, Errors> {
    let mut errors = Errors::default();
    let root = JsonPath::root();
    if raw.version != SUPPORTED_VERSION {
        errors.push(root.key("version"), format!("unsupported version {}; this edge reads version {SUPPORTED_VERSION}", raw.version));
    }

    let settings_path = root.key("settings");
    let s = &raw.settings;
    if !(1..=3600).contains(&s.rules_ttl_seconds) {
        errors.push(settings_path.key("rules_ttl_seconds"), "must be between 1 and 3600");
    }
    if !(1..=300).contains(&s.signature_validity_seconds) {
        errors.push(settings_path.key("signature_validity_seconds"), "must be between 1 and 300");
    }

    let mut origins = BTreeMap::new();
    for (name, origin) in &raw.origins {
        let path = root.key("origins").key(name);
        if !valid_name(name) {
            errors.push(path.clone(), "origin names use letters, digits, '-' and '_' (1 to 64)");
        }
        if let Some(pool) = compile_pool(origin, &path, &mut errors) {
            origins.insert(name.clone(), pool);
        }
    }
    if let Some(default) = &s.default_origin {
        if !raw.origins.contains_key(default) {
            errors.push(settings_path.key("default_origin"), format!("names no entry of $.origins: {default:?}"));
        }
    }

    let mut ids = HashSet::new();
    let phases = root.key("phases");
    let filter = compile_phase::<FilterAction>(&raw.phases.filter, &phases, &mut ids, &mut errors);
    let authenticate = compile_phase::<AuthAction>(&raw.phases.authenticate, &phases, &mut ids, &mut errors);
    let limit = compile_phase::<LimitAction>(&raw.phases.limit, &phases, &mut ids, &mut errors);
    let cache = compile_phase::<CacheAction>(&raw.phases.cache, &phases, &mut ids, &mut errors);
    let route = compile_phase::<RouteAction>(&raw.phases.route, &phases, &mut ids, &mut errors);
    let respond = compile_phase::<RespondAction>(&raw.phases.respond, &phases, &mut ids, &mut errors);
    for (i, rule) in route.iter().enumerate() {
        let RouteAction::Origin { origin } = &rule.action;
        if !raw.origins.contains_key(origin) {
            errors.push(phases.key("route").index(i).key("params").key("origin"), format!("names no entry of $.origins: {origin:?}"));
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Rules {
        version: raw.version,
        settings: Settings {
            rules_ttl_seconds: s.rules_ttl_seconds,
            default_origin: s.default_origin.clone(),
            signature_validity_seconds: s.signature_validity_seconds,
            log_requests: s.log_requests,
            server_timing: s.server_timing,
            isolate_stats_every: s.isolate_stats_every,
            drop_underscore_headers: s.drop_underscore_headers,
        },
        origins,
        filter,
        authenticate,
        limit,
        cache,
        route,
        respond,
    })
}

fn compile_phase<A: PhaseAction>(
    raw: &[RawRule],
    phases: &JsonPath,
    ids: &mut HashSet<String>,
    errors: &mut Errors,
) -> Vec<Rule<A>> {
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let path = phases.key(A::PHASE).index(i);
        if !valid_name(&r.id) {
            errors.push(path.key("id"), "rule ids use letters, digits, '-' and '_' (1 to 64)");
        } else if !ids.insert(r.id.clone()) {
            errors.push(path.key("id"), format!("duplicate rule id {:?}", r.id));
        }
        let when = When::compile(&r.when, &path.key("when"), errors);
        if !A::ACTIONS.contains(&r.action.as_str()) {
            errors.push(
                path.key("action"),
                format!("unknown action {:?} for the {} phase; expected one of {}", r.action, A::PHASE, A::ACTIONS.join(", ")),
            );
            continue;
        }
        let Some(action) = A::compile(&r.action, &r.params, &path.key("params"), errors) else {
            continue;
        };
        if r.enabled {
            out.push(Rule { id: r.id.clone(), when, action, mode: r.mode, on_error: r.on_error.unwrap_or(A::DEFAULT_ON_ERROR) });
        }
    }
    out
}

/// Most servers in one pool: failover tries each once, so this bounds the
/// attempts (and the time) one request can take.
const MAX_SERVERS: usize = 16;

fn compile_pool(raw: &RawOrigin, path: &JsonPath, errors: &mut Errors) -> Option<Origin> {
    let before = errors.0.len();
    let mut servers = Vec::new();
    match (&raw.url, raw.servers.is_empty()) {
        (Some(url), true) => match Server::parse(url, 1) {
            Ok(s) => servers.push(s),
            Err(msg) => errors.push(path.key("url"), msg),
        },
        (None, false) if raw.servers.len() <= MAX_SERVERS => {
            for (i, s) in raw.servers.iter().enumerate() {
                let at = path.key("servers").index(i);
                if !(1..=100).contains(&s.weight) {
                    errors.push(at.key("weight"), "weight must be 1 to 100");
                }
                match Server::parse(&s.url, s.weight) {
                    Ok(s) => servers.push(s),
                    Err(msg) => errors.push(at.key("url"), msg),
                }
            }
        }
        (None, false) => errors.push(path.key("servers"), format!("at most {MAX_SERVERS} servers per origin")),
        _ => errors.push(path.clone(), "give either url (one server) or servers (a pool), not both or neither"),
    }
    if !(1..=300_000).contains(&raw.timeout_ms) {
        errors.push(path.key("timeout_ms"), "must be between 1 and 300000");
    }
    if !(1..=100).contains(&raw.max_fails) {
        errors.push(path.key("max_fails"), "must be between 1 and 100");
    }
    if !(1..=3600).contains(&raw.fail_timeout_seconds) {
        errors.push(path.key("fail_timeout_seconds"), "must be between 1 and 3600");
    }
    (errors.0.len() == before).then(|| Origin {
        servers,
        timeout_ms: raw.timeout_ms,
        max_fails: raw.max_fails,
        fail_timeout_ms: raw.fail_timeout_seconds * 1000,
    })
}

fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
