//! `edge-rules status`: what the edge made of the current document and the
//! candidate, as it wrote it to `rules.status`.

use edge::lifecycle::status::{Report, StatusDoc, Verdict};
use edge::lifecycle::{doc_hash, RULES_KEY, STATUS_KEY};

use crate::kv::{Kv, KvTarget};
use crate::outcome::{usage_error, Outcome};

/// Show the edge's report on the current document and the rollout candidate.
/// Exit code 1 when either was rejected.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The `rules.status` value as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    kv: KvTarget,
}

pub fn run(args: StatusArgs) -> Outcome {
    let kv = Kv::new(args.kv);
    let status = match read(&kv) {
        Ok(Some(s)) => s,
        Ok(None) => return usage_error(format!("no status yet: KV holds no {STATUS_KEY:?}; the edge writes it when a request first meets a document")),
        Err(e) => return usage_error(e),
    };
    let in_kv = match kv.get(RULES_KEY) {
        Ok(bytes) => bytes.map(|b| doc_hash(&b)),
        Err(e) => return usage_error(e),
    };
    if args.json {
        println!("{}", status.to_json());
    } else {
        print!("{}", render(&status, in_kv.as_deref()));
    }
    let rejected = [&status.current, &status.candidate].into_iter().flatten().any(|r| r.outcome == Verdict::Rejected);
    if rejected {
        Outcome::Invalid
    } else {
        Outcome::Ok
    }
}

/// Reads and parses `rules.status`.
pub fn read(kv: &Kv) -> Result<Option<StatusDoc>, String> {
    match kv.get(STATUS_KEY)? {
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| format!("{STATUS_KEY} is not a status document: {e}")),
        None => Ok(None),
    }
}

fn render(status: &StatusDoc, in_kv: Option<&str>) -> String {
    let mut out = String::new();
    match &status.current {
        Some(r) => {
            out.push_str(&format!("current:   {}\n", line(r)));
            detail(&mut out, r);
        }
        None => out.push_str("current:   not reported yet\n"),
    }
    if let (Some(kv), Some(r)) = (in_kv, &status.current) {
        if kv != r.hash {
            out.push_str(&format!("           KV now holds {kv}: not read by the edge yet (within the document's rules_ttl_seconds)\n"));
        }
    }
    match &status.candidate {
        Some(r) => {
            out.push_str(&format!("candidate: {}\n", line(r)));
            detail(&mut out, r);
        }
        None => out.push_str("candidate: none\n"),
    }
    out
}

/// `accepted 3f9a… version 4 at …`
pub fn line(r: &Report) -> String {
    let verdict = match r.outcome {
        Verdict::Accepted => "accepted",
        Verdict::Rejected => "rejected",
    };
    let mut s = format!("{verdict} {} at {}", r.hash, r.at);
    if let Some(v) = r.version {
        s.push_str(&format!(", version {v}"));
    }
    if let Some(rollout) = &r.rollout {
        s.push_str(&format!(", rollout {}", crate::rollout::describe(rollout)));
    }
    s
}

fn detail(out: &mut String, r: &Report) {
    if let Some(rules) = &r.rules {
        let counts: Vec<String> = rules.iter().map(|(phase, n)| format!("{phase} {n}")).collect();
        out.push_str(&format!("           rules: {}\n", counts.join(", ")));
    }
    for e in &r.errors {
        out.push_str(&format!("           {}: {}\n", e.path, e.message));
    }
    if let Some(serving) = &r.serving {
        out.push_str(&format!("           serving instead: {serving}\n"));
    }
}
