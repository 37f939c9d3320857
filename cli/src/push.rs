//! `edge-rules push FILE`: check, then write the document to KV under `rules`
//! with wrangler, and keep it under a history key for `rollback`. An invalid
//! document is refused before wrangler runs.

use edge::lifecycle::{doc_hash, history, RULES_KEY};

use crate::kv::{Kv, KvTarget, BINDING};
use crate::load::load_to_publish;
use crate::outcome::{usage_error, Outcome};

/// Check a document, then put it into KV (through wrangler) and keep it in the history.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The rules document.
    file: String,
    /// Documents the history keeps (older ones are deleted).
    #[arg(long, value_name = "N", default_value_t = history::DEFAULT_KEEP, value_parser = keep_count)]
    keep: usize,
    #[command(flatten)]
    kv: KvTarget,
}

pub fn run(args: PushArgs) -> Outcome {
    let PushArgs { file, keep, kv } = args;
    let bytes = match load_to_publish(&file, "not pushed") {
        Ok(bytes) => bytes,
        Err(outcome) => return outcome,
    };
    match publish(&Kv::new(kv), &bytes, keep) {
        Ok(hash) => {
            println!("{file}: pushed to KV key {RULES_KEY:?} (binding {BINDING}) as {hash}");
            Outcome::Ok
        }
        Err(e) => usage_error(e),
    }
}

/// Puts a valid document under `rules`, keeps it under a history key and
/// prunes the history to `keep`. Returns the document's hash.
pub fn publish(kv: &Kv, bytes: &[u8], keep: usize) -> Result<String, String> {
    let hash = doc_hash(bytes);
    kv.put(RULES_KEY, bytes)?;
    kv.put(&history::key(crate::evaluate::now_ms(), &hash), bytes)?;
    let kept = history::entries(&kv.list(history::PREFIX)?);
    for old in history::prune(&kept, keep) {
        kv.delete(&old.key)?;
    }
    Ok(hash)
}

/// `--keep`: at least 1 (the document just pushed).
pub fn keep_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?} is not a count of at least 1")),
    }
}
