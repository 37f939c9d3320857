//! Cost of the rules engine per request and per document load:
//! - `pipeline/benign_get_200_rules`: request_filter + response_filter for a
//!   plain GET that matches none of 190 filter rules, then routes and gets
//!   security headers (the common case, every rule examined);
//! - `rules/parse_validate_1000_rules`: parse, validate and compile a
//!   1,000-rule document (what an isolate pays once per KV read).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use edge::pipeline::{Ctx, Pipeline};
use edge::request::RequestInfo;
use edge::testing::{block_on, NoIo};
use serde_json::{json, Value};

/// A document of `n` rules: mostly filter rules of every `when` kind, a few
/// route and respond rules, none of which the benchmark request trips.
fn document(n: usize) -> Vec<u8> {
    let mut filter = Vec::new();
    let mut route = Vec::new();
    let mut respond = Vec::new();
    for i in 0..n {
        match i % 20 {
            0 => route.push(json!({ "id": format!("route-{i}"), "when": { "hosts": [format!("api{i}.example.com")] },
                                    "action": "origin", "params": { "origin": "api" } })),
            1 => respond.push(json!({ "id": format!("respond-{i}"), "when": { "paths": [format!("/static{i}/**")] },
                                      "action": "headers", "params": { "set": { "cache-control": "public, max-age=60" } } })),
            k => filter.push(json!({ "id": format!("filter-{i}"), "action": "block", "when": when(i, k) })),
        }
    }
    respond.push(json!({ "id": "security-headers", "action": "headers",
        "params": { "set": { "x-frame-options": "DENY", "x-content-type-options": "nosniff" }, "remove": ["server"] } }));
    json!({ "version": 1, "settings": { "default_origin": "app" },
            "origins": { "app": { "url": "https://app.internal" }, "api": { "url": "https://api.internal" } },
            "phases": { "filter": filter, "route": route, "respond": respond } })
    .to_string()
    .into_bytes()
}

fn when(i: usize, kind: usize) -> Value {
    match kind % 6 {
        0 => json!({ "paths": [format!("/admin{i}/*"), format!("/internal{i}/**")] }),
        1 => json!({ "ips": [format!("10.{}.{}.0/24", i % 256, (i / 256) % 256), "192.0.2.0/24"] }),
        2 => json!({ "hosts": [format!("*.blocked{i}.example")], "methods": ["POST", "PUT"] }),
        3 => json!({ "headers": { "user-agent": [format!("badbot-{i}*")] } }),
        4 => json!({ "countries": ["KP", "IR"], "paths": [format!("/pay{i}/*")] }),
        _ => json!({ "query": { format!("debug{i}"): [] }, "asns": [format!("{}", 64_500 + i)] }),
    }
}

fn benign_get() -> RequestInfo {
    let mut req = RequestInfo::from_url("GET", "https://www.example.com/products/42?ref=home").unwrap_or_default();
    req.headers = vec![
        ("user-agent".into(), "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0".into()),
        ("accept".into(), "text/html".into()),
        ("accept-language".into(), "de-DE,de;q=0.9".into()),
    ];
    req.client_ip = "198.51.100.7".parse().ok();
    req.cf.country = Some("DE".into());
    req.cf.colo = Some("FRA".into());
    req.cf.asn = Some(3320);
    req
}

fn bench_pipeline(c: &mut Criterion) {
    let Ok(rules) = edge::rules::parse(&document(200)) else {
        panic!("benchmark document must be valid");
    };
    let req = benign_get();
    let pipeline = Pipeline::new(&rules);
    c.bench_function("pipeline/benign_get_200_rules", |b| {
        b.iter(|| {
            let mut ctx = Ctx::new("bench", 1_700_000_000_000);
            let d = block_on(pipeline.request_filter(black_box(&req), &mut ctx, &NoIo));
            let ops = pipeline.response_filter(&req, &mut ctx);
            black_box((d, ops))
        })
    });
}

fn bench_parse(c: &mut Criterion) {
    let doc = document(1_000);
    assert!(edge::rules::parse(&doc).is_ok(), "benchmark document must be valid");
    c.bench_function("rules/parse_validate_1000_rules", |b| b.iter(|| black_box(edge::rules::parse(black_box(&doc)))));
}

criterion_group!(benches, bench_pipeline, bench_parse);
criterion_main!(benches);
