//! Rate limiting under workerd: GCRA in a Durable Object per key (`global`),
//! the in-isolate store and the Rate Limiting binding (`local`), shadow mode,
//! exemptions, response fields and store failures.

use std::time::Duration;

use crate::ensure;
use crate::harness::{start_origin, Edge, Report};
use origin_sdk::EdgeAuthLayer;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

struct World {
    edge: Edge,
    http: reqwest::Client,
}

fn rules(origin_port: u16) -> Value {
    let rule = |id: &str, paths: Value, params: Value| json!({ "id": id, "when": { "paths": paths }, "action": "block", "params": params });
    json!({
        "version": 1,
        "settings": { "default_origin": "app", "rules_ttl_seconds": 30 },
        "origins": { "app": { "url": format!("http://127.0.0.1:{origin_port}") } },
        "phases": { "limit": [
            rule("burst", json!(["/burst/*"]), json!({ "key": ["ip"], "rate": 1, "period": 2, "burst": 4, "exempt": ["/burst/health"] })),
            rule("api-key", json!(["/keyed/*"]), json!({ "key": ["header:x-api-key"], "rate": 1, "period": 60, "burst": 2 })),
            rule("concurrent", json!(["/conc/*"]), json!({ "key": ["ip"], "rate": 50, "period": 3600, "burst": 49 })),
            rule("isolate", json!(["/local/*"]), json!({ "key": ["ip"], "rate": 1, "period": 60, "burst": 2, "store": "local" })),
            rule("binding", json!(["/binding/*"]), json!({ "key": ["ip"], "rate": 100, "period": 60, "store": "local", "binding": "RATE_LIMITER" })),
            rule("broken-open", json!(["/broken-open/*"]), json!({ "key": ["ip"], "rate": 1, "period": 60, "store": "local", "binding": "NO_SUCH_BINDING" })),
            { "id": "broken-closed", "when": { "paths": ["/broken-closed/*"] }, "action": "block", "on_error": "closed",
              "params": { "key": ["ip"], "rate": 1, "period": 60, "store": "local", "binding": "NO_SUCH_BINDING" } },
            { "id": "shadow", "when": { "paths": ["/shadow/*"] }, "action": "log",
              "params": { "key": ["ip"], "rate": 1, "period": 60 } }
        ] }
    })
}

impl World {
    async fn get(&self, path: &str, ip: &str, extra: &[(&str, &str)]) -> Result<(u16, HeaderMap), String> {
        let cf = json!({ "country": "DE", "asn": 3320, "colo": "FRA", "clientAcceptEncoding": "" }).to_string();
        let mut req = self.http.get(self.edge.url(path)).header("MF-CF-Blob", cf).header("CF-Connecting-IP", ip);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let _ = resp.bytes().await;
        Ok((status, headers))
    }

    async fn statuses(&self, path: &str, ip: &str, extra: &[(&str, &str)], n: usize) -> Result<Vec<u16>, String> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.get(path, ip, extra).await?.0);
        }
        Ok(out)
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn burst_then_429_then_recovers(w: &World) -> Result<(), String> {
    let ip = "198.51.100.10";
    let (status, h) = w.get("/burst/a", ip, &[]).await?;
    ensure!(status == 200, "first request {status}");
    ensure!(header(&h, "ratelimit-policy") == "\"burst\";q=5;w=10", "policy: {h:?}");
    ensure!(header(&h, "ratelimit") == "\"burst\";r=4;t=2", "ratelimit: {h:?}");
    let rest = w.statuses("/burst/a", ip, &[], 4).await?;
    ensure!(rest == [200; 4], "the allowance of 5: {rest:?}");
    let (status, h) = w.get("/burst/a", ip, &[]).await?;
    ensure!(status == 429, "sixth request {status}");
    let retry: u64 = header(&h, "retry-after").parse().map_err(|_| format!("Retry-After: {h:?}"))?;
    ensure!((1..=2).contains(&retry), "Retry-After {retry}");
    ensure!(header(&h, "ratelimit").starts_with("\"burst\";r=0"), "limited ratelimit: {h:?}");
    ensure!(header(&h, "ratelimit-policy") == "\"burst\";q=5;w=10", "policy on 429: {h:?}");
    tokio::time::sleep(Duration::from_millis(retry * 1000 + 200)).await;
    let after = w.statuses("/burst/a", ip, &[], 2).await?;
    ensure!(after == [200, 429], "after Retry-After exactly one cell: {after:?}");
    Ok(())
}

async fn keys_are_isolated(w: &World) -> Result<(), String> {
    let a = w.statuses("/burst/b", "198.51.100.20", &[], 6).await?;
    let b = w.statuses("/burst/b", "198.51.100.21", &[], 6).await?;
    ensure!(a == [200, 200, 200, 200, 200, 429] && a == b, "per-IP budgets: {a:?} {b:?}");
    // Burst 2: three back to back per API key.
    let k1 = w.statuses("/keyed/x", "198.51.100.22", &[("x-api-key", "key-one")], 4).await?;
    let k2 = w.statuses("/keyed/x", "198.51.100.22", &[("x-api-key", "key-two")], 4).await?;
    ensure!(k1 == [200, 200, 200, 429] && k2 == k1, "per-key budgets on one IP: {k1:?} {k2:?}");
    Ok(())
}

async fn health_is_exempt(w: &World) -> Result<(), String> {
    let ip = "198.51.100.30";
    let _ = w.statuses("/burst/c", ip, &[], 6).await?;
    let (limited, _) = w.get("/burst/c", ip, &[]).await?;
    ensure!(limited == 429, "ip should be limited: {limited}");
    for _ in 0..15 {
        let (status, h) = w.get("/burst/health", ip, &[]).await?;
        ensure!(status == 200 && h.get("ratelimit").is_none(), "health: {status} {h:?}");
    }
    Ok(())
}

async fn global_admits_exactly_the_limit_under_concurrency(w: &World) -> Result<(), String> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..200 {
        let http = w.http.clone();
        let url = w.edge.url(&format!("/conc/{i}"));
        set.spawn(async move {
            let cf = json!({ "colo": "FRA", "clientAcceptEncoding": "" }).to_string();
            let resp = http.get(url).header("MF-CF-Blob", cf).header("CF-Connecting-IP", "198.51.100.40").send().await;
            resp.map(|r| r.status().as_u16()).map_err(|e| e.to_string())
        });
    }
    let (mut ok, mut limited, mut other) = (0, 0, Vec::new());
    while let Some(r) = set.join_next().await {
        match r.map_err(|e| e.to_string())? {
            Ok(200) => ok += 1,
            Ok(429) => limited += 1,
            s => other.push(s),
        }
    }
    println!("    200 concurrent against 50: {ok} admitted, {limited} limited");
    ensure!(other.is_empty(), "unexpected answers: {other:?}");
    ensure!(ok == 50 && limited == 150, "admitted {ok}, limited {limited}");
    Ok(())
}

async fn local_isolate_store_limits(w: &World) -> Result<(), String> {
    let s = w.statuses("/local/x", "198.51.100.50", &[], 4).await?;
    ensure!(s == [200, 200, 200, 429], "in-isolate GCRA: {s:?}");
    Ok(())
}

async fn rate_limiting_binding_limits(w: &World) -> Result<(), String> {
    // Local dev counts in wall-clock-aligned windows: start well inside one.
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?.as_millis() % 60_000;
    if secs > 40_000 {
        tokio::time::sleep(Duration::from_millis(60_500 - secs as u64)).await;
    }
    let s = w.statuses("/binding/x", "198.51.100.60", &[], 101).await?;
    let ok = s.iter().filter(|&&c| c == 200).count();
    ensure!(ok == 100 && s.last() == Some(&429), "binding (100 per 60 s): {ok} admitted, last {:?}", s.last());
    let (_, h) = w.get("/binding/x", "198.51.100.60", &[]).await?;
    ensure!(header(&h, "retry-after") == "60" && header(&h, "ratelimit-policy") == "\"binding\";q=100;w=60", "{h:?}");
    Ok(())
}

async fn store_errors_follow_on_error(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let open = w.statuses("/broken-open/x", "198.51.100.70", &[], 3).await?;
    ensure!(open == [200; 3], "on_error open: {open:?}");
    let closed = w.statuses("/broken-closed/x", "198.51.100.70", &[], 1).await?;
    ensure!(closed == [503], "on_error closed: {closed:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    ensure!(!w.edge.logs_since(mark, &["limit_store_error", "NO_SUCH_BINDING"]).is_empty(), "store error not logged");
    ensure!(!w.edge.logs_since(mark, &["\"msg\":\"request\"", "broken-open", "counter store failed (open)"]).is_empty(), "request log lacks the error");
    Ok(())
}

async fn log_mode_passes_and_logs(w: &World) -> Result<(), String> {
    let mark = w.edge.log_len();
    let s = w.statuses("/shadow/x", "198.51.100.80", &[], 5).await?;
    ensure!(s == [200; 5], "shadow mode never refuses: {s:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = w.edge.logs_since(mark, &["\"msg\":\"request\"", "\"shadow\"", "would limit"]);
    ensure!(lines.len() == 4, "4 would-be refusals logged, got {}: {lines:?}", lines.len());
    Ok(())
}

pub async fn run(report: &mut Report) {
    let origin_port = start_origin("app", EdgeAuthLayer::new).await;
    let edge = Edge::start(&rules(origin_port).to_string(), &format!("http://127.0.0.1:{origin_port}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("http client");
    let w = World { edge, http };

    report.check("limit_burst_then_429_then_recovers", burst_then_429_then_recovers(&w)).await;
    report.check("limit_keys_are_isolated", keys_are_isolated(&w)).await;
    report.check("limit_health_is_exempt", health_is_exempt(&w)).await;
    report.check("limit_global_exact_under_concurrency", global_admits_exactly_the_limit_under_concurrency(&w)).await;
    report.check("limit_local_isolate_store", local_isolate_store_limits(&w)).await;
    report.check("limit_rate_limiting_binding", rate_limiting_binding_limits(&w)).await;
    report.check("limit_store_errors_follow_on_error", store_errors_follow_on_error(&w)).await;
    report.check("limit_log_mode_passes_and_logs", log_mode_passes_and_logs(&w)).await;
}
