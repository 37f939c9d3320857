//! Detection operators (@detectSQLi, @detectXSS): libinjection, as
//! ModSecurity runs it, from the vendored `libinjectionrs`.

use super::traits::{Operator, OperatorResult};

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

    fn clean_mark(&self) -> u8 {
        1
    }
}

/// XSS detection operator (@detectXSS).
///
/// libinjection's HTML5 tokenizer in its five contexts, as ModSecurity runs
/// it (edge patch 31, the vendored `libinjectionrs`). zentinel's own
/// heuristic, a list of patterns over the value and a URL-decoded copy of it,
/// disagreed with C libinjection on 110 of 4,041 corpus inputs (CRS decodes
/// before the operator; decoding again flagged what ModSecurity passes).
/// libinjection reports no fingerprint for XSS, so no portion either.
pub struct DetectXssOperator;

impl Operator for DetectXssOperator {
    fn execute(&self, value: &str) -> OperatorResult {
        OperatorResult { matched: libinjectionrs::detect_xss(value.as_bytes()).is_injection(), ..OperatorResult::default() }
    }

    fn name(&self) -> &'static str {
        "detectXSS"
    }

    fn clean_mark(&self) -> u8 {
        2
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

    /// libinjection's XSS verdicts (C libinjection's, as `libinjection-python`
    /// gives them); no portion is reported.
    #[test]
    fn detect_xss_is_libinjection() {
        for attack in ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>", "\"><svg/onload=alert(1)>"] {
            let r = DetectXssOperator.execute(attack);
            assert!(r.matched && r.matched_value.is_none(), "{attack}");
        }
        // A bare `javascript:` URL is no markup; libinjection asks for a tag.
        for text in ["hello world", "javascript:alert(1)", "<p>Normal paragraph</p>", "Use a <b> tag for bold; 3 < 4 and 5 > 2.", "%3Cscript%3Ealert(1)%3C/script%3E"] {
            assert!(!DetectXssOperator.execute(text).matched, "{text}");
        }
    }
}
