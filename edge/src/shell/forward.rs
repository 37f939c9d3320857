//! `forward`: the signed request to the origin, bodies streamed both ways.

use std::cell::RefCell;

use origin_sdk::sign::Signer;
use wasm_bindgen::JsValue;
use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{
    console_log, js_sys, Date, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
    Response, Result,
};

use super::{body as body_stream, convert};
use crate::pipeline::{Ctx, EdgeResponse, Phase};
use crate::request::RequestInfo;
use crate::rules::Rules;
use crate::signing::{self, Outgoing};
use crate::trust;
use crate::upstream::{self, Health, Outcome};

thread_local! {
    /// The parsed signing key, keyed by the secret's text so a rotated secret
    /// is picked up by new isolates and by this one alike.
    static SIGNER: RefCell<Option<(String, Signer)>> = const { RefCell::new(None) };
    /// Passive health of origin servers, per isolate (like nginx's per-worker state).
    static HEALTH: RefCell<Health> = RefCell::new(Health::default());
}

/// The signer from the Worker secret. Without one the edge forwards nothing:
/// an unsigned request would be refused by the origin anyway, and failing here
/// says why.
fn signer(env: &Env, validity: u64) -> std::result::Result<Signer, String> {
    let spec = env.secret(signing::SECRET_NAME).map_err(|_| format!("secret {} is not set", signing::SECRET_NAME))?.to_string();
    SIGNER.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some((cached, s)) = cell.as_ref() {
            if *cached == spec {
                return Ok(s.clone().validity(validity));
            }
        }
        let s = Signer::new(signing::signing_key(&spec)?);
        *cell = Some((spec, s.clone()));
        Ok(s.validity(validity))
    })
}

/// Sends the request to the named origin's pool: GET and HEAD fail over to
/// the next server on connect error, timeout or 5xx; every attempt updates the
/// isolate's passive health table. When all attempts fail the edge answers
/// 502 (504 after a timeout) with a small body, never hangs.
///
/// `body`, when given, replaces the client's body stream (the WAF read the
/// other branch of a tee).
pub async fn send(
    req: Request,
    body: Option<worker::web_sys::ReadableStream>,
    env: &Env,
    rules: &Rules,
    info: &RequestInfo,
    ctx: &mut Ctx,
    origin: &str,
) -> Result<Response> {
    let fail = |ctx: &mut Ctx, status: u16, why: &str, note: &str| {
        ctx.record(Phase::Forward, "error", None, Some(note));
        convert::edge_response(&EdgeResponse::error(status, why, None, &ctx.request_id), &[])
    };
    let signer = match signer(env, rules.settings.signature_validity_seconds) {
        Ok(s) => s,
        Err(why) => {
            console_log!("{}", serde_json::json!({"msg": "signing_key_unavailable", "level": "error", "error": why}));
            return fail(ctx, 500, "edge signing key is not configured", "no signing key");
        }
    };
    let Some(pool) = rules.origins.get(origin) else {
        return fail(ctx, 502, "origin not configured", "no pool");
    };
    let mut base_headers = trust::upstream_headers(info, ctx, rules.settings.drop_underscore_headers);
    if upstream::wants_websocket(info) {
        upstream::websocket_headers(&mut base_headers);
    }
    let method = Method::from(info.method.clone());
    let stream = match method {
        Method::Get | Method::Head => None,
        _ => body.or_else(|| req.inner().body()),
    };
    // A `limits` rule caps a body streamed without Content-Length: the same
    // controller aborts the fetch when the count passes the limit.
    let abort = ctx.body_limit.and_then(|_| worker::web_sys::AbortController::new().ok());
    let (stream, counted) = match (stream, ctx.body_limit, abort.clone()) {
        (Some(s), Some(limit), Some(abort)) => match body_stream::count_limited(s.clone(), limit, abort) {
            Some((limited, seen)) => (Some(limited), Some((limit, seen))),
            None => (Some(s), None),
        },
        (s, ..) => (s, None),
    };
    let over_limit = || counted.as_ref().is_some_and(|(limit, seen)| seen.get() > *limit);
    let mut body: Option<JsValue> = stream.map(JsValue::from);
    let order = HEALTH.with(|h| upstream::plan(pool, &h.borrow(), Date::now().as_millis(), js_sys::Math::random));
    let attempts = if upstream::may_fail_over(&info.method) { order.len() } else { order.len().min(1) };
    let mut last = Outcome::ConnectError;
    for (n, &i) in order.iter().take(attempts).enumerate() {
        let Some(server) = pool.servers.get(i) else { continue };
        let url = server.url_for(&info.path, info.query.as_deref());
        let Ok(parsed) = url::Url::parse(&url) else {
            return fail(ctx, 502, "bad origin URL", "bad url");
        };
        let mut headers = base_headers.clone();
        let out = Outgoing::new(&info.method, &parsed, &headers);
        let sig = match signing::sign(&signer, &out, ctx.now_ms / 1000, &ctx.request_id) {
            Ok(s) => s,
            Err(e) => {
                console_log!("{}", serde_json::json!({"msg": "sign_failed", "level": "error", "error": e.to_string()}));
                return fail(ctx, 500, "could not sign the forwarded request", "sign failed");
            }
        };
        headers.push(("signature-input".into(), sig.signature_input));
        headers.push(("signature".into(), sig.signature));
        let outgoing = Headers::new();
        for (n, v) in &headers {
            // A header value the runtime refuses cannot be forwarded faithfully.
            if outgoing.append(n, v).is_err() {
                return fail(ctx, 400, "request header not forwardable", "bad header");
            }
        }
        let mut init = RequestInit::new();
        init.with_method(method.clone()).with_headers(outgoing).with_redirect(RequestRedirect::Manual).with_body(body.take());
        let upstream = Request::new_with_init(&url, &init)?;
        let controller = match abort.clone().map_or_else(worker::web_sys::AbortController::new, Ok) {
            Ok(c) => c,
            Err(_) => return fail(ctx, 500, "could not start the origin request", "no abort controller"),
        };
        let result = fetch_with_timeout(upstream, pool.timeout_ms, controller).await;
        if over_limit() {
            return fail(ctx, 413, "request body too large", "streamed body over limit");
        }
        let outcome = match &result {
            Ok(resp) => Outcome::from_status(resp.status_code()),
            Err(o) => *o,
        };
        HEALTH.with(|h| {
            let mut h = h.borrow_mut();
            let now = Date::now().as_millis();
            h.record(pool, server, outcome, now);
            h.prune(now, MAX_FAIL_WINDOW_MS);
        });
        match result {
            Ok(resp) if !outcome.is_failure() || n + 1 == attempts => {
                ctx.record(Phase::Forward, "forwarded", None, Some(&server.base));
                return Ok(resp);
            }
            _ => {
                last = outcome;
                console_log!("{}", serde_json::json!({"msg": "origin_error", "level": "warn", "request_id": ctx.request_id,
                    "origin": origin, "server": server.base, "outcome": outcome.as_str(), "attempt": n + 1}));
                ctx.record(Phase::Forward, "failover", None, Some(&format!("{} {}", server.base, outcome.as_str())));
            }
        }
    }
    console_log!("{}", serde_json::json!({"msg": "origin_exhausted", "level": "error", "request_id": ctx.request_id,
        "origin": origin, "attempts": attempts, "last": last.as_str()}));
    let status = upstream::exhausted_status(last);
    let why = if status == 504 { "origin timed out" } else { "origin unavailable" };
    fail(ctx, status, why, last.as_str())
}

/// Longest `fail_timeout_seconds` accepted; health entries older than this are dropped.
const MAX_FAIL_WINDOW_MS: u64 = 3_600_000;

/// The fetch raced with the pool's timeout (to response headers; the body
/// then streams); a timed-out fetch is aborted.
async fn fetch_with_timeout(
    req: Request,
    timeout_ms: u64,
    controller: worker::web_sys::AbortController,
) -> std::result::Result<Response, Outcome> {
    let signal: worker::AbortSignal = controller.signal().into();
    let fetch = Fetch::Request(req);
    let sent = Box::pin(fetch.send_with_signal(&signal));
    let delay = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    let result = match select(sent, delay).await {
        Either::Left((Ok(resp), _)) => Ok(resp),
        Either::Left((Err(_), _)) => Err(Outcome::ConnectError),
        Either::Right(((), _)) => Err(Outcome::Timeout),
    };
    if result.is_err() {
        controller.abort();
    }
    result
}
