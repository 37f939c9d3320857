use std::sync::Arc;

use super::*;
use crate::waf::{Category, Exclusion, WafConfig};

const BROWSER: &[(&str, &str)] = &[
    ("Host", "shop.example.com"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("Accept-Encoding", "gzip, deflate, br"),
];

fn settings(paranoia: u8, threshold: u32) -> Settings {
    Settings { paranoia, threshold, ..Default::default() }
}

fn get<'a>(uri: &'a str) -> Request<'a> {
    Request { method: "GET", uri, protocol: "HTTP/1.1", headers: BROWSER, ..Default::default() }
}

fn ids(v: &Verdict) -> Vec<&str> {
    v.matches.iter().map(|m| m.rule_id.as_str()).collect()
}

#[test]
fn stock_rules_load_and_every_regex_is_linear_time() {
    // (Every rule: with the paranoia gates decided at load, paranoia 1 keeps
    // about half; see `paranoia_gates_are_decided_at_load`.)
    let e = Engine::new(&Settings { keep_paranoia_gates: true, ..settings(1, 5) }).expect("stock CRS loads");
    assert!(e.rule_count() > 500, "{}", e.rule_count());
    // The only changes to stock rules: word lists inlined (no filesystem).
    assert!(e.notes().iter().all(|n| n.note.contains("inlined") || n.note.contains("hoisted")), "{:?}", e.notes());
    let lists: usize = bundle::RULES
        .iter()
        .map(|(_, t)| t.lines().filter(|l| !l.trim_start().starts_with('#') && l.contains("@pmFromFile")).count())
        .sum();
    let inlined = e.notes().iter().filter(|n| n.note.contains("inlined")).count();
    assert_eq!(inlined, lists, "{:?}", e.notes());
    // The loader refuses a pattern the linear-time engine cannot run.
    for (_, text) in bundle::RULES {
        assert!(!text.contains("(?="), "lookahead in a shipped rule");
    }
}

#[test]
fn blocking_decision_is_crs_anomaly_scoring() {
    let e = Engine::new(&settings(1, 5)).unwrap();
    for uri in ["/", "/products/shoes?q=red+shoes&size=42", "/blog/2024/what-is-sql-injection?page=2"] {
        let v = e.inspect(&get(uri));
        assert!(!v.blocked && v.score == 0, "{uri}: {v:?}");
    }
    let v = e.inspect(&get("/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--"));
    assert!(v.blocked && v.score >= 5, "{v:?}");
    assert!(ids(&v).iter().any(|id| id.starts_with("942")), "{v:?}");
    assert!(v.rule_ids.iter().any(|id| id == "949110"), "{v:?}");
    let v = e.inspect(&get("/f?p=../../../../etc/passwd"));
    assert!(v.blocked && ids(&v).contains(&"930120"), "{v:?}");
    let form = Request {
        method: "POST",
        uri: "/comment",
        protocol: "HTTP/1.1",
        headers: &[
            ("Host", "shop.example.com"),
            ("User-Agent", "Mozilla/5.0"),
            ("Accept", "*/*"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", "38"),
        ],
        body: b"text=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        client_ip: Some("203.0.113.7"),
    };
    let v = e.inspect(&form);
    assert!(v.blocked && ids(&v).iter().any(|id| id.starts_with("941")), "{v:?}");
    assert!(v.matches.iter().any(|m| m.target == "ARGS:text"), "{v:?}");
}

#[test]
fn threshold_and_paranoia_are_crs_settings() {
    let attack = get("/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--");
    let high = Engine::new(&settings(1, 1000)).unwrap().inspect(&attack);
    assert!(!high.blocked && high.score >= 5, "{high:?}");
    // A PL2-only rule: 942430 (many special characters) is silent at PL1.
    let chars = get("/s?q=a%27%27%27%27%27%27%27%27%27%27%27%27b");
    let pl1 = Engine::new(&settings(1, 5)).unwrap().inspect(&chars);
    let pl2 = Engine::new(&settings(2, 5)).unwrap().inspect(&chars);
    assert!(!ids(&pl1).contains(&"942430") && ids(&pl2).contains(&"942430"), "{pl1:?} {pl2:?}");
}

#[test]
fn exclusions_map_to_crs_rule_exclusions() {
    let attack = get("/api/search?q=%3Cscript%3Ealert(1)%3C/script%3E&id=1");
    let run = |ex: Exclusion| {
        let s = Settings { exclusions: vec![ex], ..settings(1, 5) };
        Engine::new(&s).unwrap().inspect(&attack)
    };
    let base = Engine::new(&settings(1, 5)).unwrap().inspect(&attack);
    assert!(base.blocked);
    let fired: Vec<String> = base.matches.iter().map(|m| m.rule_id.clone()).collect();
    // By id (every rule that fired) and path.
    let v = run(Exclusion { paths: Some(vec!["/api/*".into()]), rule_ids: Some(fired.clone()), ..Default::default() });
    assert!(!v.blocked && v.matches.is_empty(), "{v:?}");
    let v = run(Exclusion { paths: Some(vec!["/other".into()]), rule_ids: Some(fired.clone()), ..Default::default() });
    assert!(v.blocked, "{v:?}");
    // By id range, everywhere.
    let v = run(Exclusion { rule_ids: Some(vec!["941000-941999".into()]), ..Default::default() });
    assert!(ids(&v).iter().all(|id| !id.starts_with("941")), "{v:?}");
    // By tag and by category.
    let v = run(Exclusion { tags: Some(vec!["attack-xss".into()]), ..Default::default() });
    assert!(ids(&v).iter().all(|id| !id.starts_with("941")), "{v:?}");
    let v = run(Exclusion { categories: Some(vec![Category::Xss]), ..Default::default() });
    assert!(ids(&v).iter().all(|id| !id.starts_with("941")), "{v:?}");
    // By target: the field is no longer inspected, others still are.
    let v = run(Exclusion { targets: Some(vec!["query:q".into()]), ..Default::default() });
    assert!(v.matches.iter().all(|m| m.target != "ARGS:q"), "{v:?}");
    let v = run(Exclusion { paths: Some(vec!["/api/search".into()]), targets: Some(vec!["query:q".into()]), ..Default::default() });
    assert!(v.matches.iter().all(|m| m.target != "ARGS:q"), "{v:?}");
    // Paths only: CRS is off there.
    let v = run(Exclusion { paths: Some(vec!["/api/".into()]), ..Default::default() });
    assert!(!v.blocked && v.matches.is_empty(), "{v:?}");
    // A category switched off.
    let mut s = settings(1, 5);
    s.categories.xss = false;
    let v = Engine::new(&s).unwrap().inspect(&attack);
    assert!(ids(&v).iter().all(|id| !id.starts_with("941")), "{v:?}");
}

#[test]
fn bad_exclusions_are_config_errors() {
    for t in ["query:*", "ARGS:a,b", "nonsense", "header:"] {
        let e = Exclusion { targets: Some(vec![t.into()]), ..Default::default() };
        assert!(check_exclusion(&e).is_err(), "{t}");
    }
    let e = Exclusion { paths: Some(vec!["/a\"b".into()]), ..Default::default() };
    assert!(check_exclusion(&e).is_err());
    assert!(is_id_selector("942100") && is_id_selector("942100-942199") && !is_id_selector("sqli-union"));
}

#[test]
fn engines_are_cached_per_configuration() {
    let a = WafConfig { rulesets: vec![Ruleset::OwaspCrs], ..Default::default() };
    let e1 = engine(&a).unwrap();
    let e2 = engine(&a).unwrap();
    assert!(Arc::ptr_eq(&e1, &e2));
    let b = WafConfig { threshold: 7, ..a.clone() };
    assert!(!Arc::ptr_eq(&e1, &engine(&b).unwrap()));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn never_panics(q in ".{0,120}", b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), ct in "(application/json|multipart/form-data; boundary=x|text/xml|application/x-www-form-urlencoded|)") {
        let cfg = WafConfig { rulesets: vec![Ruleset::OwaspCrs], paranoia: 4, ..Default::default() };
        let e = engine(&cfg).unwrap();
        let uri = format!("/{q}?{q}");
        let headers = [("Host", "x"), ("Content-Type", ct.as_str()), ("X-A", q.as_str()), ("Cookie", q.as_str())];
        let _ = e.inspect(&Request { method: "POST", uri: &uri, protocol: "HTTP/1.1", headers: &headers, body: &b, client_ip: None });
    }
}

/// A browser's POST (with its Content-Length, which CRS 920180 wants).
fn post(e: &Engine, content_type: &str, body: &[u8]) -> Verdict {
    let len = body.len().to_string();
    let mut headers = BROWSER.to_vec();
    headers.extend([("Content-Type", content_type), ("Content-Length", len.as_str())]);
    e.inspect(&Request { method: "POST", uri: "/form", protocol: "HTTP/1.1", headers: &headers, body, client_ip: Some("203.0.113.7") })
}

#[test]
fn chained_rules_score_and_read_their_captures() {
    let e = Engine::new(&settings(1, 5)).unwrap();
    // 920420/920480 read the captured content type and charset: a plain form
    // passes (with captures missing, every Content-Type looked like `||`).
    for ct in ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "application/json"] {
        let body: &[u8] = if ct.contains("json") { br#"{"q":"red shoes"}"# } else { b"q=red+shoes&size=42" };
        let v = post(&e, ct, body);
        assert!(!v.blocked && v.score == 0, "{ct}: {v:?}");
    }
    // A chained rule's score is on its last link: it counts now.
    let v = post(&e, "application/x-evil", b"q=1");
    assert!(v.blocked && v.rule_ids.iter().any(|id| id == "920420"), "{v:?}");
    let v = post(&e, "application/x-www-form-urlencoded; charset=utf-7", b"q=1");
    assert!(v.blocked && v.rule_ids.iter().any(|id| id == "920480"), "{v:?}");
    // Every part's headers are seen, not only the first part's (922150 → 922110).
    let body = b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name=\"b\"\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+ADw-script+AD4-\r\n--B--\r\n";
    let v = post(&e, "multipart/form-data; boundary=B", body);
    assert!(v.blocked && v.rule_ids.iter().any(|id| id == "922110"), "{v:?}");
    let body = b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--B--\r\n";
    let v = post(&e, "multipart/form-data; boundary=B", body);
    assert!(!v.blocked && v.score == 0, "{v:?}");
    // An upload's file name is a quoted-string: the `;` inside it does not
    // end it, so the `.php` after it is seen (933110).
    let upload = |filename: &str| {
        let body = format!("--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"{filename}\"\r\nContent-Type: image/jpeg\r\n\r\nJFIF\r\n--B--\r\n");
        post(&e, "multipart/form-data; boundary=B", body.as_bytes())
    };
    let v = upload("shell.jpg;.php");
    assert!(v.blocked && v.rule_ids.iter().any(|id| id == "933110"), "{v:?}");
    let v = upload("holiday photo.jpg");
    assert!(!v.blocked && v.score == 0, "{v:?}");
    // A session id with a foreign Referer (943110 compares the captured
    // Referer host with the Host header); the same Referer host passes.
    let mut foreign = BROWSER.to_vec();
    foreign.push(("Referer", "https://evil.example.net/x"));
    let uri = "/login?phpsessid=abc";
    let v = e.inspect(&Request { method: "GET", uri, protocol: "HTTP/1.1", headers: &foreign, ..Default::default() });
    assert!(v.rule_ids.iter().any(|id| id == "943110"), "{v:?}");
    let mut own = BROWSER.to_vec();
    own.push(("Referer", "https://shop.example.com/x"));
    let v = e.inspect(&Request { method: "GET", uri, protocol: "HTTP/1.1", headers: &own, ..Default::default() });
    assert!(!v.rule_ids.iter().any(|id| id == "943110"), "{v:?}");
}

#[test]
fn xml_paths_are_not_argument_names_but_xml_named_fields_are() {
    let e = Engine::new(&settings(1, 5)).unwrap();
    let fired = |v: &Verdict, id: &str| v.rule_ids.iter().any(|r| r == id);
    // An element *named* like a Java class is not inspected (CRS reads XML
    // values, not element names) …
    let named = b"<?xml version=\"1.0\"?><xml><java.lang.Runtime a=\"b\">value</java.lang.Runtime></xml>";
    let v = post(&e, "application/xml", named);
    assert!(!fired(&v, "944100") && !fired(&v, "944110"), "{v:?}");
    // … its text is.
    let v = post(&e, "application/xml", b"<?xml version=\"1.0\"?><xml><a>java.lang.Runtime</a></xml>");
    assert!(v.blocked && fired(&v, "944100"), "{v:?}");
    // A form field or query parameter named `xml.…` is not an XML path: still inspected.
    // (Multipart, so the raw REQUEST_BODY, empty there, does not match first.)
    let body = b"--B\r\nContent-Disposition: form-data; name=\"xml.java.lang.Runtime\"\r\n\r\n1\r\n--B--\r\n";
    let v = post(&e, "multipart/form-data; boundary=B", body);
    assert!(v.blocked && v.matches.iter().any(|m| m.rule_id == "944100" && m.target.starts_with("ARGS_NAMES:")), "{v:?}");
    let len = named.len().to_string();
    let mut headers = BROWSER.to_vec();
    headers.extend([("Content-Type", "application/xml"), ("Content-Length", len.as_str())]);
    let v = e.inspect(&Request { method: "POST", uri: "/f?xml.java.lang.Runtime=1", protocol: "HTTP/1.1", headers: &headers, body: named, client_ip: None });
    assert!(v.blocked && fired(&v, "944100"), "{v:?}");
}

#[test]
fn url_decode_uni_decodes_plus_and_honours_target_exclusions() {
    let fired = |v: &Verdict, id: &str| v.rule_ids.iter().any(|r| r == id);
    // `%2B` is `+` in ARGS, which t:urlDecodeUni decodes again to a space:
    // a command with an argument (932200, PL2).
    let uri = "/get?host=www.google.com;c%24%40at%2B%2Fet%24%40c%2Fpas%24%40swd";
    let e = Engine::new(&settings(2, 5)).unwrap();
    let v = e.inspect(&get(uri));
    assert!(v.blocked && v.matches.iter().any(|m| m.rule_id == "932200" && m.target == "ARGS:host"), "{v:?}");
    // A raw `+` in a header is a space too (932205 reads the Referer).
    let mut referer = BROWSER.to_vec();
    referer.push(("Referer", "www.google.com;c$?at+/etc/passwd"));
    let v = e.inspect(&Request { method: "GET", uri: "/", protocol: "HTTP/1.1", headers: &referer, ..Default::default() });
    assert!(v.matches.iter().any(|m| m.rule_id == "932205" && m.target == "REQUEST_HEADERS:Referer"), "{v:?}");
    // The document's exclusion of that argument from 932200 holds.
    let mut s = settings(2, 5);
    s.exclusions = vec![Exclusion { rule_ids: Some(vec!["932200".into()]), targets: Some(vec!["query:host".into()]), ..Default::default() }];
    let v = Engine::new(&s).unwrap().inspect(&get(uri));
    assert!(!fired(&v, "932200"), "{v:?}");
}

/// A few short literals that together cover `set` (each member contains one
/// of them), so a value holding a member holds one of these: a sound, if
/// weaker, requirement in a fraction of the bytes. Greedy set cover over the
/// members' substrings of 5 to 8 bytes and the members themselves, taking the
/// one in most uncovered members, then the longest.
fn cover(set: &[Vec<u8>]) -> Vec<Vec<u8>> {
    use std::collections::{HashMap, HashSet};
    const SHORTEST: usize = 5;
    const LONGEST: usize = 8;
    let mut uncovered: Vec<&[u8]> = set.iter().map(|l| &l[..l.len().min(255)]).collect();
    let mut out = Vec::new();
    while !uncovered.is_empty() {
        let mut counts: HashMap<&[u8], usize> = HashMap::new();
        for l in &uncovered {
            let mut mine: HashSet<&[u8]> = HashSet::from([*l]);
            for len in SHORTEST..=LONGEST.min(l.len()) {
                mine.extend(l.windows(len));
            }
            for c in mine {
                *counts.entry(c).or_default() += 1;
            }
        }
        let Some((best, _)) = counts.into_iter().max_by(|(a, n), (b, m)| (n, a.len(), b).cmp(&(m, b.len(), a))) else { break };
        let best = best.to_vec();
        uncovered.retain(|l| !l.windows(best.len()).any(|w| w == &best[..]));
        out.push(best);
    }
    out.sort();
    out
}

/// `known.rs` holds, for every pattern the stock rules compile at any
/// paranoia level, a cover ([`cover`]) of what the engine would compute for
/// it now: a table gone stale (new CRS files, a changed prefilter) fails
/// here. With `CRS_KNOWN_ANALYSES=write` the test rewrites the file instead.
#[test]
fn known_analyses_are_current() {
    use zentinel_modsec::engine::{fresh_analysis, pattern_key, patterns_analysed_during, KnownAnalysis};
    let mut patterns = std::collections::BTreeSet::new();
    for paranoia in 1..=4 {
        let (loaded, seen) = patterns_analysed_during(|| Engine::new(&settings(paranoia, 5)));
        assert!(loaded.is_ok());
        patterns.extend(seen);
    }
    let mut table = std::collections::BTreeMap::new();
    for p in &patterns {
        let analysis = fresh_analysis(p).unwrap_or_else(|e| panic!("a shipped pattern does not parse: {e}"));
        let covered = analysis.as_deref().map(cover);
        if let (Some(set), Some(cover)) = (&analysis, &covered) {
            // Soundness, checked rather than trusted: every literal the
            // engine requires contains one the table keeps.
            let ok = set.iter().all(|l| cover.iter().any(|c| l.windows(c.len()).any(|w| w == &c[..])));
            assert!(ok && !cover.is_empty() && cover.iter().all(|c| !c.is_empty()), "{p}");
        }
        assert!(table.insert(pattern_key(p), covered).is_none(), "two shipped patterns share a key");
    }
    assert!(table.len() > 200, "{}", table.len());
    let mut text = String::from(
        "//! Generated by `CRS_KNOWN_ANALYSES=write cargo test -p edge --features owasp-crs --lib known_analyses`; do not edit.\n\
         //! What the engine's analysis says of each `@rx` pattern the shipped rules compile (see\n\
         //! `zentinel_modsec::engine::KnownAnalysis`), so a cold isolate need not parse them.\n\
         use zentinel_modsec::engine::KnownAnalysis;\n\npub(super) static KNOWN: &[KnownAnalysis] = &[\n",
    );
    for (key, literals) in &table {
        let literals = match literals {
            None => "None".to_string(),
            Some(l) => {
                let bytes: Vec<u8> = l.iter().flat_map(|s| std::iter::once(s.len() as u8).chain(s.iter().copied())).collect();
                format!("Some(b\"{}\")", bytes.escape_ascii())
            }
        };
        text.push_str(&format!("    KnownAnalysis {{ key: {key:#018x}, literals: {literals} }},\n"));
    }
    text.push_str("];\n");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/waf/crs/known.rs");
    if std::env::var("CRS_KNOWN_ANALYSES").as_deref() == Ok("write") {
        std::fs::write(path, &text).expect("write known.rs");
        return;
    }
    assert!(text == include_str!("known.rs"), "known.rs is stale: rerun with CRS_KNOWN_ANALYSES=write");
    // What the engine reads back is what was written.
    for (key, literals) in &table {
        let entry = super::known::KNOWN.iter().find(|k| k.key == *key).copied();
        assert_eq!(entry.and_then(|e: KnownAnalysis| e.decode()), literals.clone());
    }
}

/// Each paranoia level blocks an attack and scores it at least as high as the
/// level below, with the gates decided at load and evaluated per request.
/// (At paranoia 3 the engine's `skipAfter` used to end the phase at CRS's
/// last gate of a file, `@lt 4`, which its marker directly follows: nothing
/// after REQUEST-911 ran and the attack scored 0.)
#[test]
fn every_paranoia_level_scores_an_attack() {
    let attack = get("/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--");
    for keep_paranoia_gates in [false, true] {
        let mut last = 0;
        for paranoia in 1..=4 {
            let e = Engine::new(&Settings { paranoia, threshold: 5, keep_paranoia_gates, ..Default::default() }).unwrap();
            let v = e.inspect(&attack);
            assert!(v.blocked && v.score >= last.max(5), "paranoia {paranoia}, gates kept {keep_paranoia_gates}: {v:?}");
            last = v.score;
        }
    }
}

/// At paranoia 1 the gates and the rules of levels 2 to 4 are gone from the
/// compiled ruleset; an exclusion that names a gate keeps it, and its rules.
#[test]
fn paranoia_gates_are_decided_at_load() {
    let folded = Engine::new(&settings(1, 5)).unwrap();
    let gated = Engine::new(&Settings { keep_paranoia_gates: true, ..settings(1, 5) }).unwrap();
    assert!(folded.rule_count() * 2 < gated.rule_count() + 40, "{} of {}", folded.rule_count(), gated.rule_count());
    let gates = |e: &Engine| e.notes().iter().filter(|n| n.note.starts_with("paranoia gate folded")).map(|n| n.rule_id).collect::<Vec<_>>();
    assert!(gates(&folded).contains(&942013) && gates(&gated).is_empty(), "{:?}", gates(&folded));
    let pinned = Settings {
        exclusions: vec![Exclusion { rule_ids: Some(vec!["942013".into()]), paths: Some(vec!["/api/*".into()]), ..Default::default() }],
        ..settings(1, 5)
    };
    let e = Engine::new(&pinned).unwrap();
    assert!(!gates(&e).contains(&942013) && gates(&e).contains(&941013), "{:?}", gates(&e));
    assert!(e.rule_count() > folded.rule_count());
}
