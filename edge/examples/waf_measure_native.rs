//! Natively replays attack and benign corpora through `edge::waf::inspect` under
//! several configurations and prints blocked/passed per set per configuration, so
//! one change is judged on every set at once (`scripts/waf-measure.sh --native`).
//!
//! ```text
//! waf_measure_native [--config NAME=PARAMS]... [--list NAME=FILE]... [--benign NAME=FILE]...
//!                    [--ftw DIR]... [--misses FILE]
//! ```
//! - `--config`: `waf` rule params (JSON); default: the configurations of
//!   `edge/tests/payload_sets` (pl1, pl2, prompt_api). Its `rulesets` run as
//!   the filter phase runs them: `["owasp-crs"]` is CRS alone, `["edge",
//!   "owasp-crs"]` both (blocked if either blocks).
//! - `--list` / `--benign`: a payload list, one payload a line, sent as a query
//!   parameter, a form field and a JSON value (attacks must be blocked, benign passed).
//! - `--ftw`: a go-ftw folder (OWASP CRS regression format); its tests that expect a
//!   rule to fire count as attacks, per folder, and those that expect none are
//!   reported apart (passed).
//! - With no set given: the vendored SecLists payload lists and prompts, tuning and
//!   held-out halves apart.

#[path = "../tests/payload_sets/mod.rs"]
mod payload_sets;

use std::fmt::Write as _;
use std::path::Path;

use edge::waf::crs::{self, Ruleset};
use edge::waf::{inspect, Inspectable, WafConfig};
use payload_sets::{attack_sets, corpora, ftw_cases, prompts, request, Half, Req, Set, CONFIGS, PLACES};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

/// The `waf` action's decision on `r`: each ruleset the config names, as the
/// filter phase runs them (blocked if any blocks), and the rule ids that matched.
fn blocked(r: &Req, cfg: &WafConfig) -> (bool, Vec<String>) {
    let mut headers: Vec<(&str, &str)> = r.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    if headers.is_empty() {
        headers.push(("User-Agent", UA));
    }
    let mut block = cfg.refuses_oversize(r.body.len(), None);
    let mut ids: Vec<String> = Vec::new();
    if cfg.rulesets.contains(&Ruleset::Edge) {
        let view = Inspectable { path: &r.path, query: &r.query, headers: headers.clone(), content_type: r.content_type.as_deref(), body: &r.body };
        let v = inspect(&view, cfg);
        block |= v.threshold_exceeded;
        ids.extend(v.matches.iter().map(|m| m.rule_id.to_string()));
    }
    if cfg.rulesets.contains(&Ruleset::OwaspCrs) {
        let (crs_blocked, crs_ids) = crs_blocked(r, headers, cfg);
        block |= crs_blocked;
        ids.extend(crs_ids);
    }
    (block, ids)
}

/// CRS's decision on `r`, with the request line and the headers a client
/// sends (`Host`, and `Content-Type`/`Content-Length` with a body), as the
/// worker hands them to the engine.
fn crs_blocked(r: &Req, client_headers: Vec<(&str, &str)>, cfg: &WafConfig) -> (bool, Vec<String>) {
    let engine = crs::engine(cfg).unwrap_or_else(|e| {
        eprintln!("owasp-crs: {e}");
        std::process::exit(2)
    });
    let uri = if r.query.is_empty() { r.path.clone() } else { format!("{}?{}", r.path, r.query) };
    let length = r.body.len().to_string();
    let mut headers = client_headers;
    headers.push(("Host", "app.example.com"));
    if let Some(ct) = &r.content_type {
        headers.push(("Content-Type", ct));
    }
    if !r.body.is_empty() {
        headers.push(("Content-Length", &length));
    }
    let body = &r.body[..r.body.len().min(cfg.body_limit())];
    let req = crs::Request { method: &r.method, uri: &uri, protocol: "HTTP/1.1", headers: &headers, body, client_ip: Some("203.0.113.7") };
    let v = engine.inspect(&req);
    (v.blocked, v.matches.iter().map(|m| format!("crs-{}", m.rule_id)).collect())
}

fn list(name: &str, file: &str, benign: bool) -> Set {
    payload_sets::list_file(name, file, benign).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    })
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 }
}

fn main() {
    let mut configs: Vec<(String, String)> = Vec::new();
    let mut sets: Vec<Set> = Vec::new();
    let mut ftw: Vec<String> = Vec::new();
    let mut misses_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| {
            eprintln!("{a} needs a value");
            std::process::exit(2)
        });
        let pair = || v.split_once('=').map(|(a, b)| (a.to_string(), b.to_string()));
        match (a.as_str(), pair()) {
            ("--config", Some(p)) => configs.push(p),
            ("--list", Some((n, f))) => sets.push(list(&n, &f, false)),
            ("--benign", Some((n, f))) => sets.push(list(&n, &f, true)),
            ("--ftw", _) => ftw.push(v),
            ("--misses", _) => misses_file = Some(v),
            _ => {
                eprintln!("unknown argument {a} {v}");
                std::process::exit(2)
            }
        }
    }
    if configs.is_empty() {
        configs = CONFIGS.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    }
    let halves = sets.is_empty() && ftw.is_empty();
    if halves {
        sets = attack_sets(&corpora());
        sets.push(prompts(&corpora()));
    }
    let cases: Vec<_> = ftw.iter().flat_map(|d| ftw_cases(Path::new(d))).collect();
    let mut misses = String::new();
    for (name, params) in &configs {
        let cfg: WafConfig = match serde_json::from_str(params) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("--config {name}: {e}");
                std::process::exit(2)
            }
        };
        for set in &sets {
            let field = if set.benign { "prompt" } else { "q" };
            let (mut good, mut total) = ([0usize; 2], [0usize; 2]);
            for (i, payload) in &set.items {
                let h = usize::from(halves && Half::of(*i) == Half::Held);
                for place in PLACES {
                    let r = request(place, if set.benign { "/v1/chat" } else { "/search" }, field, payload);
                    let (b, ids) = blocked(&r, &cfg);
                    total[h] += 1;
                    if b != set.benign {
                        good[h] += 1;
                    } else if h == 0 {
                        let _ = writeln!(misses, "{name} {} {place:?} {payload:?} {ids:?}", set.name);
                    }
                }
            }
            let verb = if set.benign { "passed" } else { "blocked" };
            if halves {
                println!(
                    "{name:<12} {:<10} tune {:>5}/{:<5} {:5.1}%   held-out {:>5}/{:<5} {:5.1}% {verb}",
                    set.name, good[0], total[0], pct(good[0], total[0]), good[1], total[1], pct(good[1], total[1])
                );
            } else {
                println!("{name:<12} {:<40} {:>5}/{:<5} {:5.1}% {verb}", set.name, good[0], total[0], pct(good[0], total[0]));
            }
        }
        // Per folder: the stages that expect a rule (attacks, blocked) and those
        // that expect none (CRS's own near misses, passed; some of those are
        // still attacks for another rule).
        let mut by_folder: std::collections::BTreeMap<(bool, &str), (usize, usize)> = Default::default();
        for c in &cases {
            let (b, ids) = blocked(&c.req, &cfg);
            let e = by_folder.entry((!c.attack, c.folder.as_str())).or_default();
            e.1 += 1;
            if b == c.attack {
                e.0 += 1;
            } else {
                let expects = if c.attack { "" } else { " (expects no rule)" };
                let _ = writeln!(misses, "{name} {} {}{expects} {:?} {:?} {ids:?}", c.folder, c.id, c.req.query, String::from_utf8_lossy(&c.req.body));
            }
        }
        for ((quiet, f), (good, t)) in by_folder {
            if quiet {
                println!("{name:<12} {:<40} {good:>5}/{t:<5} {:5.1}% passed", format!("{f} (no rule expected)"), pct(good, t));
            } else {
                println!("{name:<12} {f:<40} {good:>5}/{t:<5} {:5.1}% blocked", pct(good, t));
            }
        }
    }
    if let Some(f) = misses_file {
        let _ = std::fs::write(f, misses);
    }
}
