//! One request through the edge's own pipeline, natively: the same
//! `Pipeline::request_filter` and `response_filter` the Worker runs, over
//! [`edge::testing::NoIo`] (no counters, no keys) and [`edge::testing::block_on`].

use std::net::IpAddr;

use edge::phases::respond::HeaderOp;
use edge::pipeline::{Ctx, Decision, Phase, PhaseRecord, Pipeline};
use edge::request::{CfInfo, RequestInfo};
use edge::rules::Rules;
use edge::testing::{block_on, NoIo};
use serde_json::{json, Value};

/// A request as given on the command line or in a replay file.
#[derive(Debug, Default, Clone)]
pub struct RequestSpec {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub ip: Option<String>,
    pub cf: Option<Value>,
}

impl RequestSpec {
    /// Builds the edge's view of the request, as the shell would.
    pub fn to_request(&self) -> Result<RequestInfo, String> {
        let mut req = RequestInfo::from_url(&self.method, &self.url)?;
        req.headers = self.headers.iter().map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
        req.client_ip = match &self.ip {
            Some(ip) => Some(ip.trim().parse::<IpAddr>().map_err(|_| format!("not an IP address: {ip:?}"))?),
            None => None,
        };
        req.cf = match &self.cf {
            Some(cf) => serde_json::from_value::<CfInfo>(cf.clone()).map_err(|e| format!("cf: {e}"))?,
            None => CfInfo::default(),
        };
        Ok(req)
    }
}

/// Parses `Name: value`.
pub fn parse_header(h: &str) -> Result<(String, String), String> {
    match h.split_once(':') {
        Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("header {h:?} is not 'Name: value'")),
    }
}

/// Everything the edge decided for one request.
#[derive(Debug)]
pub struct Evaluation {
    pub records: Vec<PhaseRecord>,
    pub decision: Decision,
    /// The rule that decided: the one that answered at the edge, or the route
    /// rule that chose the origin (none when the default origin was used).
    pub deciding_rule: Option<String>,
    /// Trust headers sent upstream (only when forwarded).
    pub trust_headers: Vec<(String, String)>,
    pub response_ops: Vec<HeaderOp>,
}

pub fn evaluate(rules: &Rules, req: &RequestInfo, request_id: &str, now_ms: u64) -> Evaluation {
    let pipeline = Pipeline::new(rules);
    let mut ctx = Ctx::new(request_id, now_ms);
    let decision = block_on(pipeline.request_filter(req, &mut ctx, &NoIo));
    let deciding_rule = deciding_rule(&ctx.records, &decision);
    let trust_headers = match decision {
        Decision::Forward { .. } => {
            edge::trust::headers(req, &ctx).into_iter().map(|(n, v)| (n.to_string(), v)).collect()
        }
        Decision::Respond(_) | Decision::Purge { .. } => Vec::new(),
    };
    let response_ops = pipeline.response_filter(req, &mut ctx);
    Evaluation { records: ctx.records, decision, deciding_rule, trust_headers, response_ops }
}

fn deciding_rule(records: &[PhaseRecord], decision: &Decision) -> Option<String> {
    let enforced = |r: &&PhaseRecord| r.rule.is_some() && r.note.as_deref() != Some("log only");
    match decision {
        Decision::Respond(_) => records.iter().rfind(enforced).and_then(|r| r.rule.clone()),
        Decision::Purge { rule } => Some(rule.clone()),
        Decision::Forward { .. } => {
            records.iter().filter(|r| r.phase == Phase::Route).rfind(enforced).and_then(|r| r.rule.clone())
        }
    }
}

impl Evaluation {
    /// `forward app` or `respond 403`: the outcome in a few words.
    pub fn outcome(&self) -> String {
        match &self.decision {
            Decision::Forward { origin, .. } => format!("forward {origin}"),
            Decision::Respond(r) => format!("respond {}", r.status),
            Decision::Purge { .. } => "purge".to_string(),
        }
    }

    pub fn to_json(&self) -> Value {
        let decision = match &self.decision {
            Decision::Forward { origin, url } => json!({ "type": "forward", "origin": origin, "url": url, "rule": self.deciding_rule }),
            Decision::Respond(r) => json!({
                "type": "respond", "status": r.status, "rule": self.deciding_rule,
                "headers": r.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                "body": r.body,
            }),
            Decision::Purge { rule } => json!({ "type": "purge", "rule": rule }),
        };
        json!({
            "phases": self.records,
            "decision": decision,
            "trust_headers": self.trust_headers.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "response_headers": self.response_ops.iter().map(op_json).collect::<Vec<_>>(),
        })
    }
}

pub fn op_json(op: &HeaderOp) -> Value {
    match op {
        HeaderOp::Set(n, v) => json!({ "op": "set", "name": n, "value": v }),
        HeaderOp::SetIfAbsent(n, v) => json!({ "op": "set_if_absent", "name": n, "value": v }),
        HeaderOp::AppendToken(n, v) => json!({ "op": "append_token", "name": n, "value": v }),
        HeaderOp::Remove(n) => json!({ "op": "remove", "name": n }),
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
