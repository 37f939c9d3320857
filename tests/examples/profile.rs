//! CPU profile of one workerd isolate over the DevTools protocol (workerd
//! `serve --inspector-addr`), for `scripts/load.sh` with `PROFILE=1`: starts
//! V8's sampling `Profiler`, waits `--seconds` while the load runs, stops it,
//! and prints where the isolate's time went as JSON: self time per function
//! (wasm functions by their Rust names when the module keeps its name
//! section, `EDGE_KEEP_WASM_NAMES=1`), and time inside each of a list of
//! phases (a sample counts for a phase when a function whose name contains
//! the phase's needle is on its stack).
//!
//!   profile --inspector 127.0.0.1:9229 --seconds 15 [--top 40] [--out profile.cpuprofile]
//!   profile --from profile.cpuprofile [--top 40]      (summarize a saved profile)
//!   profile --inspector 127.0.0.1:9229 --gc
//!
//! `--gc` makes the isolate do a full garbage collection (V8 does one before
//! every heap snapshot; `HeapProfiler.collectGarbage` does not answer in
//! workerd) and prints its heap before and after, so `scripts/load.sh` can
//! read workerd's RSS without the garbage V8 has not yet collected in it.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// Phases of the edge's request path, by a needle in a function name on the
/// stack: Rust paths of the wasm functions, or the wasm-bindgen import shims
/// (`__wbg_…`) for what crosses into JavaScript.
const PHASES: &[(&str, &[&str])] = &[
    ("read request (convert::request_info)", &["convert::request_info"]),
    ("rules (rules_source::current)", &["rules_source::current"]),
    ("pipeline decisions (request_filter)", &["Pipeline::request_filter"]),
    ("bot verdict", &["waf::bots::", "bot_score"]),
    ("WAF scan", &["waf::scan", "waf::Waf", "waf::extract", "waf::sqli", "waf::xss"]),
    ("forward (forward::send)", &["forward::send"]),
    ("trust headers (trust::upstream_headers)", &["trust::upstream_headers"]),
    ("Ed25519 signing", &["signing::sign", "ed25519_dalek", "curve25519"]),
    ("response headers (apply_header_ops)", &["convert::apply_header_ops"]),
    ("request log line (RequestLog)", &["RequestLog"]),
    ("isolate stats", &["shell::stats::count"]),
    ("analytics", &["shell::analytics::write"]),
    ("serde_wasm_bindgen", &["serde_wasm_bindgen"]),
    ("JS↔wasm glue (__wbg_*)", &["__wbg_"]),
    ("garbage collector", &["(garbage collector)"]),
    ("idle", &["(idle)"]),
];

struct Args {
    inspector: String,
    seconds: u64,
    top: usize,
    out: Option<String>,
    from: Option<String>,
    gc: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args { inspector: "127.0.0.1:9229".into(), seconds: 15, top: 40, out: None, from: None, gc: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--inspector" => a.inspector = value()?,
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--top" => a.top = value()?.parse().map_err(|e| format!("--top: {e}"))?,
            "--out" => a.out = Some(value()?),
            "--from" => a.from = Some(value()?),
            "--gc" => a.gc = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends one CDP command and waits for its answer (events in between are skipped).
async fn call(ws: &mut Socket, id: u64, method: &str, params: Value) -> Result<Value, String> {
    let msg = json!({ "id": id, "method": method, "params": params }).to_string();
    ws.send(Message::text(msg)).await.map_err(|e| format!("{method}: {e}"))?;
    while let Some(frame) = ws.next().await {
        let frame = frame.map_err(|e| format!("{method}: {e}"))?;
        let Ok(text) = frame.into_text() else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
        if v["id"] == id {
            if let Some(err) = v.get("error") {
                return Err(format!("{method}: {err}"));
            }
            return Ok(v["result"].clone());
        }
    }
    Err(format!("{method}: inspector closed"))
}

/// The first isolate's DevTools WebSocket URL from `/json`.
async fn target(inspector: &str) -> Result<String, String> {
    let list: Value = reqwest::get(format!("http://{inspector}/json"))
        .await
        .map_err(|e| format!("inspector /json: {e}"))?
        .json()
        .await
        .map_err(|e| format!("inspector /json: {e}"))?;
    list.as_array()
        .and_then(|l| l.iter().find_map(|t| t["webSocketDebuggerUrl"].as_str()))
        .map(str::to_string)
        .ok_or(format!("no isolate listed: {list}"))
}

/// What kind of code a sample's own frame is: the edge's wasm, the
/// wasm-bindgen import shims (each one JS↔wasm crossing), the runtime's
/// built-ins (fetch, Headers, timers), the other JavaScript, GC or idle.
fn kind(name: &str, url: &str) -> &'static str {
    match name {
        "(idle)" => "idle",
        "(garbage collector)" => "garbage collector",
        "(program)" => "runtime (program)",
        _ if name.starts_with("__wbg") || name.starts_with("__wbindgen") || name == "wasm-to-js" => "wasm-bindgen imports (JS↔wasm calls)",
        _ if url.contains(".wasm") || name.contains("::") || name.starts_with('<') => "wasm (Rust code)",
        _ if url.is_empty() => "runtime built-ins (fetch, Request, Response, Headers, timers)",
        _ => "JavaScript (glue, baseline)",
    }
}

fn summarize(profile: &Value, top: usize) -> Value {
    let empty = Vec::new();
    let nodes = profile["nodes"].as_array().unwrap_or(&empty);
    let samples = profile["samples"].as_array().unwrap_or(&empty);
    let deltas = profile["timeDeltas"].as_array().unwrap_or(&empty);
    let mut name = HashMap::new();
    let mut url = HashMap::new();
    let mut parent = HashMap::new();
    for n in nodes {
        let id = n["id"].as_u64().unwrap_or(0);
        let f = &n["callFrame"];
        let mut label = f["functionName"].as_str().unwrap_or("").to_string();
        if label.is_empty() {
            label = format!("(anonymous {})", f["url"].as_str().unwrap_or(""));
        }
        name.insert(id, label);
        url.insert(id, f["url"].as_str().unwrap_or("").to_string());
        for c in n["children"].as_array().unwrap_or(&empty) {
            parent.insert(c.as_u64().unwrap_or(0), id);
        }
    }
    // Each sample weighs the time until the next one.
    let mut self_us: HashMap<&str, f64> = HashMap::new();
    let mut kind_us: HashMap<&'static str, f64> = HashMap::new();
    let mut phase_us = vec![0f64; PHASES.len()];
    let mut total = 0f64;
    for (i, s) in samples.iter().enumerate() {
        let w = deltas.get(i + 1).and_then(Value::as_f64).unwrap_or(0.0).max(0.0);
        let mut id = s.as_u64().unwrap_or(0);
        total += w;
        if let Some(n) = name.get(&id) {
            *self_us.entry(n.as_str()).or_default() += w;
            *kind_us.entry(kind(n, url.get(&id).map_or("", String::as_str))).or_default() += w;
        }
        let mut on_stack = HashSet::new();
        loop {
            if let Some(n) = name.get(&id) {
                for (p, (_, needles)) in PHASES.iter().enumerate() {
                    if needles.iter().any(|needle| n.contains(needle)) {
                        on_stack.insert(p);
                    }
                }
            }
            match parent.get(&id) {
                Some(&up) => id = up,
                None => break,
            }
        }
        for p in on_stack {
            phase_us[p] += w;
        }
    }
    let pct = |us: f64| if total > 0.0 { (us * 1000.0 / total).round() / 10.0 } else { 0.0 };
    let mut functions: Vec<(&str, f64)> = self_us.into_iter().collect();
    functions.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut kinds: Vec<(&str, f64)> = kind_us.into_iter().collect();
    kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
    json!({
        "sampled_ms": (total / 1000.0).round(),
        "kinds_pct": kinds.iter().map(|(k, us)| json!({ "kind": k, "pct": pct(*us) })).collect::<Vec<_>>(),
        "phases_pct": PHASES.iter().zip(&phase_us).map(|((label, _), us)| json!({ "phase": label, "pct": pct(*us) })).collect::<Vec<_>>(),
        "self_pct": functions.iter().take(top).map(|(f, us)| json!({ "function": f, "pct": pct(*us) })).collect::<Vec<_>>(),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let result = async {
        let a = args()?;
        if let Some(from) = &a.from {
            let text = std::fs::read_to_string(from).map_err(|e| format!("{from}: {e}"))?;
            let profile: Value = serde_json::from_str(&text).map_err(|e| format!("{from}: {e}"))?;
            return Ok(summarize(&profile, a.top));
        }
        let url = target(&a.inspector).await?;
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.map_err(|e| format!("connect {url}: {e}"))?;
        if a.gc {
            let before = call(&mut ws, 1, "Runtime.getHeapUsage", json!({})).await?;
            // The snapshot's chunks arrive as events, which `call` skips.
            call(&mut ws, 2, "HeapProfiler.takeHeapSnapshot", json!({ "reportProgress": false })).await?;
            let after = call(&mut ws, 3, "Runtime.getHeapUsage", json!({})).await?;
            return Ok(json!({ "heap_used_before": before["usedSize"], "heap_used_after": after["usedSize"] }));
        }
        call(&mut ws, 1, "Profiler.enable", json!({})).await?;
        // 100 µs: fine enough for a request of a few hundred µs of CPU.
        call(&mut ws, 2, "Profiler.setSamplingInterval", json!({ "interval": 100 })).await?;
        call(&mut ws, 3, "Profiler.start", json!({})).await?;
        tokio::time::sleep(Duration::from_secs(a.seconds)).await;
        let stopped = call(&mut ws, 4, "Profiler.stop", json!({})).await?;
        let profile = &stopped["profile"];
        if let Some(out) = &a.out {
            std::fs::write(out, profile.to_string()).map_err(|e| format!("{out}: {e}"))?;
        }
        Ok::<Value, String>(summarize(profile, a.top))
    }
    .await;
    match result {
        Ok(summary) => println!("{summary}"),
        Err(e) => {
            eprintln!("profile: {e}");
            std::process::exit(1);
        }
    }
}
