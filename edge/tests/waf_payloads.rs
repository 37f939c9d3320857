//! Public payload lists (SecLists) and real LLM prompts (awesome-chatgpt-prompts),
//! vendored under `tests/corpora/`, replayed through `edge::waf` natively under
//! several configurations. Prints blocked/passed per set, per configuration, for the
//! tuning half and the held-out half separately, and asserts floors on both.
//!
//! `WAF_MISSES=FILE` writes every request whose outcome was wrong (attack passed,
//! prompt blocked) with the rules that fired, for tuning; only the tuning half
//! should be read that way.

mod payload_sets;

use std::fmt::Write as _;

use edge::waf::{inspect, Inspectable, WafConfig};
use payload_sets::{attack_sets, corpora, prompts, request, user_agents, Half, Place, Req, Set, CONFIGS, PLACES};


fn config(params: &str) -> WafConfig {
    serde_json::from_str(params).unwrap_or_else(|e| panic!("{params}: {e}"))
}

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

fn verdict(r: &Req, cfg: &WafConfig) -> (bool, Vec<&'static str>) {
    let mut headers: Vec<(&str, &str)> = r.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    if headers.is_empty() {
        headers.push(("User-Agent", UA));
    }
    let view = Inspectable {
        path: &r.path,
        query: &r.query,
        headers,
        content_type: r.content_type.as_deref(),
        body: &r.body,
    };
    let v = inspect(&view, cfg);
    let body_refused = cfg.refuses_oversize(r.body.len(), None);
    (v.threshold_exceeded || body_refused, v.matches.iter().map(|m| m.rule_id).collect())
}

fn blocked(place: Place, field: &str, value: &str, cfg: &WafConfig) -> (bool, Vec<&'static str>) {
    let path = if field == "prompt" { "/v1/chat" } else { "/search" };
    verdict(&request(place, path, field, value), cfg)
}

/// `[tune, held]` counts of requests with the expected outcome, and totals.
#[derive(Default, Clone, Copy)]
struct Score {
    good: [usize; 2],
    total: [usize; 2],
}

impl Score {
    fn pct(&self, h: usize) -> f64 {
        if self.total[h] == 0 {
            100.0
        } else {
            100.0 * self.good[h] as f64 / self.total[h] as f64
        }
    }
}

fn run(set: &Set, cfg: &WafConfig, misses: &mut String, cfg_name: &str) -> Score {
    let field = if set.benign { "prompt" } else { "q" };
    let mut s = Score::default();
    for (i, payload) in &set.items {
        let h = usize::from(Half::of(*i) == Half::Held);
        for place in PLACES {
            let (b, ids) = blocked(place, field, payload, cfg);
            s.total[h] += 1;
            if b != set.benign {
                s.good[h] += 1;
            } else if h == 0 {
                let _ = writeln!(misses, "{cfg_name} {} {place:?} {payload:?} {ids:?}", set.name);
            }
        }
    }
    s
}

fn all_sets() -> Vec<Set> {
    let root = corpora();
    let mut sets = attack_sets(&root);
    sets.push(prompts(&root));
    sets
}

#[test]
fn payload_lists_and_prompts_per_configuration() {
    let sets = all_sets();
    let mut misses = String::new();
    // (config, attacks, prompts) overall scores.
    let mut overall: Vec<(&str, Score, Score)> = Vec::new();
    let mut set_failures: Vec<String> = Vec::new();
    println!("{:<11} {:<10} {:>17} {:>17}", "config", "set", "tune half", "held-out half");
    for (name, params) in CONFIGS {
        let cfg = config(params);
        let (mut attacks, mut benign) = (Score::default(), Score::default());
        for set in &sets {
            let s = run(set, &cfg, &mut misses, name);
            if *name == "pl1" {
                if let Some((_, floor)) = SET_FLOORS_PL1.iter().find(|(n, _)| *n == set.name) {
                    set_failures.extend(
                        (0..2)
                            .filter(|h| s.pct(*h) < *floor)
                            .map(|h| format!("{}: {:.1}% < {floor}% (half {h})", set.name, s.pct(h))),
                    );
                }
            }
            let verb = if set.benign { "passed" } else { "blocked" };
            println!(
                "{name:<11} {:<10} {:>5}/{:<5} {:5.1}% {:>5}/{:<5} {:5.1}% {verb}",
                set.name,
                s.good[0],
                s.total[0],
                s.pct(0),
                s.good[1],
                s.total[1],
                s.pct(1)
            );
            let acc = if set.benign { &mut benign } else { &mut attacks };
            for h in 0..2 {
                acc.good[h] += s.good[h];
                acc.total[h] += s.total[h];
            }
        }
        println!(
            "{name:<11} ATTACKS    {:>5}/{:<5} {:5.1}% {:>5}/{:<5} {:5.1}% blocked",
            attacks.good[0], attacks.total[0], attacks.pct(0), attacks.good[1], attacks.total[1], attacks.pct(1)
        );
        overall.push((name, attacks, benign));
    }
    if let Ok(path) = std::env::var("WAF_MISSES") {
        let _ = std::fs::write(path, &misses);
    }
    // Floors: a little under what the detectors reach, on both halves (the held-out
    // half was never looked at while tuning). ModSecurity + CRS 3.3.4 PL1 on the same
    // lists: 81 % of attacks blocked, 65 % of prompts passed.
    assert!(set_failures.is_empty(), "pl1 per-class floors: {set_failures:?}");
    for (name, attacks, prompts) in &overall {
        let (attack_floor, prompt_floor) = match *name {
            "pl1" => (FLOOR_ATTACKS_PL1, FLOOR_PROMPTS_PL1),
            "prompt_api" => (FLOOR_ATTACKS_PROMPT_API, FLOOR_PROMPTS_PROMPT_API),
            _ => continue,
        };
        for h in 0..2 {
            assert!(
                attacks.pct(h) >= attack_floor,
                "{name}: attacks blocked {:.1}% < {attack_floor}% (half {h})",
                attacks.pct(h)
            );
            assert!(
                prompts.pct(h) >= prompt_floor,
                "{name}: prompts passed {:.1}% < {prompt_floor}% (half {h})",
                prompts.pct(h)
            );
        }
    }
}

const FLOOR_ATTACKS_PL1: f64 = 85.0;
const FLOOR_PROMPTS_PL1: f64 = 95.0;
const FLOOR_ATTACKS_PROMPT_API: f64 = 85.0;
const FLOOR_PROMPTS_PROMPT_API: f64 = 99.0;

/// Per-class floors at `pl1` (both halves). Lists that are mostly not attacks on
/// their own (format strings, lone entities in `cmdi`; bare variable names such as
/// `settings` in `ssti`) have none.
const SET_FLOORS_PL1: &[(&str, f64)] = &[
    ("sqli", 75.0),
    ("sqlmap", 95.0),
    ("xss", 88.0),
    ("traversal", 95.0),
    ("ssi", 95.0),
];

/// Real browser and app User-Agents (including mobile ones that say `Touch`) are not
/// attacks.
#[test]
fn real_user_agents_pass() {
    let cfg = WafConfig::default();
    let mut blocked = Vec::new();
    let uas = user_agents(&corpora());
    for ua in &uas {
        let view = Inspectable {
            path: "/",
            headers: vec![("User-Agent", ua.as_str())],
            ..Default::default()
        };
        let v = inspect(&view, &cfg);
        if v.threshold_exceeded {
            blocked.push(format!("{ua} {:?}", v.matches.iter().map(|m| m.rule_id).collect::<Vec<_>>()));
        }
    }
    println!("user agents: {}/{} passed", uas.len() - blocked.len(), uas.len());
    assert!(blocked.is_empty(), "{} blocked:\n{}", blocked.len(), blocked.join("\n"));
}

/// OWASP CRS 4's own regression stages (go-ftw YAML, vendored) through the
/// edge's detectors at paranoia 1: material written for another engine's rules,
/// so it tests how far the edge's grammar reaches. Floors on the stages that
/// expect a rule to fire (blocked) and on those that expect none (passed; some
/// of those are still attacks for another rule, so 100 % is not the goal).
#[test]
fn crs_regression_stages_through_the_edge_detectors() {
    let dir = corpora().join("owasp-crs/tests/regression/tests");
    let cases = payload_sets::ftw_cases(&dir);
    let cfg = config("{}");
    let (mut attacks, mut blocked, mut quiet, mut passed) = (0usize, 0usize, 0usize, 0usize);
    let mut by_folder: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for c in &cases {
        let (b, _) = verdict(&c.req, &cfg);
        if c.attack {
            attacks += 1;
            blocked += usize::from(b);
            let e = by_folder.entry(c.folder.as_str()).or_default();
            e.0 += usize::from(b);
            e.1 += 1;
        } else {
            quiet += 1;
            passed += usize::from(!b);
        }
    }
    for (f, (b, t)) in &by_folder {
        println!("{f:<50} {b:>5}/{t:<5} blocked");
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!("all: {blocked}/{attacks} blocked ({:.1} %), {passed}/{quiet} of the no-rule stages passed ({:.1} %)", pct(blocked, attacks), pct(passed, quiet));
    assert!(attacks > 3_000 && quiet > 900, "corpus not found whole: {attacks} attacks, {quiet} others");
    // Measured 2026-12-07: 1,360 / 3,908 (34.8 %) blocked, 891 / 953 (93.5 %) passed
    // (before that session's grammar work: 875 blocked, 901 passed).
    assert!(pct(blocked, attacks) >= 34.0, "blocked {blocked}/{attacks}");
    assert!(pct(passed, quiet) >= 93.0, "passed {passed}/{quiet}");
    for (folder, floor) in [("REQUEST-930-APPLICATION-ATTACK-LFI", 70.0), ("REQUEST-932-APPLICATION-ATTACK-RCE", 45.0), ("REQUEST-944-APPLICATION-ATTACK-JAVA", 28.0)] {
        let (b, t) = by_folder.get(folder).copied().unwrap_or_default();
        assert!(pct(b, t) >= floor, "{folder}: {b}/{t} below {floor} %");
    }
}
