//! `edge-rules push FILE`: check, then write the document to KV under `rules`
//! with wrangler. An invalid document is refused before wrangler runs.

use crate::kv::{Kv, KvTarget, BINDING};
use crate::load::{count, load, summary, LoadError};
use crate::outcome::{usage_error, Outcome};

/// The KV key the edge reads its document from.
pub const KV_KEY: &str = "rules";

/// Check a document, then put it into KV (through wrangler).
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The rules document.
    file: String,
    #[command(flatten)]
    kv: KvTarget,
}

pub fn run(args: PushArgs) -> Outcome {
    let PushArgs { file, kv } = args;
    match load(&file) {
        Ok((_, rules)) => eprintln!("{file}: ok ({})", summary(&rules)),
        Err(LoadError::Io(msg)) => return usage_error(msg),
        Err(LoadError::Invalid(errors)) => {
            for e in &errors.0 {
                println!("{file}: {e}");
            }
            eprintln!("{file}: invalid ({}); not pushed", count(errors.0.len(), "error"));
            return Outcome::Invalid;
        }
    }
    match Kv::new(kv).put_file(KV_KEY, &file) {
        Ok(()) => {
            eprintln!("{file}: pushed to KV key {KV_KEY:?} (binding {BINDING})");
            Outcome::Ok
        }
        Err(e) => usage_error(e),
    }
}
