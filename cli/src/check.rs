//! `edge-rules check FILE... [--json]`: full validation, every fault at its
//! JSON path.

use crate::args::Args;
use crate::load::{load, summary, LoadError};
use crate::outcome::{usage_error, Outcome};

pub fn run(args: &[String]) -> Outcome {
    let mut a = match Args::parse(args, &[]) {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    let json = a.flag("--json");
    let files = match a.finish() {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => return usage_error("usage: edge-rules check FILE... [--json]"),
        Err(e) => return usage_error(e),
    };
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
                    eprintln!("{file}: invalid ({} errors)", errors.0.len());
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
