//! The delivery phases through the whole pipeline, natively: the example
//! document `examples/rules/delivery.json` decides as documented.

use edge::phases::respond::apply;
use edge::pipeline::{Ctx, Decision, Pipeline};
use edge::request::RequestInfo;
use edge::testing::{block_on, NoIo};

const RULES: &str = include_str!("../../examples/rules/delivery.json");

fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> RequestInfo {
    let mut req = RequestInfo::from_url(method, url).unwrap();
    req.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    req
}

fn decide(req: &RequestInfo) -> (Decision, Ctx, Vec<(String, String)>) {
    let rules = edge::rules::parse(RULES.as_bytes()).unwrap();
    let pipeline = Pipeline::new(&rules);
    let mut ctx = Ctx::new("req-1", 1_700_000_000_000);
    let d = block_on(pipeline.request_filter(req, &mut ctx, &NoIo));
    let mut headers = match &d {
        Decision::Respond(r) => r.headers.clone(),
        _ => Vec::new(),
    };
    apply(&pipeline.response_filter(req, &mut ctx), &mut headers);
    (d, ctx, headers)
}

fn get<'a>(h: &'a [(String, String)], n: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str())
}

#[test]
fn plain_http_is_redirected_with_security_headers() {
    let (d, _, h) = decide(&request("GET", "http://shop.example/a?b=1", &[]));
    let Decision::Respond(r) = d else { panic!("{d:?}") };
    assert_eq!(r.status, 301);
    assert_eq!(get(&r.headers, "location"), Some("https://shop.example/a?b=1"));
    assert_eq!(get(&h, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
    assert_eq!(get(&h, "x-edge-cache"), Some("BYPASS"));
    let (d, ..) = decide(&request("GET", "http://shop.example/.well-known/acme-challenge/t", &[]));
    assert!(matches!(d, Decision::Forward { .. }), "{d:?}");
}

#[test]
fn preflight_is_answered_at_the_edge() {
    let (d, ctx, h) = decide(&request(
        "OPTIONS",
        "https://shop.example/api/items",
        &[("origin", "https://app.example.com"), ("access-control-request-method", "PUT")],
    ));
    let Decision::Respond(r) = d else { panic!("{d:?}") };
    assert_eq!(r.status, 204);
    assert_eq!(get(&h, "access-control-allow-origin"), Some("https://app.example.com"));
    assert_eq!(get(&h, "access-control-allow-methods"), Some("GET, POST, PUT, DELETE"));
    assert!(get(&h, "vary").is_some_and(|v| v.contains("Origin")));
    assert!(ctx.matched_rules().any(|r| r == "api-cors"));
}

#[test]
fn geo_routing_and_cache_plans() {
    let mut us = request("GET", "https://shop.example/assets/app.js?utm_source=x&v=2", &[]);
    us.cf.continent = Some("NA".into());
    let (d, ctx, _) = decide(&us);
    let Decision::Forward { origin, url } = d else { panic!("{d:?}") };
    assert_eq!((origin.as_str(), url.as_str()), ("us", "https://iad.app.internal.example/assets/app.js?utm_source=x&v=2"));
    match ctx.cache_plan {
        Some(edge::phases::cache::CachePlan::Lookup { key, .. }) => assert_eq!(key, "https://shop.example/assets/app.js?v=2"),
        other => panic!("{other:?}"),
    }
    let (d, ..) = decide(&request("POST", "https://shop.example/__edge/purge", &[]));
    assert!(matches!(d, Decision::Purge { .. }), "{d:?}");
    let (d, ..) = decide(&request("GET", "https://shop.example/page", &[]));
    assert!(matches!(d, Decision::Forward { ref origin, .. } if origin == "eu"), "{d:?}");
}
