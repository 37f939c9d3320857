//! OWASP CRS as the `waf` ruleset under workerd: a sample of CRS's own go-ftw
//! regression tests (`tests/corpora/owasp-crs/`) sent through the worker at
//! paranoia 1, threshold 5, each answered as the native engine decides (403
//! with the CRS rule id in the request log, or passed to the origin), plus the
//! one-time rule compile per isolate, timed from outside.

#[path = "../../edge/tests/ftw/mod.rs"]
mod ftw;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use edge::waf::crs::{Engine, Request, Settings};
use ftw::scalar;
use serde_json::json;

use crate::ensure;
use crate::harness::{repo_root, serve, Edge, Report};

/// One go-ftw stage as it will be sent, and what the native engine decided.
struct Case {
    name: String,
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    blocked: bool,
    rule_ids: Vec<String>,
}

/// Headers the HTTP client or the Workers runtime sets itself.
fn hop(name: &str) -> bool {
    ["host", "content-length", "connection", "proxy-connection", "keep-alive", "transfer-encoding", "accept-encoding"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// Up to `per_folder` blocked and one passed stage per attack folder, chosen in
/// file order among stages a client can send unchanged: origin-form target
/// without dot segments (the URL parser would resolve them), ASCII headers, a
/// method and body reqwest sends as is.
fn sample(per_folder: usize) -> Vec<Case> {
    let native = Engine::new(&Settings { paranoia: 1, threshold: 5, ..Default::default() }).expect("CRS loads");
    let root: PathBuf = repo_root().join("tests/corpora/owasp-crs/tests/regression/tests");
    let folders = ["REQUEST-913", "REQUEST-921", "REQUEST-930", "REQUEST-931", "REQUEST-932", "REQUEST-933", "REQUEST-934", "REQUEST-941", "REQUEST-942", "REQUEST-943", "REQUEST-944"];
    let dirs = ftw::sorted_entries(&root, None);
    let mut out = Vec::new();
    for dir in dirs.iter().filter(|d| folders.iter().any(|f| d.file_name().is_some_and(|n| n.to_string_lossy().starts_with(f)))) {
        let files = ftw::sorted_entries(dir, Some("yaml"));
        let (mut blocked, mut passed) = (0, 0);
        'files: for file in files {
            let tf = ftw::read(&file);
            let stem = file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            for t in &tf.tests {
                for s in &t.stages {
                    let i = &s.input;
                    let uri = i.uri.clone().unwrap_or_else(|| "/".into());
                    let path = uri.split('?').next().unwrap_or("");
                    let method = i.method.clone().unwrap_or_else(|| "GET".into());
                    let sendable = i.encoded_request.is_none()
                        && matches!(method.as_str(), "GET" | "POST")
                        && i.version.as_deref().is_none_or(|v| v == "HTTP/1.1")
                        && uri.starts_with('/')
                        && uri.is_ascii()
                        && !uri.contains(['\\', '#', ' ', '"', '<', '>', '`', '{', '}', '|', '^'])
                        && !path.contains("..")
                        && !path.to_ascii_lowercase().contains("%2e")
                        && !path.contains("//");
                    if !sendable {
                        continue;
                    }
                    let mut headers: Vec<(String, String)> =
                        i.headers.iter().filter(|(k, _)| !hop(k)).map(|(k, v)| (k.clone(), scalar(v))).collect();
                    if headers.iter().any(|(k, v)| !v.is_ascii() || k.is_empty() || v.contains(['\r', '\n'])) {
                        continue;
                    }
                    for (k, v) in [("User-Agent", "go-ftw"), ("Accept", "*/*")] {
                        if !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)) {
                            headers.push((k.into(), v.into()));
                        }
                    }
                    let body = i.data.as_ref().map(scalar).unwrap_or_default().into_bytes();
                    let mut seen = headers.clone();
                    seen.push(("Host".into(), "127.0.0.1".into()));
                    if !body.is_empty() {
                        seen.push(("Content-Length".into(), body.len().to_string()));
                    }
                    let borrowed: Vec<(&str, &str)> = seen.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    let v = native.inspect(&Request { method: &method, uri: &uri, protocol: "HTTP/1.1", headers: &borrowed, body: &body, client_ip: Some("127.0.0.1") });
                    let want = if v.blocked { &mut blocked } else { &mut passed };
                    if *want >= if v.blocked { per_folder } else { 1 } {
                        continue;
                    }
                    *want += 1;
                    let name = format!("{stem}-{}", t.id());
                    let rule_ids = v.matches.iter().map(|m| m.rule_id.clone()).collect();
                    out.push(Case { name, method: method.clone(), uri, headers, body, blocked: v.blocked, rule_ids });
                    if blocked >= per_folder && passed >= 1 {
                        break 'files;
                    }
                }
            }
        }
    }
    out
}

async fn start_origin() -> u16 {
    let app = axum::Router::new().fallback(|| async { axum::Json(json!({ "origin": "app" })) });
    serve(app).await
}

fn rules(origin_port: u16) -> String {
    json!({
        "version": 1,
        "settings": { "default_origin": "app", "rules_ttl_seconds": 60 },
        "origins": { "app": { "url": format!("http://127.0.0.1:{origin_port}") } },
        "phases": { "filter": [
            { "id": "no-crs", "when": { "paths": ["/plain"] }, "action": "allow" },
            { "id": "crs4", "action": "waf", "params": { "rulesets": ["owasp-crs"], "paranoia": 1, "threshold": 5 } }
        ] }
    })
    .to_string()
}

async fn send(http: &reqwest::Client, edge: &Edge, c: &Case) -> Result<(u16, String), String> {
    let m = reqwest::Method::from_bytes(c.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = http.request(m, edge.url(&c.uri));
    for (k, v) in &c.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if !c.body.is_empty() {
        req = req.body(c.body.clone());
    }
    let resp = req.send().await.map_err(|e| format!("{}: {e}", c.name))?;
    let status = resp.status().as_u16();
    let rid = resp.headers().get("x-edge-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    Ok((status, rid))
}

async fn timed_get(http: &reqwest::Client, edge: &Edge, path: &str) -> Result<Duration, String> {
    let t = Instant::now();
    let r = http.get(edge.url(path)).header("User-Agent", "Mozilla/5.0").header("Accept", "*/*").send().await.map_err(|e| e.to_string())?;
    let took = t.elapsed();
    ensure!(r.status() == 200, "benign GET {path}: {}", r.status());
    Ok(took)
}

/// The isolate's first request outside CRS pays instantiation and the KV read;
/// the first one under CRS then pays the rule compile (and the first use of its
/// regexes); later ones pay neither. Printed for docs/benchmarks.md (speed is
/// a benchmark here, not a timed test).
async fn first_request_compiles_the_rules(http: &reqwest::Client, edge: &Edge) -> Result<(), String> {
    let plain = timed_get(http, edge, "/plain?q=hello").await?;
    let compile = timed_get(http, edge, "/crs/warm?q=hello").await?;
    let mut later = Duration::ZERO;
    for _ in 0..10 {
        later += timed_get(http, edge, "/crs/warm?q=hello").await?;
    }
    let later = later / 10;
    let plain_later = timed_get(http, edge, "/plain?q=hello").await?;
    println!(
        "    owasp-crs under workerd: first request without CRS {plain:?}, first with CRS {compile:?} (rule compile), later with CRS {later:?}, later without {plain_later:?}"
    );
    Ok(())
}

async fn go_ftw_sample_decides_as_natively(http: &reqwest::Client, edge: &Edge, cases: &[Case]) -> Result<(), String> {
    let (blocked, passed) = (cases.iter().filter(|c| c.blocked).count(), cases.iter().filter(|c| !c.blocked).count());
    ensure!(blocked >= 30 && passed >= 5, "sample too small: {blocked} blocked, {passed} passed");
    let mut wrong = Vec::new();
    for c in cases {
        let mark = edge.log_len();
        let (status, rid) = send(http, edge, c).await?;
        let want = if c.blocked { 403 } else { 200 };
        if status != want {
            wrong.push(format!("{} {} {}: {status}, native {want} {:?}", c.name, c.method, c.uri, c.rule_ids));
            continue;
        }
        if c.blocked {
            // The request log names the CRS rule ids, not the payload.
            tokio::time::sleep(Duration::from_millis(150)).await;
            let first = c.rule_ids.first().map(|id| format!("crs-{id}@")).unwrap_or_default();
            let deadline = Instant::now() + Duration::from_secs(3);
            while edge.logs_since(mark, &[&rid, &first]).is_empty() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if edge.logs_since(mark, &[&rid, &first]).is_empty() {
                wrong.push(format!("{}: no log line with {first} for request {rid}", c.name));
            }
        }
    }
    println!("    go-ftw sample under workerd: {}/{} as native ({blocked} blocked, {passed} passed)", cases.len() - wrong.len(), cases.len());
    ensure!(wrong.is_empty(), "{} of {} differ:\n      {}", wrong.len(), cases.len(), wrong.join("\n      "));
    Ok(())
}

pub async fn run(report: &mut Report) {
    let cases = sample(4);
    // The default worker carries CRS; a wrangler dev of its own gives the
    // timing a fresh isolate.
    let origin_port = start_origin().await;
    let edge = Edge::start(&rules(origin_port), &format!("http://127.0.0.1:{origin_port}"));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    report.check("crs::first_request_compiles_the_rules", first_request_compiles_the_rules(&http, &edge)).await;
    report.check("crs::go_ftw_sample_decides_as_natively", go_ftw_sample_decides_as_natively(&http, &edge, &cases)).await;
}
