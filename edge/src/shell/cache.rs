//! Cache API I/O (`caches.default`) for the `cache` phase's decisions: look
//! up, store in the background, serve stale while revalidating, purge.

use std::rc::Rc;

use worker::{console_log, web_sys, Cache, CacheDeletionOutcome, Context, Env, Request, Response};

use super::{convert, forward};
use crate::phases::cache::{
    purge_authorized, purge_keys, CachePlan, CachePolicy, CacheStatus, Freshness, StoredMeta, META_HEADER, ORIGIN_CC_HEADER,
    PURGE_SECRET,
};
use crate::pipeline::{Ctx, EdgeResponse, Phase};
use crate::request::RequestInfo;
use crate::rules::Rules;

/// Largest purge request body read.
const MAX_PURGE_BODY: usize = 64 * 1024;

/// Serves from the cache when the plan allows, else forwards (and stores
/// what may be stored, without delaying the client).
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    req: &web_sys::Request,
    body: Option<web_sys::ReadableStream>,
    env: &Env,
    rules: &Rc<Rules>,
    info: &RequestInfo,
    ctx: &mut Ctx,
    origin: &str,
    wctx: &Context,
) -> web_sys::Response {
    let Some(CachePlan::Lookup { key, policy, .. }) = ctx.cache_plan.clone() else {
        ctx.cache_status = Some(CacheStatus::Bypass);
        return forward::send(Some(req), body, env, rules, info, ctx, origin).await;
    };
    let cache = Cache::default();
    let mut status = CacheStatus::Miss;
    match cache.get(key.as_str(), true).await {
        Ok(Some(hit)) => {
            let meta = hit.headers().get(META_HEADER).ok().flatten().and_then(|v| StoredMeta::parse(&v));
            match meta.map(|m| m.freshness(super::now_ms())) {
                Some(Freshness::Fresh { age_s }) => {
                    ctx.cache_status = Some(CacheStatus::Hit);
                    return served(hit, age_s).into();
                }
                Some(Freshness::Stale { age_s }) => {
                    ctx.cache_status = Some(CacheStatus::Stale);
                    revalidate_later(wctx, env, rules, info, ctx, origin, &key, &policy);
                    return served(hit, age_s).into();
                }
                Some(Freshness::Expired) => status = CacheStatus::Expired,
                None => {}
            }
        }
        Ok(None) => {}
        Err(e) => console_log!("{}", serde_json::json!({"msg": "cache_error", "level": "warn", "request_id": ctx.request_id, "error": e.to_string()})),
    }
    let fetched = forward::send(Some(req), body, env, rules, info, ctx, origin).await;
    let mut resp = Response::from(fetched);
    if info.method.eq_ignore_ascii_case("GET") {
        match store_later(wctx, &mut resp, &key, &policy) {
            Ok(()) => {}
            Err(reason) => {
                status = CacheStatus::Bypass;
                ctx.record(Phase::Cache, "not_stored", None, Some(reason));
            }
        }
    }
    ctx.cache_status = Some(status);
    resp.into()
}

/// Puts a copy of `resp` into the cache in the background, or says why not.
fn store_later(wctx: &Context, resp: &mut Response, key: &str, policy: &CachePolicy) -> std::result::Result<(), &'static str> {
    let meta = storable(resp, policy)?;
    let copy = resp.cloned().map_err(|_| "body not clonable")?;
    let key = key.to_string();
    wctx.wait_until(async move { put(&key, copy, meta).await });
    Ok(())
}

/// The bookkeeping for storing `resp`, or why it must not be stored.
fn storable(resp: &Response, policy: &CachePolicy) -> std::result::Result<StoredMeta, &'static str> {
    let headers = resp.headers();
    let cc = headers.get("cache-control").ok().flatten();
    let set_cookie = headers.has("set-cookie").unwrap_or(true);
    let ttl = policy.ttl_for(resp.status_code(), cc.as_deref(), set_cookie)?;
    Ok(StoredMeta { stored_at_ms: super::now_ms(), ttl_s: ttl, swr_s: policy.stale_while_revalidate_seconds })
}

async fn put(key: &str, copy: Response, meta: StoredMeta) {
    let stored = copy.headers().clone();
    let _ = stored.set(META_HEADER, &meta.to_header());
    if let Some(cc) = stored.get("cache-control").ok().flatten() {
        let _ = stored.set(ORIGIN_CC_HEADER, &cc);
    }
    // The Cache API keeps the copy this long; freshness is ours to judge.
    let _ = stored.set("cache-control", &format!("max-age={}", meta.keep_seconds()));
    if let Err(e) = Cache::default().put(key, copy.with_headers(stored)).await {
        console_log!("{}", serde_json::json!({"msg": "cache_put_failed", "level": "warn", "error": e.to_string()}));
    }
}

/// Fetches a fresh copy after a stale one was served (stale-while-revalidate).
#[allow(clippy::too_many_arguments)]
fn revalidate_later(wctx: &Context, env: &Env, rules: &Rc<Rules>, info: &RequestInfo, ctx: &Ctx, origin: &str, key: &str, policy: &CachePolicy) {
    let (env, rules, info, mut ctx, origin, key, policy) =
        (env.clone(), rules.clone(), info.clone(), ctx.clone(), origin.to_string(), key.to_string(), policy.clone());
    wctx.wait_until(async move {
        let resp = Response::from(forward::send(None, None, &env, &rules, &info, &mut ctx, &origin).await);
        if let Ok(meta) = storable(&resp, &policy) {
            put(&key, resp, meta).await;
        }
    });
}

/// A stored copy as the client sees it: the origin's Cache-Control back,
/// our bookkeeping removed, `Age` set.
fn served(hit: Response, age_s: u64) -> Response {
    let headers = hit.headers().clone();
    match headers.get(ORIGIN_CC_HEADER).ok().flatten() {
        Some(cc) => {
            let _ = headers.set("cache-control", &cc);
        }
        None => {
            let _ = headers.delete("cache-control");
        }
    }
    let _ = headers.delete(ORIGIN_CC_HEADER);
    let _ = headers.delete(META_HEADER);
    let _ = headers.set("age", &age_s.to_string());
    hit.with_headers(headers)
}

/// The purge endpoint: `POST` with `Authorization: Bearer <EDGE_PURGE_TOKEN>`
/// and `{"urls": [...]}`; answers how many entries were deleted.
pub async fn purge(req: &web_sys::Request, env: &Env, rules: &Rules, info: &RequestInfo, ctx: &mut Ctx) -> web_sys::Response {
    let answer = |ctx: &mut Ctx, status: u16, why: &str, note: &str| {
        ctx.record(Phase::Cache, "purge_refused", None, Some(note));
        convert::edge_response(&EdgeResponse::error(status, why, None, &ctx.request_id))
    };
    // No secret configured: the endpoint is closed (fails closed, like auth).
    let secret = env.secret(PURGE_SECRET).map(|s| s.to_string()).unwrap_or_default();
    if !purge_authorized(info.header("authorization"), &secret) {
        return answer(ctx, 401, "purge needs the bearer token", "unauthorized");
    }
    if !info.method.eq_ignore_ascii_case("POST") {
        return answer(ctx, 405, "purge is POST", "method");
    }
    let declared = info.header("content-length").and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(0);
    if declared > MAX_PURGE_BODY {
        return answer(ctx, 413, "purge body too large", "too large");
    }
    // The same JS object (not `Request.clone()`, which would tee the body).
    let body = Request::from(<web_sys::Request as Clone>::clone(req)).bytes().await.unwrap_or_default();
    if body.len() > MAX_PURGE_BODY {
        return answer(ctx, 413, "purge body too large", "too large");
    }
    let keys = match purge_keys(rules, &body) {
        Ok(k) => k,
        Err(why) => return answer(ctx, 400, &why, "bad body"),
    };
    let cache = Cache::default();
    let mut deleted = 0usize;
    for k in &keys {
        if let Ok(CacheDeletionOutcome::Success) = cache.delete(k.as_str(), true).await {
            deleted += 1;
        }
    }
    ctx.record(Phase::Cache, "purge", None, Some(&format!("{deleted} of {}", keys.len())));
    let body = serde_json::json!({ "urls": keys.len(), "deleted": deleted, "request_id": ctx.request_id });
    convert::edge_response(
        &EdgeResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into()), ("cache-control".into(), "no-store".into())],
            body: body.to_string(),
        },
    )
}
