//! `edge-rules rollout start FILE --percent 5 | status | promote | abort`: a
//! candidate under `rules.next` decides for a share of clients (sticky by
//! client IP) and/or some colos, until it is promoted to `rules` or aborted.

use edge::lifecycle::rollout::{envelope, parse_next, Next, Rollout};
use edge::lifecycle::{doc_hash, history, NEXT_KEY};

use crate::kv::{Kv, KvTarget};
use crate::load::{count, load_to_publish};
use crate::outcome::{usage_error, Outcome};

/// Roll a document out gradually: start, look, promote or abort.
#[derive(Debug, clap::Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Put FILE under `rules.next` for some clients.
    Start {
        /// The candidate document.
        file: String,
        /// Share of clients (by client IP) decided by the candidate, 0–100.
        #[arg(long, value_name = "P", required_unless_present = "colos", value_parser = percent)]
        percent: Option<f64>,
        /// Only clients served by this colo (IATA code; repeatable).
        #[arg(long = "colo", value_name = "IATA")]
        colos: Vec<String>,
        #[command(flatten)]
        kv: KvTarget,
    },
    /// Show the candidate, its rollout and what the edge made of it.
    Status {
        #[command(flatten)]
        kv: KvTarget,
    },
    /// Make the candidate the current document (kept in the history) and end the rollout.
    Promote {
        /// Documents the history keeps.
        #[arg(long, value_name = "N", default_value_t = history::DEFAULT_KEEP, value_parser = crate::push::keep_count)]
        keep: usize,
        #[command(flatten)]
        kv: KvTarget,
    },
    /// End the rollout: everyone returns to the current document within its TTL.
    Abort {
        #[command(flatten)]
        kv: KvTarget,
    },
}

fn percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a percentage between 0 and 100")),
    }
}

/// `5 % of clients in FRA, AMS`
pub fn describe(r: &Rollout) -> String {
    let share = format!("{}% of clients", r.percent.unwrap_or(100.0));
    if r.colos.is_empty() {
        share
    } else {
        format!("{share} in {}", r.colos.join(", "))
    }
}

const NO_CANDIDATE: &str = "no candidate: KV holds no \"rules.next\" (start one with `edge-rules rollout start FILE --percent 5`)";

pub fn run(args: RolloutArgs) -> Outcome {
    match args.action {
        Action::Start { file, percent, colos, kv } => start(&file, Rollout { percent, colos: colos.iter().map(|c| c.to_ascii_uppercase()).collect() }, &Kv::new(kv)),
        Action::Status { kv } => status(&Kv::new(kv)),
        Action::Promote { keep, kv } => promote(&Kv::new(kv), keep),
        Action::Abort { kv } => abort(&Kv::new(kv)),
    }
}

fn start(file: &str, rollout: Rollout, kv: &Kv) -> Outcome {
    let bytes = match load_to_publish(file, "no rollout started") {
        Ok(bytes) => bytes,
        Err(outcome) => return outcome,
    };
    let value = match envelope(&bytes, &rollout) {
        Ok(v) => v,
        Err(e) => return usage_error(format!("{file}: {e}")),
    };
    // The edge reads the same value: refuse what it would refuse.
    if let Err(errors) = parse_next(value.as_bytes()) {
        return usage_error(errors.0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "));
    }
    if let Err(e) = kv.put(NEXT_KEY, value.as_bytes()) {
        return usage_error(e);
    }
    println!("rollout started: candidate {} for {}", doc_hash(&bytes), describe(&rollout));
    Outcome::Ok
}

/// The rollout KV holds under `rules.next`; prints why there is none usable,
/// and that nothing was `not_done` when one is given.
fn candidate(kv: &Kv, not_done: Option<&str>) -> Result<Next, Outcome> {
    let bytes = match kv.get(NEXT_KEY) {
        Ok(Some(b)) => b,
        Ok(None) => return Err(usage_error(NO_CANDIDATE)),
        Err(e) => return Err(usage_error(e)),
    };
    parse_next(&bytes).map_err(|errors| {
        for e in &errors.0 {
            println!("{NEXT_KEY}: {e}");
        }
        if let Some(not_done) = not_done {
            eprintln!("{NEXT_KEY} is not a rollout; {not_done}");
        }
        Outcome::Invalid
    })
}

fn status(kv: &Kv) -> Outcome {
    let next = match candidate(kv, None) {
        Ok(n) => n,
        Err(outcome) => return outcome,
    };
    let hash = doc_hash(&next.document);
    println!("candidate: {hash} for {}", describe(&next.rollout));
    let reported = match crate::status::read(kv) {
        Ok(s) => s.and_then(|s| s.candidate).filter(|r| r.hash == hash),
        Err(e) => return usage_error(e),
    };
    match reported {
        Some(r) => {
            println!("edge:      {}", crate::status::line(&r));
            for e in &r.errors {
                println!("           {}: {}", e.path, e.message);
            }
            if r.errors.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Invalid
            }
        }
        None => {
            println!("edge:      not reported yet (within the current document's rules_ttl_seconds)");
            Outcome::Ok
        }
    }
}

fn promote(kv: &Kv, keep: usize) -> Outcome {
    let next = match candidate(kv, Some("not promoted")) {
        Ok(n) => n,
        Err(outcome) => return outcome,
    };
    if let Err(errors) = edge::rules::parse(&next.document) {
        for e in &errors.0 {
            println!("candidate: {e}");
        }
        eprintln!("candidate invalid ({}); not promoted", count(errors.0.len(), "error"));
        return Outcome::Invalid;
    }
    let hash = match crate::push::publish(kv, &next.document, keep) {
        Ok(h) => h,
        Err(e) => return usage_error(e),
    };
    if let Err(e) = kv.delete(NEXT_KEY) {
        return usage_error(format!("promoted {hash} to \"rules\", but could not end the rollout: {e}"));
    }
    println!("promoted {hash}: now the current document; rollout ended");
    Outcome::Ok
}

fn abort(kv: &Kv) -> Outcome {
    match kv.get(NEXT_KEY) {
        Ok(Some(bytes)) => {
            if let Err(e) = kv.delete(NEXT_KEY) {
                return usage_error(e);
            }
            let hash = parse_next(&bytes).map(|n| doc_hash(&n.document)).unwrap_or_else(|_| doc_hash(&bytes));
            println!("rollout of {hash} aborted: every client returns to the current document within its TTL");
            Outcome::Ok
        }
        Ok(None) => usage_error(NO_CANDIDATE),
        Err(e) => usage_error(e),
    }
}
