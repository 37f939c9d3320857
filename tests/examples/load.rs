//! Load generator for `scripts/load.sh`: `C` concurrent loopback clients
//! against one base URL, stopping by itself after `--seconds` or
//! `--max-requests`, whichever comes first. Prints one JSON line: throughput,
//! latency percentiles, answers by class, and the RSS of `--rss-pid`
//! (workerd) at start and end and once a second in between, each sample
//! with the number of requests issued by then.
//!
//!   load --url http://127.0.0.1:8787 --mix plain|mixed|CLASS [--seconds 20]
//!        [--concurrency 16] [--max-requests 200000] [--rss-pid PID]
//!
//! `plain`: `GET /health` only (the same work at the origin for every target).
//! `mixed`, for the edge with `scripts/load.sh`'s rules: benign uncached,
//! cached, WAF attacks, and one client over a global limit; a class name
//! (`benign`, `cached`, `attack`, `limited`) sends only that class. Exits 1 when an
//! answer is not the one its class expects, or the limit admitted other than
//! `--limit` requests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

/// One request class of the mixed workload: what to send, what may come back.
struct Class {
    name: &'static str,
    path: &'static str,
    /// Client IP; `None` spreads benign traffic over many addresses.
    ip: Option<&'static str>,
    expect: &'static [u16],
}

const PLAIN: &[Class] = &[Class { name: "health", path: "/health", ip: None, expect: &[200] }];

/// Out of every ten requests: 4 uncached, 2 cached, 2 attacks, 2 over the limit.
const MIXED: &[Class] = &[
    Class { name: "benign", path: "/app/items?id=42", ip: None, expect: &[200] },
    Class { name: "benign", path: "/app/orders/7", ip: None, expect: &[200] },
    Class { name: "cached", path: "/static/logo.png", ip: None, expect: &[200] },
    Class { name: "benign", path: "/app/search?q=shoes", ip: None, expect: &[200] },
    Class { name: "attack", path: "/app/search?q=%27%20OR%201%3D1--", ip: None, expect: &[403] },
    Class { name: "limited", path: "/limited/a", ip: Some(LIMITED_IP), expect: &[200, 429] },
    Class { name: "benign", path: "/app/items?id=43", ip: None, expect: &[200] },
    Class { name: "cached", path: "/static/app.js", ip: None, expect: &[200] },
    Class { name: "attack", path: "/app/file?name=../../../../etc/passwd", ip: None, expect: &[403] },
    Class { name: "limited", path: "/limited/b", ip: Some(LIMITED_IP), expect: &[200, 429] },
];

const LIMITED_IP: &str = "198.51.100.250";

struct Args {
    url: String,
    /// `--mix` as given: `plain`, `mixed`, or one class of the mixed workload
    /// (to find which one costs what).
    mix: String,
    classes: Vec<&'static Class>,
    seconds: u64,
    concurrency: usize,
    max_requests: u64,
    rss_pid: Option<u32>,
    limit: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { url: String::new(), mix: "plain".into(), classes: PLAIN.iter().collect(), seconds: 20, concurrency: 16, max_requests: 200_000, rss_pid: None, limit: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--url" => a.url = value()?,
            "--mix" => {
                a.mix = value()?;
                a.classes = match a.mix.as_str() {
                    "plain" => PLAIN.iter().collect(),
                    "mixed" => MIXED.iter().collect(),
                    class => MIXED.iter().filter(|c| c.name == class).collect(),
                };
                if a.classes.is_empty() {
                    return Err(format!("--mix {}: plain, mixed or one of its classes", a.mix));
                }
            }
            "--seconds" => a.seconds = num(value()?)?.clamp(1, 300),
            "--concurrency" => a.concurrency = num(value()?)?.clamp(1, 256) as usize,
            "--max-requests" => a.max_requests = num(value()?)?,
            "--rss-pid" => a.rss_pid = Some(num(value()?)? as u32),
            "--limit" => a.limit = Some(num(value()?)?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if !a.url.starts_with("http://127.0.0.1:") && !a.url.starts_with("http://localhost:") {
        return Err("--url must be a loopback http://127.0.0.1:PORT".into());
    }
    Ok(a)
}

/// Resident set of `pid` and its threads, in KiB, from /proc.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    /// (class, status) -> count; status 0 = transport error.
    answers: std::collections::BTreeMap<(&'static str, u16), u64>,
    unexpected: u64,
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    let classes = Arc::new(args.classes.clone());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("http client");
    let cf = json!({ "colo": "FRA", "country": "DE", "asn": 3320, "continent": "EU", "clientAcceptEncoding": "" }).to_string();
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let rss_start = args.rss_pid.and_then(rss_kib);
    let started = Instant::now();

    // RSS once a second, on the side, with the requests issued so far: the
    // series shows whether memory levels off.
    let rss_series = args.rss_pid.map(|pid| {
        let issued = issued.clone();
        tokio::spawn(async move {
            let mut series = Vec::new();
            while Instant::now() < deadline {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Some(kib) = rss_kib(pid) {
                    series.push((issued.load(Ordering::Relaxed), kib));
                }
            }
            series
        })
    });

    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (http, cf, issued, url, classes) = (http.clone(), cf.clone(), issued.clone(), args.url.clone(), classes.clone());
        let max = args.max_requests;
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max || Instant::now() >= deadline {
                    break;
                }
                let class = classes[(n % classes.len() as u64) as usize];
                let ip = class.ip.map(str::to_string).unwrap_or_else(|| format!("192.0.2.{}", n % 250 + 1));
                let t0 = Instant::now();
                let resp = http.get(format!("{url}{}", class.path)).header("MF-CF-Blob", &cf).header("CF-Connecting-IP", ip).send().await;
                let status = match resp {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        // The whole body counts: latency is to the last byte.
                        match r.bytes().await {
                            Ok(_) => s,
                            Err(_) => 0,
                        }
                    }
                    Err(_) => 0,
                };
                t.latencies_us.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                *t.answers.entry((class.name, status)).or_default() += 1;
                if !class.expect.contains(&status) {
                    t.unexpected += 1;
                }
            }
            t
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        if let Ok(t) = task.await {
            all.latencies_us.extend(t.latencies_us);
            for (k, v) in t.answers {
                *all.answers.entry(k).or_default() += v;
            }
            all.unexpected += t.unexpected;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_series = match rss_series {
        Some(h) => h.await.unwrap_or_default(),
        None => Vec::new(),
    };
    let rss_end = args.rss_pid.and_then(rss_kib);
    let rss_mid = rss_series.get(rss_series.len() / 2).map(|(_, kib)| *kib);
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        let v = &all.latencies_us;
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        v.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    let total = all.latencies_us.len() as u64;
    let admitted = all.answers.get(&("limited", 200)).copied().unwrap_or(0);
    let limit_ok = match args.limit {
        Some(l) if args.mix != "plain" => admitted == l,
        _ => true,
    };
    let answers: serde_json::Map<String, serde_json::Value> =
        all.answers.iter().map(|((c, s), n)| (format!("{c} {s}"), json!(n))).collect();
    println!(
        "{}",
        json!({
            "url": args.url, "mix": args.mix, "concurrency": args.concurrency,
            "requests": total, "seconds": (elapsed * 100.0).round() / 100.0,
            "rps": (total as f64 / elapsed).round(),
            "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "answers": answers, "unexpected": all.unexpected,
            "limited_admitted": admitted, "limit_expected": args.limit, "limit_exact": limit_ok,
            "rss_kib": { "start": rss_start, "middle": rss_mid, "end": rss_end, "series": rss_series },
        })
    );
    if all.unexpected > 0 || !limit_ok || total == 0 {
        std::process::exit(1);
    }
}
