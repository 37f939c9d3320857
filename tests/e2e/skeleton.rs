//! The walking skeleton: rules from KV, signed forwarding, trust headers,
//! filter and respond rules, logs, rules reloads.


use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ensure;
use crate::harness::{dev_keys, repo_root, start_origin, Edge, Report};
use origin_sdk::EdgeAuthLayer;
use serde_json::{json, Value};



struct World {
    edge: Edge,
    http: reqwest::Client,
    origin_port: u16,
    /// An origin without the nonce replay cache: isolates the expiry check.
    lax_origin_port: u16,
    rules: Value,
}

/// `request.cf` for local dev: it replaces cf entirely, so `colo` is always set.
fn cf_blob(country: &str, asn: u32, colo: &str) -> String {
    json!({ "country": country, "asn": asn, "colo": colo, "continent": "EU", "clientAcceptEncoding": "" }).to_string()
}

/// The example document, pointed at the test origin with short timings.
fn test_rules(origin_port: u16, lax_port: u16) -> Value {
    let text = std::fs::read_to_string(repo_root().join("examples/rules/basic.json")).expect("basic.json");
    let mut rules: Value = serde_json::from_str(&text).expect("basic.json is JSON");
    rules["origins"]["app"]["url"] = json!(format!("http://127.0.0.1:{origin_port}"));
    rules["settings"]["rules_ttl_seconds"] = json!(1);
    rules["settings"]["signature_validity_seconds"] = json!(2);
    rules["origins"]["lax"] = json!({ "url": format!("http://127.0.0.1:{lax_port}") });
    rules["phases"]["route"] = json!([{ "id": "lax", "when": { "paths": ["/lax/*"] }, "action": "origin", "params": { "origin": "lax" } }]);
    rules
}

impl World {
    async fn get(&self, path: &str, extra: &[(&str, &str)]) -> Result<(u16, reqwest::header::HeaderMap, Value), String> {
        let mut req = self.http.get(self.edge.url(path));
        let defaults = [("MF-CF-Blob", cf_blob("DE", 3320, "FRA")), ("CF-Connecting-IP", "198.51.100.7".to_string())];
        for (k, v) in defaults {
            if !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)) {
                req = req.header(k, v);
            }
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, headers, body))
    }

    /// Polls until `pred` holds for GET `path`, up to `limit`.
    async fn eventually(&self, path: &str, limit: Duration, pred: impl Fn(u16, &Value) -> bool) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let (status, _, body) = self.get(path, &[]).await?;
            if pred(status, &body) {
                return Ok(start.elapsed());
            }
            ensure!(start.elapsed() < limit, "GET {path} still {status} {body} after {limit:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn replay(&self, port: u16, echoed: &Value) -> Result<(u16, String), String> {
        let mut req = self.http.get(format!("http://127.0.0.1:{port}{}", path_and_query(echoed)));
        for (k, v) in echoed["headers"].as_object().ok_or("no headers")? {
            if k != "host" && k != "content-length" {
                req = req.header(k.as_str(), v.as_str().unwrap_or_default());
            }
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        Ok((resp.status().as_u16(), resp.text().await.unwrap_or_default()))
    }
}

fn path_and_query(echoed: &Value) -> String {
    match echoed["query"].as_str() {
        Some(q) => format!("{}?{q}", echoed["path"].as_str().unwrap_or("/")),
        None => echoed["path"].as_str().unwrap_or("/").to_string(),
    }
}

async fn forwards_signed_facts(w: &World) -> Result<(), String> {
    let (status, headers, body) = w.get("/hello?name=x", &[]).await?;
    ensure!(status == 200, "status {status}: {body}");
    let facts = &body["facts"];
    ensure!(facts["country"] == "DE", "country: {facts}");
    ensure!(facts["client_ip"] == "198.51.100.7", "client_ip: {facts}");
    ensure!(facts["asn"] == 3320, "asn: {facts}");
    ensure!(facts["colo"] == "FRA", "colo: {facts}");
    ensure!(facts["keyid"] == "dev-2026", "keyid: {facts}");
    let rid = headers.get("x-edge-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    ensure!(!rid.is_empty() && facts["request_id"] == rid, "request id {rid} vs {facts}");
    ensure!(body["query"] == "name=x" && body["path"] == "/hello", "path/query: {body}");
    // Every trust header is present, empty where unknown.
    for h in origin_sdk::trust::ALL {
        ensure!(body["headers"].get(h).is_some(), "trust header {h} missing at origin");
    }
    ensure!(facts["user"].is_null() && body["headers"]["x-edge-user"] == "", "user should be empty");
    // respond phase: security headers set, origin noise removed.
    ensure!(
        headers.get("strict-transport-security").is_some() && headers.get("x-frame-options").map(|v| v == "DENY") == Some(true),
        "security headers missing: {headers:?}"
    );
    Ok(())
}

async fn direct_request_refused(w: &World) -> Result<(), String> {
    let resp = w.http.get(format!("http://127.0.0.1:{}/hello", w.origin_port)).send().await.map_err(|e| e.to_string())?;
    ensure!(resp.status() == 401, "direct request got {}", resp.status());
    Ok(())
}

async fn forged_trust_headers_replaced(w: &World) -> Result<(), String> {
    let (status, _, body) = w
        .get(
            "/forged",
            &[
                ("x-edge-country", "XX"),
                ("x-edge-user", "admin"),
                ("x-edge-anything", "1"),
                ("signature", "edge=:AAAA:"),
                ("signature-input", "edge=();created=1"),
            ],
        )
        .await?;
    ensure!(status == 200, "status {status}: {body}");
    ensure!(body["facts"]["country"] == "DE", "forged country survived: {}", body["facts"]);
    ensure!(body["facts"]["user"].is_null(), "forged user survived: {}", body["facts"]);
    ensure!(body["headers"].get("x-edge-anything").is_none(), "x-edge-anything forwarded");
    let sig = body["headers"]["signature"].as_str().unwrap_or_default();
    ensure!(!sig.contains("AAAA") && sig.starts_with("edge=:"), "client signature forwarded: {sig}");
    Ok(())
}

/// Client spellings of edge-owned headers, exactly as sent on the wire: `_`
/// for `-`, upper case, mixed, and a twin next to the real name.
const TWINS: [(&str, &str); 7] = [
    ("X_Edge_User", "forged-admin"),
    ("X_EDGE_COUNTRY", "forged-xx"),
    ("x_Edge-Claims", "forged-claims"),
    ("x-edge-user", "forged-admin"),
    ("x_edge_user", "forged-admin-2"),
    ("Signature_Input", "sig=();forged"),
    ("X_Forwarded_Proto", "forged-https"),
];

/// A GET over a raw socket, header names byte for byte as given (HTTP client
/// libraries fold them to lowercase); returns status, the echoed JSON and the
/// edge's request id.
async fn get_raw(w: &World, path: &str, headers: &[(&str, &str)]) -> Result<(u16, Value, String), String> {
    use std::io::{Read, Write};
    let port = w.edge.port;
    let mut head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nMF-CF-Blob: {}\r\nCF-Connecting-IP: 198.51.100.7\r\n",
        cf_blob("DE", 3320, "FRA")
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("Accept-Encoding: identity\r\nConnection: close\r\n\r\n");
    let raw = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
        s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    })
    .await
    .map_err(|e| e.to_string())??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or(format!("no header end in {text:?}"))?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or(format!("no status in {head:?}"))?;
    let header = |name: &str| {
        head.lines().find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string()))
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) { dechunk(body)? } else { body.to_string() };
    let json = serde_json::from_str(&body).unwrap_or(Value::String(body));
    Ok((status, json, header("x-edge-request-id").unwrap_or_default()))
}

/// The payload of a chunked body.
fn dechunk(mut rest: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").ok_or("chunk size line")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).map_err(|e| format!("chunk size {size:?}: {e}"))?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(after.get(..size).ok_or("short chunk")?);
        rest = after.get(size + 2..).ok_or("chunk end")?;
    }
}

/// Names the origin received that contain `_`.
fn underscored(body: &Value) -> Vec<String> {
    body["headers"].as_object().map(|h| h.keys().filter(|k| k.contains('_')).cloned().collect()).unwrap_or_default()
}

async fn underscore_twins_never_reach_the_origin(w: &World) -> Result<(), String> {
    let mut sent = TWINS.to_vec();
    sent.extend([("X_Custom", "forged-custom"), ("X-Kept", "yes")]);
    let mark = w.edge.log_len();
    let (status, body, rid) = get_raw(w, "/twins", &sent).await?;
    // The origin's Verifier refuses any underscore twin (401 ambiguous_header), so 200 says none arrived.
    ensure!(status == 200, "status {status}: {body}");
    let facts = &body["facts"];
    ensure!(facts["country"] == "DE" && facts["user"].is_null() && facts["claims"].is_null(), "facts not the edge's: {facts}");
    ensure!(underscored(&body).is_empty(), "underscore names at the origin: {:?}", underscored(&body));
    ensure!(body["headers"]["x-kept"] == "yes", "an ordinary header was lost: {}", body["headers"]);
    ensure!(body["headers"]["x-forwarded-proto"] == "http" && body["headers"]["x-edge-user"] == "", "edge values replaced: {}", body["headers"]);
    ensure!(!body["headers"].to_string().contains("forged"), "a forged value reached the origin: {}", body["headers"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lines = w.edge.logs_since(mark, &[&rid, "\"msg\":\"request\""]);
    let line = lines.first().ok_or(format!("no request log line for {rid}"))?;
    for needle in [
        // workerd's Headers are sorted and combine both `x_edge_user` lines.
        r#""rule":"underscore_twins","note":"removed signature_input, x_edge-claims, x_edge_country, x_edge_user, x_forwarded_proto""#,
        r#""rule":"drop_underscore_headers","note":"removed x_custom""#,
    ] {
        ensure!(line.contains(needle), "log line lacks {needle}: {line}");
    }
    ensure!(!line.contains("forged"), "a header value reached the log: {line}");
    Ok(())
}

async fn underscore_setting_off_keeps_other_names(w: &World) -> Result<(), String> {
    let mut lax = w.rules.clone();
    lax["settings"]["drop_underscore_headers"] = json!(false);
    w.edge.put_rules(&lax.to_string());
    let mut sent = TWINS.to_vec();
    sent.push(("X_Custom", "kept-custom"));
    let start = Instant::now();
    let body = loop {
        let (status, body, _) = get_raw(w, "/twins-off", &sent).await?;
        ensure!(status == 200, "status {status}: {body}");
        if !underscored(&body).is_empty() {
            break body;
        }
        ensure!(start.elapsed() < Duration::from_secs(10), "x_custom never forwarded with the setting off: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    w.edge.put_rules(&w.rules.to_string());
    ensure!(underscored(&body) == ["x_custom"], "with the setting off only x_custom may pass: {:?}", underscored(&body));
    ensure!(body["facts"]["user"].is_null() && !body["headers"].to_string().contains("forged"), "twin passed: {}", body["headers"]);
    // Back to the default before later checks.
    let start = Instant::now();
    while !underscored(&get_raw(w, "/twins-on", &[("x_custom", "1")]).await?.1).is_empty() {
        ensure!(start.elapsed() < Duration::from_secs(10), "default rules not restored");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Sent around the edge with a valid edge signature, a twin is refused by the SDK.
async fn origin_refuses_underscore_twin(w: &World) -> Result<(), String> {
    let (status, _, body) = w.get("/lax/twin", &[]).await?;
    ensure!(status == 200 && body["origin"] == "lax", "lax route: {status} {body}");
    let (status, text) = w.replay(w.lax_origin_port, &body).await?;
    ensure!(status == 200, "control replay within validity: {status} {text}");
    let mut twin = body.clone();
    twin["headers"]["x_edge_user"] = json!("admin");
    let (status, text) = w.replay(w.lax_origin_port, &twin).await?;
    ensure!(status == 401 && text.contains("ambiguous header `x_edge_user`"), "twin next to a signed request: {status} {text}");
    Ok(())
}

async fn independent_verifier_accepts(w: &World) -> Result<(), String> {
    let (_, _, body) = w.get("/py?check=1", &[]).await?;
    let public = dev_keys().verify.split(':').nth(1).unwrap_or_default().to_string();
    let capture = |headers: Value| {
        json!({
            "method": "GET",
            "url": format!("http://127.0.0.1:{}{}", w.origin_port, path_and_query(&body)),
            "headers": headers,
            "public_key_b64": public,
            "keyid": "dev-2026",
        })
    };
    let run = |input: Value| -> Result<(bool, String), String> {
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/py/verify_capture.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("python3: {e}"))?;
        use std::io::Write;
        child.stdin.take().ok_or("stdin")?.write_all(input.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        Ok((out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))))
    };
    let (ok, out) = run(capture(body["headers"].clone()))?;
    ensure!(ok && out.contains("verified"), "python http-message-signatures refused: {out}");
    let mut tampered = body["headers"].clone();
    tampered["x-edge-country"] = json!("FR");
    let (ok, out) = run(capture(tampered))?;
    ensure!(!ok, "tampered capture verified: {out}");
    Ok(())
}

async fn replays_refused(w: &World) -> Result<(), String> {
    // The origin's nonce cache refuses a second use at once...
    let (_, _, body) = w.get("/replay", &[]).await?;
    let (status, text) = w.replay(w.origin_port, &body).await?;
    ensure!(status == 401 && text.contains("replay"), "immediate replay: {status} {text}");
    // ...and where no cache runs, the signature's expiry does (validity 2 s, skew 1 s).
    let (status, _, body) = w.get("/lax/replay", &[]).await?;
    ensure!(status == 200 && body["origin"] == "lax", "lax route: {status} {body}");
    let (status, text) = w.replay(w.lax_origin_port, &body).await?;
    ensure!(status == 200, "replay within validity (no cache) should pass: {status} {text}");
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let (status, text) = w.replay(w.lax_origin_port, &body).await?;
    ensure!(status == 401 && text.contains("expired"), "replay after expiry: {status} {text}");
    Ok(())
}

async fn filter_rule_blocks(w: &World) -> Result<(), String> {
    let (status, _, body) = w.get("/.env", &[]).await?;
    ensure!(status == 404 && body["rule"] == "no-dotfiles", "/.env: {status} {body}");
    let (status, _, body) = w.get("/admin/users", &[]).await?;
    ensure!(status == 403 && body["rule"] == "admin-only-from-office", "/admin: {status} {body}");
    let (status, _, body) = w.get("/admin/users", &[("CF-Connecting-IP", "203.0.113.9")]).await?;
    ensure!(status == 200, "/admin from the office: {status} {body}");
    Ok(())
}

async fn request_log_line(w: &World) -> Result<(), String> {
    let (_, headers, _) = w.get("/logged?secret=hunter2", &[]).await?;
    let rid = headers.get("x-edge-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lines = w.edge.logs_since(0, &[&rid, "\"msg\":\"request\""]);
    ensure!(lines.len() == 1, "expected one log line for {rid}, got {lines:?}");
    let line = &lines[0];
    ensure!(line.contains("\"phases\"") && line.contains("\"filter\"") && line.contains("\"route\""), "phases missing: {line}");
    ensure!(!line.contains("hunter2"), "query value leaked into the log: {line}");
    Ok(())
}

async fn invalid_rules_keep_last_good(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let mut bad = w.rules.clone();
    bad["phases"]["filter"][0]["when"]["ips"] = json!(["10.0.0.0/99"]);
    bad["phases"]["filter"][1]["action"] = json!("allow"); // would open /admin if applied
    w.edge.put_rules(&bad.to_string());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, _, body) = w.get("/admin/x", &[]).await?;
    ensure!(status == 403, "invalid document was applied: {status} {body}");
    let (status, _, _) = w.get("/hello", &[]).await?;
    ensure!(status == 200, "edge stopped serving: {status}");
    let errors = w.edge.logs_since(mark, &["\"msg\":\"rules_rejected\"", "$.phases.filter[0].when.ips[0]", "last_good"]);
    ensure!(errors.len() == 1, "expected one rules_rejected line naming the path, got {errors:?}");

    // A document over the size cap is refused the same way.
    let mark = w.edge.log_len();
    let mut huge = w.rules.clone();
    huge["padding"] = json!("x".repeat(1_100_000));
    w.edge.put_rules(&huge.to_string());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, _, _) = w.get("/admin/x", &[]).await?;
    ensure!(status == 403, "oversized document: {status}");
    ensure!(!w.edge.logs_since(mark, &["rules_rejected", "limit"]).is_empty(), "oversized document not logged");
    Ok(())
}

async fn new_rules_take_effect(w: &World) -> Result<(), String> {
    let mut next = w.rules.clone();
    next["phases"]["filter"]
        .as_array_mut()
        .ok_or("filter list")?
        .push(json!({"id": "close-hello", "when": {"paths": ["/hello"]}, "action": "block", "params": {"status": 451}}));
    w.edge.put_rules(&next.to_string());
    // TTL is 1 s; allow for wrangler's KV write to land.
    let took = w.eventually("/hello", Duration::from_secs(10), |s, b| s == 451 && b["rule"] == "close-hello").await?;
    println!("    new rules served after {took:?}");
    w.edge.put_rules(&w.rules.to_string());
    w.eventually("/hello", Duration::from_secs(10), |s, _| s == 200).await?;
    Ok(())
}

async fn missing_rules_serve_builtin_default(w: &World) -> Result<(), String> {
    w.edge.delete_rules();
    // The built-in default has no filter rules: /.env reaches the origin.
    w.eventually("/.env", Duration::from_secs(10), |s, b| s == 200 && b["origin"] == "default").await?;
    // Runs last: KV caches a missing key (up to 60 s), so a restore would be slow.
    Ok(())
}

pub async fn run(report: &mut Report) {
    let origin_port = start_origin("app", |v| EdgeAuthLayer::new(v.max_skew(1))).await;
    let lax_origin_port = start_origin("lax", |v| EdgeAuthLayer::new(v.max_skew(1)).without_replay_cache()).await;
    let default_port = start_origin("default", EdgeAuthLayer::new).await;
    let rules = test_rules(origin_port, lax_origin_port);
    let edge = Edge::start(&rules.to_string(), &format!("http://127.0.0.1:{default_port}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    let w = World { edge, http, origin_port, lax_origin_port, rules };

    report.check("forwards_signed_facts", forwards_signed_facts(&w)).await;
    report.check("direct_request_refused", direct_request_refused(&w)).await;
    report.check("forged_trust_headers_replaced", forged_trust_headers_replaced(&w)).await;
    report.check("underscore_twins_never_reach_the_origin", underscore_twins_never_reach_the_origin(&w)).await;
    report.check("underscore_setting_off_keeps_other_names", underscore_setting_off_keeps_other_names(&w)).await;
    report.check("origin_refuses_underscore_twin", origin_refuses_underscore_twin(&w)).await;
    report.check("independent_verifier_accepts", independent_verifier_accepts(&w)).await;
    report.check("replays_refused", replays_refused(&w)).await;
    report.check("filter_rule_blocks", filter_rule_blocks(&w)).await;
    report.check("request_log_line", request_log_line(&w)).await;
    report.check("invalid_rules_keep_last_good", invalid_rules_keep_last_good(&w)).await;
    report.check("new_rules_take_effect", new_rules_take_effect(&w)).await;
    // Last: KV caches a missing key for up to 60 s.
    report.check("missing_rules_serve_builtin_default", missing_rules_serve_builtin_default(&w)).await;
}
