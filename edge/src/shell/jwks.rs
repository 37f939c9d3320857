//! Keys for `authenticate`: JWKS documents fetched with the Worker `fetch`
//! and cached per isolate (policy in [`crate::auth::JwksCache`]), and HMAC
//! keys read from Worker secrets.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::documents::fetch_document;
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

/// GETs a JWKS (its headers are not needed).
async fn fetch(url: String) -> Result<Vec<u8>, String> {
    let accept = "application/jwk-set+json, application/json";
    fetch_document(&url, "JWKS", accept, FETCH_TIMEOUT_MS, MAX_JWKS_BYTES).await.map(|(_, body)| body)
}
