//! The limit phase natively, through the pipeline: rules, keys, decisions,
//! response fields, shadow mode, store failures and validation.

use edge::phases::respond;
use edge::pipeline::{Ctx, Decision, Pipeline};
use edge::request::RequestInfo;
use edge::rules::Rules;
use edge::testing::{block_on, MemoryCounters, NoIo};
use serde_json::{json, Value};

const T0: u64 = 1_700_000_000_000;

fn rules(limit: Value) -> Rules {
    let doc = json!({ "version": 1, "settings": { "default_origin": "app" },
                      "origins": { "app": { "url": "http://127.0.0.1:9000" } },
                      "phases": { "limit": limit } });
    edge::rules::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("invalid rules: {e}"))
}

fn request(path: &str, ip: &str, headers: &[(&str, &str)]) -> RequestInfo {
    let mut req = RequestInfo::from_url("GET", &format!("https://api.example{path}")).unwrap();
    req.client_ip = ip.parse().ok();
    req.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    req
}

/// Runs the request phases and the response filter; returns the status (200
/// when forwarded), the response headers the edge sets, and the context.
fn send(rules: &Rules, io: &MemoryCounters, req: &RequestInfo, now: u64) -> (u16, Vec<(String, String)>, Ctx) {
    let pipeline = Pipeline::new(rules);
    let mut ctx = Ctx::new("r", now);
    let (status, mut headers) = match block_on(pipeline.request_filter(req, &mut ctx, io)) {
        Decision::Respond(r) => (r.status, r.headers),
        Decision::Forward { .. } => (200, Vec::new()),
        Decision::Purge { .. } => panic!("no purge rules here"),
    };
    let ops = pipeline.response_filter(req, &mut ctx);
    respond::apply(&ops, &mut headers);
    (status, headers, ctx)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn api_rule(params: Value) -> Value {
    json!([{ "id": "api", "when": { "paths": ["/api/*"] }, "action": "block", "params": params }])
}

#[test]
fn burst_admits_exactly_the_allowance_then_429_with_retry_after_then_recovers() {
    // 1 per 2 s, burst 4: five back to back.
    let r = rules(api_rule(json!({ "key": ["ip"], "rate": 1, "period": 2, "burst": 4 })));
    let io = MemoryCounters::default();
    let req = request("/api/x", "198.51.100.7", &[]);
    let statuses: Vec<u16> = (0..6).map(|_| send(&r, &io, &req, T0).0).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);

    let (status, headers, ctx) = send(&r, &io, &req, T0);
    assert_eq!(status, 429);
    assert_eq!(header(&headers, "retry-after"), Some("2"));
    assert_eq!(header(&headers, "ratelimit-policy"), Some("\"api\";q=5;w=10"));
    assert_eq!(header(&headers, "ratelimit"), Some("\"api\";r=0;t=2"));
    assert!(ctx.records.iter().any(|r| r.action == "block" && r.rule.as_deref() == Some("api")));

    // One emission interval later exactly one more passes.
    assert_eq!(send(&r, &io, &req, T0 + 2000).0, 200);
    assert_eq!(send(&r, &io, &req, T0 + 2000).0, 429);
}

#[test]
fn passing_responses_carry_the_fields() {
    let r = rules(api_rule(json!({ "key": ["ip"], "rate": 10, "period": 1, "burst": 20 })));
    let io = MemoryCounters::default();
    let (status, headers, _) = send(&r, &io, &request("/api/x", "198.51.100.7", &[]), T0);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "ratelimit-policy"), Some("\"api\";q=21;w=3"));
    assert_eq!(header(&headers, "ratelimit"), Some("\"api\";r=20;t=1"));
    assert_eq!(header(&headers, "retry-after"), None);
    // Not on routes without a rule.
    let (_, headers, ctx) = send(&r, &io, &request("/other", "198.51.100.7", &[]), T0);
    assert_eq!(header(&headers, "ratelimit"), None);
    assert!(ctx.records.iter().any(|r| r.action == "continue" && r.rule.is_none()));
}

#[test]
fn keys_are_isolated_by_ip_and_by_api_key() {
    let r = rules(api_rule(json!({ "key": ["ip"], "rate": 1, "period": 60, "burst": 1 })));
    let io = MemoryCounters::default();
    let a = request("/api/x", "198.51.100.7", &[]);
    let b = request("/api/x", "198.51.100.8", &[]);
    assert_eq!([send(&r, &io, &a, T0).0, send(&r, &io, &a, T0).0, send(&r, &io, &a, T0).0], [200, 200, 429]);
    assert_eq!([send(&r, &io, &b, T0).0, send(&r, &io, &b, T0).0, send(&r, &io, &b, T0).0], [200, 200, 429]);

    let r = rules(api_rule(json!({ "key": ["header:x-api-key"], "rate": 1, "period": 60, "burst": 1 })));
    let io = MemoryCounters::default();
    // Same IP, two keys: separate budgets.
    let k1 = request("/api/x", "198.51.100.7", &[("x-api-key", "k1")]);
    let k2 = request("/api/x", "198.51.100.7", &[("x-api-key", "k2")]);
    assert_eq!([send(&r, &io, &k1, T0).0, send(&r, &io, &k1, T0).0, send(&r, &io, &k1, T0).0], [200, 200, 429]);
    assert_eq!([send(&r, &io, &k2, T0).0, send(&r, &io, &k2, T0).0, send(&r, &io, &k2, T0).0], [200, 200, 429]);
    // No key: this rule does not count the request (nginx's empty-key rule).
    let none = request("/api/x", "198.51.100.7", &[]);
    for _ in 0..5 {
        let (status, _, ctx) = send(&r, &io, &none, T0);
        assert_eq!(status, 200);
        assert!(ctx.records.iter().any(|r| r.action == "skip"));
    }
}

#[test]
fn health_checks_are_never_limited() {
    let by_when = json!([{ "id": "all", "when": { "paths": ["!/health"] }, "action": "block",
                           "params": { "key": ["ip"], "rate": 1, "period": 60 } }]);
    let by_exempt = json!([{ "id": "all", "action": "block",
                             "params": { "key": ["ip"], "rate": 1, "period": 60, "exempt": ["/health"] } }]);
    for doc in [by_when, by_exempt] {
        let r = rules(doc);
        let io = MemoryCounters::default();
        for _ in 0..10 {
            let (status, headers, _) = send(&r, &io, &request("/health", "198.51.100.7", &[]), T0);
            assert_eq!(status, 200);
            assert_eq!(header(&headers, "ratelimit-policy"), None, "not counted, not advertised");
        }
        let other = request("/x", "198.51.100.7", &[]);
        assert_eq!([send(&r, &io, &other, T0).0, send(&r, &io, &other, T0).0], [200, 429]);
        assert_eq!(send(&r, &io, &request("/health", "198.51.100.7", &[]), T0).0, 200, "still open while limited");
    }
}

#[test]
fn claim_keys_use_only_verified_claims() {
    let r = rules(api_rule(json!({ "key": ["claim:sub"], "rate": 1, "period": 60 })));
    let io = MemoryCounters::default();
    let req = request("/api/x", "198.51.100.7", &[("authorization", "Bearer a.b.c")]);
    let run = |claims: Option<Value>| {
        let mut ctx = Ctx::new("r", T0);
        ctx.facts.verified_claims = claims.and_then(|c| c.as_object().cloned());
        let d = block_on(edge::phases::limit::run(&r, &req, &mut ctx, &io));
        (matches!(d, edge::pipeline::Verdict::Continue), ctx)
    };
    // Unverified: never counted under a claim.
    for _ in 0..3 {
        let (passed, ctx) = run(None);
        assert!(passed && ctx.records.iter().any(|r| r.action == "skip"));
    }
    assert!(run(Some(json!({ "sub": "alice" }))).0);
    assert!(!run(Some(json!({ "sub": "alice" }))).0, "alice's second request in a minute");
    assert!(run(Some(json!({ "sub": "bob" }))).0, "bob has his own budget");
}

#[test]
fn log_mode_passes_everything_and_records_the_would_be_decision() {
    let r = rules(json!([
        { "id": "shadow-action", "action": "log", "params": { "key": ["ip"], "rate": 1, "period": 60 } },
        { "id": "shadow-mode", "mode": "log", "action": "block", "params": { "key": ["ip"], "rate": 1, "period": 60 } }
    ]));
    let io = MemoryCounters::default();
    let req = request("/x", "198.51.100.7", &[]);
    assert_eq!(send(&r, &io, &req, T0).0, 200);
    for _ in 0..5 {
        let (status, headers, ctx) = send(&r, &io, &req, T0);
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "ratelimit"), None, "shadow rules are invisible to clients");
        for id in ["shadow-action", "shadow-mode"] {
            let rec = ctx.records.iter().find(|r| r.rule.as_deref() == Some(id)).expect("recorded");
            assert_eq!(rec.action, "log");
            assert_eq!(rec.note.as_deref(), Some("would limit; retry after 60 s"));
        }
        let line = edge::log::RequestLog::new(&req, &ctx, status, T0).to_line();
        assert!(line.contains("would limit"), "{line}");
    }
}

#[test]
fn mitigation_timeout_keeps_a_key_limited() {
    let r = rules(api_rule(json!({ "key": ["ip"], "rate": 1, "period": 1, "timeout": 30 })));
    let io = MemoryCounters::default();
    let req = request("/api/x", "198.51.100.7", &[]);
    assert_eq!(send(&r, &io, &req, T0).0, 200);
    let (status, headers, _) = send(&r, &io, &req, T0);
    assert_eq!((status, header(&headers, "retry-after")), (429, Some("30")));
    // GCRA alone would pass after 1 s; the timeout holds for 30.
    assert_eq!(send(&r, &io, &req, T0 + 5_000).0, 429);
    assert_eq!(send(&r, &io, &req, T0 + 30_000).0, 200);
}

#[test]
fn store_errors_follow_on_error() {
    let open = rules(api_rule(json!({ "key": ["ip"], "rate": 1, "period": 60 })));
    let closed = rules(json!([{ "id": "api", "on_error": "closed", "action": "block",
                                "params": { "key": ["ip"], "rate": 1, "period": 60 } }]));
    let io = MemoryCounters::default();
    io.fail.set(true);
    let req = request("/api/x", "198.51.100.7", &[]);
    for _ in 0..3 {
        let (status, _, ctx) = send(&open, &io, &req, T0);
        assert_eq!(status, 200);
        let rec = ctx.records.iter().find(|r| r.action == "error").expect("error recorded");
        assert!(rec.note.as_deref().is_some_and(|n| n.contains("open") && n.contains("unavailable")), "{rec:?}");
    }
    assert_eq!(send(&closed, &io, &req, T0).0, 503);
    // NoIo has no store at all: open by default.
    let mut ctx = Ctx::new("r", T0);
    let d = block_on(Pipeline::new(&open).request_filter(&req, &mut ctx, &NoIo));
    assert!(matches!(d, Decision::Forward { .. }));
}

#[test]
fn several_rules_make_one_list_per_field() {
    let r = rules(json!([
        { "id": "per-ip", "action": "block", "params": { "key": ["ip"], "rate": 10, "period": 1, "burst": 9 } },
        { "id": "per-prefix", "action": "block", "params": { "key": ["ip_prefix"], "rate": 100, "period": 60, "burst": 99, "store": "local" } }
    ]));
    let io = MemoryCounters::default();
    let (_, headers, _) = send(&r, &io, &request("/x", "198.51.100.7", &[]), T0);
    assert_eq!(header(&headers, "ratelimit-policy"), Some("\"per-ip\";q=10;w=1, \"per-prefix\";q=100;w=60"));
    assert_eq!(header(&headers, "ratelimit"), Some("\"per-ip\";r=9;t=1, \"per-prefix\";r=99;t=1"));
}

#[test]
fn validation_rejects_impossible_rules_with_paths() {
    let doc = json!({ "version": 1, "phases": { "limit": [
        { "id": "a", "action": "block", "params": { "key": [], "rate": 0, "period": 0 } },
        { "id": "b", "action": "block", "params": { "key": ["ip"], "rate": 5, "period": 30, "burst": 3, "timeout": 5,
                                                    "store": "local", "binding": "RL" } },
        { "id": "c", "action": "block", "params": { "key": ["ip", "ip", "hedaer:x"], "rate": 1, "period": 1,
                                                    "burst": 1000000, "status": 200, "binding": "RL", "exempt": ["health"] } },
        { "id": "d", "action": "log", "params": { "key": ["ip"], "rate": 1, "period": 1, "status": 429 } },
        { "id": "e", "action": "throttle", "params": {} },
        { "id": "f", "action": "block", "params": { "key": ["ip"], "rate": 1, "period": 1, "sotre": "local" } },
        { "id": "g", "action": "block", "params": { "rate": 1, "period": 1 } }
    ] } });
    let errors = edge::rules::parse(doc.to_string().as_bytes()).unwrap_err();
    let text = errors.to_string();
    for (path, words) in [
        ("$.phases.limit[0].params.key", "at least one"),
        ("$.phases.limit[0].params.rate", "rate must be"),
        ("$.phases.limit[0].params.period", "period must be"),
        ("$.phases.limit[1].params.period", "10 or 60"),
        ("$.phases.limit[1].params.burst", "no burst"),
        ("$.phases.limit[1].params.timeout", "mitigation timeout"),
        ("$.phases.limit[2].params.key[1]", "twice"),
        ("$.phases.limit[2].params.key[2]", "unknown key characteristic"),
        ("$.phases.limit[2].params.burst", "at most"),
        ("$.phases.limit[2].params.status", "400 to 599"),
        ("$.phases.limit[2].params.binding", "local store"),
        ("$.phases.limit[2].params.exempt[0]", "must start with"),
        ("$.phases.limit[3].params.status", "block action only"),
        ("$.phases.limit[4].action", "expected one of block, log"),
        ("$.phases.limit[5].params.sotre", "unknown field"),
        ("$.phases.limit[6].params", "key"),
    ] {
        assert!(
            errors.0.iter().any(|e| e.path == path && e.message.contains(words)),
            "missing {path}: {words}\n{text}"
        );
    }
}

#[test]
fn every_example_document_is_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/rules");
    let mut limits = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let rules = edge::rules::parse(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            limits += rules.limit.len();
        }
    }
    assert!(limits >= 7, "the nginx limit examples are present");
}

#[test]
fn nginx_api_example_admits_burst_plus_one() {
    // limit_req zone=api rate=10r/s burst=20 nodelay: 21 at once, then 10/s.
    let r = edge::rules::parse(include_bytes!("../../examples/rules/limits-api-auth.json")).unwrap();
    let io = MemoryCounters::default();
    let req = request("/api/items", "198.51.100.7", &[]);
    let passed = (0..30).filter(|_| send(&r, &io, &req, T0).0 == 200).count();
    assert_eq!(passed, 21);
    assert_eq!(send(&r, &io, &req, T0 + 100).0, 200, "one more every 100 ms");
    assert_eq!(send(&r, &io, &req, T0 + 100).0, 429);
    // /health is never limited; auth is 2 r/s without burst.
    assert!((0..50).all(|_| send(&r, &io, &request("/health", "198.51.100.7", &[]), T0).0 == 200));
    let login = request("/login", "198.51.100.9", &[]);
    assert_eq!([send(&r, &io, &login, T0).0, send(&r, &io, &login, T0).0], [200, 429]);
    assert_eq!(send(&r, &io, &login, T0 + 500).0, 200);
}

#[test]
fn binding_rules_advertise_the_fixed_window_and_state_only_when_limited() {
    let r = rules(api_rule(json!({ "key": ["ip"], "rate": 2, "period": 10, "store": "local", "binding": "RATE_LIMITER" })));
    let io = MemoryCounters::default();
    let req = request("/api/x", "198.51.100.7", &[]);
    let (status, headers, _) = send(&r, &io, &req, T0);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "ratelimit-policy"), Some("\"api\";q=2;w=10"));
    assert_eq!(header(&headers, "ratelimit"), None, "the binding does not say what remains");
    let (status, headers, _) = send(&r, &io, &req, T0);
    assert_eq!(status, 429);
    assert!(header(&headers, "ratelimit").is_some_and(|v| v.starts_with("\"api\";r=0")));
}
