//! Observability and the rules CLI against the real worker: `Server-Timing`,
//! the request log line, and `edge-rules push`/`explain` agreeing with what
//! workerd actually does, and the `isolate_stats` line.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::ensure;
use crate::harness::{repo_root, start_origin, Edge, Report};
use origin_sdk::EdgeAuthLayer;
use serde_json::{json, Value};

struct World {
    edge: Edge,
    http: reqwest::Client,
    rules: Value,
}

const CF: &str = r#"{"country":"DE","asn":3320,"colo":"FRA","continent":"EU","clientAcceptEncoding":""}"#;
const IP: &str = "198.51.100.7";

fn rules(origin_port: u16) -> Value {
    let text = std::fs::read_to_string(repo_root().join("examples/rules/basic.json")).expect("basic.json");
    let mut rules: Value = serde_json::from_str(&text).expect("basic.json is JSON");
    rules["origins"]["app"]["url"] = json!(format!("http://127.0.0.1:{origin_port}"));
    rules["settings"]["rules_ttl_seconds"] = json!(1);
    rules["settings"]["server_timing"] = json!(true);
    rules["settings"]["isolate_stats_every"] = json!(STATS_EVERY);
    rules
}

/// Small, so a handful of requests yields `isolate_stats` lines.
const STATS_EVERY: u64 = 4;

impl World {
    async fn get(&self, path: &str, extra: &[(&str, &str)]) -> Result<(u16, reqwest::header::HeaderMap, Value), String> {
        let mut req = self.http.get(self.edge.url(path)).header("MF-CF-Blob", CF);
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("CF-Connecting-IP")) {
            req = req.header("CF-Connecting-IP", IP);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }
}

fn header(h: &reqwest::header::HeaderMap, name: &str) -> String {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// `edge-rules` from this workspace (built on first use).
fn edge_rules(args: &[&str]) -> std::process::Output {
    Command::new("cargo")
        .args(["run", "-q", "-p", "edge-rules", "--"])
        .args(args)
        .current_dir(repo_root())
        .env("WRANGLER_SEND_METRICS", "false")
        .output()
        .expect("run edge-rules")
}

async fn server_timing_names_the_deciding_rules(w: &World) -> Result<(), String> {
    let (status, h, _) = w.get("/.env", &[]).await?;
    let timing = header(&h, "server-timing");
    ensure!(
        status == 404 && timing.starts_with(r#"edge;desc="FRA", filter;desc="block no-dotfiles""#) && !timing.contains("route"),
        "/.env: {status} server-timing {timing:?}"
    );
    let (status, h, _) = w.get("/hello", &[]).await?;
    let timing = header(&h, "server-timing");
    ensure!(status == 200, "/hello: {status}");
    ensure!(timing.contains(r#"route;desc="default""#) && timing.contains(r#"respond;desc="headers security-headers""#), "/hello server-timing {timing:?}");
    Ok(())
}

async fn request_log_line_fields(w: &World) -> Result<(), String> {
    let (_, h, _) = w.get("/cart?session=s3cr3t", &[("Cookie", "sid=c00kie"), ("Authorization", "Bearer t0ken")]).await?;
    let rid = header(&h, "x-edge-request-id");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lines = w.edge.logs_since(0, &[&rid, "\"msg\":\"request\""]);
    ensure!(lines.len() == 1, "expected one log line for {rid}, got {lines:?}");
    let line = &lines[0];
    let start = line.find('{').ok_or("no JSON in log line")?;
    let v: Value = serde_json::from_str(line[start..].trim_end_matches(|c| c != '}')).map_err(|e| format!("{e}: {line}"))?;
    for key in ["time_ms", "request_id", "colo", "country", "method", "host", "path", "phases", "status", "origin", "cache_status", "duration_ms"] {
        ensure!(v.get(key).is_some(), "{key} missing: {line}");
    }
    ensure!(v["colo"] == "FRA" && v["country"] == "DE" && v["path"] == "/cart" && v["origin"] == "app" && v["status"] == 200, "{line}");
    for secret in ["s3cr3t", "c00kie", "t0ken"] {
        ensure!(!line.contains(secret), "{secret} leaked: {line}");
    }
    Ok(())
}

/// Pushes with the CLI into the KV the worker reads, then checks that
/// `explain` predicts what the worker answers, request by request.
async fn cli_push_and_explain_match_the_edge(w: &World) -> Result<(), String> {
    let mut next = w.rules.clone();
    next["phases"]["filter"]
        .as_array_mut()
        .ok_or("filter list")?
        .push(json!({ "id": "legal-hold", "when": { "paths": ["/hold/*"], "countries": ["DE"] }, "action": "block", "params": { "status": 451 } }));
    let file = w.edge.persist.with_extension("cli-rules.json");
    std::fs::write(&file, next.to_string()).map_err(|e| e.to_string())?;
    let file = file.to_str().ok_or("path")?;
    let persist = w.edge.persist.to_str().ok_or("path")?;

    let mut invalid = next.clone();
    invalid["phases"]["filter"][0]["params"]["status"] = json!(200);
    let bad = w.edge.persist.with_extension("cli-bad.json");
    std::fs::write(&bad, invalid.to_string()).map_err(|e| e.to_string())?;
    let o = edge_rules(&["push", bad.to_str().ok_or("path")?, "--local", "--persist-to", persist]);
    ensure!(o.status.code() == Some(1), "invalid push: {o:?}");

    let o = edge_rules(&["push", file, "--local", "--persist-to", persist]);
    ensure!(o.status.success(), "push failed: {}", String::from_utf8_lossy(&o.stderr));
    let start = Instant::now();
    loop {
        let (status, _, _) = w.get("/hold/x", &[]).await?;
        if status == 451 {
            break;
        }
        ensure!(start.elapsed() < Duration::from_secs(10), "pushed rules not served: /hold/x is {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, _, _) = w.get("/.env", &[]).await?;
    ensure!(status == 404, "the invalid document must not have been applied: /.env {status}");

    for (path, ip) in [("/hold/x", IP), ("/.env", IP), ("/admin/users", IP), ("/admin/users", "203.0.113.9"), ("/hello?a=1", IP)] {
        let (status, _, body) = w.get(path, &[("CF-Connecting-IP", ip)]).await?;
        let url = w.edge.url(path);
        let o = edge_rules(&["explain", file, "--json", "--request", &format!("GET {url}"), "--ip", ip, "--cf", CF]);
        let e: Value = serde_json::from_slice(&o.stdout).map_err(|e| format!("explain output: {e}: {o:?}"))?;
        let d = &e["decision"];
        match d["type"].as_str() {
            Some("respond") => ensure!(
                d["status"] == status && d["rule"] == body["rule"],
                "{path} from {ip}: explain says {d}, the edge answered {status} {body}"
            ),
            _ => ensure!(status == 200 && body["origin"] == d["origin"], "{path} from {ip}: explain says {d}, the edge answered {status} {body}"),
        }
    }
    Ok(())
}

pub async fn run(report: &mut Report) {
    let origin_port = start_origin("app", EdgeAuthLayer::new).await;
    let rules = rules(origin_port);
    let edge = Edge::start(&rules.to_string(), &format!("http://127.0.0.1:{origin_port}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    let w = World { edge, http, rules };
    report.check("server_timing_names_the_deciding_rules", server_timing_names_the_deciding_rules(&w)).await;
    report.check("request_log_line_fields", request_log_line_fields(&w)).await;
    report.check("cli_push_and_explain_match_the_edge", cli_push_and_explain_match_the_edge(&w)).await;
    report.check("analytics_binding_bound_and_harmless", analytics_binding_bound_and_harmless(&w)).await;
    report.check("isolate_stats_every_nth_request", isolate_stats_every_nth_request(&w)).await;
}

/// Every `isolate_stats_every`-th request of the isolate logs its wasm heap
/// (whole 64 KiB pages, never shrinking) and cache sizes.
async fn isolate_stats_every_nth_request(w: &World) -> Result<(), String> {
    let from = w.edge.log_len();
    for _ in 0..3 * STATS_EVERY {
        let (status, _, _) = w.get("/hello", &[]).await?;
        ensure!(status == 200, "/hello: {status}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lines: Vec<Value> = w
        .edge
        .logs()
        .into_iter()
        .skip(from)
        .filter(|l| l.contains("\"msg\":\"isolate_stats\""))
        .filter_map(|l| l.find('{').and_then(|i| serde_json::from_str(&l[i..]).ok()))
        .collect();
    ensure!(lines.len() >= 2, "expected at least 2 isolate_stats lines for {} requests, got {lines:?}", 3 * STATS_EVERY);
    for (a, b) in lines.iter().zip(lines.iter().skip(1)) {
        let (ra, rb) = (a["requests"].as_u64().unwrap_or(0), b["requests"].as_u64().unwrap_or(0));
        ensure!(ra % STATS_EVERY == 0 && rb == ra + STATS_EVERY, "request counts {ra} then {rb}");
        let (ha, hb) = (a["wasm_heap_bytes"].as_u64().unwrap_or(0), b["wasm_heap_bytes"].as_u64().unwrap_or(0));
        ensure!(ha > 0 && ha % 65_536 == 0 && hb >= ha, "wasm heap {ha} then {hb}");
        for key in ["limit_keys", "refused_keys", "jwks_urls", "agent_directories", "uptime_s"] {
            ensure!(b[key].is_u64(), "{key} missing: {b}");
        }
    }
    Ok(())
}

/// wrangler.toml binds `ANALYTICS` (locally: workerd's no-op simulator); every
/// request above wrote a data point, and edge answers and forwards still work
/// with it, without an error logged.
async fn analytics_binding_bound_and_harmless(w: &World) -> Result<(), String> {
    ensure!(
        w.edge.logs().iter().any(|l| l.contains("env.ANALYTICS") && l.contains("edge_requests")),
        "wrangler did not list the ANALYTICS binding"
    );
    let from = w.edge.log_len();
    let (status, _, _) = w.get("/hello", &[]).await?;
    ensure!(status == 200, "/hello with analytics: {status}");
    let (status, _, _) = w.get("/.env", &[]).await?;
    ensure!(status == 404, "/.env with analytics: {status}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let errors: Vec<String> = w.edge.logs().into_iter().skip(from).filter(|l| l.to_lowercase().contains("analytics") || l.contains("✘")).collect();
    ensure!(errors.is_empty(), "analytics errors logged: {errors:?}");
    Ok(())
}
