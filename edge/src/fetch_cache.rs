//! When to (re)fetch a document the edge reads from the network (a JWKS, a
//! Web Bot Auth key directory): the decision half of the shell's per-isolate
//! caches, pure and clocked by the caller so TTL and cooldown are tested
//! natively.
//!
//! A document is reused for `ttl`; a caller that needs a key the document
//! lacks may force a refetch, but at most once per `cooldown` per URL, so a
//! flood of forged key ids cannot turn the edge into a load generator against
//! the server that publishes it. A failed fetch is remembered for the
//! cooldown too (negative caching). `CAP` bounds the URLs remembered: rules
//! name a handful, so reaching it means churn and the state is dropped.
//!
//! ```
//! use edge::fetch_cache::{FetchCache, Plan, Timings};
//!
//! let t = Timings { ttl_ms: 60_000, cooldown_ms: 10_000 };
//! let mut cache = FetchCache::<&str, 8>::new();
//! assert!(matches!(cache.plan("https://idp/jwks", 0, t, false), Plan::Fetch));
//! cache.store("https://idp/jwks", 0, t, Some("keys"));
//! assert!(matches!(cache.plan("https://idp/jwks", 1_000, t, false), Plan::Use(_)));
//! ```

use std::collections::HashMap;
use std::sync::Arc;

/// Timings of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// How long a fetched document is used without asking again.
    pub ttl_ms: u64,
    /// Least time between two fetches of the same URL.
    pub cooldown_ms: u64,
}

/// What the shell should do for a lookup.
#[derive(Debug)]
pub enum Plan<V> {
    /// Use this document; no fetch.
    Use(Arc<V>),
    /// Fetch the URL, then [`FetchCache::store`] the outcome.
    Fetch,
    /// Nothing usable and a fetch is not allowed yet (the last one failed
    /// within the cooldown): fail without touching the network.
    Unavailable,
}

#[derive(Debug)]
struct Entry<V> {
    doc: Option<Arc<V>>,
    /// When `doc` was fetched (ms).
    fetched_at_ms: u64,
    /// When a fetch was last started or failed (ms).
    attempted_at_ms: Option<u64>,
}

/// Per-isolate state, keyed by URL, at most `CAP` of them.
#[derive(Debug)]
pub struct FetchCache<V, const CAP: usize> {
    entries: HashMap<String, Entry<V>>,
}

impl<V, const CAP: usize> Default for FetchCache<V, CAP> {
    fn default() -> Self {
        Self { entries: HashMap::new() }
    }
}

impl<V, const CAP: usize> FetchCache<V, CAP> {
    pub fn new() -> Self {
        Self::default()
    }

    /// URLs remembered (at most `CAP`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Decides for `url` at `now_ms`. `refresh`: the caller needs a key the
    /// current document lacks. A refresh that is allowed is recorded as an
    /// attempt at once, so concurrent requests in this isolate do not all fetch.
    pub fn plan(&mut self, url: &str, now_ms: u64, t: Timings, refresh: bool) -> Plan<V> {
        let Some(entry) = self.entries.get_mut(url) else {
            return Plan::Fetch;
        };
        let cooling = entry.attempted_at_ms.is_some_and(|at| now_ms.saturating_sub(at) < t.cooldown_ms);
        let fresh = entry.doc.is_some() && now_ms.saturating_sub(entry.fetched_at_ms) < t.ttl_ms;
        match (&entry.doc, fresh && !refresh, cooling) {
            (Some(doc), true, _) => Plan::Use(doc.clone()),
            // Within the cooldown keep answering from what we have; the
            // unknown key then fails closed, without a fetch.
            (Some(doc), false, true) if fresh => Plan::Use(doc.clone()),
            (_, _, true) => Plan::Unavailable,
            _ => {
                if refresh {
                    entry.attempted_at_ms = Some(now_ms);
                }
                Plan::Fetch
            }
        }
    }

    /// Records a fetch outcome (`None`: it failed); returns the document to
    /// use now, if any. A failure keeps an earlier document for the rest of
    /// its TTL.
    pub fn store(&mut self, url: &str, now_ms: u64, t: Timings, fetched: Option<V>) -> Option<Arc<V>> {
        if self.entries.len() >= CAP && !self.entries.contains_key(url) {
            self.entries.clear();
        }
        let entry = self.entries.entry(url.to_owned()).or_insert(Entry { doc: None, fetched_at_ms: 0, attempted_at_ms: None });
        entry.attempted_at_ms = Some(now_ms);
        match fetched {
            Some(doc) => {
                let doc = Arc::new(doc);
                entry.doc = Some(doc.clone());
                entry.fetched_at_ms = now_ms;
                Some(doc)
            }
            None => entry.doc.clone().filter(|_| now_ms.saturating_sub(entry.fetched_at_ms) < t.ttl_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timings = Timings { ttl_ms: 300_000, cooldown_ms: 30_000 };
    type Cache = FetchCache<u32, 4>;

    fn fetched(cache: &mut Cache, now: u64) {
        assert!(cache.store("u", now, T, Some(1)).is_some());
    }

    #[test]
    fn first_lookup_fetches_then_uses_cache_until_ttl() {
        let mut c = Cache::new();
        assert!(matches!(c.plan("u", 0, T, false), Plan::Fetch));
        fetched(&mut c, 0);
        assert!(matches!(c.plan("u", 1_000, T, false), Plan::Use(_)));
        assert!(matches!(c.plan("u", 299_999, T, false), Plan::Use(_)));
        assert!(matches!(c.plan("u", 300_000, T, false), Plan::Fetch));
    }

    #[test]
    fn unknown_key_refetches_once_per_cooldown() {
        let mut c = Cache::new();
        fetched(&mut c, 0);
        // Within the cooldown of the initial fetch: no refetch.
        assert!(matches!(c.plan("u", 10_000, T, true), Plan::Use(_)));
        assert!(matches!(c.plan("u", 40_000, T, true), Plan::Fetch));
        // The refresh counts as an attempt at once: a second unknown key
        // (even before the fetch completes) does not fetch again.
        assert!(matches!(c.plan("u", 40_001, T, true), Plan::Use(_)));
        fetched(&mut c, 40_100);
        assert!(matches!(c.plan("u", 60_000, T, true), Plan::Use(_)));
        assert!(matches!(c.plan("u", 70_100, T, true), Plan::Fetch));
    }

    #[test]
    fn failures_are_remembered_for_the_cooldown() {
        let mut c = Cache::new();
        assert!(c.store("u", 0, T, None).is_none());
        assert!(matches!(c.plan("u", 1_000, T, false), Plan::Unavailable));
        assert!(matches!(c.plan("u", 1_000, T, true), Plan::Unavailable));
        assert!(matches!(c.plan("u", 30_000, T, false), Plan::Fetch));
    }

    #[test]
    fn a_failed_refresh_keeps_a_fresh_document() {
        let mut c = Cache::new();
        fetched(&mut c, 0);
        assert!(matches!(c.plan("u", 50_000, T, true), Plan::Fetch));
        assert!(c.store("u", 50_000, T, None).is_some());
        assert!(matches!(c.plan("u", 51_000, T, false), Plan::Use(_)));
        // An expired document is not served past its TTL because of a failure.
        assert!(matches!(c.plan("u", 310_000, T, false), Plan::Fetch));
        assert!(c.store("u", 310_000, T, None).is_none());
        assert!(matches!(c.plan("u", 311_000, T, false), Plan::Unavailable));
    }

    #[test]
    fn urls_are_independent_and_bounded() {
        let mut c = Cache::new();
        fetched(&mut c, 0);
        assert!(matches!(c.plan("v", 1, T, false), Plan::Fetch));
        for i in 0..100 {
            c.store(&format!("churn{i}"), 1, T, Some(i));
            assert!(c.len() <= 4);
        }
    }
}
