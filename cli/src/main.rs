//! `edge-rules`: the edge's own rules parser and pipeline, on the command line.
//!
//! ```text
//! edge-rules check FILE...     validate; every fault with its JSON path; exit 1 if any
//! ```

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: edge-rules check FILE...");
    ExitCode::from(2)
}

fn check(files: &[String]) -> ExitCode {
    if files.is_empty() {
        return usage();
    }
    let mut failed = false;
    for file in files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{file}: cannot read: {e}");
                failed = true;
                continue;
            }
        };
        match edge::rules::parse(&bytes) {
            Ok(rules) => println!(
                "{file}: ok (version {}, {} filter, {} route, {} respond rules)",
                rules.version,
                rules.filter.len(),
                rules.route.len(),
                rules.respond.len()
            ),
            Err(errors) => {
                failed = true;
                for e in &errors.0 {
                    eprintln!("{file}: {e}");
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]),
        _ => usage(),
    }
}
