//! `edge-rules import nginx FILE`: the clap wiring; the work is in
//! [`edge_rules::import`].

use std::path::PathBuf;

use edge_rules::import::{import_nginx, ImportArgs};

use crate::outcome::{usage_error, Outcome};

/// Translate another server's configuration into a rules document (standard
/// output) and a migration report (standard error).
#[derive(Debug, clap::Args)]
pub struct ImportCmd {
    #[command(subcommand)]
    from: ImportFrom,
}

#[derive(Debug, clap::Subcommand)]
enum ImportFrom {
    /// An nginx.conf with its includes: every directive translated, done by
    /// Cloudflare itself, or reported as not translatable.
    Nginx {
        /// The main nginx configuration file.
        file: PathBuf,
        /// Import only the `server` block with this `server_name`.
        #[arg(long)]
        server: Option<String>,
        /// `upstream=URL` or `host:port=URL`: the public origin for an internal name.
        #[arg(long = "origin-map", value_name = "NAME=URL")]
        origin_map: Vec<String>,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

pub fn run(cmd: ImportCmd) -> Outcome {
    let ImportFrom::Nginx { file, server, origin_map, report } = cmd.from;
    match import_nginx(&ImportArgs { file, server, origin_map, report }) {
        Ok(out) => {
            eprint!("{}", out.report_text);
            print!("{}", out.document);
            Outcome::Ok
        }
        Err(e) => usage_error(e),
    }
}
