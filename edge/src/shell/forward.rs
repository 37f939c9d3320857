//! `forward`: the signed request to the origin, bodies streamed both ways.

use std::cell::RefCell;

use origin_sdk::sign::{SignError, SignatureHeaders, Signer, DEFAULT_LABEL};
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_log, js_sys, Env, Method, Request, Response, Result};

use super::{body as body_stream, convert, glue};
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
///
/// Also the secret's Ed25519 seed (base64) when it is an Ed25519 key, for
/// WebCrypto; [`signing::signing_key`] has checked it is a 32-byte seed.
fn signer(env: &Env, validity: u64) -> std::result::Result<(Signer, Option<String>), String> {
    let spec = env.secret(signing::SECRET_NAME).map_err(|_| format!("secret {} is not set", signing::SECRET_NAME))?.to_string();
    let signer = SIGNER.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some((cached, s)) = cell.as_ref() {
            if *cached == spec {
                return Ok(s.clone().validity(validity));
            }
        }
        let s = Signer::new(signing::signing_key(&spec)?).components(trust::signed_components());
        *cell = Some((spec.clone(), s.clone()));
        Ok::<_, String>(s.validity(validity))
    })?;
    let seed = match spec.trim().splitn(3, ':').collect::<Vec<_>>()[..] {
        [_, "ed25519", seed] => Some(seed.to_string()),
        _ => None,
    };
    Ok((signer, seed))
}

/// The signature headers for `out`: the base and parameters built in Rust
/// as always, the Ed25519 signature itself by the runtime's WebCrypto when
/// the key is Ed25519 (natively several times faster than in wasm), else, or
/// when WebCrypto fails, by the Rust signer.
async fn sign(signer: &Signer, seed: Option<&str>, out: &Outgoing<'_>, created: u64, nonce: &str) -> std::result::Result<SignatureHeaders, SignError> {
    if let Some(seed) = seed {
        let params = signer.params(created, nonce)?;
        let base = origin_sdk::signature_base(out, &params).map_err(SignError::Base)?;
        if let Ok(sig) = JsFuture::from(glue::sign_ed25519(seed, &base)).await {
            if let (Some(sig), Ok(input)) = (sig.as_string(), params.serialize()) {
                return Ok(SignatureHeaders {
                    signature_input: format!("{DEFAULT_LABEL}={input}"),
                    signature: format!("{DEFAULT_LABEL}=:{sig}:"),
                    base,
                });
            }
        }
    }
    signing::sign(signer, out, created, nonce)
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
    let (signer, seed) = match signer(env, rules.settings.signature_validity_seconds) {
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
    let over_limit = || counted.as_ref().is_some_and(|(limit, seen)| seen.seen() > *limit);
    let mut body: JsValue = stream.map_or(JsValue::UNDEFINED, JsValue::from);
    let order = HEALTH.with(|h| upstream::plan(pool, &h.borrow(), super::now_ms(), js_sys::Math::random));
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
        let sig = match sign(&signer, seed.as_deref(), &out, ctx.now_ms / 1000, &ctx.request_id).await {
            Ok(s) => s,
            Err(e) => {
                console_log!("{}", serde_json::json!({"msg": "sign_failed", "level": "error", "error": e.to_string()}));
                return fail(ctx, 500, "could not sign the forwarded request", "sign failed");
            }
        };
        headers.push(("signature-input".into(), sig.signature_input));
        headers.push(("signature".into(), sig.signature));
        let lines = crate::wire::header_lines(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        // The body stream goes with the first attempt only (failover is GET/HEAD).
        let attempt_body = std::mem::replace(&mut body, JsValue::UNDEFINED);
        let result = match fetch_with_timeout(&url, &info.method, &lines, &attempt_body, pool.timeout_ms, abort.as_ref()).await {
            // A header value the runtime refuses cannot be forwarded faithfully.
            Err(Failure::BadHeader) => return fail(ctx, 400, "request header not forwardable", "bad header"),
            Err(Failure::Outcome(o)) => Err(o),
            Ok(resp) => Ok(resp),
        };
        if over_limit() {
            return fail(ctx, 413, "request body too large", "streamed body over limit");
        }
        let outcome = match &result {
            Ok(resp) => Outcome::from_status(resp.status_code()),
            Err(o) => *o,
        };
        HEALTH.with(|h| {
            let mut h = h.borrow_mut();
            let now = super::now_ms();
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

enum Failure {
    BadHeader,
    Outcome(Outcome),
}

/// One upstream attempt in one glue call: the fetch raced with the pool's
/// timeout in JavaScript (to response headers; the body then streams), a
/// timed-out fetch aborted. Replaces a `Delay` race, whose closure, timer and
/// select cost more boundary calls than the fetch itself.
async fn fetch_with_timeout(
    url: &str,
    method: &str,
    header_lines: &str,
    body: &JsValue,
    timeout_ms: u64,
    controller: Option<&worker::web_sys::AbortController>,
) -> std::result::Result<Response, Failure> {
    let promise = glue::forward(url, method, header_lines, body, timeout_ms as f64, controller);
    match JsFuture::from(promise).await {
        Ok(resp) => match resp.dyn_into::<worker::web_sys::Response>() {
            Ok(resp) => Ok(Response::from(resp)),
            Err(_) => Err(Failure::Outcome(Outcome::ConnectError)),
        },
        Err(why) => Err(match why.as_string().as_deref() {
            Some("bad_header") => Failure::BadHeader,
            Some("timeout") => Failure::Outcome(Outcome::Timeout),
            _ => Failure::Outcome(Outcome::ConnectError),
        }),
    }
}
