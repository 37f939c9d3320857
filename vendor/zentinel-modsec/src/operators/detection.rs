//! Detection operators (@detectSQLi, @detectXSS).
//!
//! These use our pure Rust libinjection implementation.

use super::traits::{Operator, OperatorResult};
use crate::libinjection;

/// SQL injection detection operator (@detectSQLi).
///
/// libinjection's algorithm, as ModSecurity runs it (edge patch, PATCHES.md):
/// the fingerprint of the value's first tokens, in the three quoting contexts,
/// looked up in libinjection's table (`libinjectionrs`, vendored). zentinel's
/// own heuristic, which matched any window of tokens against a short list,
/// blocked most prose (`n&nkn`…): 81 % of real prompts at CRS PL1.
pub struct DetectSqliOperator;

impl Operator for DetectSqliOperator {
    fn execute(&self, value: &str) -> OperatorResult {
        let result = libinjectionrs::detect_sqli(value.as_bytes());
        match result.fingerprint {
            Some(fp) if result.is_injection() => OperatorResult::matched(fp.to_string()),
            _ => OperatorResult::no_match(),
        }
    }

    fn name(&self) -> &'static str {
        "detectSQLi"
    }
}

/// XSS detection operator (@detectXSS).
pub struct DetectXssOperator;

impl Operator for DetectXssOperator {
    fn execute(&self, value: &str) -> OperatorResult {
        let result = libinjection::xss::detect_xss(value);
        if result.is_injection {
            OperatorResult::matched(result.fingerprint.unwrap_or_default())
        } else {
            OperatorResult::no_match()
        }
    }

    fn name(&self) -> &'static str {
        "detectXSS"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libinjection's verdicts and fingerprints (those of the C library, as
    /// `libinjection-python` 1.1.6 gives them), prose included.
    #[test]
    fn detect_sqli_is_libinjection() {
        let sqli = DetectSqliOperator;
        for (input, fingerprint) in [
            ("1' OR '1'='1", "s&sos"),
            ("1 UNION SELECT * FROM users", "1UEok"),
            ("admin'--", "sc"),
            ("1; DROP TABLE users--", "1;Tnn"),
        ] {
            let r = sqli.execute(input);
            assert!(r.matched, "{input}");
            assert_eq!(r.matched_value.as_deref(), Some(fingerprint), "{input}");
        }
        for prose in [
            "hello world",
            "I want you to act as a travel guide. I will write you my location and you will suggest a place to visit near my location.",
            "Select the union of both sets, and explain why the order of the result does not matter.",
            "Please update the table of contents; delete the old index or drop it from the appendix.",
        ] {
            assert!(!sqli.execute(prose).matched, "{prose}");
        }
    }
}
