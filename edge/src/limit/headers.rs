//! Response fields from draft-ietf-httpapi-ratelimit-headers (-10):
//!
//! ```text
//! RateLimit-Policy: "<name>";q=<quota>;w=<window s>
//! RateLimit: "<name>";r=<remaining>;t=<s until more quota>
//! Retry-After: <delay-seconds>
//! ```
//!
//! The policy item is an sf-string (§3: "The Item value MUST be a String").
//! GCRA is advertised as a bucket: `q` = `limit` (`burst + 1`) refilled in
//! `w` = `τ` seconds, so `r ≤ q` always holds. `t` follows -10's definition,
//! "seconds until additional quota is made available" (not a full reset),
//! and is omitted when nothing is owed. Seconds round up so a client that
//! waits as told is never early.

use std::fmt;

use super::gcra::{Outcome, Quota};

pub const RATELIMIT_POLICY: &str = "RateLimit-Policy";
pub const RATELIMIT: &str = "RateLimit";
pub const RETRY_AFTER: &str = "Retry-After";

/// Largest sf-integer (RFC 9651 §3.3.1: at most 15 digits).
const SF_INTEGER_MAX: u64 = 999_999_999_999_999;
const MAX_NAME_LEN: usize = 64;
const NS_PER_S: u128 = 1_000_000_000;
const NS_PER_MS: u128 = 1_000_000;

/// Why a policy name can't be rendered as an sf-string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyNameError {
    Empty,
    TooLong,
    /// sf-strings only hold printable ASCII (0x20..=0x7E).
    NotPrintableAscii,
}

impl fmt::Display for PolicyNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "policy name is empty",
            Self::TooLong => "policy name is longer than 64 bytes",
            Self::NotPrintableAscii => "policy name must be printable ASCII",
        })
    }
}

impl std::error::Error for PolicyNameError {}

/// A policy name validated once, at rule-load time, so rendering headers on
/// the request path cannot fail. Stored already quoted and escaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyName {
    quoted: Box<str>,
}

impl PolicyName {
    pub fn new(name: &str) -> Result<Self, PolicyNameError> {
        if name.is_empty() {
            return Err(PolicyNameError::Empty);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(PolicyNameError::TooLong);
        }
        if !name.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(PolicyNameError::NotPrintableAscii);
        }
        let mut quoted = String::with_capacity(name.len().saturating_add(2));
        quoted.push('"');
        for c in name.chars() {
            if c == '"' || c == '\\' {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        quoted.push('"');
        Ok(Self {
            quoted: quoted.into(),
        })
    }

    /// The name as an sf-string, quotes included.
    pub fn as_sf_string(&self) -> &str {
        &self.quoted
    }
}

/// `RateLimit-Policy` value: `"<name>";q=<limit>;w=<⌈τ⌉ s>`.
pub fn ratelimit_policy(name: &PolicyName, quota: &Quota) -> String {
    let window_s = ns_to_s_ceil(quota.tolerance_ns()).clamp(1, SF_INTEGER_MAX);
    format!("{};q={};w={}", name.quoted, quota.limit(), window_s)
}

/// `RateLimit` value: `"<name>";r=<remaining>[;t=<s>]`.
///
/// When limited with a retry hint, `t` equals `Retry-After` (the draft says
/// Retry-After SHOULD NOT be earlier than `t`). Otherwise `t` is when the
/// next cell frees up: `reset_after − τ + (remaining + 1) × T`.
pub fn ratelimit(name: &PolicyName, quota: &Quota, outcome: &Outcome) -> String {
    let next_s = match (outcome.allowed, outcome.retry_after_ms) {
        (false, Some(retry_ms)) => Some(ms_to_s_ceil(retry_ms)),
        _ if outcome.reset_after_ms == 0 => None,
        _ => {
            let t = u128::from(quota.emission_interval_ns());
            let owed = u128::from(outcome.reset_after_ms).saturating_mul(NS_PER_MS);
            let after = owed
                .saturating_add(t.saturating_mul(u128::from(outcome.remaining).saturating_add(1)))
                .saturating_sub(quota.tolerance_ns());
            Some(ns_to_s_ceil(after))
        }
    };
    let remaining = outcome.remaining.min(outcome.limit);
    match next_s {
        Some(s) => format!(
            "{};r={};t={}",
            name.quoted,
            remaining,
            s.min(SF_INTEGER_MAX)
        ),
        None => format!("{};r={}", name.quoted, remaining),
    }
}

/// `Retry-After` value in whole seconds, only for limited outcomes that a
/// retry can fix.
pub fn retry_after(outcome: &Outcome) -> Option<String> {
    if outcome.allowed {
        return None;
    }
    outcome
        .retry_after_ms
        .map(|ms| ms_to_s_ceil(ms).to_string())
}

fn ms_to_s_ceil(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

fn ns_to_s_ceil(ns: u128) -> u64 {
    u64::try_from(ns.div_ceil(NS_PER_S)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::gcra::{decide, GcraState};

    fn name() -> PolicyName {
        PolicyName::new("default").expect("valid")
    }

    fn quota() -> Quota {
        Quota::new(1, 1000, 4).expect("valid")
    }

    #[test]
    fn policy_field() {
        assert_eq!(ratelimit_policy(&name(), &quota()), "\"default\";q=5;w=5");
        // 100 per minute with burst 99: the familiar "100 per 60 s".
        let q = Quota::new(100, 60_000, 99).expect("valid");
        assert_eq!(ratelimit_policy(&name(), &q), "\"default\";q=100;w=60");
        // Sub-second windows still advertise a non-zero w.
        let q = Quota::new(10, 1000, 0).expect("valid");
        assert_eq!(ratelimit_policy(&name(), &q), "\"default\";q=1;w=1");
    }

    #[test]
    fn names_are_escaped_or_rejected() {
        let n = PolicyName::new(r#"a"b\c"#).expect("valid");
        assert_eq!(n.as_sf_string(), r#""a\"b\\c""#);
        assert_eq!(PolicyName::new(""), Err(PolicyNameError::Empty));
        assert_eq!(PolicyName::new("é"), Err(PolicyNameError::NotPrintableAscii));
        assert_eq!(PolicyName::new("a\r\nX: y"), Err(PolicyNameError::NotPrintableAscii));
        assert_eq!(PolicyName::new(&"a".repeat(65)), Err(PolicyNameError::TooLong));
    }

    #[test]
    fn ratelimit_and_retry_after_follow_the_decision() {
        let q = quota();
        let (fresh, _) = decide(&q, GcraState::FRESH, 0, 0);
        assert_eq!(ratelimit(&name(), &q, &fresh), "\"default\";r=5");
        assert_eq!(retry_after(&fresh), None);

        let mut s = GcraState::FRESH;
        let mut last = fresh;
        for _ in 0..5 {
            let (o, n) = decide(&q, s, 0, 1);
            s = n;
            last = o;
        }
        // Empty bucket, full debt of 5 s; one cell frees in 1 s.
        assert_eq!(ratelimit(&name(), &q, &last), "\"default\";r=0;t=1");

        let (limited, _) = decide(&q, s, 1, 1);
        assert_eq!(retry_after(&limited).as_deref(), Some("1"));
        assert_eq!(ratelimit(&name(), &q, &limited), "\"default\";r=0;t=1");

        // Corpus case 8: TAT 7000 ms at 3100 ms leaves 1 cell; the next one
        // frees in 900 ms, rounded up to 1 s.
        let (o, _) = decide(&q, GcraState::from_tat_ns(6_000_000_000), 3_100, 1);
        assert_eq!((o.remaining, o.reset_after_ms), (1, 3_900));
        assert_eq!(ratelimit(&name(), &q, &o), "\"default\";r=1;t=1");

        // Oversized cost: refused, but no retry will ever help.
        let (o, _) = decide(&q, GcraState::FRESH, 0, 6);
        assert_eq!(retry_after(&o), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        let o = Outcome {
            allowed: false,
            limit: 1,
            remaining: 0,
            reset_after_ms: 1,
            retry_after_ms: Some(1001),
        };
        assert_eq!(retry_after(&o).as_deref(), Some("2"));
    }
}
