//! The wasm shell: translates between workerd and the pure core. It reads KV,
//! `request.cf` and secrets, fetches the origin, and writes logs; every decision
//! is made by [`crate::pipeline`].

mod agents;
mod alloc;
mod analytics;
pub mod body;
mod cache;
pub mod convert;
mod documents;
mod forward;
mod glue;
mod io;
mod limit;
mod limiter_object;
mod jwks;
mod rules_source;
mod stats;
mod status_object;
pub mod task;

use worker::{console_log, event, web_sys, Context, Env};

use crate::log::RequestLog;
use crate::pipeline::{Ctx, Decision, EdgeResponse, Pipeline};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `crypto.randomUUID()`: request ids double as signature nonces, so they
    /// come from the platform CSPRNG.
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> String;
}

/// Once per isolate, before its first request: a panic (a bug; the edge never
/// panics on input) then logs its message and location instead of only
/// "unreachable executed".
#[event(start)]
fn start() {
    install_panic_hook();
}

pub fn install_panic_hook() {
    console_error_panic_hook::set_once();
}

/// Milliseconds since the epoch: `Date.now()` in one call (`worker::Date::now`
/// constructs a `Date` object, three crossings and a JS allocation).
pub(crate) fn now_ms() -> u64 {
    worker::js_sys::Date::now() as u64
}

/// The Worker's `fetch` entry point, in place of `#[event(fetch)]`'s async
/// export: the request runs as a [`task`], so a response made without waiting
/// is returned without a Promise, and the origin's answer resumes the request
/// straight from the fetch's promise.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetch)]
pub fn fetch_entry(req: web_sys::Request, env: Env, ctx: worker::worker_sys::Context) -> wasm_bindgen::JsValue {
    task::run(handle(req, env, Context::new(ctx)))
}

/// The runtime's own `Request` and `Response`, not workers-rs' wrappers: the
/// request is read in one glue call and the response built in one, where the
/// wrappers read (and rebuild) every field across the boundary.
async fn handle(req: web_sys::Request, env: Env, wctx: Context) -> web_sys::Response {
    let start = now_ms();
    let request_id = random_uuid();
    let mut info = convert::request_info(&req);
    let (snapshot, observations) = match rules_source::current(&env, start).await {
        Ok(found) => found,
        Err(why) => {
            console_log!("{}", serde_json::json!({"msg": "no_rules", "level": "error", "request_id": request_id, "error": why}));
            return convert::edge_response(&EdgeResponse::error(503, why, None, &request_id));
        }
    };
    if !observations.is_empty() {
        wctx.wait_until(status_object::report(env.clone(), observations));
    }
    let active = snapshot.decide(info.client_ip, info.cf.colo.as_deref());
    let rules = active.rules.clone();
    // The WAF sees the body's head only when one of its rules matches; the
    // origin then gets the other branch of the teed stream.
    let mut body_stream = None;
    if let Some(cap) = crate::phases::filter::body_cap(&rules, &info) {
        let (head, rest) = body::read_head(&req, cap).await;
        info.body = Some(head);
        body_stream = rest;
    }
    let pipeline = Pipeline::new(&rules);
    let mut ctx = Ctx::new(request_id, start);
    ctx.rules_hash = Some(active.hash.to_string());

    let io = io::WorkerIo { env: &env };
    let response = match pipeline.request_filter(&info, &mut ctx, &io).await {
        Decision::Respond(r) => convert::edge_response(&r),
        Decision::Forward { origin, .. } => cache::serve(&req, body_stream, &env, &rules, &info, &mut ctx, &origin, &wctx).await,
        Decision::Purge { .. } => cache::purge(&req, &env, &rules, &info, &mut ctx).await,
    };
    let ops = pipeline.response_filter(&info, &mut ctx);
    let response = convert::finish(&response, &ops);
    let status = response.status();
    let end = now_ms();
    if rules.settings.log_requests {
        console_log!("{}", RequestLog::new(&info, &ctx, status, end).to_line());
    }
    analytics::write(&env, || crate::analytics::data_point(&info, &ctx, status, end));
    stats::count(end, rules.settings.isolate_stats_every);
    response
}
