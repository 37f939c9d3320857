//! The status document the edge writes to `rules.status`: what it made of the
//! current document and of the candidate, readable in the dashboard's KV
//! editor right next to the document that was edited.
//!
//! ```json
//! { "current":   { "outcome": "rejected", "hash": "…", "at": "2026-12-01T22:04:05Z",
//!                  "errors": [ { "path": "$.phases.filter[0].when.ips[0]", "message": "…" } ],
//!                  "serving": "3f9a…" },
//!   "candidate": { "outcome": "accepted", "hash": "…", "at": "…", "version": 4,
//!                  "rules": { "filter": 3, … }, "rollout": { "percent": 5 } } }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rollout::Rollout;
use crate::rules::{Errors, Rules};

/// Which document a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// `rules`
    Current,
    /// `rules.next`
    Candidate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Rejected,
}

/// One fault of a rejected document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub path: String,
    pub message: String,
}

/// What the edge made of one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub outcome: Verdict,
    /// [`super::doc_hash`] of the bytes read.
    pub hash: String,
    /// When an edge first met it (UTC, RFC 3339).
    pub at: String,
    /// Accepted: the document's `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// Accepted: rule counts per phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<BTreeMap<String, usize>>,
    /// Rejected: every fault, at its JSON path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Fault>,
    /// Rejected: what decides requests instead — the hash of the last good
    /// document, `builtin_default`, or (for a candidate) `current`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<String>,
    /// Candidate: the rollout it was read with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

impl Report {
    pub fn accepted(hash: &str, rules: &Rules, at_ms: u64) -> Self {
        let counts = [
            ("filter", rules.filter.len()),
            ("authenticate", rules.authenticate.len()),
            ("limit", rules.limit.len()),
            ("cache", rules.cache.len()),
            ("route", rules.route.len()),
            ("respond", rules.respond.len()),
        ];
        Self {
            outcome: Verdict::Accepted,
            hash: hash.to_string(),
            at: rfc3339(at_ms),
            version: Some(rules.version),
            rules: Some(counts.into_iter().map(|(p, n)| (p.to_string(), n)).collect()),
            errors: Vec::new(),
            serving: None,
            rollout: None,
        }
    }

    pub fn rejected(hash: &str, errors: &Errors, serving: &str, at_ms: u64) -> Self {
        Self {
            outcome: Verdict::Rejected,
            hash: hash.to_string(),
            at: rfc3339(at_ms),
            version: None,
            rules: None,
            errors: errors.0.iter().map(|e| Fault { path: e.path.clone(), message: e.message.clone() }).collect(),
            serving: Some(serving.to_string()),
            rollout: None,
        }
    }

    pub fn with_rollout(mut self, rollout: Rollout) -> Self {
        self.rollout = Some(rollout);
        self
    }
}

/// The whole `rules.status` value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusDoc {
    #[serde(default)]
    pub current: Option<Report>,
    /// `None` while `rules.next` holds nothing.
    #[serde(default)]
    pub candidate: Option<Report>,
}

impl StatusDoc {
    pub fn slot(&self, slot: Slot) -> Option<&Report> {
        match slot {
            Slot::Current => self.current.as_ref(),
            Slot::Candidate => self.candidate.as_ref(),
        }
    }

    pub fn set(&mut self, slot: Slot, report: Option<Report>) {
        match slot {
            Slot::Current => self.current = report,
            Slot::Candidate => self.candidate = report,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// What an isolate tells the status writer: its view of one slot changed.
/// `report: None` says the slot is empty (no candidate any more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub slot: Slot,
    pub report: Option<Report>,
}

impl Observation {
    pub fn hash(&self) -> Option<&str> {
        self.report.as_ref().map(|r| r.hash.as_str())
    }
}

/// `2026-12-01T22:04:05Z` from Unix milliseconds (no date crate for one format).
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_162_645_999), "2026-12-01T22:04:05Z");
    }

    #[test]
    fn accepted_counts_rules_per_phase() {
        let doc = br#"{ "version": 1, "settings": { "default_origin": "app" },
          "origins": { "app": { "url": "https://app.internal" } },
          "phases": { "filter": [ { "id": "a", "action": "block", "when": { "paths": ["/x"] } } ] } }"#;
        let rules = crate::rules::parse(doc).expect("valid");
        let r = Report::accepted("abcd", &rules, 0);
        assert_eq!(r.version, Some(1));
        let counts = r.rules.as_ref().expect("counts");
        assert_eq!(counts["filter"], 1);
        assert_eq!(counts["route"], 0);
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["outcome"], "accepted");
        assert!(json.get("errors").is_none(), "no empty fields: {json}");
    }

    #[test]
    fn rejected_lists_every_fault_and_what_serves() {
        let errors = crate::rules::parse(br#"{ "version": 1, "phases": { "filter": [ { "id": "x", "action": "explode" } ] } }"#)
            .expect_err("invalid");
        let r = Report::rejected("beef", &errors, "1234", 0);
        let json = serde_json::to_value(StatusDoc { current: Some(r.clone()), candidate: None }).expect("json");
        assert_eq!(json["current"]["outcome"], "rejected");
        assert_eq!(json["current"]["serving"], "1234");
        assert!(json["current"]["errors"].as_array().expect("errors").iter().any(|e| e["path"] == "$.phases.filter[0].action"));
        let back: StatusDoc = serde_json::from_value(json).expect("round trip");
        assert_eq!(back.current, Some(r));
    }
}
