//! `edge-rules push FILE [--env ENV] [--local|--remote] [--persist-to DIR]
//! [--config PATH]`: check, then write the document to KV under `rules` with
//! wrangler. An invalid document is refused before wrangler runs.
//!
//! The wrangler command is `npx wrangler` unless `EDGE_RULES_WRANGLER` names
//! another (split on whitespace), e.g. a pinned path.

use std::process::Command;

use crate::args::Args;
use crate::load::{load, summary, LoadError};
use crate::outcome::{usage_error, Outcome};

const USAGE: &str = "usage: edge-rules push FILE [--env ENV] [--local|--remote] [--persist-to DIR] [--config PATH]";

/// The KV key and binding the edge reads its document from.
pub const KV_KEY: &str = "rules";
pub const KV_BINDING: &str = "RULES";

pub fn run(args: &[String]) -> Outcome {
    let mut a = match Args::parse(args, &["--env", "--persist-to", "--config"]) {
        Ok(a) => a,
        Err(e) => return usage_error(format!("{e}\n{USAGE}")),
    };
    let env = a.value("--env");
    let persist = a.value("--persist-to");
    let config = a.value("--config");
    let local = a.flag("--local");
    let remote = a.flag("--remote");
    let files = match a.finish() {
        Ok(f) => f,
        Err(e) => return usage_error(format!("{e}\n{USAGE}")),
    };
    let [file] = files.as_slice() else {
        return usage_error(USAGE);
    };
    if local && remote {
        return usage_error("--local and --remote exclude each other");
    }
    if remote && persist.is_some() {
        return usage_error("--persist-to is for --local");
    }

    let rules = match load(file) {
        Ok((_, rules)) => rules,
        Err(LoadError::Io(msg)) => return usage_error(msg),
        Err(LoadError::Invalid(errors)) => {
            for e in &errors.0 {
                println!("{file}: {e}");
            }
            eprintln!("{file}: invalid ({} errors); not pushed", errors.0.len());
            return Outcome::Invalid;
        }
    };
    eprintln!("{file}: ok ({})", summary(&rules));

    let wrangler = std::env::var("EDGE_RULES_WRANGLER").unwrap_or_else(|_| "npx wrangler".to_string());
    let mut words = wrangler.split_whitespace();
    let Some(program) = words.next() else {
        return usage_error("EDGE_RULES_WRANGLER is empty");
    };
    let mut cmd = Command::new(program);
    cmd.args(words).args(["kv", "key", "put", KV_KEY, "--path", file, "--binding", KV_BINDING]);
    if let Some(env) = &env {
        cmd.args(["--env", env]);
    }
    if local {
        cmd.arg("--local");
    }
    if remote {
        cmd.arg("--remote");
    }
    if let Some(dir) = &persist {
        cmd.args(["--persist-to", dir]);
    }
    if let Some(config) = &config {
        cmd.args(["--config", config]);
    }
    eprintln!("running: {wrangler} kv key put {KV_KEY} --path {file} --binding {KV_BINDING} …");
    match cmd.status() {
        Ok(s) if s.success() => {
            eprintln!("{file}: pushed to KV key {KV_KEY:?} (binding {KV_BINDING})");
            Outcome::Ok
        }
        Ok(s) => usage_error(format!("wrangler failed ({s})")),
        Err(e) => usage_error(format!("cannot run {program}: {e}")),
    }
}
