//! The pipeline natively, end to end: decision, upstream headers, signature,
//! and origin-sdk verifying what the edge would send.

use edge::pipeline::{Ctx, Decision, Pipeline};
use edge::request::RequestInfo;
use edge::signing::{self, Outgoing};
use edge::testing::{block_on, NoIo};
use origin_sdk::sign::Signer;
use origin_sdk::{KeySet, Verifier};

const RULES: &str = include_str!("../../examples/rules/basic.json");
const KEY: &str = "k1:ed25519:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const PUBLIC: &str = "k1:ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=";

fn request(path: &str, headers: &[(&str, &str)]) -> RequestInfo {
    let mut req = RequestInfo::from_url("GET", &format!("https://shop.example{path}")).unwrap();
    req.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    req.client_ip = "198.51.100.7".parse().ok();
    req.cf.country = Some("DE".into());
    req.cf.colo = Some("FRA".into());
    req
}

fn decide(req: &RequestInfo) -> (Decision, Ctx) {
    let rules = edge::rules::parse(RULES.as_bytes()).unwrap();
    let mut ctx = Ctx::new("req-1", 1_700_000_000_000);
    let d = block_on(Pipeline::new(&rules).request_filter(req, &mut ctx, &NoIo));
    (d, ctx)
}

#[test]
fn forwards_and_the_origin_verifies_what_was_signed() {
    let req = request("/hello?a=1", &[("x-edge-country", "XX"), ("signature", "forged"), ("accept", "*/*"), ("x_edge_user", "forged")]);
    let (decision, ctx) = decide(&req);
    let Decision::Forward { url, origin } = decision else { panic!("expected forward: {decision:?}") };
    assert_eq!((origin.as_str(), url.as_str()), ("app", "http://127.0.0.1:9000/hello?a=1"));

    let mut headers = edge::trust::upstream_headers(&req, &ctx, true);
    assert!(!headers.iter().any(|(n, v)| n == "signature" || v == "XX" || v == "forged"), "client trust headers and twins stripped");
    let parsed = url::Url::parse(&url).unwrap();
    let signer = Signer::new(signing::signing_key(KEY).unwrap());
    let sig = signing::sign(&signer, &Outgoing::new("GET", &parsed, &headers), 1_700_000_000, &ctx.request_id).unwrap();
    headers.push(("signature-input".into(), sig.signature_input));
    headers.push(("signature".into(), sig.signature));

    let mut http_req = http::Request::get(&url).header("host", "127.0.0.1:9000");
    for (n, v) in &headers {
        http_req = http_req.header(n, v);
    }
    let mut http_req = http_req.body(()).unwrap();
    let facts = Verifier::new(KeySet::from_spec(PUBLIC).unwrap()).verify_and_strip(&mut http_req, 1_700_000_001).unwrap();
    assert_eq!(facts.country.as_deref(), Some("DE"));
    assert_eq!(facts.client_ip, "198.51.100.7".parse().ok());
    assert_eq!(facts.request_id.as_deref(), Some("req-1"));
    assert_eq!(facts.user, None);
}

#[test]
fn filter_rules_answer_at_the_edge_and_record_the_rule() {
    let (decision, ctx) = decide(&request("/.env", &[]));
    let Decision::Respond(r) = decision else { panic!("expected a response") };
    assert_eq!(r.status, 404);
    assert!(r.body.contains("no-dotfiles"));
    assert_eq!(ctx.matched_rules().collect::<Vec<_>>(), ["no-dotfiles"]);
}

#[test]
fn negated_ip_lists_admit_the_office_only() {
    let (d, _) = decide(&request("/admin/x", &[]));
    assert!(matches!(d, Decision::Respond(ref r) if r.status == 403));
    let mut office = request("/admin/x", &[]);
    office.client_ip = "203.0.113.9".parse().ok();
    assert!(matches!(decide(&office).0, Decision::Forward { .. }));
}

#[test]
fn respond_phase_sets_security_headers() {
    let rules = edge::rules::parse(RULES.as_bytes()).unwrap();
    let req = request("/", &[]);
    let mut ctx = Ctx::new("r", 0);
    let ops = Pipeline::new(&rules).response_filter(&req, &mut ctx);
    let mut headers = vec![("server".to_string(), "nginx".to_string()), ("x-frame-options".into(), "SAMEORIGIN".into())];
    edge::phases::respond::apply(&ops, &mut headers);
    assert!(!headers.iter().any(|(n, _)| n == "server"));
    assert!(headers.contains(&("x-frame-options".into(), "DENY".into())));
    assert!(headers.contains(&("x-edge-request-id".into(), "r".into())));
}

#[test]
fn log_line_has_no_query_values() {
    let req = request("/hello?token=secret", &[("cookie", "sid=abc")]);
    let (_, ctx) = decide(&req);
    let line = edge::log::RequestLog::new(&req, &ctx, 200, 1_700_000_000_005).to_line();
    assert!(line.contains("\"path\":\"/hello\"") && line.contains("\"request_id\":\"req-1\""));
    assert!(!line.contains("secret") && !line.contains("abc"), "{line}");
}
