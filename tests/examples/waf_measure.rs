//! Replays the GoTestWAF corpora (`tests/corpora/gotestwaf/`) through a
//! local edge under workerd over real HTTP, and prints the blocked share of
//! `owasp` and `owasp-api` and the passed share of `false-pos`.
//!
//! Run with `scripts/waf-measure.sh`. The requests are built exactly as in
//! `edge/tests/waf_corpus.rs` (GoTestWAF's encoders and placeholders, from
//! `edge/tests/gotestwaf/`) and written to a raw socket, so the
//! edge sees them as sent: no client-side path normalisation.

#[path = "../e2e/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../../edge/tests/gotestwaf/mod.rs"]
mod gotestwaf;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use gotestwaf::{encode, place, Case, Req};
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

/// The raw HTTP/1.1 request, or `None` if no HTTP client could send it
/// (a header value with CR, LF or NUL).
fn raw_request(r: &Req, port: u16) -> Option<Vec<u8>> {
    let mut target = target_escape(&r.path);
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    if !r.query.is_empty() {
        target.push('?');
        target.push_str(&target_escape(&r.query));
    }
    let method = if r.body.is_empty() { "GET" } else { "POST" };
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    let mut headers: Vec<(String, String)> = r.headers.clone();
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("user-agent")) {
        headers.push(("User-Agent".into(), UA.into()));
    }
    headers.push(("Accept".into(), "application/json".into()));
    headers.push(("CF-Connecting-IP".into(), "198.51.100.7".into()));
    headers.push(("MF-CF-Blob".into(), r#"{"colo":"FRA","country":"DE","clientAcceptEncoding":""}"#.into()));
    if let Some(ct) = &r.content_type {
        headers.push(("Content-Type".into(), ct.clone()));
    }
    for (n, v) in &headers {
        if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return None;
        }
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !r.body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&r.body);
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

#[derive(Default)]
struct Tally {
    blocked: usize,
    total: usize,
    unsendable: usize,
    other: usize,
}

fn replay(dir: &Path, port: u16) -> BTreeMap<String, Tally> {
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
                    let t = by_type.entry(case.kind.clone()).or_default();
                    let Some(raw) = raw_request(&req, port) else {
                        t.unsendable += 1;
                        continue;
                    };
                    t.total += 1;
                    match send(port, &raw) {
                        (403, body) if body.contains("\"rule\":\"crs\"") => t.blocked += 1,
                        (200, _) => {}
                        _ => t.other += 1,
                    }
                }
            }
        }
    }
    by_type
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 }
}

fn main() {
    let root = harness::repo_root().join("tests/corpora/gotestwaf");
    if !root.is_dir() {
        eprintln!("corpus not found at {}", root.display());
        std::process::exit(2);
    }
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let origin = harness::start_origin("app", |v| EdgeAuthLayer::new(v).without_replay_cache()).await;
        let rules = serde_json::json!({
            "version": 1,
            "settings": { "default_origin": "app", "log_requests": false },
            "origins": { "app": { "url": format!("http://127.0.0.1:{origin}") } },
            "phases": { "filter": [ { "id": "crs", "action": "waf" } ] }
        });
        let edge = harness::Edge::start(&rules.to_string(), &format!("http://127.0.0.1:{origin}"));
        let port = edge.port;
        for (set, benign) in [("owasp", false), ("owasp-api", false), ("false-pos", true)] {
            let dir = root.join(set);
            let tallies = tokio::task::spawn_blocking(move || replay(&dir, port)).await.expect("replay");
            let (mut b, mut t, mut u, mut o) = (0, 0, 0, 0);
            for (kind, v) in &tallies {
                println!("{set:>9} {kind:<16} {:>5}/{:<5} blocked {:6.2}%", v.blocked, v.total, pct(v.blocked, v.total));
                b += v.blocked;
                t += v.total;
                u += v.unsendable;
                o += v.other;
            }
            if benign {
                println!("{set:>9} OVERALL          {:>5}/{t:<5} passed  {:6.2}%", t - b - o, pct(t - b - o, t));
            } else {
                println!("{set:>9} OVERALL          {b:>5}/{t:<5} blocked {:6.2}%", pct(b, t));
            }
            println!("{set:>9} ({u} not sendable over HTTP/1.1, {o} answered neither 200 nor a WAF 403)");
        }
        drop(edge);
    });
}
