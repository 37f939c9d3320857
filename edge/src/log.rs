//! One structured JSON line per request (Workers Logs / Logpush friendly).
//! Never tokens, cookies, keys or query values: only what an operator needs to
//! find a request and see why the edge decided what it did.

use serde::Serialize;

use crate::pipeline::{Ctx, PhaseRecord};
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
    pub origin: Option<&'a str>,
    pub rules: Vec<&'a str>,
    pub phases: &'a [PhaseRecord],
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
            rules: ctx.matched_rules().collect(),
            phases: &ctx.records,
            duration_ms: end_ms.saturating_sub(ctx.now_ms),
        }
    }

    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"msg\":\"request\",\"error\":\"log serialization\"}"))
    }
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
