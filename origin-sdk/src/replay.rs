//! The per-process nonce cache that refuses a signed request seen before.
//!
//! Shared by every adapter (the tower layer, the Python and JS bindings), so
//! replay handling is written once.

use crate::verify::VerifyError;
use crate::VerifiedFacts;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Default number of remembered nonces.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Remembers accepted (keyid, nonce) pairs until their signature expires.
///
/// Bounded: when full, the entries closest to expiry are forgotten first
/// (after expired ones), so memory stays fixed under load; size it above
/// peak requests per signature lifetime.
#[derive(Debug)]
pub struct ReplayCache {
    capacity: usize,
    seen: HashMap<(String, String), u64>,
    order: VecDeque<(u64, (String, String))>,
}

impl ReplayCache {
    /// A cache holding at most `capacity` nonces.
    pub fn new(capacity: usize) -> Self {
        ReplayCache { capacity: capacity.max(1), seen: HashMap::new(), order: VecDeque::new() }
    }

    fn sweep(&mut self, now: u64) {
        while let Some((until, _)) = self.order.front() {
            if *until >= now {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                if self.seen.get(&key).is_some_and(|u| *u < now) {
                    self.seen.remove(&key);
                }
            }
        }
    }

    /// Records the pair; `false` if it is already present and not expired.
    pub fn check_and_insert(&mut self, keyid: &str, nonce: &str, until: u64, now: u64) -> bool {
        self.sweep(now);
        let key = (keyid.to_string(), nonce.to_string());
        if self.seen.get(&key).is_some_and(|u| *u >= now) {
            return false;
        }
        while self.seen.len() >= self.capacity {
            match self.order.pop_front() {
                Some((_, k)) => {
                    self.seen.remove(&k);
                }
                None => break,
            }
        }
        self.seen.insert(key.clone(), until);
        // Expiry times are nearly monotonic (fixed validity), so a deque keeps
        // sweeping cheap; out-of-order entries are only swept a little late.
        self.order.push_back((until, key));
        true
    }

    /// Number of remembered nonces.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// Admits `facts` once: refuses a signature without a nonce (nothing to
/// remember it by) and a (keyid, nonce) pair already accepted. A nonce is
/// remembered until the signature's `expires` plus `skew`, after which the
/// verifier refuses it as expired anyway.
pub fn admit(cache: &Mutex<ReplayCache>, facts: &VerifiedFacts, skew: u64, now: u64) -> Result<(), VerifyError> {
    let nonce = facts.nonce.as_deref().ok_or(VerifyError::MissingNonce)?;
    let until = facts.expires.saturating_add(skew);
    // A poisoned lock only means another request panicked mid-insert;
    // the map is still consistent enough to keep refusing replays.
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.check_and_insert(&facts.keyid, nonce, until, now) {
        Ok(())
    } else {
        Err(VerifyError::Replayed)
    }
}
