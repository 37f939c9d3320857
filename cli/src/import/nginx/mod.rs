//! `edge-rules import nginx`: nginx config → rules document + migration report.
//!
//! [`lexer`] and [`parse`] read the config (no I/O beyond a [`parse::Source`]),
//! [`location`] reproduces nginx's location choice, [`translate`] maps
//! directives to rules, [`report`] says what became of each directive.

pub mod lexer;
pub mod location;
pub mod parse;
pub mod report;
pub mod translate;

use std::path::Path;

pub use parse::{parse_file, parse_text, Directive, Filesystem, ParseError, Source};
pub use translate::{translate, Options, Translation};

/// A translated config: the document (pretty JSON, newline-terminated, the
/// same bytes for the same input) and the report lines.
#[derive(Debug)]
pub struct Imported {
    pub document: String,
    pub report: Vec<report::Line>,
}

/// Reads `main` (and its includes) and translates it.
pub fn import(main: &Path, source: &dyn Source, opts: &Options) -> Result<Imported, String> {
    let tree = parse_file(main, source).map_err(|e| e.to_string())?;
    let t = translate(&tree, opts)?;
    let mut document = serde_json::to_string_pretty(&t.document).map_err(|e| e.to_string())?;
    document.push('\n');
    Ok(Imported { document, report: t.report.lines() })
}
