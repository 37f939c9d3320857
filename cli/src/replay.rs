//! `edge-rules replay FILE REQUESTS.jsonl [--json]`: how a document would treat
//! recorded traffic. One request per line:
//! `{"method":"GET","url":"https://…","headers":{"name":"value"},"ip":"…","cf":{…}}`
//! (`headers` may also be a list of `[name, value]` pairs; all but `url` optional).

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::{json, Value};

use crate::evaluate::{evaluate, RequestSpec};
use crate::load::load_or_report;
use crate::outcome::{usage_error, Outcome};

/// How a document would treat recorded traffic (one JSON request per line).
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The rules document.
    file: String,
    /// Requests, one JSON object per line:
    /// {"method":"GET","url":"https://…","headers":{…},"ip":"…","cf":{…}}.
    #[arg(value_name = "REQUESTS.jsonl")]
    requests: String,
    /// Counts as JSON.
    #[arg(long)]
    json: bool,
}

/// Counts over a replay.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    /// `forward app`, `respond 403`, …
    outcomes: BTreeMap<String, u64>,
    /// `filter block`, `route default`, … (every phase record)
    actions: BTreeMap<String, u64>,
    /// Rule id → (phase action → count); log-only matches count as `… (log)`.
    rules: BTreeMap<String, BTreeMap<String, u64>>,
    /// Lines that are not requests: (line number, why).
    bad_lines: Vec<(usize, String)>,
}

pub fn run(args: ReplayArgs) -> Outcome {
    let ReplayArgs { file, requests, json } = args;
    let (file, requests) = (&file, &requests);
    let rules = match load_or_report(file) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let reader = match std::fs::File::open(requests) {
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => return usage_error(format!("{requests}: cannot read: {e}")),
    };

    let mut t = Tally::default();
    for (i, line) in reader.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => return usage_error(format!("{requests}: cannot read line {}: {e}", i + 1)),
        };
        if line.trim().is_empty() {
            continue;
        }
        let req = match spec_from_line(&line).and_then(|s| s.to_request()) {
            Ok(r) => r,
            Err(e) => {
                t.bad_lines.push((i + 1, e));
                continue;
            }
        };
        let eval = evaluate(&rules, &req, &format!("replay-{}", i + 1), 0);
        t.requests += 1;
        *t.outcomes.entry(eval.outcome()).or_default() += 1;
        for r in &eval.records {
            let phase = phase_name(r.phase);
            *t.actions.entry(format!("{phase} {}", r.action)).or_default() += 1;
            if let Some(rule) = &r.rule {
                let log = if r.note.as_deref() == Some("log only") { " (log)" } else { "" };
                *t.rules.entry(rule.clone()).or_default().entry(format!("{phase} {}{log}", r.action)).or_default() += 1;
            }
        }
    }

    for (n, why) in &t.bad_lines {
        eprintln!("{requests}:{n}: skipped: {why}");
    }
    if json {
        let out = json!({
            "requests": t.requests,
            "skipped": t.bad_lines.len(),
            "outcomes": t.outcomes,
            "actions": t.actions,
            "rules": t.rules,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        println!("{} requests ({} lines skipped)", t.requests, t.bad_lines.len());
        println!("outcomes:");
        for (k, v) in &t.outcomes {
            println!("  {v:>8}  {k}");
        }
        println!("phase decisions:");
        for (k, v) in &t.actions {
            println!("  {v:>8}  {k}");
        }
        println!("rules:");
        for (rule, counts) in &t.rules {
            for (k, v) in counts {
                println!("  {v:>8}  {rule}: {k}");
            }
        }
    }
    Outcome::Ok
}

fn phase_name(p: edge::pipeline::Phase) -> String {
    serde_json::to_value(p).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn spec_from_line(line: &str) -> Result<RequestSpec, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    for key in obj.keys() {
        if !matches!(key.as_str(), "method" | "url" | "headers" | "ip" | "cf") {
            return Err(format!("unknown field {key:?} (method, url, headers, ip, cf)"));
        }
    }
    let text = |k: &str| -> Result<Option<String>, String> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{k} must be a string")),
        }
    };
    let url = text("url")?.ok_or("missing url")?;
    let method = text("method")?.unwrap_or_else(|| "GET".to_string());
    let headers = match obj.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(n, v)| match v {
                Value::String(s) => Ok((n.clone(), s.clone())),
                _ => Err(format!("header {n:?} must be a string")),
            })
            .collect::<Result<_, _>>()?,
        Some(Value::Array(pairs)) => pairs
            .iter()
            .map(|p| match p.as_array().map(Vec::as_slice) {
                Some([Value::String(n), Value::String(v)]) => Ok((n.clone(), v.clone())),
                _ => Err("headers entries must be [name, value]".to_string()),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("headers must be an object or a list of [name, value]".into()),
    };
    let cf = match obj.get("cf") {
        None | Some(Value::Null) => None,
        Some(c @ Value::Object(_)) => Some(c.clone()),
        Some(_) => return Err("cf must be an object".into()),
    };
    Ok(RequestSpec { method, url, headers, ip: text("ip")?, cf })
}
