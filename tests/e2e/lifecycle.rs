//! The rules lifecycle under workerd: the edge writes `rules.status` back into
//! KV (one write per document, through the `StatusObject`), a candidate under
//! `rules.next` decides for a sticky share of client IPs, and `edge-rules`
//! (the built binary, against this edge's local KV) starts and aborts rollouts
//! and rolls back.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use edge::lifecycle::doc_hash;
use edge::lifecycle::rollout::Rollout;
use edge::lifecycle::status::{StatusDoc, Verdict};
use origin_sdk::EdgeAuthLayer;
use serde_json::{json, Value};

use crate::ensure;
use crate::harness::{repo_root, start_origin, Edge, Report};

/// The documents' TTL: every "within the TTL" below allows this plus the
/// time wrangler takes to land a KV write.
const TTL_S: u64 = 1;
const SLACK: Duration = Duration::from_secs(30);

struct World {
    edge: Edge,
    http: reqwest::Client,
    origin_port: u16,
}

/// A valid document; `marker` makes each one distinct bytes.
fn doc(origin_port: u16, marker: u32) -> String {
    json!({
        "version": 1,
        "settings": { "default_origin": "app", "rules_ttl_seconds": TTL_S, "server_timing": true },
        "origins": { "app": { "url": format!("http://127.0.0.1:{origin_port}") } },
        "phases": { "filter": [ { "id": format!("no-dotfiles-{marker}"), "when": { "paths": ["/.*"] }, "action": "block", "params": { "status": 404 } } ] }
    })
    .to_string()
}

/// Would open `/.env` if applied; its first fault is at `$.phases.filter[0].when.ips[0]`.
fn bad_doc(origin_port: u16) -> String {
    let mut v: Value = serde_json::from_str(&doc(origin_port, 99)).unwrap_or_default();
    v["phases"]["filter"] = json!([{ "id": "x", "when": { "ips": ["10.0.0.0/99"] }, "action": "allow" }]);
    v.to_string()
}

/// The built `edge-rules` (scripts/test.sh runs it before this suite).
fn cli_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    target.join("debug/edge-rules")
}

impl World {
    /// The document that decided a request from `ip`: the hash the edge puts
    /// in `Server-Timing`, checked against the signed `x-edge-rules` fact the
    /// origin verified.
    async fn decided_by(&self, ip: IpAddr) -> Result<String, String> {
        let resp = self
            .http
            .get(self.edge.url("/who"))
            .header("CF-Connecting-IP", ip.to_string())
            .send()
            .await
            .map_err(|e| format!("GET /who: {e}"))?;
        let timing = resp.headers().get("server-timing").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.map_err(|e| format!("/who body: {e}"))?;
        ensure!(status == 200, "/who from {ip}: {status} {body}");
        let hash = timing
            .split(", ")
            .find_map(|m| m.strip_prefix("rules;desc=\""))
            .map(|h| h.trim_end_matches('"').to_string())
            .ok_or_else(|| format!("no rules metric in Server-Timing {timing:?}"))?;
        ensure!(body["facts"]["rules"] == hash, "signed x-edge-rules {} differs from Server-Timing {hash}", body["facts"]["rules"]);
        Ok(hash)
    }

    async fn status(&self) -> Option<StatusDoc> {
        self.edge.kv_get("rules.status").and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Sends requests until the status object logs a write naming `hash`
    /// (cheap: the edge's own log), then reads `rules.status` from KV until
    /// it satisfies `pred`. The time is from the call to the write.
    async fn status_until(&self, what: &str, hash: &str, pred: impl Fn(&StatusDoc) -> bool) -> Result<(StatusDoc, Duration), String> {
        let start = Instant::now();
        let needle = format!("\"{hash}\"");
        let took = loop {
            let _ = self.decided_by(ip(1)).await;
            if self.edge.logs().iter().any(|l| l.contains("\"msg\":\"rules_status_written\"") && l.contains(&needle)) {
                break start.elapsed();
            }
            ensure!(start.elapsed() < SLACK, "{what}: no rules_status_written naming {hash} after {SLACK:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        loop {
            if let Some(s) = self.status().await {
                if pred(&s) {
                    return Ok((s, took));
                }
            }
            ensure!(start.elapsed() < SLACK * 2, "{what}: rules.status is {:?}", self.status().await);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let persist = self.edge.persist.to_str().unwrap_or_default().to_string();
        let out = Command::new(cli_path())
            .args(args)
            .args(["--local", "--persist-to", &persist])
            .current_dir(repo_root())
            .output()
            .map_err(|e| format!("run {} (build it with `cargo build -p edge-rules`): {e}", cli_path().display()))?;
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        ensure!(out.status.success(), "edge-rules {args:?}: {:?}\n{text}", out.status);
        Ok(text)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.edge.persist.with_extension(name);
        let _ = std::fs::write(&path, text);
        path.display().to_string()
    }
}

fn ip(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a10_0000 + i))
}

async fn rejected_document_is_reported_and_fix_accepted(w: &World) -> Result<(), String> {
    let good = doc(w.origin_port, 1);
    let (first, _) = w.status_until("first document", &doc_hash(good.as_bytes()), |s| s.current.as_ref().is_some_and(|r| r.hash == doc_hash(good.as_bytes()))).await?;
    ensure!(first.current.as_ref().and_then(|r| r.rules.as_ref()).is_some_and(|c| c["filter"] == 1), "rule counts: {first:?}");

    let bad = bad_doc(w.origin_port);
    w.edge.put_rules(&bad);
    let (s, took) = w.status_until("bad document", &doc_hash(bad.as_bytes()), |s| s.current.as_ref().is_some_and(|r| r.hash == doc_hash(bad.as_bytes()))).await?;
    println!("    rejection written to rules.status {took:?} after the put (TTL {TTL_S} s)");
    ensure!(took < Duration::from_secs(TTL_S) + Duration::from_secs(5), "status written only after {took:?}");
    let r = s.current.as_ref().ok_or("no current report")?;
    ensure!(r.errors.iter().any(|e| e.path == "$.phases.filter[0].when.ips[0]"), "faults without the JSON path: {r:?}");
    ensure!(r.serving.as_deref() == Some(doc_hash(good.as_bytes()).as_str()), "serving instead: {r:?}");
    // The last good document keeps deciding.
    ensure!(w.decided_by(ip(2)).await? == doc_hash(good.as_bytes()), "the bad document decided");
    let blocked = w.http.get(w.edge.url("/.env")).send().await.map_err(|e| e.to_string())?.status().as_u16();
    ensure!(blocked == 404, "/.env under the last good document: {blocked}");

    let fixed = doc(w.origin_port, 2);
    w.edge.put_rules(&fixed);
    let (s, _) = w.status_until("fixed document", &doc_hash(fixed.as_bytes()), |s| s.current.as_ref().is_some_and(|r| r.hash == doc_hash(fixed.as_bytes()))).await?;
    let r = s.current.as_ref().ok_or("no current report")?;
    ensure!(r.outcome == Verdict::Accepted && r.version == Some(1) && r.errors.is_empty(), "fix not accepted: {r:?}");
    Ok(())
}

/// 200 concurrent requests right after a change: one KV write. `wrangler dev`
/// runs one isolate, so the reports reaching the object are few (printed);
/// the bound for many isolates' reports at once is `lifecycle::book`'s tests.
async fn concurrent_change_is_one_status_write(w: &World) -> Result<(), String> {
    let next = doc(w.origin_port, 3);
    let hash = doc_hash(next.as_bytes());
    let burst = || {
        futures_util::future::join_all((0..200).map(|i| {
            let http = w.http.clone();
            let url = w.edge.url("/who");
            async move { http.get(url).header("CF-Connecting-IP", ip(1000 + i).to_string()).send().await.map(|r| r.status().as_u16()) }
        }))
    };
    // 200 open connections first, so the burst below arrives at once.
    burst().await;
    w.edge.put_rules(&next);
    let mark = w.edge.log_len();
    // Past the TTL every one of these requests finds the isolate's copy stale.
    tokio::time::sleep(Duration::from_millis(TTL_S * 1000 + 500)).await;
    let statuses = burst().await;
    let ok = statuses.iter().filter(|s| matches!(s, Ok(200))).count();
    ensure!(ok == 200, "{ok} of 200 concurrent requests answered 200: {statuses:?}");
    w.status_until("concurrent change", &hash, |s| s.current.as_ref().is_some_and(|r| r.hash == hash)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reports = w.edge.logs_since(mark, &["\"msg\":\"rules_status_report\"", &hash]).len();
    let writes = w.edge.logs_since(mark, &["\"msg\":\"rules_status_written\""]);
    println!("    200 concurrent requests: {reports} reports of {hash} reached the status object, {} KV writes", writes.len());
    ensure!(reports >= 1, "no report reached the status object");
    ensure!(writes.len() == 1, "expected exactly one status write, got {writes:?}");
    Ok(())
}

async fn invalid_candidate_applies_to_nobody(w: &World) -> Result<(), String> {
    let current = w.decided_by(ip(1)).await?;
    let bad = bad_doc(w.origin_port);
    let next = json!({ "percent": 100, "document": bad }).to_string();
    w.edge.kv_put("rules.next", &next);
    let (s, _) = w.status_until("invalid candidate", &doc_hash(bad.as_bytes()), |s| s.candidate.as_ref().is_some_and(|r| r.hash == doc_hash(bad.as_bytes()))).await?;
    let r = s.candidate.as_ref().ok_or("no candidate report")?;
    ensure!(r.errors.iter().any(|e| e.path == "$.phases.filter[0].when.ips[0]"), "candidate faults: {r:?}");
    ensure!(r.serving.as_deref() == Some("current"), "candidate serving: {r:?}");
    for i in 0..20 {
        ensure!(w.decided_by(ip(i)).await? == current, "an invalid candidate decided for {}", ip(i));
    }
    Ok(())
}

async fn ten_percent_rollout_is_sticky_and_aborts(w: &World) -> Result<(), String> {
    let current = w.decided_by(ip(1)).await?;
    let candidate = doc(w.origin_port, 4);
    let hash = doc_hash(candidate.as_bytes());
    let file = w.file("candidate.json", &candidate);
    w.cli(&["rollout", "start", &file, "--percent", "10"])?;
    w.status_until("candidate", &hash, |s| s.candidate.as_ref().is_some_and(|r| r.hash == hash)).await?;

    let rollout = Rollout { percent: Some(10.0), colos: vec![] };
    let n = 600;
    let mut got = BTreeMap::new();
    for chunk in (0..n).collect::<Vec<u32>>().chunks(25) {
        let answers = futures_util::future::join_all(chunk.iter().map(|&i| async move { (i, w.decided_by(ip(i)).await) })).await;
        for (i, a) in answers {
            got.insert(i, a?);
        }
    }
    let to_candidate = got.values().filter(|h| **h == hash).count();
    ensure!(got.values().all(|h| *h == hash || *h == current), "a third document decided: {got:?}");
    // 10 % of 600, σ = √(600·0.1·0.9) ≈ 7.3; 4σ.
    println!("    10 % rollout: {to_candidate} of {n} distinct client IPs on the candidate");
    ensure!((31..=89).contains(&to_candidate), "{to_candidate} of {n} on the candidate");
    for (i, h) in &got {
        ensure!((*h == hash) == rollout.includes(&hash, Some(ip(*i)), None), "{} is not in its bucket", ip(*i));
    }
    for i in (0..n).step_by(7) {
        ensure!(w.decided_by(ip(i)).await? == got[&i], "{} changed documents", ip(i));
    }
    let mark = w.edge.log_len();
    let Some((&inside, _)) = got.iter().find(|(_, h)| **h == hash) else { return Err("no client on the candidate".into()) };
    w.decided_by(ip(inside)).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(
        !w.edge.logs_since(mark, &["\"msg\":\"request\"", &format!("\"rules_hash\":\"{hash}\"")]).is_empty(),
        "the log line does not name the candidate"
    );

    w.cli(&["rollout", "abort"])?;
    // From the moment `rules.next` is gone.
    let start = Instant::now();
    loop {
        if w.decided_by(ip(inside)).await? == current {
            break;
        }
        ensure!(start.elapsed() < SLACK, "{} still on the candidate {SLACK:?} after abort", ip(inside));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took = start.elapsed();
    println!("    abort: back on the current document {took:?} after rules.next was deleted (TTL {TTL_S} s)");
    ensure!(took < Duration::from_secs(TTL_S) + Duration::from_secs(5), "abort took {took:?}");
    for (i, _) in got.iter().filter(|(_, h)| **h == hash) {
        ensure!(w.decided_by(ip(*i)).await? == current, "{} still on the candidate", ip(*i));
    }
    Ok(())
}

async fn rollback_restores_previous_bytes(w: &World) -> Result<(), String> {
    // Formatting differs on purpose: the bytes, not the meaning, come back.
    let first = format!("{}\n", serde_json::to_string_pretty(&serde_json::from_str::<Value>(&doc(w.origin_port, 5)).unwrap_or_default()).unwrap_or_default());
    let second = doc(w.origin_port, 6);
    w.cli(&["push", &w.file("first.json", &first)])?;
    w.cli(&["push", &w.file("second.json", &second)])?;
    let start = Instant::now();
    while w.decided_by(ip(3)).await? != doc_hash(second.as_bytes()) {
        ensure!(start.elapsed() < SLACK, "second push not served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = w.cli(&["rollback"])?;
    ensure!(out.contains(&doc_hash(first.as_bytes())), "rollback named another document: {out}");
    ensure!(w.edge.kv_get("rules").as_deref() == Some(first.as_bytes()), "KV does not hold the first document byte for byte");
    let start = Instant::now();
    while w.decided_by(ip(3)).await? != doc_hash(first.as_bytes()) {
        ensure!(start.elapsed() < SLACK, "rolled-back document not served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

pub async fn run(report: &mut Report) {
    let origin_port = start_origin("app", EdgeAuthLayer::new).await;
    let edge = Edge::start(&doc(origin_port, 1), &format!("http://127.0.0.1:{origin_port}"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
    let w = World { edge, http, origin_port };
    report.check("lifecycle_rejected_document_is_reported_and_fix_accepted", rejected_document_is_reported_and_fix_accepted(&w)).await;
    report.check("lifecycle_concurrent_change_is_one_status_write", concurrent_change_is_one_status_write(&w)).await;
    report.check("lifecycle_invalid_candidate_applies_to_nobody", invalid_candidate_applies_to_nobody(&w)).await;
    report.check("lifecycle_ten_percent_rollout_is_sticky_and_aborts", ten_percent_rollout_is_sticky_and_aborts(&w)).await;
    report.check("lifecycle_rollback_restores_previous_bytes", rollback_restores_previous_bytes(&w)).await;
}
