//! OWASP CRS ruleset (`rulesets: ["owasp-crs"]`) beside the edge's own detectors:
//! a benign GET, a 2 KB form POST and a 4 KB JSON prompt, and the one-time
//! rule compile per configuration.

use criterion::{criterion_group, criterion_main, Criterion};
use edge::waf::crs::{Engine, Request, Settings};
use edge::waf::{inspect, Inspectable, WafConfig};
use std::hint::black_box;

const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

fn headers(content_type: Option<&'static str>, len: usize) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Host", "shop.example.com".to_string()),
        ("User-Agent", UA.to_string()),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_string()),
        ("Accept-Language", "en-US,en;q=0.9".to_string()),
        ("Referer", "https://shop.example.com/search?q=red+shoes&page=2".to_string()),
        ("Cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1".to_string()),
        ("X-Forwarded-For", "203.0.113.7".to_string()),
    ];
    if let Some(ct) = content_type {
        h.push(("Content-Type", ct.to_string()));
        h.push(("Content-Length", len.to_string()));
    }
    h
}

fn form_body() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 2048 {
        s.push_str(&format!("field{i}=Some+ordinary+text+value+number+{i}%2C+with+punctuation.&"));
        i += 1;
    }
    s
}

/// A 4 KB prompt in the style of the benign-prompts corpus: prose that names
/// code and commands in passing.
fn prompt_body() -> String {
    let para = "I want you to act as a senior travel planner. I will tell you where I am and what kind of places I like, and you will suggest places to visit near my location, with a short reason for each, opening hours if you know them, and how long to stay. Keep the answer friendly and practical, and ask me one question at the end. ";
    let mut text = String::new();
    while text.len() < 4000 {
        text.push_str(para);
    }
    format!(r#"{{"model":"chat-small","prompt":"{text}","temperature":0.7}}"#)
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    content_type: Option<&'static str>,
    body: String,
}

fn bench(c: &mut Criterion) {
    let cases = [
        Case { name: "get", method: "GET", path: "/products/shoes/running", query: "q=red%20shoes&size=42&sort=price_asc&page=2", content_type: None, body: String::new() },
        Case { name: "form_2k", method: "POST", path: "/checkout", query: "", content_type: Some("application/x-www-form-urlencoded"), body: form_body() },
        Case { name: "json_prompt_4k", method: "POST", path: "/v1/complete", query: "", content_type: Some("application/json"), body: prompt_body() },
    ];
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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
