//! Per-key state storage and the [`Limiter`] that ties clock, store and
//! GCRA together.

use std::collections::BTreeMap;

use super::clock::Clock;
use super::gcra::{decide, GcraState, Outcome, Quota};

/// Everything remembered about one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyState {
    pub gcra: GcraState,
    /// Mitigation: the key is refused outright until this instant (ms).
    /// 0 (or any past instant) means not blocked.
    pub blocked_until_ms: u64,
}

impl KeyState {
    /// From this instant on the entry equals [`KeyState::default`], so a store
    /// may drop it without changing any decision.
    /// (Rounded up; saturates at `u64::MAX`, so use
    /// [`is_fresh_at`](Self::is_fresh_at) for exact comparisons.)
    pub fn expires_at_ms(&self) -> u64 {
        self.gcra.expires_at_ms().max(self.blocked_until_ms)
    }

    /// Whether this entry is indistinguishable from a fresh one at `now_ms`.
    pub fn is_fresh_at(&self, now_ms: u64) -> bool {
        self.expires_at_ns() <= ms_to_ns(now_ms)
    }

    /// `"<tat ns>:<blocked until ms>"`, for stores that keep text (a TAT in
    /// ns exceeds what a JS number holds exactly).
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.gcra.tat_ns(), self.blocked_until_ms)
    }

    /// The inverse of [`to_text`](Self::to_text); anything unreadable reads
    /// as fresh (at worst one key gets a fresh budget).
    pub fn from_text(text: &str) -> Self {
        let parsed = text
            .split_once(':')
            .and_then(|(tat, blocked)| Some((tat.parse::<u128>().ok()?, blocked.parse::<u64>().ok()?)));
        match parsed {
            Some((tat, blocked)) => Self { gcra: GcraState::from_tat_ns(tat), blocked_until_ms: blocked },
            None => Self::default(),
        }
    }

    /// Exact expiry: a TAT may lie beyond `u64::MAX` ms.
    fn expires_at_ns(&self) -> u128 {
        self.gcra.tat_ns().max(ms_to_ns(self.blocked_until_ms))
    }
}

fn ms_to_ns(ms: u64) -> u128 {
    u128::from(ms).saturating_mul(1_000_000)
}

/// Where per-key state lives. Forgetting a key is always safe *for
/// availability* (it reads back as fresh) but loosens the limit for it, so
/// stores should drop the entries that carry the least debt first.
pub trait StateStore {
    fn get(&self, key: &str) -> Option<KeyState>;
    /// `now_ms` lets a bounded store tell expired entries from live ones.
    fn put(&mut self, key: &str, state: KeyState, now_ms: u64);
}

/// A bounded in-memory store for one isolate.
///
/// Keys are attacker-chosen, so a `BTreeMap` is used rather than a hash map:
/// O(log n) whatever the keys, and no need for seeded hashing on wasm.
/// When full, entries are evicted in expiry order: every already-expired
/// entry first (they carry no information), then the one whose TAT is the
/// oldest, i.e. the one closest to fresh, whose loss grants the fewest
/// extra cells. (Evicting least-recently-written instead would let a flood
/// of new keys reset a key that is being hammered while limited, since
/// limited requests never write.)
#[derive(Debug)]
pub struct MemoryStore {
    capacity: usize,
    entries: BTreeMap<Box<str>, Slot>,
    /// (expiry in ns, seq) → key; `seq` makes the index unique.
    by_expiry: BTreeMap<(u128, u64), Box<str>>,
    next_seq: u64,
}

#[derive(Debug)]
struct Slot {
    state: KeyState,
    expires_at_ns: u128,
    seq: u64,
}

impl MemoryStore {
    /// `capacity` is clamped to at least 1 so the store always limits.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: BTreeMap::new(),
            by_expiry: BTreeMap::new(),
            next_seq: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        s
    }

    /// Makes room for one new key: all expired entries, else the oldest TAT.
    fn make_room(&mut self, now_ms: u64) {
        if self.entries.len() < self.capacity {
            return;
        }
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > ms_to_ns(now_ms) {
                break;
            }
            let key = entry.remove();
            self.entries.remove(&key);
        }
        while self.entries.len() >= self.capacity {
            match self.by_expiry.pop_first() {
                Some((_, key)) => {
                    self.entries.remove(&key);
                }
                None => break,
            }
        }
    }
}

impl StateStore for MemoryStore {
    fn get(&self, key: &str) -> Option<KeyState> {
        self.entries.get(key).map(|s| s.state)
    }

    fn put(&mut self, key: &str, state: KeyState, now_ms: u64) {
        let expires_at_ns = state.expires_at_ns();
        let seq = self.seq();
        if let Some(slot) = self.entries.get_mut(key) {
            let name = self
                .by_expiry
                .remove(&(slot.expires_at_ns, slot.seq))
                .unwrap_or_else(|| key.into());
            *slot = Slot {
                state,
                expires_at_ns,
                seq,
            };
            self.by_expiry.insert((expires_at_ns, seq), name);
            return;
        }
        if state.is_fresh_at(now_ms) {
            // Already equal to fresh: storing it would only take a slot.
            return;
        }
        self.make_room(now_ms);
        self.entries.insert(
            key.into(),
            Slot {
                state,
                expires_at_ns,
                seq,
            },
        );
        self.by_expiry.insert((expires_at_ns, seq), key.into());
    }
}

/// Rate limiter over a clock and a state store; quotas are per call so one
/// limiter serves every rule.
#[derive(Debug)]
pub struct Limiter<C: Clock, S: StateStore> {
    clock: C,
    store: S,
}

impl<C: Clock, S: StateStore> Limiter<C, S> {
    pub fn new(clock: C, store: S) -> Self {
        Self { clock, store }
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Charges `cost` cells to `key`. Limited requests are not charged.
    /// Still honours a block left by [`check_with_timeout`](Self::check_with_timeout).
    pub fn check(&mut self, key: &str, quota: &Quota, cost: u32) -> Outcome {
        self.check_with_timeout(key, quota, cost, 0)
    }

    /// Like [`check`](Self::check), but once `key` is limited it stays
    /// refused until `now + timeout_ms`, whatever GCRA would say: a client
    /// that overruns gets a cool-down instead of a trickle. The block itself
    /// charges nothing, so the bucket refills meanwhile.
    pub fn check_with_timeout(
        &mut self,
        key: &str,
        quota: &Quota,
        cost: u32,
        timeout_ms: u64,
    ) -> Outcome {
        let now = self.clock.now_ms();
        check_in(&mut self.store, key, quota, cost, timeout_ms, now)
    }
}

/// [`check_state`] on the state `store` holds for `key`, writing back what
/// changed: a [`Limiter`] step with the time passed in.
pub fn check_in<S: StateStore>(store: &mut S, key: &str, quota: &Quota, cost: u32, timeout_ms: u64, now: u64) -> Outcome {
    let prev = store.get(key).unwrap_or_default();
    let (outcome, next) = check_state(prev, quota, cost, timeout_ms, now);
    if let Some(next) = next {
        store.put(key, next, now);
    }
    outcome
}

/// One decision on one key's state, with an optional mitigation timeout:
/// the outcome and the state to write back (`None`: nothing changed). Pure,
/// so every store (memory, a Durable Object) decides identically.
pub fn check_state(
    prev: KeyState,
    quota: &Quota,
    cost: u32,
    timeout_ms: u64,
    now: u64,
) -> (Outcome, Option<KeyState>) {
    let retryable = cost <= quota.limit();

    if now < prev.blocked_until_ms {
        let wait = prev.blocked_until_ms.saturating_sub(now);
        let (peek, _) = decide(quota, prev.gcra, now, 0);
        let outcome = Outcome {
            allowed: false,
            limit: peek.limit,
            remaining: 0,
            reset_after_ms: peek.reset_after_ms.max(wait),
            retry_after_ms: retryable.then_some(wait),
        };
        return (outcome, None);
    }

    let (outcome, gcra) = decide(quota, prev.gcra, now, cost);
    if outcome.allowed {
        let next = KeyState {
            gcra,
            blocked_until_ms: 0,
        };
        return (outcome, (next != prev).then_some(next));
    }
    if timeout_ms == 0 {
        return (outcome, None);
    }
    let blocked_until_ms = now.saturating_add(timeout_ms);
    let wait = blocked_until_ms.saturating_sub(now);
    let outcome = Outcome {
        remaining: 0,
        reset_after_ms: outcome.reset_after_ms.max(wait),
        retry_after_ms: outcome.retry_after_ms.map(|r| r.max(wait)),
        ..outcome
    };
    let next = KeyState {
        gcra: prev.gcra,
        blocked_until_ms,
    };
    (outcome, Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::clock::FakeClock;

    fn quota() -> Quota {
        Quota::new(1, 1000, 4).expect("valid")
    }

    #[test]
    fn limiter_matches_corpus_prefix_and_isolates_keys() {
        let clock = FakeClock::new(1_000_000);
        let mut l = Limiter::new(clock.clone(), MemoryStore::new(16));
        let q = quota();
        for expected in [4, 3, 2, 1, 0] {
            let o = l.check("a", &q, 1);
            assert!(o.allowed);
            assert_eq!(o.remaining, expected);
        }
        let o = l.check("a", &q, 1);
        assert!(!o.allowed);
        assert_eq!(o.retry_after_ms, Some(1000));
        assert!(l.check("b", &q, 1).allowed);
        clock.advance(1000);
        assert!(l.check("a", &q, 1).allowed);
    }

    #[test]
    fn mitigation_timeout_holds_until_expiry() {
        let clock = FakeClock::new(0);
        let mut l = Limiter::new(clock.clone(), MemoryStore::new(16));
        let q = quota();
        for _ in 0..5 {
            assert!(l.check_with_timeout("k", &q, 1, 60_000).allowed);
        }
        let o = l.check_with_timeout("k", &q, 1, 60_000);
        assert!(!o.allowed);
        assert_eq!(o.retry_after_ms, Some(60_000));
        assert_eq!(o.remaining, 0);

        // GCRA alone would admit again after 1 s; the block says no.
        clock.advance(30_000);
        let o = l.check("k", &q, 1);
        assert!(!o.allowed);
        assert_eq!(o.retry_after_ms, Some(30_000));
        assert_eq!(o.reset_after_ms, 30_000);

        // Oversized requests are refused without a retry hint.
        assert_eq!(l.check("k", &q, 6).retry_after_ms, None);

        clock.advance(30_000);
        let o = l.check_with_timeout("k", &q, 1, 60_000);
        assert!(o.allowed);
        assert_eq!(o.remaining, 4, "the block charged nothing");
        assert_eq!(l.store().get("k").map(|s| s.blocked_until_ms), Some(0));
    }

    #[test]
    fn memory_store_is_bounded_and_evicts_expired_first() {
        let mut s = MemoryStore::new(3);
        let at = |ms: u64| KeyState {
            gcra: GcraState::from_tat_ns(u128::from(ms) * 1_000_000),
            blocked_until_ms: 0,
        };
        s.put("long", at(10_000), 0);
        s.put("short", at(100), 0);
        s.put("mid", at(5_000), 0);
        assert_eq!(s.len(), 3);

        // At t=200 "short" has expired: it goes, the rest stay.
        s.put("new1", at(9_000), 200);
        assert_eq!(s.len(), 3);
        assert!(s.get("short").is_none());
        assert!(s.get("long").is_some() && s.get("mid").is_some());

        // Nothing expired: the oldest TAT ("mid") goes, not the oldest write.
        s.put("new2", at(20_000), 300);
        assert!(s.get("mid").is_none());
        assert!(s.get("long").is_some());

        // Updating an existing key never evicts.
        s.put("long", at(1), 400);
        assert_eq!(s.len(), 3);

        for i in 0..1000u64 {
            s.put(&format!("flood{i}"), at(30_000 + i), 500);
            assert!(s.len() <= 3);
        }
        assert_eq!(s.entries.len(), s.by_expiry.len());
    }

    #[test]
    fn state_beyond_u64_ms_is_kept_at_a_saturated_clock() {
        let q = Quota::new(1, 1000, 0).expect("valid");
        let mut l = Limiter::new(FakeClock::new(u64::MAX), MemoryStore::new(1));
        assert!(l.check("k", &q, 1).allowed);
        assert!(!l.check("k", &q, 1).allowed);
    }

    #[test]
    fn state_round_trips_as_text() {
        let s = KeyState { gcra: GcraState::from_tat_ns(u128::from(u64::MAX) * 7), blocked_until_ms: 42 };
        assert_eq!(KeyState::from_text(&s.to_text()), s);
        assert_eq!(KeyState::from_text("junk"), KeyState::default());
        assert_eq!(KeyState::from_text("1:x"), KeyState::default());
    }

    #[test]
    fn memory_store_skips_already_fresh_states_and_clamps_capacity() {
        let mut s = MemoryStore::new(0);
        assert_eq!(s.capacity(), 1);
        s.put("x", KeyState::default(), 10);
        assert!(s.is_empty());
        let mut l = Limiter::new(FakeClock::new(50), s);
        // A zero-cost check on a fresh key leaves nothing behind.
        assert!(l.check("x", &quota(), 0).allowed);
        assert!(l.store().is_empty());
    }
}
