//! What an isolate remembers of an exact store's refusals: "key K is limited
//! until T under quota Q". Answering those itself spares the store a call per
//! request while a key is hammered; only refusals are kept, so the cache can
//! never admit more than the store would.

use std::collections::BTreeMap;

use super::gcra::{Outcome, Quota};

#[derive(Debug, Clone, Copy)]
struct Limited {
    quota: Quota,
    limit: u32,
    until_ms: u64,
}

/// Bounded: when full, expired entries go; if none has, new refusals are
/// simply not remembered (the store still answers them).
#[derive(Debug)]
pub struct RefusalCache {
    capacity: usize,
    entries: BTreeMap<String, Limited>,
}

impl RefusalCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, entries: BTreeMap::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The refusal still in force for `key` under this same quota.
    pub fn get(&self, key: &str, quota: &Quota, now_ms: u64) -> Option<Outcome> {
        let l = self.entries.get(key)?;
        (l.quota == *quota && now_ms < l.until_ms).then(|| {
            let wait = l.until_ms.saturating_sub(now_ms);
            Outcome { allowed: false, limit: l.limit, remaining: 0, reset_after_ms: wait, retry_after_ms: Some(wait) }
        })
    }

    /// Records the store's answer: a refusal with a retry time is kept until
    /// then; anything else forgets the key.
    pub fn record(&mut self, key: &str, quota: &Quota, outcome: &Outcome, now_ms: u64) {
        match (outcome.allowed, outcome.retry_after_ms) {
            (false, Some(wait)) if wait > 0 => {
                if self.entries.len() >= self.capacity && !self.entries.contains_key(key) {
                    self.entries.retain(|_, l| l.until_ms > now_ms);
                    if self.entries.len() >= self.capacity {
                        return;
                    }
                }
                let until_ms = now_ms.saturating_add(wait);
                self.entries.insert(key.to_string(), Limited { quota: *quota, limit: outcome.limit, until_ms });
            }
            _ => {
                self.entries.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(wait: u64) -> Outcome {
        Outcome { allowed: false, limit: 5, remaining: 0, reset_after_ms: wait, retry_after_ms: Some(wait) }
    }

    #[test]
    fn answers_until_the_refusal_ends_and_only_for_the_same_quota() {
        let q = Quota::new(1, 1000, 4).unwrap();
        let other = Quota::new(2, 1000, 4).unwrap();
        let mut c = RefusalCache::new(8);
        c.record("k", &q, &refused(1500), 10_000);
        let o = c.get("k", &q, 10_500).unwrap();
        assert!(!o.allowed);
        assert_eq!(o.retry_after_ms, Some(1000));
        assert!(c.get("k", &q, 11_500).is_none(), "expired");
        assert!(c.get("k", &other, 10_500).is_none(), "rules changed");
        assert!(c.get("x", &q, 10_500).is_none());
        // An admission forgets the key.
        c.record("k", &q, &Outcome { allowed: true, limit: 5, remaining: 4, reset_after_ms: 0, retry_after_ms: None }, 10_600);
        assert!(c.is_empty());
        // A refusal no retry can fix is not cached (the store decides each time).
        c.record("k", &q, &Outcome { retry_after_ms: None, ..refused(0) }, 10_600);
        assert!(c.is_empty());
    }

    #[test]
    fn stays_bounded() {
        let q = Quota::new(1, 1000, 0).unwrap();
        let mut c = RefusalCache::new(3);
        for i in 0..3 {
            c.record(&format!("k{i}"), &q, &refused(100), 0);
        }
        c.record("late", &q, &refused(100), 50);
        assert_eq!(c.len(), 3);
        assert!(c.get("late", &q, 50).is_none(), "full of live entries: not remembered");
        c.record("later", &q, &refused(100), 200);
        assert_eq!(c.len(), 1, "expired entries made room");
        assert!(c.get("later", &q, 250).is_some());
    }
}
