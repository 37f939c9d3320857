//! When to (re)fetch a JWKS: the decision half of the shell's key cache,
//! pure and clocked by the caller so TTL and cooldown are tested natively.
//!
//! Keys are reused for `ttl`; an unknown `kid` may force a refetch, but at
//! most once per `cooldown` per URL, so a flood of forged `kid`s cannot
//! turn the edge into a load generator against the identity provider. A
//! failed fetch is remembered for the cooldown too (negative caching).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use super::keys::{JwksOptions, KeyStore};

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
            let stored = cache.borrow_mut().store(&source.url, now_ms, source.timings, fetched.map_err(|_| ()));
            stored.ok_or_else(|| why.unwrap_or_else(|| "JWKS unavailable".to_owned()))
        }
    }
}

/// Timings of one JWKS source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksTimings {
    /// How long fetched keys are used without asking again.
    pub ttl_ms: u64,
    /// Least time between two fetches of the same URL.
    pub cooldown_ms: u64,
}

/// What the shell should do for a lookup.
#[derive(Debug, Clone)]
pub enum JwksPlan {
    /// Use these keys; no fetch.
    Use(Arc<KeyStore>),
    /// Fetch the URL, then [`JwksCache::store`] the outcome.
    Fetch,
    /// Nothing usable and a fetch is not allowed yet (the last one failed
    /// within the cooldown): fail without touching the network.
    Unavailable,
}

#[derive(Debug)]
struct Entry {
    keys: Option<Arc<KeyStore>>,
    /// When `keys` were fetched (ms).
    fetched_at_ms: u64,
    /// When a fetch was last started or failed (ms).
    attempted_at_ms: Option<u64>,
}

/// Per-isolate JWKS state, keyed by URL.
#[derive(Debug, Default)]
pub struct JwksCache {
    entries: HashMap<String, Entry>,
}

/// Most URLs remembered; rules name a handful, so hitting this means churn
/// and the oldest state is simply dropped.
const MAX_URLS: usize = 64;

impl JwksCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// URLs remembered (at most 64).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Decides for `url` at `now_ms`. `refresh`: the caller's token named a
    /// `kid` the current keys lack. A refresh that is allowed is recorded as
    /// an attempt at once, so concurrent unknown-`kid` requests in this
    /// isolate do not all fetch.
    pub fn plan(&mut self, url: &str, now_ms: u64, t: JwksTimings, refresh: bool) -> JwksPlan {
        let Some(entry) = self.entries.get_mut(url) else {
            return JwksPlan::Fetch;
        };
        let cooling = entry
            .attempted_at_ms
            .is_some_and(|at| now_ms.saturating_sub(at) < t.cooldown_ms);
        let fresh = entry.keys.is_some() && now_ms.saturating_sub(entry.fetched_at_ms) < t.ttl_ms;
        match (&entry.keys, fresh && !refresh, cooling) {
            (Some(keys), true, _) => JwksPlan::Use(keys.clone()),
            // Within the cooldown keep answering from what we have; the
            // unknown kid then fails closed, without a fetch.
            (Some(keys), false, true) if fresh => JwksPlan::Use(keys.clone()),
            (_, _, true) => JwksPlan::Unavailable,
            _ => {
                if refresh {
                    entry.attempted_at_ms = Some(now_ms);
                }
                JwksPlan::Fetch
            }
        }
    }

    /// Records a fetch outcome; returns the keys to use now, if any.
    /// A failure keeps earlier keys for the rest of their TTL.
    pub fn store(&mut self, url: &str, now_ms: u64, t: JwksTimings, fetched: Result<KeyStore, ()>) -> Option<Arc<KeyStore>> {
        if self.entries.len() >= MAX_URLS && !self.entries.contains_key(url) {
            self.entries.clear();
        }
        let entry = self.entries.entry(url.to_owned()).or_insert(Entry {
            keys: None,
            fetched_at_ms: 0,
            attempted_at_ms: None,
        });
        entry.attempted_at_ms = Some(now_ms);
        match fetched {
            Ok(keys) => {
                let keys = Arc::new(keys);
                entry.keys = Some(keys.clone());
                entry.fetched_at_ms = now_ms;
                Some(keys)
            }
            Err(()) => entry
                .keys
                .clone()
                .filter(|_| now_ms.saturating_sub(entry.fetched_at_ms) < t.ttl_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: JwksTimings = JwksTimings { ttl_ms: 300_000, cooldown_ms: 30_000 };

    fn fetched(cache: &mut JwksCache, now: u64) {
        assert!(cache.store("u", now, T, Ok(KeyStore::new())).is_some());
    }

    #[test]
    fn first_lookup_fetches_then_uses_cache_until_ttl() {
        let mut c = JwksCache::new();
        assert!(matches!(c.plan("u", 0, T, false), JwksPlan::Fetch));
        fetched(&mut c, 0);
        assert!(matches!(c.plan("u", 1_000, T, false), JwksPlan::Use(_)));
        assert!(matches!(c.plan("u", 299_999, T, false), JwksPlan::Use(_)));
        assert!(matches!(c.plan("u", 300_000, T, false), JwksPlan::Fetch));
    }

    #[test]
    fn unknown_kid_refetches_once_per_cooldown() {
        let mut c = JwksCache::new();
        fetched(&mut c, 0);
        // Within the cooldown of the initial fetch: no refetch.
        assert!(matches!(c.plan("u", 10_000, T, true), JwksPlan::Use(_)));
        assert!(matches!(c.plan("u", 40_000, T, true), JwksPlan::Fetch));
        // The refresh counts as an attempt at once: a second unknown kid
        // (even before the fetch completes) does not fetch again.
        assert!(matches!(c.plan("u", 40_001, T, true), JwksPlan::Use(_)));
        fetched(&mut c, 40_100);
        assert!(matches!(c.plan("u", 60_000, T, true), JwksPlan::Use(_)));
        assert!(matches!(c.plan("u", 70_100, T, true), JwksPlan::Fetch));
    }

    #[test]
    fn failures_are_remembered_for_the_cooldown() {
        let mut c = JwksCache::new();
        assert!(c.store("u", 0, T, Err(())).is_none());
        assert!(matches!(c.plan("u", 1_000, T, false), JwksPlan::Unavailable));
        assert!(matches!(c.plan("u", 1_000, T, true), JwksPlan::Unavailable));
        assert!(matches!(c.plan("u", 30_000, T, false), JwksPlan::Fetch));
    }

    #[test]
    fn a_failed_refresh_keeps_fresh_keys() {
        let mut c = JwksCache::new();
        fetched(&mut c, 0);
        assert!(matches!(c.plan("u", 50_000, T, true), JwksPlan::Fetch));
        assert!(c.store("u", 50_000, T, Err(())).is_some());
        assert!(matches!(c.plan("u", 51_000, T, false), JwksPlan::Use(_)));
        // Expired keys are not served past their TTL because of a failure.
        assert!(matches!(c.plan("u", 310_000, T, false), JwksPlan::Fetch));
        assert!(c.store("u", 310_000, T, Err(())).is_none());
        assert!(matches!(c.plan("u", 311_000, T, false), JwksPlan::Unavailable));
    }

    #[test]
    fn urls_are_independent() {
        let mut c = JwksCache::new();
        fetched(&mut c, 0);
        assert!(matches!(c.plan("v", 1, T, false), JwksPlan::Fetch));
    }
}
