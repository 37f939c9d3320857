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
    /// Open addressing on the state id: `(id + 1, start, len)` into `slots`;
    /// `0` is an empty entry. The length is a power of two.
    table: Vec<(u32, u32, u32)>,
    used: usize,
    slots: Vec<u32>,
}

/// At most this many states are recorded; past it, a scan looks a state's
/// patterns up as before (memory stays bounded whatever the traffic).
const MAX_RECORDED: usize = 1 << 16;

impl StateSlots {
    /// Where state `id` is in `table`, or the empty entry its probe ends at.
    fn probe(table: &[(u32, u32, u32)], id: u32) -> usize {
        let mask = table.len() - 1;
        let mut i = (id.wrapping_mul(0x9E37_79B9) as usize) & mask;
        while table[i].0 != 0 && table[i].0 != id.wrapping_add(1) {
            i = (i + 1) & mask;
        }
        i
    }

    /// The slots of match state `id`, recorded with `compute` on first sight.
    fn get_or_record(&mut self, id: u32, compute: impl FnOnce(&mut Vec<u32>)) -> Option<&[u32]> {
        if !self.table.is_empty() {
            let (key, start, len) = self.table[Self::probe(&self.table, id)];
            if key != 0 {
                return self.slots.get(start as usize..(start + len) as usize);
            }
        }
        if self.used >= MAX_RECORDED || id == u32::MAX {
            return None;
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
        self.table[i] = (id.wrapping_add(1), start as u32, added.len() as u32);
        self.used += 1;
        self.slots.get(start..)
    }

    fn grow(&mut self) {
        let len = (self.table.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.table, vec![(0, 0, 0); len]);
        for entry in old.into_iter().filter(|e| e.0 != 0) {
            let i = Self::probe(&self.table, entry.0.wrapping_sub(1));
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
    for &byte in haystack {
        sid = aut.next_state(Anchored::No, sid, byte);
        if !aut.is_special(sid) {
            continue;
        }
        if aut.is_dead(sid) {
            return;
        }
        if aut.is_match(sid) {
            match reached.as_deref_mut().and_then(|r| r.get_or_record(sid.as_u32(), |out| patterns(sid, out))) {
                Some(slots) => slots.iter().for_each(|&slot| set(slot)),
                None => {
                    let mut out = Vec::new();
                    patterns(sid, &mut out);
                    out.into_iter().for_each(&mut set);
                }
            }
        }
    }
}
