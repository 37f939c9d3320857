//! The wasm shell's translation code under a real JS engine (Node, through
//! `wasm-bindgen-test-runner`): what the native tests cannot reach — reading
//! `request.cf` and headers off a JS `Request`, writing header edits into JS
//! `Headers`, the body tee, and the panic hook.
//!
//! Run: `cargo test -p edge --target wasm32-unknown-unknown --test wasm_shell`
//! with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner`
//! (scripts/test.sh does).
#![cfg(target_arch = "wasm32")]

use edge::phases::respond::HeaderOp;
use edge::pipeline::EdgeResponse;
use edge::shell::{body, convert, install_panic_hook, task};
use wasm_bindgen::prelude::*;
use worker::wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use worker::js_sys::{JSON, Reflect};
use worker::{Headers, Method, Request, RequestInit};

fn request(method: Method, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Request {
    let h = Headers::new();
    for (n, v) in headers {
        h.set(n, v).unwrap();
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(h);
    if let Some(b) = body {
        init.with_body(Some(JsValue::from_str(b)));
    }
    Request::new_with_init(url, &init).unwrap()
}

/// Sets `request.cf` as workerd does (here from JSON, as `MF-CF-Blob` does).
fn with_cf(req: &Request, json: &str) {
    Reflect::set(req.inner(), &JsValue::from_str("cf"), &JSON::parse(json).unwrap()).unwrap();
}

#[wasm_bindgen_test]
fn request_info_reads_url_headers_and_client_ip() {
    let req = request(
        Method::Post,
        "https://API.Example.com:8443/v1/items?q=1&b=2",
        &[("CF-Connecting-IP", " 2001:db8::7 "), ("X-Mixed-Case", "Value Kept")],
        None,
    );
    let info = convert::request_info(req.inner());
    assert_eq!(info.method, "POST");
    assert_eq!((info.scheme.as_str(), info.host.as_str(), info.port), ("https", "api.example.com", Some(8443)));
    assert_eq!((info.path.as_str(), info.query.as_deref()), ("/v1/items", Some("q=1&b=2")));
    assert_eq!(info.client_ip, Some("2001:db8::7".parse().unwrap()));
    // Names are lower-cased once here; values are kept as sent.
    assert_eq!(info.header("x-mixed-case"), Some("Value Kept"));
    assert_eq!(info.cf, Default::default(), "no request.cf, no facts");
}

#[wasm_bindgen_test]
fn request_cf_fields_are_read_and_odd_ones_ignored() {
    let req = request(Method::Get, "https://example.com/", &[], None);
    with_cf(
        &req,
        r#"{"country":"DE","continent":"EU","regionCode":"BY","asn":3320,"colo":"FRA",
            "botManagement":{"score":12,"verifiedBot":true},"clientAcceptEncoding":"","unknownField":[1,2]}"#,
    );
    let cf = convert::request_info(req.inner()).cf;
    assert_eq!(cf.country.as_deref(), Some("DE"));
    assert_eq!(cf.continent.as_deref(), Some("EU"));
    assert_eq!(cf.region_code.as_deref(), Some("BY"));
    assert_eq!(cf.asn, Some(3320));
    assert_eq!(cf.colo.as_deref(), Some("FRA"));
    let bm = cf.bot_management.unwrap();
    assert_eq!((bm.score, bm.verified_bot), (Some(12), true));

    // A field of the wrong type makes the whole object unusable, never an exception.
    let odd = request(Method::Get, "https://example.com/", &[], None);
    with_cf(&odd, r#"{"country":7,"asn":"not a number"}"#);
    assert_eq!(convert::request_info(odd.inner()).cf, Default::default());
    let not_object = request(Method::Get, "https://example.com/", &[], None);
    with_cf(&not_object, r#""a string""#);
    assert_eq!(convert::request_info(not_object.inner()).cf, Default::default());
}

#[wasm_bindgen_test]
fn header_ops_edit_js_headers_in_order() {
    let headers = Headers::new();
    headers.set("server", "nginx").unwrap();
    headers.set("vary", "Accept-Encoding").unwrap();
    headers.set("x-frame-options", "SAMEORIGIN").unwrap();
    convert::apply_header_ops(
        &headers,
        &[
            HeaderOp::Remove("server".into()),
            HeaderOp::Set("strict-transport-security".into(), "max-age=63072000".into()),
            HeaderOp::SetIfAbsent("x-frame-options".into(), "DENY".into()),
            HeaderOp::SetIfAbsent("x-content-type-options".into(), "nosniff".into()),
            HeaderOp::AppendToken("vary".into(), "Origin".into()),
            HeaderOp::AppendToken("vary".into(), "origin".into()),
            // A value the runtime refuses is skipped; the rest still apply.
            HeaderOp::Set("bad name".into(), "x".into()),
            HeaderOp::Set("x-after".into(), "1".into()),
        ],
    );
    assert_eq!(headers.get("server").unwrap(), None);
    assert_eq!(headers.get("strict-transport-security").unwrap().as_deref(), Some("max-age=63072000"));
    assert_eq!(headers.get("x-frame-options").unwrap().as_deref(), Some("SAMEORIGIN"));
    assert_eq!(headers.get("x-content-type-options").unwrap().as_deref(), Some("nosniff"));
    assert_eq!(headers.get("vary").unwrap().as_deref(), Some("Accept-Encoding, Origin"));
    assert_eq!(headers.get("x-after").unwrap().as_deref(), Some("1"));
}

#[wasm_bindgen_test]
async fn edge_response_carries_status_headers_and_body() {
    let r = EdgeResponse {
        status: 429,
        headers: vec![("content-type".into(), "application/json".into()), ("retry-after".into(), "3".into())],
        body: r#"{"error":"slow down"}"#.into(),
    };
    let made = convert::edge_response(&r);
    let mut resp = worker::Response::from(convert::finish(&made, &[HeaderOp::Set("x-edge-cache".into(), "BYPASS".into())]));
    assert_eq!(resp.status_code(), 429);
    assert_eq!(resp.headers().get("retry-after").unwrap().as_deref(), Some("3"));
    assert_eq!(resp.headers().get("x-edge-cache").unwrap().as_deref(), Some("BYPASS"));
    assert_eq!(resp.text().await.unwrap(), r#"{"error":"slow down"}"#);

    // A body without a declared type gets none (a JS string body would add text/plain).
    let plain = EdgeResponse { status: 403, headers: vec![], body: "forbidden".into() };
    let resp = worker::Response::from(convert::edge_response(&plain));
    assert_eq!(resp.headers().get("content-type").unwrap(), None);

    // 204 carries no body at all (a body, even empty, would be a runtime error).
    let empty = EdgeResponse { status: 204, headers: vec![], body: String::new() };
    let resp = worker::Response::from(convert::finish(&convert::edge_response(&empty), &[]));
    assert_eq!(resp.status_code(), 204);
    assert!(matches!(resp.body(), worker::ResponseBody::Empty));
}

#[wasm_bindgen_test]
async fn finish_edits_a_copy_and_streams_the_body() {
    let origin = worker::web_sys::ResponseInit::new();
    origin.set_status(201);
    origin.set_status_text("Made");
    let h = Headers::new();
    h.set("vary", "Accept-Encoding").unwrap();
    h.set("server", "nginx").unwrap();
    origin.set_headers(&h.0);
    let fetched = worker::web_sys::Response::new_with_opt_str_and_init(Some("payload"), &origin).unwrap();
    // With an edit that reads the header first (the glue's second path).
    let ops = [HeaderOp::Remove("server".into()), HeaderOp::AppendToken("vary".into(), "Origin".into()), HeaderOp::Set("x-a".into(), "1".into())];
    let out = convert::finish(&fetched, &ops);
    assert_eq!((out.status(), out.status_text().as_str()), (201, "Made"));
    let mut out = worker::Response::from(out);
    assert_eq!(out.headers().get("server").unwrap(), None);
    assert_eq!(out.headers().get("vary").unwrap().as_deref(), Some("Accept-Encoding, Origin"));
    assert_eq!(out.headers().get("x-a").unwrap().as_deref(), Some("1"));
    // The original's headers are untouched (for a fetched response they are immutable).
    assert_eq!(fetched.headers().get("server").unwrap().as_deref(), Some("nginx"));
    assert_eq!(out.text().await.unwrap(), "payload");
}

async fn read_all(stream: worker::web_sys::ReadableStream) -> String {
    let resp = worker::web_sys::Response::new_with_opt_readable_stream(Some(&stream)).unwrap();
    JsFuture::from(resp.text().unwrap()).await.unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
async fn body_tee_gives_the_waf_the_head_and_the_origin_every_byte() {
    let text = "field=".to_string() + &"x".repeat(10_000);
    let req = request(Method::Post, "https://example.com/form", &[("content-type", "text/plain")], Some(&text));
    let (head, rest) = body::read_head(req.inner(), 64).await;
    assert_eq!(head, text.as_bytes()[..64]);
    assert_eq!(read_all(rest.expect("forwarded branch")).await, text);

    // A body shorter than the cap: the head is all of it.
    let short = request(Method::Post, "https://example.com/form", &[], Some("a=1"));
    let (head, rest) = body::read_head(short.inner(), 64).await;
    assert_eq!(head, b"a=1");
    assert_eq!(read_all(rest.unwrap()).await, "a=1");

    // No body: nothing to inspect, nothing to forward.
    let get = request(Method::Get, "https://example.com/", &[], None);
    let (head, rest) = body::read_head(get.inner(), 64).await;
    assert!(head.is_empty() && rest.is_none());
}

#[wasm_bindgen(inline_js = "
export function later(value, ms, fail) {
  return new Promise((resolve, reject) => setTimeout(() => (fail ? reject(value) : resolve(value)), ms));
}")]
extern "C" {
    /// A promise settled with `value` after `ms` (rejected when `fail`).
    fn later(value: JsValue, ms: u32, fail: bool) -> worker::js_sys::Promise;
}

fn status(code: u16) -> worker::web_sys::Response {
    worker::Response::empty().unwrap().with_status(code).into()
}

/// What a task's `fetch` gave the runtime: a Response, or a Promise of one.
async fn answered(value: JsValue) -> (bool, u16) {
    let promised = value.is_instance_of::<worker::js_sys::Promise>();
    let value = if promised { JsFuture::from(worker::js_sys::Promise::from(value)).await.unwrap() } else { value };
    (promised, value.dyn_into::<worker::web_sys::Response>().expect("a Response").status())
}

#[wasm_bindgen_test]
async fn a_task_that_never_waits_answers_without_a_promise() {
    assert_eq!(answered(task::run(async { status(204) })).await, (false, 204));
}

#[wasm_bindgen_test]
async fn a_task_resumes_from_each_promise_it_awaits() {
    // Two awaits in a row, a fulfilled and a rejected one, each resumed by the glue.
    let run = task::run(async {
        let a = task::settled(later(JsValue::from(200), 5, false)).await;
        let b = task::settled(later(JsValue::from_str("no"), 1, true)).await;
        match (a.ok().and_then(|v| v.as_f64()), b.err().and_then(|v| v.as_string())) {
            (Some(code), Some(why)) if why == "no" => status(code as u16 + 1),
            _ => status(500),
        }
    });
    assert_eq!(answered(run).await, (true, 201));
}

#[wasm_bindgen_test]
async fn tasks_in_flight_at_once_get_their_own_answers() {
    // Settled in the opposite order of their start; both wait in this
    // executor (not handed over) until their promise settles.
    let before = task::in_flight();
    let slow = task::run(async { status(task::settled(later(JsValue::from(201), 20, false)).await.unwrap().as_f64().unwrap() as u16) });
    let fast = task::run(async { status(task::settled(later(JsValue::from(202), 1, false)).await.unwrap().as_f64().unwrap() as u16) });
    assert_eq!(task::in_flight(), before + 2);
    assert_eq!(answered(fast).await, (true, 202));
    assert_eq!(answered(slow).await, (true, 201));
    assert_eq!(task::in_flight(), before);
}

#[wasm_bindgen_test]
async fn other_futures_hand_the_task_to_wasm_bindgen_futures() {
    // A JsFuture (as workers-rs' KV and Cache calls are), then a settled promise
    // outside any task of this executor; and two promises awaited at once, one
    // resumed by the glue and the other by its waker.
    let before = task::in_flight();
    let run = task::run(async {
        let kv = JsFuture::from(later(JsValue::from(1), 2, false)).await.unwrap().as_f64().unwrap();
        let after = task::settled(later(JsValue::from(2), 1, false)).await.unwrap().as_f64().unwrap();
        status(200 + (kv + after) as u16)
    });
    assert_eq!(task::in_flight(), before, "handed over at its first await");
    assert_eq!(answered(run).await, (true, 203));
    let both = task::run(async {
        let (a, b) = futures_util::future::join(
            task::settled(later(JsValue::from(3), 3, false)),
            task::settled(later(JsValue::from(4), 1, false)),
        )
        .await;
        status(200 + (a.unwrap().as_f64().unwrap() + b.unwrap().as_f64().unwrap()) as u16)
    });
    assert_eq!(answered(both).await, (true, 207));
}

#[wasm_bindgen(inline_js = "
export function console_errors_while(f) {
  const original = console.error;
  const seen = [];
  console.error = (...args) => seen.push(args.map(String).join(' '));
  try { f(); } catch (e) { seen.push('thrown: ' + e); } finally { console.error = original; }
  return seen.join('\\n');
}")]
extern "C" {
    /// Runs `f`, returning what it (or a panic inside it) wrote to `console.error`.
    fn console_errors_while(f: &dyn Fn()) -> String;
}

#[wasm_bindgen_test]
fn a_panic_logs_its_message_and_location() {
    // The test runner logs panics itself: start from a silent hook, as the
    // worker does (std's default writes nowhere on wasm32-unknown-unknown).
    // One panic per test run: after a trap the thread counts as panicking.
    std::panic::set_hook(Box::new(|_| {}));
    install_panic_hook();
    let logged = console_errors_while(&|| panic!("deliberate panic for the hook test"));
    assert!(logged.contains("deliberate panic for the hook test"), "message not logged: {logged}");
    assert!(logged.contains("wasm_shell.rs"), "location not logged: {logged}");
}
