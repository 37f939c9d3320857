//! `edge-rules`: the edge's own rules parser and pipeline, on the command line.
//! Every command uses the `edge` crate's code (parsing, validation, phases),
//! not a copy, so what it says is what the Worker does.
//!
//! ```text
//! edge-rules check FILE... [--json]            validate; every fault at its JSON path
//! edge-rules explain FILE --request 'GET URL'  each phase's decision for one request
//!            [-H 'Name: value']... [--cf JSON] [--ip ADDR] [--json]
//! edge-rules replay FILE REQUESTS.jsonl [--json]   decisions for recorded traffic, counted
//! edge-rules diff OLD NEW [--json]              what changed, rule by rule
//! edge-rules push FILE [--env ENV] [--local|--remote] [--persist-to DIR] [--config PATH]
//!                                               check, then put into KV with wrangler
//! edge-rules schema                             the JSON Schema of the rules document
//! edge-rules import nginx FILE [--server NAME] [--origin-map NAME=URL]... [--report FILE]
//!                                               nginx.conf → document (stdout) + report (stderr)
//! ```
//!
//! Exit codes: 0 ok, 1 invalid document, 2 usage or I/O error.

mod args;
mod check;
mod diff;
mod evaluate;
mod explain;
mod import_cmd;
mod load;
mod outcome;
mod push;
mod replay;

use std::process::ExitCode;

use outcome::{usage_error, Outcome};

const USAGE: &str = "usage: edge-rules <command> ...
  check FILE... [--json]
  explain FILE --request 'METHOD URL' [-H 'Name: value']... [--cf JSON] [--ip ADDR] [--json]
  replay FILE REQUESTS.jsonl [--json]
  diff OLD NEW [--json]
  push FILE [--env ENV] [--local|--remote] [--persist-to DIR] [--config PATH]
  schema
  import nginx FILE [--server NAME] [--origin-map NAME=URL]... [--report FILE]
exit codes: 0 ok, 1 invalid document, 2 usage or I/O error";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let outcome = match args.first().map(String::as_str) {
        Some("check") => check::run(rest),
        Some("explain") => explain::run(rest),
        Some("replay") => replay::run(rest),
        Some("diff") => diff::run(rest),
        Some("push") => push::run(rest),
        Some("import") => import_cmd::run(rest),
        Some("schema") => {
            print!("{}", edge::rules::schema::rules_schema_pretty());
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Outcome::Ok
        }
        _ => usage_error(USAGE),
    };
    outcome.into()
}
