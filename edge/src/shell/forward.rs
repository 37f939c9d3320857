//! `forward`: the signed request to the origin, bodies streamed both ways.

use std::cell::RefCell;

use origin_sdk::sign::Signer;
use wasm_bindgen::JsValue;
use worker::{console_log, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response, Result};

use super::{body as body_stream, convert};
use crate::pipeline::{Ctx, EdgeResponse, Phase};
use crate::request::RequestInfo;
use crate::rules::Rules;
use crate::signing::{self, Outgoing};
use crate::trust;

thread_local! {
    /// The parsed signing key, keyed by the secret's text so a rotated secret
    /// is picked up by new isolates and by this one alike.
    static SIGNER: RefCell<Option<(String, Signer)>> = const { RefCell::new(None) };
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

/// `body`, when given, replaces the client's body stream (the WAF read the
/// other branch of a tee).
pub async fn send(
    req: Request,
    body: Option<worker::web_sys::ReadableStream>,
    env: &Env,
    rules: &Rules,
    info: &RequestInfo,
    ctx: &mut Ctx,
    url: &str,
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
    let Ok(parsed) = url::Url::parse(url) else {
        return fail(ctx, 502, "bad origin URL", "bad url");
    };

    let mut headers = trust::upstream_headers(info, ctx);
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
    let method = Method::from(info.method.clone());
    let stream = match method {
        Method::Get | Method::Head => None,
        _ => body.or_else(|| req.inner().body()),
    };
    // A `limits` rule caps a body streamed without Content-Length.
    let abort = ctx.body_limit.and_then(|_| worker::web_sys::AbortController::new().ok());
    let (stream, counted) = match (stream, ctx.body_limit, abort.clone()) {
        (Some(s), Some(limit), Some(abort)) => match body_stream::count_limited(s.clone(), limit, abort) {
            Some((limited, seen)) => (Some(limited), Some((limit, seen))),
            None => (Some(s), None),
        },
        (s, ..) => (s, None),
    };
    let over_limit = || counted.as_ref().is_some_and(|(limit, seen)| seen.get() > *limit);
    let body: Option<JsValue> = stream.map(JsValue::from);
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(outgoing).with_redirect(RequestRedirect::Manual).with_body(body);
    let upstream = Request::new_with_init(url, &init)?;
    let sent = match &abort {
        Some(a) => Fetch::Request(upstream).send_with_signal(&a.signal().into()).await,
        None => Fetch::Request(upstream).send().await,
    };
    match sent {
        Ok(_) if over_limit() => fail(ctx, 413, "request body too large", "streamed body over limit"),
        Ok(resp) => {
            ctx.record(Phase::Forward, "forwarded", None, ctx.origin.clone().as_deref());
            Ok(resp)
        }
        Err(_) if over_limit() => fail(ctx, 413, "request body too large", "streamed body over limit"),
        Err(e) => {
            console_log!("{}", serde_json::json!({"msg": "origin_error", "level": "error", "request_id": ctx.request_id, "origin": ctx.origin, "error": e.to_string()}));
            fail(ctx, 502, "origin unreachable", "fetch failed")
        }
    }
}
