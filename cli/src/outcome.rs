//! Exit codes fit for CI: 0 ok, 1 the document is invalid (or a request was
//! refused in a way the caller asked to fail on), 2 usage or I/O.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Invalid,
    Usage,
}

impl Outcome {
    /// The worse of two outcomes (usage/IO beats invalid beats ok).
    pub fn max(self, other: Self) -> Self {
        match (self, other) {
            (Self::Usage, _) | (_, Self::Usage) => Self::Usage,
            (Self::Invalid, _) | (_, Self::Invalid) => Self::Invalid,
            _ => Self::Ok,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        ExitCode::from(match o {
            Outcome::Ok => 0,
            Outcome::Invalid => 1,
            Outcome::Usage => 2,
        })
    }
}

/// Prints a usage or I/O error and returns [`Outcome::Usage`].
pub fn usage_error(msg: impl std::fmt::Display) -> Outcome {
    eprintln!("edge-rules: {msg}");
    Outcome::Usage
}
