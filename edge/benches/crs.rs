//! OWASP CRS ruleset (`rulesets: ["owasp-crs"]`) beside the edge's own detectors:
//! a benign GET, a 2 KB form POST and a 4 KB JSON prompt, and the one-time
//! rule compile per configuration.

use criterion::{criterion_group, criterion_main, Criterion};
use edge::waf::crs::{Engine, Request, Settings};
use edge::waf::{inspect, Inspectable, WafConfig};
use std::hint::black_box;

#[path = "crs_requests/mod.rs"]
mod crs_requests;
use crs_requests::{cases, headers};

fn bench(c: &mut Criterion) {
    let cases = cases();
    let edge_cfg = WafConfig::default();
    let crs = Engine::new(&Settings { paranoia: 1, threshold: 5, ..Default::default() }).expect("CRS loads");
    for case in &cases {
        let h = headers(case.content_type, case.body.len());
        let borrowed: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let uri = if case.query.is_empty() { case.path.to_string() } else { format!("{}?{}", case.path, case.query) };
        let own = Inspectable { path: case.path, query: case.query, headers: borrowed.clone(), content_type: case.content_type, body: case.body.as_bytes() };
        let req = Request { method: case.method, uri: &uri, protocol: "HTTP/1.1", headers: &borrowed, body: case.body.as_bytes(), client_ip: Some("203.0.113.7") };
        // Benign by design; CRS PL1 blocks the prompt (942100, libinjection on
        // prose), which docs/benchmarks.md reports: print it, measure anyway.
        let v = crs.inspect(&req);
        if v.blocked {
            let ids: Vec<&str> = v.matches.iter().map(|m| m.rule_id.as_str()).collect();
            println!("note: CRS PL1 blocks the benign {} (score {}, rules {ids:?})", case.name, v.score);
        }
        c.bench_function(&format!("waf_edge_{}", case.name), |b| b.iter(|| inspect(black_box(&own), &edge_cfg)));
        c.bench_function(&format!("waf_crs_pl1_{}", case.name), |b| b.iter(|| crs.inspect(black_box(&req))));
        // The part of it the layer adds (captures, FILES, decoded path, …).
        c.bench_function(&format!("waf_crs_layer_values_{}", case.name), |b| b.iter(|| crs.layer_values(black_box(&req))));
        c.bench_function(&format!("waf_both_{}", case.name), |b| {
            b.iter(|| (inspect(black_box(&own), &edge_cfg), crs.inspect(black_box(&req))))
        });
    }
    // Traffic whose values are all new: each GET has its own query, session
    // cookie and User-Agent (4,096 of them, more than the engine's store of
    // short texts holds), so what the engine remembers across requests helps
    // only with the values that do repeat.
    let fresh: Vec<(String, Vec<(&str, String)>)> = (0..4096)
        .map(|i| {
            let mut h = headers(None, 0);
            for (name, value) in h.iter_mut() {
                match *name {
                    "User-Agent" => value.push_str(&format!(" build/{i}")),
                    "Cookie" => *value = format!("session={i:032x}; theme=dark; consent=1"),
                    _ => {}
                }
            }
            (format!("/products/shoes/running?q=red%20shoes%20{i}&size={}&sort=price_asc&page={}", i % 50, i % 7), h)
        })
        .collect();
    let fresh_headers: Vec<Vec<(&str, &str)>> = fresh.iter().map(|(_, h)| h.iter().map(|(k, v)| (*k, v.as_str())).collect()).collect();
    let fresh_requests: Vec<Request> = fresh
        .iter()
        .zip(&fresh_headers)
        .map(|((uri, _), h)| Request { method: "GET", uri, protocol: "HTTP/1.1", headers: h, body: b"", client_ip: Some("203.0.113.7") })
        .collect();
    let mut next = 0usize;
    c.bench_function("waf_crs_pl1_get_new_values", |b| {
        b.iter(|| {
            next = (next + 1) % fresh_requests.len();
            crs.inspect(black_box(&fresh_requests[next]))
        })
    });
    // The same GET with CRS's paranoia gates evaluated per request, as before
    // they were decided at load (`waf/crs/paranoia.rs`): the ratio in one run.
    let gated = Engine::new(&Settings { paranoia: 1, threshold: 5, keep_paranoia_gates: true, ..Default::default() }).expect("CRS loads");
    let get = &cases[0];
    let h = headers(get.content_type, 0);
    let borrowed: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let uri = format!("{}?{}", get.path, get.query);
    let req = Request { method: get.method, uri: &uri, protocol: "HTTP/1.1", headers: &borrowed, body: b"", client_ip: Some("203.0.113.7") };
    c.bench_function("waf_crs_pl1_get_gates_kept", |b| b.iter(|| gated.inspect(black_box(&req))));
    let mut g = c.benchmark_group("crs_compile");
    g.sample_size(10);
    // A fresh isolate has analysed no pattern yet: forget what the last
    // iteration kept, or this would measure a warm process.
    let cold = || zentinel_modsec::engine::forget_analyses();
    g.bench_function("crs_compile_pl1", |b| {
        b.iter(|| {
            cold();
            Engine::new(black_box(&Settings { paranoia: 1, threshold: 5, ..Default::default() }))
        })
    });
    g.bench_function("crs_compile_pl1_gates_kept", |b| {
        b.iter(|| {
            cold();
            Engine::new(black_box(&Settings { paranoia: 1, threshold: 5, keep_paranoia_gates: true, ..Default::default() }))
        })
    });
    g.bench_function("crs_recompile_pl1_warm", |b| b.iter(|| Engine::new(black_box(&Settings { paranoia: 1, threshold: 5, ..Default::default() }))));
    // Regexes compile lazily, on the first value each rule sees: the cold cost
    // of an isolate is the compile plus its first request.
    let h = headers(None, 0);
    let borrowed: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = Request { method: "GET", uri: "/products?q=red%20shoes&size=42", protocol: "HTTP/1.1", headers: &borrowed, body: b"", client_ip: None };
    g.bench_function("crs_cold_first_request_pl1", |b| {
        b.iter(|| {
            cold();
            Engine::new(&Settings { paranoia: 1, threshold: 5, ..Default::default() }).map(|e| e.inspect(black_box(&first)))
        })
    });
    g.bench_function("crs_cold_first_request_pl1_gates_kept", |b| {
        b.iter(|| {
            cold();
            Engine::new(&Settings { paranoia: 1, threshold: 5, keep_paranoia_gates: true, ..Default::default() }).map(|e| e.inspect(black_box(&first)))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
