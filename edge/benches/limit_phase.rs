//! Cost of the limit phase over a document with 50 rate-limit rules: matching,
//! key building (SHA-256) and deciding in memory, i.e. everything but the
//! store's round trip.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use edge::phases::limit;
use edge::pipeline::Ctx;
use edge::request::RequestInfo;
use edge::testing::{block_on, MemoryCounters};
use serde_json::json;

const RULES: usize = 50;

fn document() -> Vec<u8> {
    // 45 rules on other paths, 5 that every /api request hits, keyed by IP,
    // API key, IP prefix, path and method.
    let mut rules: Vec<serde_json::Value> = (0..RULES - 5)
        .map(|i| json!({ "id": format!("other-{i}"), "when": { "paths": [format!("/svc{i}/*")] }, "action": "block",
                         "params": { "key": ["ip"], "rate": 10, "period": 1, "burst": 20 } }))
        .collect();
    for (i, key) in [json!(["ip"]), json!(["header:x-api-key"]), json!(["ip_prefix"]), json!(["ip", "path"]), json!(["method", "host"])]
        .into_iter()
        .enumerate()
    {
        rules.push(json!({ "id": format!("api-{i}"), "when": { "paths": ["/api/*", "!/api/health"] }, "action": "block",
                           "params": { "key": key, "rate": 1_000_000, "period": 1, "burst": 1000, "store": "local" } }));
    }
    json!({ "version": 1, "phases": { "limit": rules } }).to_string().into_bytes()
}

fn bench_phase(c: &mut Criterion) {
    let Ok(rules) = edge::rules::parse(&document()) else {
        return;
    };
    let counters = MemoryCounters::default();
    let Ok(mut req) = RequestInfo::from_url("GET", "https://api.example/api/items") else {
        return;
    };
    req.headers = vec![("x-api-key".into(), "key-123".into())];
    let ips: Vec<std::net::IpAddr> = (0..1000u32).filter_map(|i| format!("203.0.{}.{}", i / 256, i % 256).parse().ok()).collect();
    let mut i = 0usize;
    let mut now = 1_700_000_000_000u64;
    c.bench_function("limit_phase/50_rules_5_match", |b| {
        b.iter(|| {
            i = (i + 1) % ips.len();
            now += 1;
            req.client_ip = ips.get(i).copied();
            let mut ctx = Ctx::new("bench", now);
            black_box(block_on(limit::run(&rules, black_box(&req), &mut ctx, &counters)))
        })
    });
    req.path = "/elsewhere".into();
    c.bench_function("limit_phase/50_rules_none_match", |b| {
        b.iter(|| {
            let mut ctx = Ctx::new("bench", now);
            black_box(block_on(limit::run(&rules, black_box(&req), &mut ctx, &counters)))
        })
    });
}

criterion_group!(benches, bench_phase);
criterion_main!(benches);
