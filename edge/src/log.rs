//! One structured JSON line per request (Workers Logs / Logpush friendly).
//! Never tokens, cookies, keys or query values: only what an operator needs to
//! find a request and see why the edge decided what it did.

use serde::Serialize;

use crate::pipeline::{Ctx, Phase, PhaseRecord};
use crate::request::RequestInfo;

#[derive(Debug, Serialize)]
pub struct RequestLog<'a> {
    pub msg: &'static str,
    pub time_ms: u64,
    pub request_id: &'a str,
    pub colo: Option<&'a str>,
    pub country: Option<&'a str>,
    pub method: &'a str,
    pub host: &'a str,
    /// The path only: query values may carry secrets.
    pub path: &'a str,
    pub status: u16,
    /// Name of the origin `route` chose (none when answered at the edge).
    pub origin: Option<&'a str>,
    /// `hit`, `miss`, `bypass`…; none until the cache phase reports one.
    pub cache_status: Option<&'a str>,
    /// Ids of every rule that matched, log-only ones included.
    pub rules: Vec<&'a str>,
    /// Hash of the document that decided (current or rollout candidate).
    pub rules_hash: Option<&'a str>,
    /// Each phase's decision and the rule behind it.
    pub phases: &'a [PhaseRecord],
    /// Time at the edge, arrival to log line (includes waiting on the origin).
    pub duration_ms: u64,
}

impl<'a> RequestLog<'a> {
    pub fn new(req: &'a RequestInfo, ctx: &'a Ctx, status: u16, end_ms: u64) -> Self {
        Self {
            msg: "request",
            time_ms: ctx.now_ms,
            request_id: &ctx.request_id,
            colo: req.cf.colo.as_deref(),
            country: req.cf.country.as_deref(),
            method: &req.method,
            host: &req.host,
            path: &req.path,
            status,
            origin: ctx.origin.as_deref(),
            cache_status: None,
            rules: ctx.matched_rules().collect(),
            rules_hash: ctx.rules_hash.as_deref(),
            phases: &ctx.records,
            duration_ms: end_ms.saturating_sub(ctx.now_ms),
        }
    }

    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"msg\":\"request\",\"error\":\"log serialization\"}"))
    }
}

/// The `Server-Timing` value (with `settings.server_timing`): one metric per
/// phase that did more than continue, its description the action and rule, so
/// browser devtools show why the edge answered as it did. No durations: in
/// workerd the clock only moves across I/O, so an edge `dur` would be the
/// origin's time in disguise.
pub fn server_timing(req: &RequestInfo, ctx: &Ctx) -> String {
    let mut metrics = vec![format!("edge;desc=\"{}\"", quoted(req.cf.colo.as_deref().unwrap_or("")))];
    for r in ctx.records.iter().filter(|r| r.action != "continue" && r.phase != Phase::Log) {
        let name = serde_json::to_value(r.phase).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let desc = match &r.rule {
            Some(rule) => format!("{} {rule}", r.action),
            None => r.action.clone(),
        };
        metrics.push(format!("{name};desc=\"{}\"", quoted(&desc)));
    }
    // Last, so the phases read first and the document that decided closes the list.
    if let Some(hash) = &ctx.rules_hash {
        metrics.push(format!("rules;desc=\"{}\"", quoted(hash)));
    }
    metrics.join(", ")
}

/// Keeps a value safe inside a quoted-string: visible ASCII, no `"` or `\`.
fn quoted(s: &str) -> String {
    s.chars().filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\').take(128).collect()
}

/// A rules document in KV that could not be used; logged once per read.
#[derive(Debug, Serialize)]
pub struct RulesRejected<'a> {
    pub msg: &'static str,
    pub level: &'static str,
    pub time_ms: u64,
    pub errors: &'a crate::rules::Errors,
    /// What keeps serving: `last_good` or `builtin_default`.
    pub serving: &'static str,
}

impl<'a> RulesRejected<'a> {
    pub fn new(time_ms: u64, errors: &'a crate::rules::Errors, serving: &'static str) -> Self {
        Self { msg: "rules_rejected", level: "error", time_ms, errors, serving }
    }

    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"msg\":\"rules_rejected\"}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phases::respond::HeaderOp;
    use crate::pipeline::Pipeline;
    use crate::testing::{block_on, NoIo};

    const DOC: &str = r#"{ "version": 1, "settings": { "default_origin": "app" },
      "origins": { "app": { "url": "https://app.internal.example" } },
      "phases": { "filter": [ { "id": "no-env", "when": { "paths": ["/.env"] }, "action": "block" } ] } }"#;

    fn run(doc: &str, url: &str, headers: &[(&str, &str)]) -> (RequestInfo, Ctx, Vec<HeaderOp>) {
        let rules = crate::rules::parse(doc.as_bytes()).expect("valid");
        let mut req = RequestInfo::from_url("GET", url).expect("url");
        req.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        req.cf.colo = Some("FRA".into());
        req.cf.country = Some("DE".into());
        let mut ctx = Ctx::new("req-7", 1_700_000_000_000);
        let p = Pipeline::new(&rules);
        block_on(p.request_filter(&req, &mut ctx, &NoIo));
        let ops = p.response_filter(&req, &mut ctx);
        (req, ctx, ops)
    }

    #[test]
    fn request_line_has_every_field_and_no_secrets() {
        let (req, ctx, _) = run(
            DOC,
            "https://shop.example/cart?session=s3cr3t",
            &[("cookie", "sid=c00kie"), ("authorization", "Bearer t0ken")],
        );
        let line = RequestLog::new(&req, &ctx, 200, 1_700_000_000_042).to_line();
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        for key in ["time_ms", "request_id", "colo", "country", "method", "host", "path", "phases", "status", "origin", "cache_status", "duration_ms"] {
            assert!(v.get(key).is_some(), "missing {key} in {line}");
        }
        assert_eq!(v["path"], "/cart");
        assert_eq!(v["origin"], "app");
        assert_eq!(v["duration_ms"], 42);
        assert_eq!(v["cache_status"], serde_json::Value::Null);
        let phases: Vec<&str> = v["phases"].as_array().expect("phases").iter().filter_map(|p| p["phase"].as_str()).collect();
        assert_eq!(phases, ["normalize", "filter", "authenticate", "limit", "cache", "route", "respond"]);
        for secret in ["s3cr3t", "c00kie", "t0ken", "session"] {
            assert!(!line.contains(secret), "{secret} leaked: {line}");
        }
    }

    #[test]
    fn blocked_request_line_names_the_rule() {
        let (req, ctx, _) = run(DOC, "https://shop.example/.env", &[]);
        let v: serde_json::Value = serde_json::from_str(&RequestLog::new(&req, &ctx, 403, 0).to_line()).expect("json");
        assert_eq!(v["rules"], serde_json::json!(["no-env"]));
        assert_eq!(v["origin"], serde_json::Value::Null);
    }

    #[test]
    fn server_timing_only_when_enabled() {
        let timing = |ops: &[HeaderOp]| {
            ops.iter().find_map(|op| match op {
                HeaderOp::Set(n, v) if n == "server-timing" => Some(v.clone()),
                _ => None,
            })
        };
        let (_, _, ops) = run(DOC, "https://shop.example/.env", &[]);
        assert_eq!(timing(&ops), None, "off by default");

        let on = DOC.replace(r#""default_origin": "app""#, r#""default_origin": "app", "server_timing": true"#);
        let (_, _, ops) = run(&on, "https://shop.example/.env", &[]);
        assert_eq!(timing(&ops).as_deref(), Some(r#"edge;desc="FRA", filter;desc="block no-env""#));
        let (_, _, ops) = run(&on, "https://shop.example/x", &[]);
        assert_eq!(timing(&ops).as_deref(), Some(r#"edge;desc="FRA", cache;desc="bypass", route;desc="default""#));
    }

    #[test]
    fn the_deciding_document_is_named() {
        let (req, mut ctx, _) = run(DOC, "https://shop.example/x", &[]);
        ctx.rules_hash = Some("0123456789abcdef".into());
        assert_eq!(server_timing(&req, &ctx), r#"edge;desc="FRA", cache;desc="bypass", route;desc="default", rules;desc="0123456789abcdef""#);
        let v: serde_json::Value = serde_json::from_str(&RequestLog::new(&req, &ctx, 200, 0).to_line()).expect("json");
        assert_eq!(v["rules_hash"], "0123456789abcdef");
        let sent = crate::trust::upstream_headers(&req, &ctx, true);
        assert!(sent.iter().any(|(n, v)| n == "x-edge-rules" && v == "0123456789abcdef"), "{sent:?}");
    }

    #[test]
    fn server_timing_values_stay_quoted_strings() {
        assert_eq!(quoted("a\"b\\c\u{7f}d\u{e9}"), "abcd");
    }
}
