//! The firewall at the edge: first-match rules, size limits, attack signatures
//! on query, headers and bodies, bot rules with the verdict reaching the origin,
//! and the proof-of-work challenge with its clearance cookie.

use std::io::{Read, Write};
use std::time::Duration;

use axum::extract::Request;
use origin_sdk::{EdgeAuthLayer, KeySet, VerifiedFacts, Verifier};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::ensure;
use crate::harness::{dev_keys, Edge, Report};

const CHALLENGE_KEY: &str = "e2e-challenge-key-not-for-production";
const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const IP: &str = "198.51.100.7";

struct World {
    edge: Edge,
    http: reqwest::Client,
}

/// An origin that verifies the edge's signature and echoes what arrived,
/// including a digest of the body.
async fn start_echo_origin() -> u16 {
    let keys = KeySet::from_spec(&dev_keys().verify).expect("dev verify keys");
    let app = axum::Router::new()
        .fallback(|facts: VerifiedFacts, req: Request| async move {
            let method = req.method().to_string();
            let path = req.uri().path().to_string();
            let bytes = axum::body::to_bytes(req.into_body(), 64 << 20).await.unwrap_or_default();
            axum::Json(json!({
                "origin": "app",
                "method": method,
                "path": path,
                "facts": facts,
                "body_len": bytes.len(),
                "body_sha256": hex(&Sha256::digest(&bytes)),
            }))
        })
        .layer(EdgeAuthLayer::new(Verifier::new(keys)));
    crate::harness::serve(app).await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rules(origin_port: u16) -> Value {
    json!({
        "version": 1,
        "settings": { "default_origin": "app", "rules_ttl_seconds": 1 },
        "origins": { "app": { "url": format!("http://127.0.0.1:{origin_port}") } },
        "phases": { "filter": [
            { "id": "office", "when": { "ips": ["203.0.113.0/24"] }, "action": "allow" },
            { "id": "sizes", "action": "limits",
              "params": { "max_body_bytes": 65536, "max_url_bytes": 2048, "max_headers": 40, "max_header_bytes": 16384 } },
            { "id": "methods", "when": { "methods": ["!GET", "!HEAD", "!POST", "!OPTIONS"] },
              "action": "block", "params": { "status": 405, "message": "Method not allowed" } },
            { "id": "shadow-admin", "when": { "paths": ["/admin/*"] }, "action": "block", "mode": "log" },
            { "id": "watch", "when": { "paths": ["/admin/*"] }, "action": "log" },
            { "id": "no-dotfiles", "when": { "paths": ["/.env", "/.git/*"] }, "action": "block",
              "params": { "status": 404, "message": "Not found" } },
            { "id": "scanners", "when": { "bot_classes": ["scanner"] }, "action": "block" },
            { "id": "good-bots", "when": { "bot_classes": ["search_engine"], "bot_verified": true }, "action": "allow" },
            { "id": "no-tools", "when": { "paths": ["/bots/*"], "bot_classes": ["http_library", "empty", "unknown"] },
              "action": "block", "params": { "message": "Automated clients are not allowed here" } },
            { "id": "low-score", "when": { "paths": ["/bots/*"], "bot_score_below": 20 }, "action": "block" },
            { "id": "pow-default", "when": { "paths": ["/default-pow/*"] }, "action": "challenge" },
            { "id": "pow", "when": { "paths": ["/protected/*"] }, "action": "challenge",
              "params": { "difficulty": 12, "ttl_seconds": 600 } },
            { "id": "prompts", "when": { "paths": ["/v1/*"] }, "action": "waf",
              "params": { "profile": "prompt_api", "body_limit_bytes": 4096, "on_oversize": "block" } },
            { "id": "crs", "when": { "paths": ["!/v1/*"] }, "action": "waf", "params": { "paranoia": 1, "body_limit_bytes": 1024 } }
        ] }
    })
}

fn cf_blob(extra: Value) -> String {
    let mut cf = json!({ "country": "DE", "asn": 3320, "colo": "FRA", "clientAcceptEncoding": "" });
    if let (Some(o), Some(e)) = (cf.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    cf.to_string()
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    json: Value,
}

impl World {
    /// A browser-like request; `extra` overrides defaults of the same name.
    async fn send(&self, method: &str, path: &str, extra: &[(&str, &str)], body: Option<Vec<u8>>) -> Result<Reply, String> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = self.http.request(m, self.edge.url(path));
        let cf = cf_blob(json!({}));
        let defaults = [
            ("MF-CF-Blob", cf.as_str()),
            ("CF-Connecting-IP", IP),
            ("User-Agent", CHROME),
            ("Accept", "application/json"),
            ("Accept-Language", "en"),
            ("Accept-Encoding", "identity"),
        ];
        for (k, v) in defaults {
            if !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)) {
                req = req.header(k, v);
            }
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply { status, headers, text, json })
    }

    async fn get(&self, path: &str, extra: &[(&str, &str)]) -> Result<Reply, String> {
        self.send("GET", path, extra, None).await
    }

    /// A POST whose body is sent chunked (no Content-Length), over a raw socket.
    async fn post_chunked(&self, path: &str, chunks: Vec<Vec<u8>>) -> Result<(u16, String), String> {
        let port = self.edge.port;
        let cf = cf_blob(json!({}));
        let path = path.to_string();
        tokio::task::spawn_blocking(move || {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {CHROME}\r\nAccept: application/json\r\n\
                 Accept-Language: en\r\nAccept-Encoding: identity\r\nCF-Connecting-IP: {IP}\r\nMF-CF-Blob: {cf}\r\n\
                 Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
            for c in &chunks {
                // The edge may answer (and close) before all chunks are sent.
                if s.write_all(format!("{:x}\r\n", c.len()).as_bytes()).and_then(|_| s.write_all(c)).and_then(|_| s.write_all(b"\r\n")).is_err() {
                    break;
                }
            }
            let _ = s.write_all(b"0\r\n\r\n");
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            let text = String::from_utf8_lossy(&out).into_owned();
            let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or(format!("no status in {text:?}"))?;
            Ok((status, text))
        })
        .await
        .map_err(|e| e.to_string())?
    }
}

async fn firewall_actions(w: &World) -> Result<(), String> {
    let r = w.get("/.env", &[]).await?;
    ensure!(r.status == 404 && r.json["rule"] == "no-dotfiles", "/.env JSON: {} {}", r.status, r.text);
    let r = w.get("/.env", &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")]).await?;
    let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    ensure!(r.status == 404 && ct.starts_with("text/html") && r.text.contains("no-dotfiles"), "/.env HTML: {} {ct} {}", r.status, r.text);
    // allow: the office skips every later rule.
    let r = w.get("/.env", &[("CF-Connecting-IP", "203.0.113.9")]).await?;
    ensure!(r.status == 200 && r.json["origin"] == "app", "office allow: {} {}", r.status, r.text);
    // Method allow-list.
    let r = w.send("DELETE", "/items/1", &[], None).await?;
    ensure!(r.status == 405 && r.json["rule"] == "methods", "DELETE: {} {}", r.status, r.text);
    // A rule in log mode records and lets the request through.
    let mark = w.edge.log_len();
    let r = w.get("/admin/panel", &[]).await?;
    ensure!(r.status == 200, "shadow rule enforced: {} {}", r.status, r.text);
    let rid = r.headers.get("x-edge-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lines = w.edge.logs_since(mark, &[&rid, "shadow-admin", "log only", "\"rule\":\"watch\""]);
    ensure!(lines.len() == 1, "log-mode and log-action matches not in the request log: {:?}", w.edge.logs_since(mark, &[&rid]));
    Ok(())
}

async fn size_limits(w: &World) -> Result<(), String> {
    let r = w.send("POST", "/upload", &[("Content-Type", "application/octet-stream")], Some(vec![b'a'; 70_000])).await?;
    ensure!(r.status == 413 && r.json["rule"] == "sizes", "declared body: {} {}", r.status, r.text);
    let long = format!("/x?{}", "a=1&".repeat(600));
    let r = w.get(&long, &[]).await?;
    ensure!(r.status == 414, "long URL: {} {}", r.status, r.text);
    let names: Vec<String> = (0..45).map(|i| format!("x-h{i}")).collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let r = w.get("/x", &many).await?;
    ensure!(r.status == 431, "many headers: {} {}", r.status, r.text);
    // Streamed without Content-Length: counted while forwarded.
    let (status, text) = w.post_chunked("/upload", vec![vec![b'b'; 30_000]; 3]).await?;
    ensure!(status == 413, "streamed body over the limit: {status} {}", text.rsplit("\r\n\r\n").next().unwrap_or(""));
    let (status, text) = w.post_chunked("/upload", vec![vec![b'c'; 10_000]; 2]).await?;
    ensure!(status == 200 && text.contains("\"body_len\":20000"), "streamed body under the limit: {status} {text}");
    Ok(())
}

async fn waf_blocks_attacks(w: &World) -> Result<(), String> {
    let r = w.get("/item?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", &[]).await?;
    ensure!(r.status == 403 && r.json["rule"] == "crs", "SQLi in query: {} {}", r.status, r.text);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = w.send("POST", "/login", &form, Some(b"user=admin%27%20OR%201%3D1--&pass=x".to_vec())).await?;
    ensure!(r.status == 403 && r.json["rule"] == "crs", "SQLi in form body: {} {}", r.status, r.text);
    let r = w
        .send("POST", "/api/search", &[("Content-Type", "application/json")], Some(br#"{"q":"1' UNION SELECT password FROM users--"}"#.to_vec()))
        .await?;
    ensure!(r.status == 403, "SQLi in JSON body: {} {}", r.status, r.text);
    let r = w.get("/", &[("Referer", "1' UNION SELECT password FROM users--")]).await?;
    ensure!(r.status == 403 && r.json["rule"] == "crs", "SQLi in header: {} {}", r.status, r.text);
    // Benign text with SQL words passes, and the whole body reaches the origin
    // although the WAF read only its first 1024 bytes.
    let r = w.get("/search?q=select+the+union+of+two+sets+from+my+notes", &[]).await?;
    ensure!(r.status == 200, "benign query blocked: {} {}", r.status, r.text);
    let mut body = b"comment=I+select+the+best+union+reps+and+drop+by+the+table+tennis+club".to_vec();
    body.extend(std::iter::repeat_n(b'z', 20_000));
    let r = w.send("POST", "/comments", &form, Some(body.clone())).await?;
    ensure!(r.status == 200, "benign body blocked: {} {}", r.status, r.text);
    ensure!(
        r.json["body_len"] == body.len() && r.json["body_sha256"] == hex(&Sha256::digest(&body)),
        "origin got a different body: {}",
        r.text
    );
    Ok(())
}

/// A prompt API in enforce mode: prose that quotes shell and SQL passes, a
/// structured field with SQL does not, and a body beyond the inspected head is
/// refused whether declared or streamed. A mobile User-Agent saying `Touch` passes.
async fn prompt_api_profile(w: &World) -> Result<(), String> {
    let json = [("Content-Type", "application/json")];
    let prompt = "I want you to act as a Linux terminal and a SQL console. I will type commands such as `cat /etc/passwd; ls -la /tmp` or 'SELECT * FROM users WHERE id = 1 OR 1=1' and you will reply with what the terminal would show, nothing else.";
    let body = serde_json::to_vec(&json!({ "model": "m-large", "prompt": prompt })).map_err(|e| e.to_string())?;
    let r = w.send("POST", "/v1/chat", &json, Some(body.clone())).await?;
    ensure!(r.status == 200 && r.json["body_len"] == body.len(), "prompt blocked or cut: {} {}", r.status, r.text);
    let r = w.send("POST", "/api/chat", &json, Some(body)).await?;
    ensure!(r.status == 403 && r.json["rule"] == "crs", "the default profile reads the prompt as code: {} {}", r.status, r.text);
    let bad = serde_json::to_vec(&json!({ "model": "m' OR 1=1--", "prompt": "hello" })).map_err(|e| e.to_string())?;
    let r = w.send("POST", "/v1/chat", &json, Some(bad)).await?;
    ensure!(r.status == 403 && r.json["rule"] == "prompts", "SQLi in a structured field: {} {}", r.status, r.text);
    let big = serde_json::to_vec(&json!({ "prompt": "word ".repeat(1000) })).map_err(|e| e.to_string())?;
    let r = w.send("POST", "/v1/chat", &json, Some(big)).await?;
    ensure!(r.status == 413 && r.json["rule"] == "prompts", "declared oversized body: {} {}", r.status, r.text);
    let (status, text) = w.post_chunked("/v1/chat", vec![vec![b'a'; 2000]; 3]).await?;
    ensure!(status == 413 && text.contains("\"rule\":\"prompts\""), "streamed oversized body: {status} {text}");
    let (status, text) = w.post_chunked("/v1/chat", vec![vec![b'a'; 2048]; 2]).await?;
    ensure!(status == 200 && text.contains("\"body_len\":4096"), "streamed body at the limit: {status} {text}");
    let touch = "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0; NOKIA; Lumia 920) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537";
    let r = w.get("/", &[("User-Agent", touch)]).await?;
    ensure!(r.status == 200, "mobile User-Agent with Touch blocked: {} {}", r.status, r.text);
    Ok(())
}

async fn bot_rules(w: &World) -> Result<(), String> {
    let r = w.get("/bots/feed", &[]).await?;
    ensure!(r.status == 200, "browser on /bots: {} {}", r.status, r.text);
    ensure!(r.json["facts"]["bot_class"] == "browser", "class at origin: {}", r.json["facts"]);
    ensure!(r.json["facts"]["bot_score"].as_u64().is_some_and(|s| s >= 80), "score at origin: {}", r.json["facts"]);
    let r = w.get("/bots/feed", &[("User-Agent", "curl/8.5.0")]).await?;
    ensure!(r.status == 403 && r.json["rule"] == "no-tools", "curl on /bots: {} {}", r.status, r.text);
    let r = w.get("/elsewhere", &[("User-Agent", "curl/8.5.0")]).await?;
    ensure!(r.status == 200 && r.json["facts"]["bot_class"] == "http_library", "curl elsewhere: {} {}", r.status, r.text);
    ensure!(r.json["facts"]["bot_score"] == 1, "curl score at origin: {}", r.json["facts"]);
    let r = w.get("/", &[("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)")]).await?;
    ensure!(r.status == 403 && r.json["rule"] == "scanners", "sqlmap: {} {}", r.status, r.text);
    // Googlebot: an impostor is a low-score bot; a verified one is allowed.
    let google = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    let r = w.get("/bots/feed", &[("User-Agent", google)]).await?;
    ensure!(r.status == 403 && r.json["rule"] == "low-score", "unverified Googlebot: {} {}", r.status, r.text);
    let verified = cf_blob(json!({ "botManagement": { "score": 1, "verifiedBot": true } }));
    let r = w.get("/bots/feed", &[("User-Agent", google), ("MF-CF-Blob", &verified)]).await?;
    ensure!(r.status == 200 && r.json["facts"]["bot_class"] == "search_engine", "verified Googlebot: {} {}", r.status, r.text);
    // Cloudflare's score lowers a browser's.
    let low = cf_blob(json!({ "botManagement": { "score": 5, "verifiedBot": false } }));
    let r = w.get("/bots/feed", &[("MF-CF-Blob", &low)]).await?;
    ensure!(r.status == 403 && r.json["rule"] == "low-score", "cf score 5: {} {}", r.status, r.text);
    Ok(())
}

/// Finds n with SHA-256("{token}:{n}") starting with `bits` zero bits.
fn solve(token: &str, bits: u32) -> u64 {
    (0u64..).find(|n| solves(token, *n, bits)).unwrap_or(0)
}

fn solves(token: &str, n: u64, bits: u32) -> bool {
    let h = Sha256::digest(format!("{token}:{n}").as_bytes());
    let mut zeros = 0;
    for b in h.iter() {
        zeros += b.leading_zeros();
        if *b != 0 {
            break;
        }
    }
    zeros >= bits
}

fn quoted_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    text.split(marker).nth(1)?.split('"').next()
}

async fn challenge_round_trip(w: &World) -> Result<(), String> {
    let html = [("Accept", "text/html")];
    let r = w.get("/protected/page?x=1", &html).await?;
    ensure!(r.status == 403 && r.headers.get("x-edge-challenge").is_some(), "no challenge: {} {}", r.status, r.text);
    let token = quoted_after(&r.text, "T=\"").ok_or("no token in page")?.to_string();
    let bits: u32 = r.text.split("D=").nth(1).and_then(|s| s.split(',').next()).and_then(|s| s.parse().ok()).ok_or("no difficulty")?;
    ensure!(bits == 12, "difficulty {bits}");
    let answer = solve(&token, bits);

    // A wrong answer is refused.
    let wrong = (0u64..).find(|n| !solves(&token, *n, bits)).unwrap_or(0);
    let r = w.get(&format!("/__edge/challenge?token={token}&answer={wrong}&return=%2Fprotected%2Fpage%3Fx%3D1"), &html).await?;
    ensure!(r.status == 403 && r.headers.get("set-cookie").is_none(), "wrong answer accepted: {} {}", r.status, r.text);

    let r = w.get(&format!("/__edge/challenge?token={token}&answer={answer}&return=%2Fprotected%2Fpage%3Fx%3D1"), &html).await?;
    ensure!(r.status == 303, "verify: {} {}", r.status, r.text);
    let location = r.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
    ensure!(location == "/protected/page?x=1", "location {location}");
    let set_cookie = r.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    ensure!(set_cookie.starts_with("edge_clearance=") && set_cookie.contains("HttpOnly"), "set-cookie {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_string();

    let r = w.get("/protected/page?x=1", &[("Cookie", &cookie)]).await?;
    ensure!(r.status == 200 && r.json["origin"] == "app", "with clearance: {} {}", r.status, r.text);
    // The cookie is bound to the client: another IP or UA is challenged again.
    let r = w.get("/protected/page", &[("Cookie", &cookie), ("CF-Connecting-IP", "198.51.100.8")]).await?;
    ensure!(r.status == 403 && r.headers.get("x-edge-challenge").is_some(), "cookie from another IP: {}", r.status);
    let r = w.get("/protected/page", &[("Cookie", &cookie), ("User-Agent", "Mozilla/5.0 (Windows NT 10.0) Firefox/125.0")]).await?;
    ensure!(r.status == 403, "cookie with another UA: {}", r.status);
    Ok(())
}

async fn forged_and_expired_clearance_refused(w: &World) -> Result<(), String> {
    let me = edge::challenge::Client { ip: IP, user_agent: CHROME };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs();
    let forged = edge::challenge::clearance(b"some-other-key-of-the-attacker", me, now + 3600);
    let expired = edge::challenge::clearance(CHALLENGE_KEY.as_bytes(), me, now - 10);
    let valid = edge::challenge::clearance(CHALLENGE_KEY.as_bytes(), me, now + 3600);
    for (what, value, want) in [("forged", forged.as_str(), 403), ("expired", expired.as_str(), 403), ("garbage", "123.AAAA", 403), ("valid", valid.as_str(), 200)] {
        let cookie = format!("edge_clearance={value}");
        let r = w.get("/protected/x", &[("Cookie", &cookie)]).await?;
        ensure!(r.status == want, "{what} cookie: {} {}", r.status, r.text);
    }
    Ok(())
}

/// Real headless Chromium (Debian's `chromium`, installed by `scripts/setup.sh`)
/// meets the challenge, solves it with the page's own script, and lands on the
/// origin's content.
/// At the default difficulty (16 bits), as people meet it; prints the time.
async fn browser_solves_challenge(w: &World) -> Result<(), String> {
    let started = std::time::Instant::now();
    let out = crate::browser::dump_dom(&w.edge.url("/default-pow/browser?from=chromium"), &w.edge.port.to_string()).await?;
    println!("    chromium solved the default (16-bit) challenge and reached the origin in {:?}", started.elapsed());
    ensure!(
        out.dom.contains("\"origin\":\"app\"") && out.dom.contains("/default-pow/browser"),
        "chromium did not reach the origin (exit {:?}): {}\nstderr: {}",
        out.exit,
        out.dom.chars().take(600).collect::<String>(),
        out.stderr.chars().take(600).collect::<String>()
    );
    Ok(())
}

pub async fn run(report: &mut Report) {
    let origin_port = start_echo_origin().await;
    let rules = rules(origin_port);
    let edge = Edge::start_with_secrets(&rules.to_string(), &format!("http://127.0.0.1:{origin_port}"), &[("EDGE_CHALLENGE_KEY", CHALLENGE_KEY)]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let w = World { edge, http };

    report.check("waf::firewall_actions", firewall_actions(&w)).await;
    report.check("waf::size_limits", size_limits(&w)).await;
    report.check("waf::waf_blocks_attacks", waf_blocks_attacks(&w)).await;
    report.check("waf::prompt_api_profile", prompt_api_profile(&w)).await;
    report.check("waf::bot_rules", bot_rules(&w)).await;
    report.check("waf::challenge_round_trip", challenge_round_trip(&w)).await;
    report.check("waf::forged_and_expired_clearance_refused", forged_and_expired_clearance_refused(&w)).await;
    report.check("waf::browser_solves_challenge", browser_solves_challenge(&w)).await;
}
