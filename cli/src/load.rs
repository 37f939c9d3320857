//! Reading a rules document from disk with the edge's own parser.

use edge::rules::{Errors, Rules};

use crate::outcome::{usage_error, Outcome};

/// Why a document could not be used.
pub enum LoadError {
    /// Not readable: a usage/I-O problem.
    Io(String),
    /// Read, but not a valid document.
    Invalid(Errors),
}

pub fn read(file: &str) -> Result<Vec<u8>, String> {
    std::fs::read(file).map_err(|e| format!("{file}: cannot read: {e}"))
}

pub fn load(file: &str) -> Result<(Vec<u8>, Rules), LoadError> {
    let bytes = read(file).map_err(LoadError::Io)?;
    match edge::rules::parse(&bytes) {
        Ok(rules) => Ok((bytes, rules)),
        Err(errors) => Err(LoadError::Invalid(errors)),
    }
}

/// Loads a document for a command that needs a valid one; prints why not.
pub fn load_or_report(file: &str) -> Result<Rules, Outcome> {
    match load(file) {
        Ok((_, rules)) => Ok(rules),
        Err(LoadError::Io(msg)) => Err(usage_error(msg)),
        Err(LoadError::Invalid(errors)) => {
            for e in &errors.0 {
                eprintln!("{file}: {e}");
            }
            Err(Outcome::Invalid)
        }
    }
}

/// Loads a document a command is about to write to KV: prints its summary, or
/// every error and that nothing was `not_done` (e.g. "not pushed").
pub fn load_to_publish(file: &str, not_done: &str) -> Result<Vec<u8>, Outcome> {
    match load(file) {
        Ok((bytes, rules)) => {
            eprintln!("{file}: ok ({})", summary(&rules));
            Ok(bytes)
        }
        Err(LoadError::Io(msg)) => Err(usage_error(msg)),
        Err(LoadError::Invalid(errors)) => {
            for e in &errors.0 {
                println!("{file}: {e}");
            }
            eprintln!("{file}: invalid ({}); {not_done}", count(errors.0.len(), "error"));
            Err(Outcome::Invalid)
        }
    }
}

/// One-line summary of a valid document.
pub fn summary(rules: &Rules) -> String {
    format!(
        "version {}, {} origins, rules: {} filter, {} authenticate, {} limit, {} route, {} respond",
        rules.version,
        rules.origins.len(),
        rules.filter.len(),
        rules.authenticate.len(),
        rules.limit.len(),
        rules.route.len(),
        rules.respond.len()
    )
}

/// `1 error`, `3 errors`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
