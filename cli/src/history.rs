//! `edge-rules history`: the documents `push` kept, newest first.

use edge::lifecycle::status::rfc3339;
use edge::lifecycle::{doc_hash, history, RULES_KEY};
use serde_json::json;

use crate::kv::{Kv, KvTarget};
use crate::outcome::{usage_error, Outcome};

/// List the kept documents, newest first, marking the current one.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The list as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    kv: KvTarget,
}

pub fn run(args: HistoryArgs) -> Outcome {
    let kv = Kv::new(args.kv);
    let (entries, current) = match read(&kv) {
        Ok(found) => found,
        Err(e) => return usage_error(e),
    };
    if args.json {
        let list: Vec<_> = entries
            .iter()
            .map(|e| json!({ "hash": e.hash, "at": rfc3339(e.at_ms), "key": e.key, "current": Some(&e.hash) == current.as_ref() }))
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Outcome::Ok;
    }
    if entries.is_empty() {
        println!("no history: nothing was pushed with `edge-rules push`");
    }
    for e in &entries {
        let mark = if Some(&e.hash) == current.as_ref() { "  (current)" } else { "" };
        println!("{}  {}{mark}", rfc3339(e.at_ms), e.hash);
    }
    Outcome::Ok
}

/// The history, newest first, and the hash of the document under `rules`.
pub fn read(kv: &Kv) -> Result<(Vec<history::Entry>, Option<String>), String> {
    let entries = history::entries(&kv.list(history::PREFIX)?);
    let current = kv.get(RULES_KEY)?.map(|b| doc_hash(&b));
    Ok((entries, current))
}
