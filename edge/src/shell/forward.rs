//! `forward`: the signed request to the origin, bodies streamed both ways.

use std::cell::RefCell;
use std::rc::Rc;

use origin_sdk::sign::{SignError, SignatureHeaders, Signer, DEFAULT_LABEL};
use wasm_bindgen::{JsCast, JsValue};
use worker::{console_log, js_sys, web_sys, Env, Method};

use super::{body as body_stream, convert, glue, task};
use crate::pipeline::{Ctx, EdgeResponse, Phase};
use crate::request::RequestInfo;
use crate::rules::Rules;
use crate::signing::{self, Outgoing};
use crate::trust;
use crate::upstream::{self, Health, Outcome};

/// The isolate's signer: the parsed key with the validity it was last asked
/// for, and the key's Ed25519 seed (base64) for WebCrypto.
type CachedSigner = (u64, Rc<Signer>, Option<Rc<str>>);

thread_local! {
    /// Read from the secret once per isolate (a changed secret is a new
    /// deployment, so new isolates); shared, not cloned, by each request.
    static SIGNER: RefCell<Option<CachedSigner>> = const { RefCell::new(None) };
    /// Passive health of origin servers, per isolate (like nginx's per-worker state).
    static HEALTH: RefCell<Health> = RefCell::new(Health::default());
}

/// The signer from the Worker secret. Without one the edge forwards nothing:
/// an unsigned request would be refused by the origin anyway, and failing here
/// says why.
///
/// Also the secret's Ed25519 seed (base64) when it is an Ed25519 key, for
/// WebCrypto; [`signing::signing_key`] has checked it is a 32-byte seed.
fn signer(env: &Env, validity: u64) -> std::result::Result<(Rc<Signer>, Option<Rc<str>>), String> {
    let cached = SIGNER.with(|cell| cell.borrow().clone());
    let (signer, seed) = match cached {
        Some((v, s, seed)) if v == validity => return Ok((s, seed)),
        // A rules document with another validity: the same key, re-set once.
        Some((_, s, seed)) => (Signer::clone(&s).validity(validity), seed),
        None => {
            let spec = env.secret(signing::SECRET_NAME).map_err(|_| format!("secret {} is not set", signing::SECRET_NAME))?.to_string();
            let s = Signer::new(signing::signing_key(&spec)?).components(trust::signed_components()).validity(validity);
            let seed: Option<Rc<str>> = match spec.trim().splitn(3, ':').collect::<Vec<_>>()[..] {
                [_, "ed25519", seed] => Some(seed.into()),
                _ => None,
            };
            (s, seed)
        }
    };
    let signer = Rc::new(signer);
    SIGNER.with(|cell| *cell.borrow_mut() = Some((validity, signer.clone(), seed.clone())));
    Ok((signer, seed))
}

/// An attempt's signature: left to the glue's `forward` (Ed25519 through
/// WebCrypto, natively several times faster than in wasm), or already made
/// by the Rust signer.
enum Signature {
    InGlue { seed: Rc<str>, base: Vec<u8>, input: String },
    Made(SignatureHeaders),
}

/// The signature for `out`: its base and parameters are built in Rust as
/// always; for an Ed25519 key the signing itself is left to the glue, else
/// (or after WebCrypto failed, `rust_only`) the Rust signer signs.
fn prepare_signature(
    signer: &Signer,
    seed: Option<&Rc<str>>,
    rust_only: bool,
    out: &Outgoing<'_>,
    created: u64,
    nonce: &str,
) -> std::result::Result<Signature, SignError> {
    if let (Some(seed), false) = (seed, rust_only) {
        let (base, input) = signer.base_and_input(out, created, nonce)?;
        return Ok(Signature::InGlue { seed: seed.clone(), base, input: format!("{DEFAULT_LABEL}={input}") });
    }
    signing::sign(signer, out, created, nonce).map(Signature::Made)
}

/// Sends the request to the named origin's pool: GET and HEAD fail over to
/// the next server on connect error, timeout or 5xx; every attempt updates the
/// isolate's passive health table. When all attempts fail the edge answers
/// 502 (504 after a timeout) with a small body, never hangs.
///
/// `body`, when given, replaces the client's body stream (the WAF read the
/// other branch of a tee).
pub async fn send(
    req: Option<&web_sys::Request>,
    body: Option<web_sys::ReadableStream>,
    env: &Env,
    rules: &Rules,
    info: &RequestInfo,
    ctx: &mut Ctx,
    origin: &str,
) -> web_sys::Response {
    let fail = |ctx: &mut Ctx, status: u16, why: &str, note: &str| {
        ctx.record(Phase::Forward, "error", None, Some(note));
        convert::edge_response(&EdgeResponse::error(status, why, None, &ctx.request_id))
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
        _ => body.or_else(|| req.and_then(web_sys::Request::body)),
    };
    // A `limits` rule caps a body streamed without Content-Length: the same
    // controller aborts the fetch when the count passes the limit.
    let abort = ctx.body_limit.and_then(|_| web_sys::AbortController::new().ok());
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
        let out = Outgoing::to_server(&info.method, server, &info.path, info.query.as_deref(), &base_headers);
        // The body stream goes with the first attempt only (failover is GET/HEAD).
        let attempt_body = std::mem::replace(&mut body, JsValue::UNDEFINED);
        let mut rust_only = false;
        let result = loop {
            let signature = match prepare_signature(&signer, seed.as_ref(), rust_only, &out, ctx.now_ms / 1000, &ctx.request_id) {
                Ok(s) => s,
                Err(e) => {
                    console_log!("{}", serde_json::json!({"msg": "sign_failed", "level": "error", "error": e.to_string()}));
                    return fail(ctx, 500, "could not sign the forwarded request", "sign failed");
                }
            };
            let pairs = base_headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            let lines = match &signature {
                Signature::Made(sig) => crate::wire::header_lines(
                    pairs.chain([("signature-input", sig.signature_input.as_str()), ("signature", sig.signature.as_str())]),
                ),
                Signature::InGlue { .. } => crate::wire::header_lines(pairs),
            };
            match fetch_with_timeout(&url, &info.method, &lines, &attempt_body, pool.timeout_ms, abort.as_ref(), &signature).await {
                // WebCrypto could not sign: the Rust signer does (the body was not sent).
                Err(Failure::Sign) if !rust_only => rust_only = true,
                Err(Failure::Sign) => return fail(ctx, 500, "could not sign the forwarded request", "sign failed"),
                // A header value the runtime refuses cannot be forwarded faithfully.
                Err(Failure::BadHeader) => return fail(ctx, 400, "request header not forwardable", "bad header"),
                Err(Failure::Outcome(o)) => break Err(o),
                Ok(resp) => break Ok(resp),
            }
        };
        if over_limit() {
            return fail(ctx, 413, "request body too large", "streamed body over limit");
        }
        let outcome = match &result {
            Ok(resp) => Outcome::from_status(resp.status()),
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
                return resp;
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
    Sign,
    Outcome(Outcome),
}

/// One upstream attempt in one glue call: signed there when `signature` is
/// left to the glue, the fetch raced with the pool's timeout in JavaScript (to response
/// headers; the body then streams), a timed-out fetch aborted. Replaces a
/// `Delay` race, whose closure, timer and select cost more boundary calls
/// than the fetch itself, and a separate await for the signature.
async fn fetch_with_timeout(
    url: &str,
    method: &str,
    header_lines: &str,
    body: &JsValue,
    timeout_ms: u64,
    controller: Option<&web_sys::AbortController>,
    signature: &Signature,
) -> std::result::Result<web_sys::Response, Failure> {
    let (seed, base, input) = match signature {
        Signature::InGlue { seed, base, input } => (Some(&**seed), base.as_slice(), input.as_str()),
        Signature::Made(_) => (None, &[][..], ""),
    };
    let promise = glue::forward(url, method, header_lines, body, timeout_ms as f64, controller, seed, base, input, DEFAULT_LABEL);
    match task::settled(promise).await {
        Ok(resp) => resp.dyn_into::<web_sys::Response>().map_err(|_| Failure::Outcome(Outcome::ConnectError)),
        Err(why) => Err(match why.as_string().as_deref() {
            Some("bad_header") => Failure::BadHeader,
            Some("sign") => Failure::Sign,
            Some("timeout") => Failure::Outcome(Outcome::Timeout),
            _ => Failure::Outcome(Outcome::ConnectError),
        }),
    }
}
