//! Replays attack and benign corpora through a local edge under workerd over real
//! HTTP, under several `waf` configurations at once, and prints blocked/passed per
//! set per configuration (`scripts/waf-measure.sh`).
//!
//! ```text
//! waf_measure [--config NAME=PARAMS]... [--gotestwaf DIR] [--list NAME=FILE]...
//!             [--benign NAME=FILE]... [--ftw DIR]... [--server NAME=PORT]
//!             [--misses FILE]
//! ```
//! Each configuration is one `waf` rule (its `params`, JSON) that judges the
//! requests carrying `x-waf-config: NAME`, so one edge serves them all; default: the configurations of
//! `edge/tests/payload_sets` (pl1, pl2, prompt_api). Without `--list`, `--benign`
//! or `--ftw`: the vendored SecLists payload lists and the prompts (tuning and
//! held-out halves apart). GoTestWAF: `--gotestwaf DIR`, else
//! `tests/corpora/gotestwaf/` when present.
//! `--server NAME=PORT` sends the same requests to another WAF listening on
//! 127.0.0.1:PORT instead of an edge (`scripts/modsecurity.sh` runs ModSecurity
//! + CRS there): any 403 counts as blocked, as it names no edge rule.
//! `--misses FILE` writes each payload-list request of the tuning half whose
//! outcome was wrong (`CONFIG SET PLACE PAYLOAD`, as `waf_measure_native
//! --misses` does), so two WAFs' misses can be compared line by line.
//! GoTestWAF requests are built exactly as in `edge/tests/waf_corpus.rs` and written
//! to a raw socket, so the edge sees them as sent: no client-side normalisation.

#[path = "../e2e/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../../edge/tests/gotestwaf/mod.rs"]
mod gotestwaf;
#[path = "../../edge/tests/payload_sets/mod.rs"]
mod payload_sets;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use gotestwaf::{encode, place, Case};
use payload_sets::{attack_sets, corpora, ftw_cases, prompts, request, FtwCase, Half, Set, CONFIGS, PLACES};
use origin_sdk::EdgeAuthLayer;

/// Percent-encodes what may not appear raw in a request target (as Go's URL
/// serialisation does); everything else is sent as built.
fn target_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b <= 0x20 || b >= 0x7f || b"\"<>\\^`{|}".contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// Names the configuration whose `waf` rule judges a request. A header rather than
/// a path prefix: the runtime resolves `..` in paths, which would move traversal
/// payloads out from under a prefix.
const CONFIG_HEADER: &str = "x-waf-config";

/// One request as the measurement sends it.
struct Wire<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [(String, String)],
    content_type: Option<&'a str>,
    body: &'a [u8],
}

/// The raw HTTP/1.1 request for `config` (named in `x-waf-config`), or `None` if
/// no HTTP client could send it (a header value with CR, LF or NUL).
fn raw_request(r: &Wire<'_>, config: &str, port: u16) -> Option<Vec<u8>> {
    let mut target = target_escape(r.path);
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    if !r.query.is_empty() {
        target.push('?');
        target.push_str(&target_escape(r.query));
    }
    // Another WAF is sent the host name `waf_measure_native` uses: CRS scores a
    // numeric `Host` (920350), which the edge behind its runtime never sees.
    let host = if FOREIGN.get().is_some() { "app.example.com".to_string() } else { format!("127.0.0.1:{port}") };
    let mut head = format!("{} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n", r.method);
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(n, _)| !["host", "connection", "content-length", "content-type"].contains(&n.to_ascii_lowercase().as_str()))
        .cloned()
        .collect();
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("user-agent")) {
        headers.push(("User-Agent".into(), UA.into()));
    }
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")) {
        headers.push(("Accept".into(), "application/json".into()));
    }
    headers.push((CONFIG_HEADER.into(), config.into()));
    headers.push(("CF-Connecting-IP".into(), "198.51.100.7".into()));
    headers.push(("MF-CF-Blob".into(), r#"{"colo":"FRA","country":"DE","clientAcceptEncoding":""}"#.into()));
    if let Some(ct) = r.content_type {
        headers.push(("Content-Type".into(), ct.to_string()));
    }
    for (n, v) in &headers {
        if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return None;
        }
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !r.body.is_empty() || r.method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(r.body);
    Some(bytes)
}

/// Status code of the edge's answer (0 when the connection failed).
fn send(port: u16, raw: &[u8]) -> (u16, String) {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new()) };
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    if s.write_all(raw).is_err() {
        return (0, String::new());
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    (text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), text)
}

/// Outcome of one request: blocked by the configuration's own rule (403 naming it,
/// or 413 for a refused oversized body), passed (200/404), or anything else.
#[derive(PartialEq)]
enum Outcome {
    Blocked,
    Passed,
    Other,
}

/// Set by `--server`: the answers come from another WAF, whose 403 names no rule.
static FOREIGN: std::sync::OnceLock<()> = std::sync::OnceLock::new();

fn outcome(port: u16, raw: &[u8], rule: &str) -> Outcome {
    let foreign = FOREIGN.get().is_some();
    match send(port, raw) {
        (403 | 413, body) if foreign || body.contains(&format!("\"rule\":\"{rule}\"")) => Outcome::Blocked,
        (200 | 404, _) => Outcome::Passed,
        _ => Outcome::Other,
    }
}

/// Counts for one set under one configuration (`[tune, held-out]` for the halves).
#[derive(Default, Clone, Copy)]
struct Tally {
    good: [usize; 2],
    total: [usize; 2],
    unsendable: usize,
    other: usize,
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 }
}

fn print(config: &str, set: &str, benign: bool, t: &Tally, halves: bool) {
    let verb = if benign { "passed" } else { "blocked" };
    if halves {
        println!(
            "{config:<12} {set:<24} tune {:>5}/{:<5} {:6.2}%   held-out {:>5}/{:<5} {:6.2}% {verb}",
            t.good[0], t.total[0], pct(t.good[0], t.total[0]), t.good[1], t.total[1], pct(t.good[1], t.total[1])
        );
    } else {
        println!("{config:<12} {set:<40} {:>5}/{:<5} {:6.2}% {verb}", t.good[0], t.total[0], pct(t.good[0], t.total[0]));
    }
    if t.unsendable + t.other > 0 {
        println!("{config:<12} {set:<24} ({} not sendable over HTTP/1.1, {} answered neither 200/404 nor a WAF block)", t.unsendable, t.other);
    }
}

/// One request of a set: which half it is in, and the request. Whether its
/// outcome was the right one.
fn tally(t: &mut Tally, half: usize, benign: bool, raw: Option<Vec<u8>>, port: u16, rule: &str) -> bool {
    let Some(raw) = raw else {
        t.unsendable += 1;
        return false;
    };
    t.total[half] += 1;
    match outcome(port, &raw, rule) {
        Outcome::Blocked if !benign => t.good[half] += 1,
        Outcome::Passed if benign => t.good[half] += 1,
        Outcome::Other => {
            t.other += 1;
            return false;
        }
        _ => return false,
    }
    true
}

/// The wrong outcomes of the payload lists, when `--misses` asks for them.
static MISSES: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn record_miss(line: String) {
    if let Ok(mut m) = MISSES.lock() {
        if let Some(m) = m.as_mut() {
            m.push_str(&line);
            m.push('\n');
        }
    }
}

/// GoTestWAF: every payload × encoder × placeholder, per case type.
fn gotestwaf_set(dir: &Path, benign: bool, config: &str, port: u16) -> BTreeMap<String, Tally> {
    let mut by_type: BTreeMap<String, Tally> = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default().replace("\\'", "'");
        let case: Case = match serde_norway::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipping {}: {e}", f.display());
                continue;
            }
        };
        for p in &case.payload {
            for e in &case.encoder {
                let Some(enc) = encode(e, p) else { continue };
                for ph in &case.placeholder {
                    let Some(req) = place(ph, &enc) else { continue };
                    let wire = Wire {
                        method: if req.body.is_empty() { "GET" } else { "POST" },
                        path: &req.path,
                        query: &req.query,
                        headers: &req.headers,
                        content_type: req.content_type.as_deref(),
                        body: &req.body,
                    };
                    let t = by_type.entry(case.kind.clone()).or_default();
                    let _ = tally(t, 0, benign, raw_request(&wire, config, port), port, &rule_id(config));
                }
            }
        }
    }
    by_type
}

fn rule_id(config: &str) -> String {
    format!("waf-{config}")
}

fn list_set(name: &str, file: &str, benign: bool) -> Set {
    payload_sets::list_file(name, file, benign).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    })
}

/// Concurrent connections per set: workerd serves them in parallel, and one at a
/// time the lists take minutes.
const PARALLEL: usize = 8;

fn payload_set(set: &Set, halves: bool, config: &str, port: u16) -> Tally {
    let field = if set.benign { "prompt" } else { "q" };
    let path = if set.benign { "/v1/chat" } else { "/search" };
    let mut work: Vec<(usize, Option<Vec<u8>>, String)> = Vec::new();
    for (i, payload) in &set.items {
        let half = usize::from(halves && Half::of(*i) == Half::Held);
        for p in PLACES {
            let r = request(p, path, field, payload);
            let wire = Wire {
                method: &r.method,
                path: &r.path,
                query: &r.query,
                headers: &r.headers,
                content_type: r.content_type.as_deref(),
                body: &r.body,
            };
            work.push((half, raw_request(&wire, config, port), format!("{config} {} {p:?} {payload:?}", set.name)));
        }
    }
    let rule = rule_id(config);
    let chunk = work.len().div_ceil(PARALLEL).max(1);
    let parts: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| {
                let rule = &rule;
                s.spawn(move || {
                    let mut t = Tally::default();
                    for (half, raw, label) in part {
                        if !tally(&mut t, *half, set.benign, raw.clone(), port, rule) && *half == 0 {
                            record_miss(label.clone());
                        }
                    }
                    t
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut t = Tally::default();
    for p in parts {
        for h in 0..2 {
            t.good[h] += p.good[h];
            t.total[h] += p.total[h];
        }
        t.unsendable += p.unsendable;
        t.other += p.other;
    }
    t
}

fn main() {
    let mut configs: Vec<(String, String)> = Vec::new();
    let mut sets: Vec<Set> = Vec::new();
    let mut ftw: Vec<String> = Vec::new();
    let mut gotestwaf_dir: Option<PathBuf> = None;
    let mut server: Option<(String, u16)> = None;
    let mut misses_file: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let Some(v) = args.next() else {
            eprintln!("{a} needs a value");
            std::process::exit(2)
        };
        let pair = v.split_once('=').map(|(a, b)| (a.to_string(), b.to_string()));
        match (a.as_str(), pair) {
            ("--config", Some(p)) => configs.push(p),
            ("--list", Some((n, f))) => sets.push(list_set(&n, &f, false)),
            ("--benign", Some((n, f))) => sets.push(list_set(&n, &f, true)),
            ("--ftw", _) => ftw.push(v),
            ("--gotestwaf", _) => gotestwaf_dir = Some(PathBuf::from(v)),
            ("--misses", _) => misses_file = Some(v),
            ("--server", Some((n, p))) => match p.parse() {
                Ok(port) => server = Some((n, port)),
                Err(_) => {
                    eprintln!("--server {v}: PORT must be a port number");
                    std::process::exit(2)
                }
            },
            _ => {
                eprintln!("unknown argument {a} {v}");
                std::process::exit(2)
            }
        }
    }
    if configs.is_empty() {
        configs = CONFIGS.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    }
    let defaults = sets.is_empty() && ftw.is_empty();
    if defaults {
        sets = attack_sets(&corpora());
        sets.push(prompts(&corpora()));
        if gotestwaf_dir.is_none() {
            let vendored = corpora().join("gotestwaf");
            gotestwaf_dir = vendored.is_dir().then_some(vendored);
        }
    }
    let cases: Vec<FtwCase> = ftw.iter().flat_map(|d| ftw_cases(Path::new(d))).collect();
    if misses_file.is_some() {
        if let Ok(mut m) = MISSES.lock() {
            *m = Some(String::new());
        }
    }
    let write_misses = || {
        if let (Some(file), Ok(Some(m))) = (&misses_file, MISSES.lock().as_deref()) {
            if let Err(e) = std::fs::write(file, m) {
                eprintln!("--misses {file}: {e}");
            }
        }
    };
    if let Some((name, port)) = server {
        let _ = FOREIGN.set(());
        replay(&[(name, String::new())], &sets, &cases, gotestwaf_dir.as_deref(), defaults, port);
        write_misses();
        return;
    }
    let mut filter = Vec::new();
    for (name, params) in &configs {
        let params: serde_json::Value = match serde_json::from_str(params) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("--config {name}: {e}");
                std::process::exit(2)
            }
        };
        filter.push(serde_json::json!({ "id": rule_id(name), "when": { "headers": { CONFIG_HEADER: [name] } }, "action": "waf", "params": params }));
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let origin = harness::start_origin("app", |v| EdgeAuthLayer::new(v).without_replay_cache()).await;
        let rules = serde_json::json!({
            "version": 1,
            "settings": { "default_origin": "app", "log_requests": false },
            "origins": { "app": { "url": format!("http://127.0.0.1:{origin}") } },
            "phases": { "filter": filter }
        });
        let edge = harness::Edge::start(&rules.to_string(), &format!("http://127.0.0.1:{origin}"));
        let port = edge.port;
        tokio::task::spawn_blocking(move || replay(&configs, &sets, &cases, gotestwaf_dir.as_deref(), defaults, port))
            .await
            .expect("replay");
        drop(edge);
    });
    write_misses();
}

/// Every set under every configuration, against the server on `port`.
fn replay(configs: &[(String, String)], sets: &[Set], cases: &[FtwCase], gotestwaf_dir: Option<&Path>, defaults: bool, port: u16) {
    for (config, _) in configs {
        if let Some(dir) = gotestwaf_dir {
            for (set, benign) in [("owasp", false), ("owasp-api", false), ("false-pos", true)] {
                let tallies = gotestwaf_set(&dir.join(set), benign, config, port);
                let mut all = Tally::default();
                for (kind, t) in &tallies {
                    print(config, &format!("gotestwaf/{set}/{kind}"), benign, t, false);
                    all.good[0] += t.good[0];
                    all.total[0] += t.total[0];
                    all.unsendable += t.unsendable;
                    all.other += t.other;
                }
                print(config, &format!("gotestwaf/{set} OVERALL"), benign, &all, false);
            }
        }
        for set in sets {
            print(config, set.name, set.benign, &payload_set(set, defaults, config, port), defaults);
        }
        let mut by_folder: BTreeMap<&str, Tally> = BTreeMap::new();
        for c in cases.iter().filter(|c| c.attack) {
            let wire = Wire {
                method: &c.req.method,
                path: &c.req.path,
                query: &c.req.query,
                headers: &c.req.headers,
                content_type: c.req.content_type.as_deref(),
                body: &c.req.body,
            };
            let t = by_folder.entry(c.folder.as_str()).or_default();
            tally(t, 0, false, raw_request(&wire, config, port), port, &rule_id(config));
        }
        for (folder, t) in &by_folder {
            print(config, folder, false, t, false);
        }
    }
}
