//! Replays the GoTestWAF corpora (`../shared/corpora/gotestwaf/`) through a
//! local edge under workerd over real HTTP, and prints the blocked share of
//! `owasp` and `owasp-api` and the passed share of `false-pos`.
//!
//! Run with `scripts/waf-measure.sh`. The requests are built exactly as in
//! `edge/tests/waf_corpus.rs` (GoTestWAF's encoders and placeholders; the
//! builders below are copied from there) and written to a raw socket, so the
//! edge sees them as sent: no client-side path normalisation.

#[path = "../e2e/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use origin_sdk::EdgeAuthLayer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    payload: Vec<String>,
    encoder: Vec<String>,
    placeholder: Vec<serde_norway::Value>,
    #[serde(rename = "type", default)]
    kind: String,
}

// ---- GoTestWAF encoders (internal/payload/encoder) ----

/// Go `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn base64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `\uXXXX` per UTF-16 code unit (GoTestWAF JSUnicode).
fn js_unicode(s: &str) -> String {
    s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect()
}

/// Go `xml.NewEncoder(b).Encode(string)`: `<string>` + EscapeText + `</string>`.
fn xml_entity(s: &str) -> String {
    let mut out = String::from("<string>");
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out.push_str("</string>");
    out
}

fn encode(enc: &str, p: &str) -> Option<String> {
    Some(match enc {
        "Plain" => p.to_string(),
        "URL" => query_escape(p),
        "Base64" => base64(p),
        "Base64Flat" => base64(p).replace('=', ""),
        "JSUnicode" => js_unicode(p),
        "XMLEntity" => xml_entity(p),
        _ => return None,
    })
}

// ---- GoTestWAF placeholders (internal/payload/placeholder) ----

/// An owned request; `Inspectable` borrows from it.
#[derive(Default)]
struct Req {
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Req {
    /// Split a request target into path and query as Go's URL parser does.
    fn with_url(url: &str) -> Req {
        let url = url.split('#').next().unwrap_or("");
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        Req {
            path: path.into(),
            query: query.into(),
            ..Default::default()
        }
    }
}

const RAND: &str = "a1b2c3d4e5";

fn place(placeholder: &serde_norway::Value, payload: &str) -> Option<Req> {
    let (name, conf) = match placeholder {
        serde_norway::Value::String(s) => (s.as_str(), None),
        serde_norway::Value::Mapping(m) => {
            let (k, v) = m.iter().next()?;
            (k.as_str()?, Some(v))
        }
        _ => return None,
    };
    let conf_str = |key: &str| {
        conf.and_then(|c| c.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let mut r = Req::default();
    match name {
        "URLPath" => r = Req::with_url(&format!("/{payload}")),
        "URLParam" => r = Req::with_url(&format!("/?{RAND}={payload}")),
        "Header" => r.headers.push((format!("X-{RAND}"), payload.into())),
        "UserAgent" => r.headers.push(("User-Agent".into(), payload.into())),
        "HTMLForm" => {
            r.content_type = Some("application/x-www-form-urlencoded".into());
            r.body = format!("{RAND}={payload}").into_bytes();
        }
        "HTMLMultipartForm" => {
            let b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
            r.content_type = Some(format!("multipart/form-data; boundary={b}"));
            r.body = format!("--{b}\r\nContent-Disposition: form-data; name=\"{RAND}\"\r\n\r\n{payload}\r\n--{b}--\r\n").into_bytes();
        }
        "JSONBody" => {
            r.content_type = Some("application/json".into());
            r.body = payload.as_bytes().to_vec();
        }
        "JSONRequest" => {
            r.content_type = Some("application/json".into());
            r.body =
                format!("{{\"test\":true, \"{RAND}\": \"{}\"}}", js_unicode(payload)).into_bytes();
        }
        "SOAPBody" => {
            r.content_type = Some("text/xml".into());
            r.headers.push((
                "SOAPAction".into(),
                "\"http://schemas.xmlsoap.org/soap/actor/next\"".into(),
            ));
            r.body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"\n\txmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\t<soapenv:Header>\n\t\t<ns1:RequestHeader soapenv:actor=\"http://schemas.xmlsoap.org/soap/actor/next\"\n\t\t\tsoapenv:mustUnderstand=\"0\" xmlns:ns1=\"https://www.google.com/apis/ads/publisher/v202002\">\n\t\t</ns1:RequestHeader>\n\t</soapenv:Header>\n\t<soapenv:Body>\n\t\t<getAdUnitsByStatement xmlns=\"https://www.google.com/apis/ads/publisher/v202002\">\n\t\t\t<filterStatement>\n\t\t\t\t<ab{RAND}>{}</ab{RAND}>\n\t\t\t</filterStatement>\n\t\t</getAdUnitsByStatement>\n\t</soapenv:Body>\n</soapenv:Envelope>",
                xml_entity(payload)
            )
            .into_bytes();
        }
        "XMLBody" => {
            r.content_type = Some("text/xml".into());
            r.body = payload.as_bytes().to_vec();
        }
        "RequestBody" => r.body = payload.as_bytes().to_vec(),
        "GraphQL" => match conf_str("method").as_deref() {
            Some("GET") => r.query = format!("query={}", query_escape(payload)),
            _ => r.body = payload.as_bytes().to_vec(),
        },
        "RawRequest" => {
            let path = conf_str("path")
                .unwrap_or_else(|| "/".into())
                .replace("{{payload}}", payload);
            r = Req::with_url(&path);
            r.body = conf_str("body")
                .unwrap_or_default()
                .replace("{{payload}}", payload)
                .into_bytes();
        }
        // gRPC needs an HTTP/2 gRPC frame the edge never parses as text: skipped.
        _ => return None,
    }
    Some(r)
}


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
    let root = harness::repo_root().join("../shared/corpora/gotestwaf");
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
