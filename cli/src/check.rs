//! `edge-rules check FILE... [--json]`: full validation, every fault at its
//! JSON path.

use crate::load::{load, summary, LoadError};
use crate::outcome::Outcome;

/// Validate rules documents; every fault is printed at its JSON path.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Rules documents to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// One JSON report (an array, one entry per file) instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: CheckArgs) -> Outcome {
    let CheckArgs { files, json } = args;
    let mut outcome = Outcome::Ok;
    let mut reports = Vec::new();
    for file in &files {
        let (result, report) = match load(file) {
            Ok((_, rules)) => {
                if !json {
                    println!("{file}: ok ({})", summary(&rules));
                }
                (Outcome::Ok, serde_json::json!({ "file": file, "valid": true }))
            }
            Err(LoadError::Io(msg)) => {
                eprintln!("edge-rules: {msg}");
                (Outcome::Usage, serde_json::json!({ "file": file, "valid": false, "io_error": msg }))
            }
            Err(LoadError::Invalid(errors)) => {
                if !json {
                    for e in &errors.0 {
                        println!("{file}: {e}");
                    }
                    println!("{file}: invalid ({})", crate::load::count(errors.0.len(), "error"));
                }
                (Outcome::Invalid, serde_json::json!({ "file": file, "valid": false, "errors": errors }))
            }
        };
        outcome = outcome.max(result);
        reports.push(report);
    }
    if json {
        println!("{}", serde_json::Value::Array(reports));
    }
    outcome
}
