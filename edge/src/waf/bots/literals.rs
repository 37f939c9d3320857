//! An index from the literal each crawler pattern's matches start with to the
//! pattern, so one UA costs a scan of its bytes plus the few patterns whose
//! literal it holds, instead of 1,500 automata.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use regex_syntax::hir::literal::Extractor;
use regex_syntax::ParserBuilder;

/// Literals shorter than this would make too many candidates.
const MIN_LITERAL: usize = 3;

/// Trigram keys are three bytes: a multiply is hash enough (SipHash would
/// cost more than the rest of the scan).
#[derive(Default)]
pub(super) struct TrigramHasher(u64);

impl Hasher for TrigramHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Trigrams = HashMap<u32, Vec<(Box<[u8]>, u32)>, BuildHasherDefault<TrigramHasher>>;

fn trigram(b: &[u8]) -> u32 {
    u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2])
}

pub(super) struct LiteralIndex {
    /// First three bytes of a literal → (literal, pattern).
    by_trigram: Trigrams,
    /// Bit per two-byte prefix of any literal: most UA positions are ruled
    /// out without hashing.
    bigrams: Box<[u64; 1024]>,
    /// Patterns without a usable literal, run on every UA.
    always: Vec<u32>,
}

impl LiteralIndex {
    pub(super) fn new(patterns: &[String]) -> Self {
        let mut by_trigram = Trigrams::default();
        let mut bigrams = Box::new([0u64; 1024]);
        let mut always = Vec::new();
        let mut extractor = Extractor::new();
        extractor.limit_total(64);
        for (i, p) in patterns.iter().enumerate() {
            let i = i as u32;
            let hir = ParserBuilder::new().unicode(false).utf8(false).build().parse(p);
            let seq = hir.map(|h| extractor.extract(&h));
            let literals = seq.as_ref().ok().and_then(|s| s.literals()).filter(|l| !l.is_empty() && l.iter().all(|l| l.as_bytes().len() >= MIN_LITERAL));
            let Some(literals) = literals else {
                always.push(i);
                continue;
            };
            for lit in literals {
                let b = lit.as_bytes();
                let key = trigram(b);
                let bigram = usize::from(b[0]) << 8 | usize::from(b[1]);
                bigrams[bigram / 64] |= 1 << (bigram % 64);
                by_trigram.entry(key).or_default().push((b.into(), i));
            }
        }
        Self { by_trigram, bigrams, always }
    }

    /// Patterns that may match `ua`: those whose literal occurs in it, and
    /// those without one. Sorted, no duplicates.
    pub(super) fn candidates(&self, ua: &[u8]) -> Vec<usize> {
        let mut out: Vec<usize> = self.always.iter().map(|&i| i as usize).collect();
        for pos in 0..ua.len().saturating_sub(MIN_LITERAL - 1) {
            let bigram = usize::from(ua[pos]) << 8 | usize::from(ua[pos + 1]);
            if self.bigrams[bigram / 64] & (1 << (bigram % 64)) == 0 {
                continue;
            }
            let Some(list) = self.by_trigram.get(&trigram(&ua[pos..])) else { continue };
            for (lit, i) in list {
                if ua[pos..].starts_with(lit) {
                    out.push(*i as usize);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    pub(super) fn always_len(&self) -> usize {
        self.always.len()
    }
}
