//! The status writer's decisions: one `StatusBook` lives in one Durable Object,
//! receives every isolate's [`Observation`]s, and says when `rules.status`
//! must be written. KV allows about one write per second per key; a change
//! seen by thousands of isolates at once must cost one write.
//!
//! - A hash this slot has never shown is new: written at once, and every later
//!   report of it is a no-op.
//! - A report equal to what the status shows is a no-op.
//! - A hash shown before (or "no candidate") is ambiguous: a lagging colo still
//!   reading the old value, or an operator reverting. It is held as pending;
//!   [`SETTLE_MS`] after the last write — when KV has converged — the writer
//!   reads the key itself and applies the pending report only if KV agrees.

use serde::{Deserialize, Serialize};

use super::status::{Observation, Slot, StatusDoc};

/// Longer than KV's worldwide propagation (up to 60 s).
pub const SETTLE_MS: u64 = 61_000;
/// Hashes remembered per slot.
const KNOWN: usize = 64;

/// What the writer does after an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing changes.
    Ignore,
    /// Write `rules.status` now.
    Write,
    /// Call [`StatusBook::settle`] at this time (ms).
    SettleAt(u64),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusBook {
    pub status: StatusDoc,
    known_current: Vec<String>,
    known_candidate: Vec<String>,
    last_write_ms: u64,
    pending: Vec<Observation>,
}

impl StatusBook {
    pub fn observe(&mut self, obs: Observation, now_ms: u64) -> Step {
        let shown = self.status.slot(obs.slot).map(|r| r.hash.as_str());
        if obs.hash() == shown {
            self.pending.retain(|p| p.slot != obs.slot);
            return Step::Ignore;
        }
        match obs.hash() {
            Some(h) if !self.known(obs.slot).iter().any(|k| k == h) => {
                self.apply(obs, now_ms);
                Step::Write
            }
            _ => {
                self.pending.retain(|p| p.slot != obs.slot);
                self.pending.push(obs);
                Step::SettleAt(self.last_write_ms.saturating_add(SETTLE_MS).max(now_ms))
            }
        }
    }

    /// Slots with a pending report, for the writer to read from KV.
    pub fn pending_slots(&self) -> Vec<Slot> {
        self.pending.iter().map(|p| p.slot).collect()
    }

    /// Time to settle? `Some(at)` while reports wait for [`SETTLE_MS`].
    pub fn settle_due(&self, now_ms: u64) -> Option<u64> {
        let at = self.last_write_ms.saturating_add(SETTLE_MS);
        (!self.pending.is_empty() && now_ms < at).then_some(at)
    }

    /// Applies each pending report whose hash KV now holds (`in_kv(slot)`: the
    /// hash under the slot's key, `None` when empty). `true`: write.
    pub fn settle(&mut self, in_kv: impl Fn(Slot) -> Option<String>, now_ms: u64) -> bool {
        let mut write = false;
        for obs in std::mem::take(&mut self.pending) {
            let shown = self.status.slot(obs.slot).map(|r| r.hash.clone());
            let kv = in_kv(obs.slot);
            if obs.hash().map(str::to_string) == kv && kv != shown {
                self.apply(obs, now_ms);
                write = true;
            }
        }
        write
    }

    fn apply(&mut self, obs: Observation, now_ms: u64) {
        if let Some(h) = obs.hash() {
            let h = h.to_string();
            let known = match obs.slot {
                Slot::Current => &mut self.known_current,
                Slot::Candidate => &mut self.known_candidate,
            };
            known.retain(|k| *k != h);
            known.push(h);
            if known.len() > KNOWN {
                known.remove(0);
            }
        }
        self.pending.retain(|p| p.slot != obs.slot);
        self.status.set(obs.slot, obs.report);
        self.last_write_ms = now_ms;
    }

    fn known(&self, slot: Slot) -> &[String] {
        match slot {
            Slot::Current => &self.known_current,
            Slot::Candidate => &self.known_candidate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::status::{Report, Verdict};

    fn report(hash: &str) -> Report {
        Report { outcome: Verdict::Accepted, hash: hash.into(), at: String::new(), version: Some(1), rules: None, errors: vec![], serving: None, rollout: None }
    }

    fn seen(slot: Slot, hash: Option<&str>) -> Observation {
        Observation { slot, report: hash.map(report) }
    }

    #[test]
    fn a_change_seen_by_many_isolates_is_one_write() {
        let mut book = StatusBook::default();
        let steps: Vec<Step> = (0..200).map(|i| book.observe(seen(Slot::Current, Some("b")), 1000 + i)).collect();
        assert_eq!(steps.iter().filter(|s| **s == Step::Write).count(), 1);
        assert_eq!(steps[0], Step::Write);
        assert_eq!(book.status.current.as_ref().map(|r| r.hash.as_str()), Some("b"));
    }

    #[test]
    fn a_lagging_colo_does_not_flip_the_status_back() {
        let mut book = StatusBook::default();
        assert_eq!(book.observe(seen(Slot::Current, Some("a")), 0), Step::Write);
        assert_eq!(book.observe(seen(Slot::Current, Some("b")), 100_000), Step::Write);
        // A fresh isolate in a colo whose KV still holds "a".
        assert_eq!(book.observe(seen(Slot::Current, Some("a")), 100_500), Step::SettleAt(161_000));
        assert_eq!(book.settle_due(120_000), Some(161_000));
        assert!(!book.settle(|_| Some("b".into()), 161_000), "KV says b: the report was stale");
        assert_eq!(book.status.current.as_ref().map(|r| r.hash.as_str()), Some("b"));
        assert!(book.pending_slots().is_empty());
    }

    #[test]
    fn a_revert_is_written_once_kv_agrees() {
        let mut book = StatusBook::default();
        book.observe(seen(Slot::Current, Some("a")), 0);
        book.observe(seen(Slot::Current, Some("b")), 100_000);
        for t in 0..50 {
            assert!(matches!(book.observe(seen(Slot::Current, Some("a")), 110_000 + t), Step::SettleAt(_)));
        }
        assert_eq!(book.pending_slots(), [Slot::Current]);
        assert!(book.settle(|_| Some("a".into()), 161_000));
        assert_eq!(book.status.current.as_ref().map(|r| r.hash.as_str()), Some("a"));
        // A report equal to what is shown clears a pending one.
        book.observe(seen(Slot::Current, Some("b")), 170_000);
        book.observe(seen(Slot::Current, Some("a")), 170_001);
        assert!(book.pending_slots().is_empty());
    }

    #[test]
    fn candidate_removal_waits_for_kv() {
        let mut book = StatusBook::default();
        assert_eq!(book.observe(seen(Slot::Candidate, Some("c")), 0), Step::Write);
        assert_eq!(book.observe(seen(Slot::Candidate, None), 5_000), Step::SettleAt(61_000));
        assert!(book.settle(|_| None, 61_000));
        assert_eq!(book.status.candidate, None);
        // Slots are independent.
        assert_eq!(book.observe(seen(Slot::Current, Some("c")), 62_000), Step::Write);
    }

    #[test]
    fn the_book_survives_storage() {
        let mut book = StatusBook::default();
        book.observe(seen(Slot::Current, Some("a")), 0);
        let text = serde_json::to_string(&book).expect("json");
        let mut back: StatusBook = serde_json::from_str(&text).expect("back");
        assert_eq!(back, book);
        assert_eq!(back.observe(seen(Slot::Current, Some("a")), 1), Step::Ignore);
    }
}
