//! Helpers for the detector unit tests: run one value through the real decode chain and
//! every value detector.

use super::decode;
use super::extract::Kind;
use super::rules::Rule;
use super::scan::{self, Text};

fn hits(value: &str, kind: Kind) -> Vec<&'static Rule> {
    let mut out = Vec::new();
    for v in decode::variants(value) {
        let t = Text::new(&v, kind);
        for d in scan::detectors(kind) {
            d(&t, &mut out);
        }
    }
    out
}

pub fn ids(value: &str) -> Vec<&'static str> {
    let mut v: Vec<_> = hits(value, Kind::Value).iter().map(|r| r.id).collect();
    v.dedup();
    v
}

/// Does a paranoia-1 rule whose id starts with `prefix` fire on `value`?
pub fn fires(value: &str, prefix: &str) -> bool {
    hits(value, Kind::Value)
        .iter()
        .any(|r| r.id.starts_with(prefix) && r.paranoia == 1)
}

pub fn fires_key(key: &str) -> bool {
    hits(key, Kind::Key).iter().any(|r| r.paranoia == 1)
}

/// Paranoia-1 anomaly score of `value` (distinct rules).
pub fn score(value: &str) -> u32 {
    let mut ids: Vec<&'static Rule> = hits(value, Kind::Value)
        .into_iter()
        .filter(|r| r.paranoia == 1)
        .collect();
    ids.sort_by_key(|r| r.id);
    ids.dedup_by_key(|r| r.id);
    ids.iter().map(|r| r.severity.score()).sum()
}

#[test]
fn all_tables_compile() {
    // Every detector on a value that passes every cheap gate forces each table to build.
    let probe = "<'\"();=-#|&@*{}$%:/\\`.!_[\r\n x";
    let _ = hits(probe, Kind::Value);
    let _ = hits(probe, Kind::Key);
    for t in super::tables() {
        assert!(
            t.compiled().is_some(),
            "pattern table failed to compile: {:?}",
            t.rules.first().map(|r| r.0.id)
        );
    }
}
