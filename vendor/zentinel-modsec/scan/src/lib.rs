//! The literal prefilter's scan (zentinel-modsec's `engine::prefilter`),
//! alone so that it can be compiled for speed (edge patch 27): its loop runs
//! once per byte of every value the rules read, and inlined into the engine
//! it was compiled at the worker's `opt-level = "z"`, with the automaton's
//! transition and bounds checks left as calls (about 120 instructions a byte).
//! A few KB of code; a scan allocates only for a match state it cannot
//! record (past [`StateSlots`]' limit, or natively while another thread holds it).

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa, nfa::contiguous, Anchored};

/// Each match state's rule slots, deduplicated, recorded the first time a
/// scan reaches the state and kept for the ruleset's life (edge patch). CRS's
/// short literals (`on`, `or`, `te`, …) put most bytes of ordinary text in a
/// match state, each holding several patterns, often of the same rules; the
/// automaton's own per-pattern lookup was three quarters of a scan's
/// instructions (60,000 patterns reported for a 2 KB form). A state's slots
/// never change, so recording them is exact.
#[derive(Default)]
pub struct StateSlots {
    /// Open addressing on the state id: `(id + 1, start, len, scan)` into
    /// `slots`; `0` is an empty entry. The length is a power of two.
    table: Vec<Entry>,
    used: usize,
    slots: Vec<u32>,
    /// The number of the scan in progress: an entry whose `scan` is this one
    /// has had its slots set already. Ordinary text keeps returning to the
    /// same few match states (the states of `on`, `or`, `te`, …), so
    /// setting a state's slots once a scan, not once a byte, is most of a
    /// long value's scan saved (edge patch 38).
    scan: u32,
}

/// A recorded match state: its id + 1 (`0`: empty), where its slots are in
/// [`StateSlots::slots`], and the last scan that set them.
#[derive(Clone, Copy, Default)]
struct Entry {
    key: u32,
    start: u32,
    len: u32,
    scan: u32,
}

/// What a scan does at a match state.
enum Visit<'a> {
    /// This scan has set the state's slots already.
    Seen,
    /// Set these (and they are now marked set for this scan).
    Slots(&'a [u32]),
    /// Not recorded (the record is full): look the patterns up.
    Unrecorded,
}

/// At most this many states are recorded; past it, a scan looks a state's
/// patterns up as before (memory stays bounded whatever the traffic).
const MAX_RECORDED: usize = 1 << 16;

impl StateSlots {
    /// Where state `id` is in `table`, or the empty entry its probe ends at.
    fn probe(table: &[Entry], id: u32) -> usize {
        let mask = table.len() - 1;
        let mut i = (id.wrapping_mul(0x9E37_79B9) as usize) & mask;
        while table[i].key != 0 && table[i].key != id.wrapping_add(1) {
            i = (i + 1) & mask;
        }
        i
    }

    /// Starts a scan: no state's slots are set in it yet.
    fn begin(&mut self) {
        self.scan = self.scan.wrapping_add(1);
        if self.scan == 0 {
            // Wrapped: an entry last marked 2^32 scans ago would read as seen.
            self.table.iter_mut().for_each(|e| e.scan = 0);
            self.scan = 1;
        }
    }

    /// Match state `id` in the scan in progress, its slots recorded with
    /// `compute` on first sight.
    fn visit(&mut self, id: u32, compute: impl FnOnce(&mut Vec<u32>)) -> Visit<'_> {
        if !self.table.is_empty() {
            let i = Self::probe(&self.table, id);
            let entry = &mut self.table[i];
            if entry.key != 0 {
                if entry.scan == self.scan {
                    return Visit::Seen;
                }
                entry.scan = self.scan;
                let (start, len) = (entry.start as usize, entry.len as usize);
                return self.slots.get(start..start + len).map_or(Visit::Unrecorded, Visit::Slots);
            }
        }
        if self.used >= MAX_RECORDED || id == u32::MAX {
            return Visit::Unrecorded;
        }
        if (self.used + 1) * 2 > self.table.len() {
            self.grow();
        }
        let start = self.slots.len();
        compute(&mut self.slots);
        let mut added = self.slots.split_off(start);
        added.sort_unstable();
        added.dedup();
        self.slots.extend_from_slice(&added);
        let i = Self::probe(&self.table, id);
        self.table[i] = Entry { key: id.wrapping_add(1), start: start as u32, len: added.len() as u32, scan: self.scan };
        self.used += 1;
        self.slots.get(start..).map_or(Visit::Unrecorded, Visit::Slots)
    }

    fn grow(&mut self) {
        let len = (self.table.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.table, vec![Entry::default(); len]);
        for entry in old.into_iter().filter(|e| e.key != 0) {
            let i = Self::probe(&self.table, entry.key.wrapping_sub(1));
            self.table[i] = entry;
        }
    }
}

/// The automaton `AhoCorasick` would pick (a DFA for at most 100 patterns,
/// else a contiguous NFA), held directly so a scan can walk it itself.
pub enum Scanner {
    Dfa(dfa::DFA),
    Nfa(contiguous::NFA),
}

impl Scanner {
    /// Sets in `bits` the slot (`slot_of[pattern]`) of every pattern that
    /// occurs in `haystack`; `reached` records match states (see
    /// [`StateSlots`]). Not inlined, so it keeps this crate's optimisation
    /// level whatever the caller's.
    #[inline(never)]
    pub fn scan(&self, slot_of: &[u32], reached: Option<&mut StateSlots>, haystack: &[u8], bits: &mut [u64]) {
        match self {
            Scanner::Dfa(a) => scan(a, slot_of, reached, haystack, bits),
            Scanner::Nfa(a) => scan(a, slot_of, reached, haystack, bits),
        }
    }
}

/// Every pattern that occurs in `haystack` (overlapping, as
/// `find_overlapping_iter` reports them: with `MatchKind::Standard` a state
/// holds every pattern that ends there), its slot set in `bits`. Walking the
/// automaton here instead of through the iterator costs a few instructions
/// per occurrence instead of a search call, and CRS's short literals occur
/// often in ordinary text (edge patch).
fn scan<A: Automaton>(aut: &A, slot_of: &[u32], mut reached: Option<&mut StateSlots>, haystack: &[u8], bits: &mut [u64]) {
    let Ok(mut sid) = aut.start_state(Anchored::No) else { return };
    let mut set = |slot: u32| {
        if let Some(w) = bits.get_mut(slot as usize / 64) {
            *w |= 1 << (slot % 64);
        }
    };
    let patterns = |sid, out: &mut Vec<u32>| {
        out.extend((0..aut.match_len(sid)).filter_map(|i| slot_of.get(aut.match_pattern(sid, i).as_usize()).copied()));
    };
    if let Some(r) = reached.as_deref_mut() {
        r.begin();
    }
    for &byte in haystack {
        sid = aut.next_state(Anchored::No, sid, byte);
        if !aut.is_special(sid) {
            continue;
        }
        if aut.is_dead(sid) {
            return;
        }
        if aut.is_match(sid) {
            let visit = match reached.as_deref_mut() {
                Some(r) => r.visit(sid.as_u32(), |out| patterns(sid, out)),
                None => Visit::Unrecorded,
            };
            match visit {
                Visit::Seen => {}
                Visit::Slots(slots) => slots.iter().for_each(|&slot| set(slot)),
                Visit::Unrecorded => {
                    let mut out = Vec::new();
                    patterns(sid, &mut out);
                    out.into_iter().for_each(&mut set);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{nfa::noncontiguous, MatchKind};

    fn scanner(words: &[&str]) -> Scanner {
        let nfa = noncontiguous::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(words)
            .expect("builds");
        Scanner::Nfa(contiguous::Builder::new().build_from_noncontiguous(&nfa).expect("builds"))
    }

    fn bits(s: &Scanner, slot_of: &[u32], reached: &mut StateSlots, text: &str) -> u64 {
        let mut out = [0u64];
        s.scan(slot_of, Some(reached), text.as_bytes(), &mut out);
        out[0]
    }

    /// A state set in one scan is set again in the next, including across
    /// the scan counter's wrap (where a stale mark would read as "seen").
    #[test]
    fn each_scan_sets_every_state_it_reaches() {
        let s = scanner(&["on", "or", "select"]);
        let slot_of = [0, 1, 2];
        let mut reached = StateSlots { scan: u32::MAX - 3, ..Default::default() };
        for _ in 0..8 {
            assert_eq!(bits(&s, &slot_of, &mut reached, "on and on or"), 0b011);
            assert_eq!(bits(&s, &slot_of, &mut reached, "SELECT on"), 0b101);
            assert_eq!(bits(&s, &slot_of, &mut reached, "nothing"), 0b000);
            assert_eq!(bits(&s, &slot_of, &mut reached, "or"), 0b010);
        }
        assert!(reached.scan < 64, "the counter wrapped");
    }
}
