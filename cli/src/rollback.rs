//! `edge-rules rollback [HASH]`: put a kept document back under `rules`, byte
//! for byte, after checking it still validates with this version's parser.

use edge::lifecycle::status::rfc3339;
use edge::lifecycle::{history, RULES_KEY};

use crate::kv::{Kv, KvTarget};
use crate::load::count;
use crate::outcome::{usage_error, Outcome};

/// Restore a kept document: the one before the current, or the one named.
#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// Hash (or a prefix of at least 4 digits) from `edge-rules history`.
    hash: Option<String>,
    #[command(flatten)]
    kv: KvTarget,
}

pub fn run(args: RollbackArgs) -> Outcome {
    let kv = Kv::new(args.kv);
    let (entries, current) = match crate::history::read(&kv) {
        Ok(found) => found,
        Err(e) => return usage_error(e),
    };
    let target = match history::rollback_target(&entries, current.as_deref(), args.hash.as_deref()) {
        Ok(t) => t.clone(),
        Err(e) => return usage_error(e),
    };
    let bytes = match kv.get(&target.key) {
        Ok(Some(b)) => b,
        Ok(None) => return usage_error(format!("{} vanished from KV", target.key)),
        Err(e) => return usage_error(e),
    };
    if let Err(errors) = edge::rules::parse(&bytes) {
        for e in &errors.0 {
            println!("{}: {e}", target.hash);
        }
        eprintln!(
            "edge-rules: {} (pushed {}) no longer validates ({}); not rolled back",
            target.hash,
            rfc3339(target.at_ms),
            count(errors.0.len(), "error")
        );
        return Outcome::Invalid;
    }
    if let Err(e) = kv.put(RULES_KEY, &bytes) {
        return usage_error(e);
    }
    println!("rolled back to {} (pushed {}); the edge serves it within its TTL", target.hash, rfc3339(target.at_ms));
    Outcome::Ok
}
