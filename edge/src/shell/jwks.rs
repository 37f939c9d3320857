//! Keys for `authenticate`: JWKS documents fetched with the Worker `fetch`
//! and cached per isolate (policy in [`crate::auth::JwksCache`]), and HMAC
//! keys read from Worker secrets.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use worker::{web_sys, AbortSignal, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use super::io::WorkerIo;
use crate::auth::{cached_jwks, JwksCache, JwksSource, KeyStore};
use crate::phases::authenticate::Keys;

/// Largest JWKS accepted; real ones are a few KB.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// A hung identity provider must not hold requests: give up (and fail per
/// `on_error`) after this long.
const FETCH_TIMEOUT_MS: u32 = 5_000;

thread_local! {
    static CACHE: Rc<RefCell<JwksCache>> = Rc::new(RefCell::new(JwksCache::new()));
}

/// JWKS URLs this isolate remembers (for [`super::stats`]).
pub(super) fn cached_urls() -> usize {
    CACHE.with(|c| c.try_borrow().map(|c| c.len()).unwrap_or(0))
}

impl Keys for WorkerIo<'_> {
    async fn jwks(&self, source: &JwksSource, now_ms: u64, refresh: bool) -> Result<Arc<KeyStore>, String> {
        // `cached_jwks` never holds a borrow across the fetch, so concurrent
        // requests in this isolate can share the cache.
        let cache = CACHE.with(Rc::clone);
        cached_jwks(&cache, source, now_ms, refresh, fetch).await
    }

    fn secret(&self, name: &str) -> Option<Vec<u8>> {
        self.env.secret(name).ok().map(|s| s.to_string().into_bytes())
    }
}

/// GETs a JWKS: 200 only, redirects refused (an open redirect at the IdP
/// must not choose our keys), time and size bounded.
async fn fetch(url: String) -> Result<Vec<u8>, String> {
    let headers = Headers::new();
    headers.set("accept", "application/jwk-set+json, application/json").map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers).with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
    let signal = AbortSignal::from(web_sys::AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS));
    let mut resp = Fetch::Request(req).send_with_signal(&signal).await.map_err(|e| format!("JWKS fetch failed: {e}"))?;
    if resp.status_code() != 200 {
        return Err(format!("JWKS fetch answered {}", resp.status_code()));
    }
    let body = resp.bytes().await.map_err(|e| format!("JWKS read failed: {e}"))?;
    if body.len() > MAX_JWKS_BYTES {
        return Err(format!("JWKS larger than {MAX_JWKS_BYTES} bytes"));
    }
    Ok(body)
}
