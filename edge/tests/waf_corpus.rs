//! Replays third-party corpora against `edge::waf` natively:
//! - GoTestWAF (wallarm/gotestwaf testcases): every payload × encoder × placeholder is
//!   rebuilt as GoTestWAF builds the request, then inspected with the default config.
//!   Prints blocked share per category for `owasp`/`owasp-api` and passed share of
//!   `false-pos`, and asserts floors.
//!
//! Corpora are vendored in `tests/corpora/` (see its README).

mod gotestwaf;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edge::waf::{inspect, Inspectable, WafConfig};
use gotestwaf::{encode, place, Case, Req};

/// The vendored corpora; a missing folder is a broken checkout, so the tests fail.
fn corpora() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpora");
    assert!(p.is_dir(), "vendored corpora missing at {}", p.display());
    p
}

impl Req {
    fn view(&self) -> Inspectable<'_> {
        Inspectable {
            path: &self.path,
            query: &self.query,
            headers: self
                .headers
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect(),
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}

#[derive(Default)]
struct Tally {
    blocked: usize,
    total: usize,
}

/// Replays one corpus folder; `odd` collects the requests whose outcome was not the
/// expected one (passed attacks, or blocked benign texts when `benign`).
fn run_set(
    dir: &Path,
    cfg: &WafConfig,
    benign: bool,
    odd: &mut Vec<String>,
) -> BTreeMap<String, Tally> {
    let mut by_type: BTreeMap<String, Tally> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        // go-yaml accepts `\'` inside double quotes (as `'`); strict YAML 1.2 parsers
        // do not, and the corpus relies on it.
        let text = std::fs::read_to_string(&f)
            .unwrap_or_default()
            .replace("\\'", "'");
        let case: Case = match serde_norway::from_str(&text) {
            Ok(c) => c,
            Err(e) => panic!("unparsable corpus file {}: {e}", f.display()),
        };
        for p in &case.payload {
            for e in &case.encoder {
                let Some(enc) = encode(e, p) else { continue };
                for ph in &case.placeholder {
                    let Some(req) = place(ph, &enc) else { continue };
                    let v = inspect(&req.view(), cfg);
                    let t = by_type.entry(case.kind.clone()).or_default();
                    t.total += 1;
                    if v.threshold_exceeded {
                        t.blocked += 1;
                    }
                    if v.threshold_exceeded == benign {
                        let ids: Vec<_> = v.matches.iter().map(|m| m.rule_id).collect();
                        odd.push(format!("{} | {e} | {ph:?} | {p} | {ids:?}", case.kind));
                    }
                }
            }
        }
    }
    by_type
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

#[test]
fn gotestwaf_true_positives() {
    let root = corpora();
    let cfg = WafConfig::default();
    // Floors are what the implementation reaches (owasp misses one PL2-only XXE case).
    for (set, floor) in [("owasp", 99.5), ("owasp-api", 100.0)] {
        let mut misses = Vec::new();
        let tallies = run_set(&root.join("gotestwaf").join(set), &cfg, false, &mut misses);
        let (mut b, mut t) = (0, 0);
        for (k, v) in &tallies {
            println!(
                "{set:>9} {k:<16} {:>4}/{:<4} blocked {:6.2}%",
                v.blocked,
                v.total,
                pct(v.blocked, v.total)
            );
            b += v.blocked;
            t += v.total;
        }
        println!(
            "{set:>9} OVERALL          {b:>4}/{t:<4} blocked {:6.2}%",
            pct(b, t)
        );
        for m in &misses {
            println!("  missed: {m}");
        }
        assert!(pct(b, t) >= floor, "{set}: {:.2}% < {floor}%", pct(b, t));
    }
}

#[test]
fn gotestwaf_false_positives() {
    let root = corpora();
    let cfg = WafConfig::default();
    let mut misses = Vec::new();
    let tallies = run_set(&root.join("gotestwaf/false-pos"), &cfg, true, &mut misses);
    let (b, t) = tallies
        .values()
        .fold((0, 0), |(b, t), v| (b + v.blocked, t + v.total));
    println!("false-pos: {}/{t} passed {:6.2}%", t - b, pct(t - b, t));
    for m in &misses {
        println!("  blocked: {m}");
    }
    assert_eq!(b, 0, "benign requests blocked: {b}/{t}");
}
