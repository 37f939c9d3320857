//! `edge-rules explain FILE --request 'GET https://example.com/x' [-H 'N: v']...
//! [--cf JSON] [--ip ADDR] [--json]`: each phase's decision for one request,
//! with the rule that made it.

use edge::phases::respond::HeaderOp;
use edge::pipeline::Decision;

use crate::evaluate::{evaluate, now_ms, parse_header, RequestSpec};
use crate::load::load_or_report;
use crate::outcome::{usage_error, Outcome};

/// Each phase's decision for one request, with the rule that made it.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The rules document.
    file: String,
    /// The request: 'METHOD URL' (the method defaults to GET).
    #[arg(long, value_name = "METHOD URL")]
    request: String,
    /// A request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "Name: value")]
    headers: Vec<String>,
    /// `request.cf` as JSON, e.g. '{"country":"DE","asn":3320,"colo":"FRA"}'.
    #[arg(long, value_name = "JSON")]
    cf: Option<String>,
    /// The client IP address.
    #[arg(long, value_name = "ADDR")]
    ip: Option<String>,
    /// The evaluation as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ExplainArgs) -> Outcome {
    let ExplainArgs { file, request, headers, cf, ip, json } = args;
    let file = &file;
    let spec = match build_spec(&request, &headers, cf.as_deref(), ip) {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let req = match spec.to_request() {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    let rules = match load_or_report(file) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let eval = evaluate(&rules, &req, "explain", now_ms());

    if json {
        let mut out = eval.to_json();
        out["request"] = serde_json::json!({ "method": req.method, "url": spec.url });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Outcome::Ok;
    }
    println!("request: {} {}", req.method, spec.url);
    for r in &eval.records {
        let phase = serde_json::to_value(r.phase).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let mut line = format!("  {phase:<13}{:<10}", r.action);
        if let Some(rule) = &r.rule {
            line.push_str(&format!(" rule {rule}"));
        }
        if let Some(note) = &r.note {
            line.push_str(&format!(" ({note})"));
        }
        println!("{}", line.trim_end());
    }
    let by = eval.deciding_rule.as_deref().map(|r| format!(" by rule {r}")).unwrap_or_default();
    match &eval.decision {
        Decision::Purge { rule } => println!("decision: purge endpoint (rule {rule}); needs the purge token"),
        Decision::Respond(r) => {
            println!("decision: respond {} at the edge{by}", r.status);
            println!("  body: {}", r.body);
        }
        Decision::Forward { origin, url } => {
            let by = if by.is_empty() { " (default origin)".to_string() } else { by };
            println!("decision: forward to origin {origin}{by}");
            println!("  upstream: {} {url}", req.method);
            println!("trust headers (signed):");
            for (n, v) in &eval.trust_headers {
                println!("  {n}: {v}");
            }
        }
    }
    println!("response header edits:");
    for op in &eval.response_ops {
        match op {
            HeaderOp::Set(n, v) => println!("  set {n}: {v}"),
            HeaderOp::SetIfAbsent(n, v) => println!("  set if absent {n}: {v}"),
            HeaderOp::AppendToken(n, v) => println!("  append to {n}: {v}"),
            HeaderOp::Remove(n) => println!("  remove {n}"),
        }
    }
    Outcome::Ok
}

fn build_spec(request: &str, headers: &[String], cf: Option<&str>, ip: Option<String>) -> Result<RequestSpec, String> {
    let (method, url) = match request.trim().split_once(char::is_whitespace) {
        Some((m, u)) => (m.to_string(), u.trim().to_string()),
        None => ("GET".to_string(), request.trim().to_string()),
    };
    let headers = headers.iter().map(|h| parse_header(h)).collect::<Result<Vec<_>, _>>()?;
    let cf = match cf {
        Some(c) => Some(serde_json::from_str(c).map_err(|e| format!("--cf is not JSON: {e}"))?),
        None => None,
    };
    Ok(RequestSpec { method, url, headers, ip, cf })
}
