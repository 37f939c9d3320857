//! JWKS documents by URL, cached with the policy of [`crate::fetch_cache`]:
//! keys reused for `ttl`, an unknown `kid` refetches at most once per
//! `cooldown`, failures remembered for the cooldown.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use super::keys::{JwksOptions, KeyStore};
use crate::fetch_cache::{FetchCache, Plan, Timings};

/// Timings of one JWKS source.
pub type JwksTimings = Timings;
/// What the shell should do for a JWKS lookup.
pub type JwksPlan = Plan<KeyStore>;
/// Per-isolate JWKS state; 64 URLs at most.
pub type JwksCache = FetchCache<KeyStore, 64>;

/// A JWKS published at a URL, as a rule configures it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSource {
    pub url: String,
    /// How keys without `alg` are pinned, and load limits.
    pub options: JwksOptions,
    pub timings: JwksTimings,
}

/// The keys for `source`, from `cache` or through `fetch` (which returns the
/// document's bytes). Shared by the wasm shell and native test doubles so
/// both run the same cache policy.
pub async fn cached_jwks<F, Fut>(
    cache: &RefCell<JwksCache>,
    source: &JwksSource,
    now_ms: u64,
    refresh: bool,
    fetch: F,
) -> Result<Arc<KeyStore>, String>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, String>>,
{
    let plan = cache.borrow_mut().plan(&source.url, now_ms, source.timings, refresh);
    match plan {
        JwksPlan::Use(keys) => Ok(keys),
        JwksPlan::Unavailable => Err("JWKS fetch failed recently; not retrying within the cooldown".to_owned()),
        JwksPlan::Fetch => {
            let fetched = fetch(source.url.clone()).await.and_then(|bytes| {
                KeyStore::from_jwks(&bytes, &source.options).map_err(|e| format!("JWKS unusable: {e}"))
            });
            let why = fetched.as_ref().err().cloned();
            let stored = cache.borrow_mut().store(&source.url, now_ms, source.timings, fetched.ok());
            stored.ok_or_else(|| why.unwrap_or_else(|| "JWKS unavailable".to_owned()))
        }
    }
}
