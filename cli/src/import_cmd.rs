//! Wiring of `edge-rules import` into the hand-written argument reader; the
//! work is in [`edge_rules::import`].

use edge_rules::import::{import_nginx, ImportArgs};

use crate::args::Args;
use crate::outcome::{usage_error, Outcome};

const USAGE: &str = "usage: edge-rules import nginx FILE [--server NAME] [--origin-map NAME=URL]... [--report FILE]";

pub fn run(args: &[String]) -> Outcome {
    let mut a = match Args::parse(args, &["--server", "--origin-map", "--report"]) {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    let server = a.value("--server");
    let origin_map = a.values("--origin-map");
    let report = a.value("--report").map(Into::into);
    let file = match a.finish().as_deref() {
        Ok([kind, file]) if kind == "nginx" => file.into(),
        Ok(_) => return usage_error(USAGE),
        Err(e) => return usage_error(e),
    };
    match import_nginx(&ImportArgs { file, server, origin_map, report }) {
        Ok(out) => {
            eprint!("{}", out.report_text);
            print!("{}", out.document);
            Outcome::Ok
        }
        Err(e) => usage_error(e),
    }
}
