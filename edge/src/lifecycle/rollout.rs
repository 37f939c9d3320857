//! Gradual rollout: `rules.next` holds a candidate document and who gets it.
//!
//! ```json
//! { "percent": 5, "colos": ["FRA", "AMS"], "document": "{ \"version\": 4, … }" }
//! ```
//!
//! `document` is the candidate's text as a JSON string, so its bytes (and hash)
//! are exactly what `promote` later puts under `rules`. A client is in the
//! rollout when its colo is listed (or no colos are) and its bucket — a hash
//! of the candidate's hash and the client IP — falls under `percent` (100 when
//! only colos are given). The same IP always lands in the same bucket for one
//! candidate, raising the percentage only adds clients, and each new candidate
//! draws a different set of clients, so no client is always the one trying
//! things out. Requests without a client IP stay on the current document.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rules::{Errors, JsonPath};

/// Buckets per 100 %: percentages to two decimals (0.01 % steps).
const BUCKETS: u32 = 10_000;

/// Who is decided by the candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// Share of clients, 0–100 (by client IP); 100 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// Only clients served by these colos (IATA codes, e.g. `FRA`); all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub colos: Vec<String>,
}

impl Rollout {
    /// Whether a request from `ip`, served in `colo`, is decided by the candidate
    /// whose hash is `candidate`.
    pub fn includes(&self, candidate: &str, ip: Option<IpAddr>, colo: Option<&str>) -> bool {
        if !self.colos.is_empty() && !colo.is_some_and(|c| self.colos.iter().any(|l| l.eq_ignore_ascii_case(c))) {
            return false;
        }
        let threshold = (self.percent.unwrap_or(100.0).clamp(0.0, 100.0) * f64::from(BUCKETS) / 100.0).round() as u32;
        if threshold >= BUCKETS {
            return true;
        }
        ip.is_some_and(|ip| bucket(candidate, ip) < threshold)
    }
}

/// The client's bucket, 0..10 000, for one candidate.
pub fn bucket(candidate: &str, ip: IpAddr) -> u32 {
    let mut h = Sha256::new();
    h.update(candidate.as_bytes());
    h.update(b"|");
    h.update(ip.to_string().as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % BUCKETS
}

/// A parsed `rules.next`.
#[derive(Debug, Clone, PartialEq)]
pub struct Next {
    pub rollout: Rollout,
    /// The candidate document, byte for byte.
    pub document: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNext {
    #[serde(default)]
    percent: Option<f64>,
    #[serde(default)]
    colos: Vec<String>,
    document: String,
}

/// Reads `rules.next`; faults carry JSON paths like the document's own.
pub fn parse_next(bytes: &[u8]) -> Result<Next, Errors> {
    let mut errors = Errors::default();
    let raw: RawNext = crate::rules::read(bytes)?;
    let root = JsonPath::root();
    if let Some(p) = raw.percent {
        if !(0.0..=100.0).contains(&p) {
            errors.push(root.key("percent"), "must be between 0 and 100");
        }
    }
    for (i, c) in raw.colos.iter().enumerate() {
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
            errors.push(root.key("colos").index(i), "a colo is a three-letter IATA code, e.g. FRA");
        }
    }
    if raw.percent.is_none() && raw.colos.is_empty() {
        errors.push(root, "give `percent`, `colos` or both: who gets the candidate");
    }
    if !errors.0.is_empty() {
        return Err(errors);
    }
    Ok(Next { rollout: Rollout { percent: raw.percent, colos: raw.colos }, document: raw.document.into_bytes() })
}

/// The `rules.next` value for a candidate (the CLI's `rollout start`).
pub fn envelope(document: &[u8], rollout: &Rollout) -> Result<String, String> {
    let text = std::str::from_utf8(document).map_err(|_| "the document is not UTF-8 text".to_string())?;
    let mut v = serde_json::to_value(rollout).map_err(|e| e.to_string())?;
    if let Some(o) = v.as_object_mut() {
        o.insert("document".into(), serde_json::Value::String(text.to_string()));
    }
    serde_json::to_string_pretty(&v).map_err(|e| e.to_string())
}

/// The candidate's identity: its document's hash, or the hash of the whole
/// value when that is not even a readable `rules.next`.
pub fn candidate_hash(next_bytes: &[u8]) -> String {
    match parse_next(next_bytes) {
        Ok(next) => super::doc_hash(&next.document),
        Err(_) => super::doc_hash(next_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(i: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i))
    }

    #[test]
    fn percent_of_distinct_ips_within_sampling_error() {
        let r = Rollout { percent: Some(10.0), colos: vec![] };
        let n = 20_000;
        let inside = (0..n).filter(|&i| r.includes("c0ffee", Some(ip(i)), Some("FRA"))).count();
        // 10 % of 20 000 with σ = √(n·p·(1−p)) ≈ 42; 4σ bounds.
        assert!((1832..=2168).contains(&inside), "{inside} of {n}");
    }

    #[test]
    fn sticky_monotonic_and_per_candidate() {
        let five = Rollout { percent: Some(5.0), colos: vec![] };
        let twenty = Rollout { percent: Some(20.0), colos: vec![] };
        for i in 0..2000 {
            let a = five.includes("aaaa", Some(ip(i)), None);
            assert_eq!(a, five.includes("aaaa", Some(ip(i)), None), "same IP, same answer");
            assert!(!a || twenty.includes("aaaa", Some(ip(i)), None), "raising the percentage keeps everyone in");
        }
        let a: Vec<bool> = (0..2000).map(|i| five.includes("aaaa", Some(ip(i)), None)).collect();
        let b: Vec<bool> = (0..2000).map(|i| five.includes("bbbb", Some(ip(i)), None)).collect();
        assert_ne!(a, b, "another candidate draws other clients");
    }

    #[test]
    fn colos_limit_and_edges() {
        let fra = Rollout { percent: None, colos: vec!["FRA".into()] };
        assert!(fra.includes("x", Some(ip(1)), Some("fra")));
        assert!(!fra.includes("x", Some(ip(1)), Some("AMS")));
        assert!(!fra.includes("x", Some(ip(1)), None));
        assert!(fra.includes("x", None, Some("FRA")), "100 % needs no IP");
        let zero = Rollout { percent: Some(0.0), colos: vec![] };
        assert!((0..1000).all(|i| !zero.includes("x", Some(ip(i)), None)));
        let some = Rollout { percent: Some(50.0), colos: vec![] };
        assert!(!some.includes("x", None, None), "no IP: stays on the current document");
    }

    #[test]
    fn next_round_trips_the_document_bytes() {
        let doc = b"{ \"version\": 2,\n  \"phases\": {} }\n";
        let r = Rollout { percent: Some(5.0), colos: vec![] };
        let text = envelope(doc, &r).expect("envelope");
        let next = parse_next(text.as_bytes()).expect("parses");
        assert_eq!(next.document, doc);
        assert_eq!(next.rollout, r);
        assert_eq!(candidate_hash(text.as_bytes()), crate::lifecycle::doc_hash(doc));
    }

    #[test]
    fn bad_next_faults_have_paths() {
        let e = parse_next(br#"{"percent": 150, "colos": ["FRANKFURT"], "document": "{}"}"#).expect_err("invalid");
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["$.percent", "$.colos[0]"]);
        let e = parse_next(br#"{"percent": 5}"#).expect_err("no document");
        assert_eq!(e.0[0].path, "$");
        assert!(e.0[0].message.contains("document"), "{e:?}");
        assert_eq!(parse_next(br#"{"document": "{}"}"#).expect_err("nobody").0[0].path, "$");
        assert_eq!(parse_next(br#"{"percent": "x", "document": "{}"}"#).expect_err("type").0[0].path, "$.percent");
    }
}
