//! Edge patch: libinjection's table packed for a small worker.
//!
//! Its 985 keywords (`src/sqli/keywords.txt`, `WORD<tab>TYPE`, sorted) as
//! `keywords.bin`, each its length, type and bytes, and `keyword_offsets.bin`,
//! a little-endian `u16` offset each. Its 8,367 fingerprints (`src/sqli/fingerprints.txt`,
//! the type-`F` entries of upstream's `generated_data.rs`, one a line) as the
//! breadth-first trie `sqli_data::is_fingerprint` walks: three bytes a node,
//! bit `i` for a child on symbol `i` of `FINGERPRINT_SYMBOLS`, bit 20 where a
//! fingerprint ends.

use std::collections::{BTreeMap, VecDeque};
use std::io::{Error, ErrorKind};

const SYMBOLS: &[u8; 20] = b"&(),1:;ABCEFKNOSTUVX";

fn main() -> std::io::Result<()> {
    let dir = std::env::var("OUT_DIR").map_err(|e| Error::new(ErrorKind::NotFound, e))?;
    println!("cargo:rerun-if-changed=src/sqli/keywords.txt");
    let (mut packed, mut offsets) = (Vec::new(), Vec::new());
    for line in std::fs::read_to_string("src/sqli/keywords.txt")?.lines() {
        let bad = || Error::new(ErrorKind::InvalidData, format!("keywords.txt: {line:?}"));
        let (word, kind) = line.split_once('\t').ok_or_else(bad)?;
        let (Ok(len), Ok(at), &[kind]) = (u8::try_from(word.len()), u16::try_from(packed.len()), kind.as_bytes()) else { return Err(bad()) };
        offsets.extend_from_slice(&at.to_le_bytes());
        packed.extend_from_slice(&[len, kind]);
        packed.extend_from_slice(word.as_bytes());
    }
    std::fs::write(format!("{dir}/keywords.bin"), packed)?;
    std::fs::write(format!("{dir}/keyword_offsets.bin"), offsets)?;

    println!("cargo:rerun-if-changed=src/sqli/fingerprints.txt");
    let text = std::fs::read_to_string("src/sqli/fingerprints.txt")?;
    // Node id -> (children by symbol, ends a fingerprint); node 0 is the root.
    let mut nodes: Vec<(BTreeMap<usize, usize>, bool)> = vec![(BTreeMap::new(), false)];
    for line in text.lines().filter(|l| !l.is_empty()) {
        let rest = line.strip_prefix('0').ok_or_else(|| Error::new(ErrorKind::InvalidData, format!("{line}: no leading 0")))?;
        let mut node = 0;
        for c in rest.bytes() {
            let symbol = SYMBOLS.iter().position(|&s| s == c).ok_or_else(|| Error::new(ErrorKind::InvalidData, format!("{line}: symbol {}", c as char)))?;
            node = match nodes[node].0.get(&symbol) {
                Some(&child) => child,
                None => {
                    nodes.push((BTreeMap::new(), false));
                    let child = nodes.len() - 1;
                    nodes[node].0.insert(symbol, child);
                    child
                }
            };
        }
        nodes[node].1 = true;
    }
    // `is_fingerprint` numbers nodes with `u16`s.
    if nodes.len() > usize::from(u16::MAX) {
        return Err(Error::new(ErrorKind::InvalidData, format!("{} trie nodes do not fit a u16", nodes.len())));
    }
    // Breadth first, children in symbol order: a node's children are then
    // consecutive, after those of every earlier node.
    let mut out = Vec::with_capacity(nodes.len() * 3);
    let mut queue = VecDeque::from([0usize]);
    while let Some(n) = queue.pop_front() {
        let (children, end) = &nodes[n];
        let mut mask: u32 = if *end { 1 << 20 } else { 0 };
        for (&symbol, &child) in children {
            mask |= 1 << symbol;
            queue.push_back(child);
        }
        out.extend_from_slice(&mask.to_le_bytes()[..3]);
    }
    std::fs::write(format!("{dir}/fingerprint_trie.bin"), out)
}
