//! One Workers Analytics Engine data point per request (optional binding
//! `ANALYTICS`): counts and latencies per host, outcome, rule, colo, country,
//! cache status and origin, queryable with SQL, without parsing logs.
//!
//! The mapping is pure so the column layout is tested natively; the shell only
//! hands the point to `writeDataPoint`. Like the log line, it never carries
//! paths, queries, tokens, cookies or client addresses.

use crate::phases::cache::CacheStatus;
use crate::pipeline::{Ctx, Phase, PhaseRecord};
use crate::request::RequestInfo;

/// Analytics Engine accepts an index of at most 96 bytes.
const MAX_INDEX_BYTES: usize = 96;
/// Keeps every blob small (the platform caps their sum at 16 KB).
const MAX_BLOB_BYTES: usize = 256;

/// The columns, in order: `blob1`…`blob6`, `double1`…`double3`, `index1`.
#[derive(Debug, Clone, PartialEq)]
pub struct DataPoint {
    /// Host, the sampling key.
    pub index: String,
    /// outcome, rule id, colo, country, cache status, origin (empty when unknown).
    pub blobs: [String; 6],
    /// status, duration ms, 1 (sum it for request counts under sampling: use
    /// `SUM(_sample_interval * double3)`).
    pub doubles: [f64; 3],
}

/// The data point for a finished request. `outcome` is `forward` when an origin
/// answered, else the action that answered at the edge (`block`, `limits`,
/// `https_redirect`, `jwt`, `cors_preflight`, `purge`…), `edge` if none did.
pub fn data_point(req: &RequestInfo, ctx: &Ctx, status: u16, end_ms: u64) -> DataPoint {
    let (outcome, rule) = match &ctx.origin {
        Some(_) => {
            let route = ctx.records.iter().rev().find(|r| r.phase == Phase::Route);
            ("forward".to_string(), route.and_then(|r| r.rule.clone()).unwrap_or_default())
        }
        None => match answered_by(&ctx.records) {
            Some(r) => (r.action.clone(), r.rule.clone().unwrap_or_default()),
            None => ("edge".to_string(), String::new()),
        },
    };
    let cache = ctx.cache_status.unwrap_or(CacheStatus::Bypass).as_str();
    DataPoint {
        index: truncate(&req.host, MAX_INDEX_BYTES),
        blobs: [
            outcome,
            rule,
            req.cf.colo.as_deref().unwrap_or_default().to_string(),
            req.cf.country.as_deref().unwrap_or_default().to_string(),
            cache.to_string(),
            ctx.origin.clone().unwrap_or_default(),
        ]
        .map(|b| truncate(&b, MAX_BLOB_BYTES)),
        doubles: [f64::from(status), end_ms.saturating_sub(ctx.now_ms) as f64, 1.0],
    }
}

/// The record of the phase that answered at the edge: a CORS preflight, else
/// the last request-phase record (phases stop at the one that answers).
fn answered_by(records: &[PhaseRecord]) -> Option<&PhaseRecord> {
    records
        .iter()
        .find(|r| r.action == "cors_preflight")
        // `strip` (client headers removed by normalize) never answers.
        .or_else(|| records.iter().rev().find(|r| !matches!(r.phase, Phase::Respond | Phase::Log) && !matches!(r.action.as_str(), "continue" | "strip")))
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;
    use crate::testing::{block_on, NoIo};

    const DOC: &str = r#"{ "version": 1, "settings": { "default_origin": "app" },
      "origins": { "app": { "url": "https://app.internal.example" }, "ws": { "url": "https://ws.internal.example" } },
      "phases": {
        "filter": [ { "id": "to-https", "action": "https_redirect" },
                    { "id": "no-env", "when": { "paths": ["/.env"] }, "action": "block" } ],
        "route": [ { "id": "sockets", "when": { "paths": ["/ws/*"] }, "action": "origin", "params": { "origin": "ws" } } ],
        "respond": [ { "id": "cors", "action": "cors", "params": { "allow_origins": ["https://app.example"] } } ] } }"#;

    fn point(method: &str, url: &str, headers: &[(&str, &str)], status: u16) -> DataPoint {
        let rules = crate::rules::parse(DOC.as_bytes()).expect("valid");
        let mut req = RequestInfo::from_url(method, url).expect("url");
        req.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        req.cf.colo = Some("FRA".into());
        req.cf.country = Some("DE".into());
        let mut ctx = Ctx::new("req-1", 1_700_000_000_000);
        let p = Pipeline::new(&rules);
        block_on(p.request_filter(&req, &mut ctx, &NoIo));
        p.response_filter(&req, &mut ctx);
        data_point(&req, &ctx, status, 1_700_000_000_025)
    }

    fn blobs(p: &DataPoint) -> Vec<&str> {
        p.blobs.iter().map(String::as_str).collect()
    }

    #[test]
    fn forwarded_request_names_origin_route_and_cache() {
        let p = point("GET", "https://shop.example/cart?token=s3cr3t", &[], 200);
        assert_eq!(p.index, "shop.example");
        assert_eq!(blobs(&p), ["forward", "", "FRA", "DE", "BYPASS", "app"]);
        assert_eq!(p.doubles, [200.0, 25.0, 1.0]);
        let p = point("GET", "https://shop.example/ws/chat", &[], 101);
        assert_eq!(blobs(&p)[..2], ["forward", "sockets"]);
        assert_eq!(blobs(&p)[5], "ws");
        assert!(!format!("{p:?}").contains("s3cr3t"));
    }

    #[test]
    fn edge_answers_name_the_action_and_rule() {
        let p = point("GET", "https://shop.example/.env", &[], 403);
        assert_eq!(blobs(&p), ["block", "no-env", "FRA", "DE", "BYPASS", ""]);
        assert_eq!(p.doubles[0], 403.0);
        let p = point("GET", "http://shop.example/x", &[], 301);
        assert_eq!(blobs(&p)[..2], ["https_redirect", "to-https"]);
        let pre = [("origin", "https://app.example"), ("access-control-request-method", "PUT")];
        let p = point("OPTIONS", "https://shop.example/api", &pre, 204);
        assert_eq!(blobs(&p)[..2], ["cors_preflight", "cors"]);
    }

    #[test]
    fn index_and_blobs_are_bounded_on_char_boundaries() {
        let host = format!("{}.example", "é".repeat(100));
        assert_eq!(truncate(&host, MAX_INDEX_BYTES).len(), 96);
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("", 5), "");
    }
}
