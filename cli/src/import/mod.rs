//! `edge-rules import`: other proxies' configs → rules documents. One entry
//! function over a plain argument struct, so any argument parser can call it.

pub mod nginx;

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Arguments of `edge-rules import nginx FILE [--server NAME]
/// [--origin-map NAME=URL]... [--report FILE]`.
#[derive(Debug, Clone, Default)]
pub struct ImportArgs {
    pub file: PathBuf,
    pub server: Option<String>,
    /// `upstream=URL` or `host:port=URL`.
    pub origin_map: Vec<String>,
    /// Where to write the report as JSON.
    pub report: Option<PathBuf>,
}

/// What the caller prints: the document for standard output, the report
/// table for standard error.
#[derive(Debug)]
pub struct ImportOutput {
    pub document: String,
    pub report_text: String,
}

/// Runs the nginx import. `Err` is a usage, I/O or parse error (with
/// file:line:column) for standard error.
pub fn import_nginx(args: &ImportArgs) -> Result<ImportOutput, String> {
    let mut origin_map = BTreeMap::new();
    for m in &args.origin_map {
        let (k, v) = m.split_once('=').ok_or_else(|| format!("--origin-map takes NAME=URL, got {m:?}"))?;
        origin_map.insert(k.to_string(), v.to_string());
    }
    let opts = nginx::Options { server: args.server.clone(), origin_map };
    let imported = nginx::import(&args.file, &nginx::Filesystem, &opts)?;
    // The document must load in the edge; a failure here is an importer bug.
    if let Err(errors) = edge::rules::parse(imported.document.as_bytes()) {
        return Err(format!("internal error: the translated document does not validate:\n{errors}"));
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&imported.report).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(ImportOutput { document: imported.document, report_text: nginx::report::text(&imported.report) })
}
