//! The documents `edge-rules push` kept, for `history` and `rollback`: one KV
//! key per push, `rules.history.<ms>.<hash>`, holding the document byte for
//! byte. The time comes first (13 digits, zero-padded) so KV's lexicographic
//! listing is also chronological.

use std::fmt;

/// Prefix of every history key.
pub const PREFIX: &str = "rules.history.";
/// Pushes kept unless told otherwise.
pub const DEFAULT_KEEP: usize = 10;

/// One kept document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    /// When it was pushed (Unix ms).
    pub at_ms: u64,
    pub hash: String,
}

pub fn key(at_ms: u64, hash: &str) -> String {
    format!("{PREFIX}{at_ms:013}.{hash}")
}

/// `None` for keys that are not history keys.
pub fn parse_key(key: &str) -> Option<Entry> {
    let (at, hash) = key.strip_prefix(PREFIX)?.split_once('.')?;
    if at.len() != 13 || hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(Entry { key: key.to_string(), at_ms: at.parse().ok()?, hash: hash.to_string() })
}

/// The history in `keys`, newest first; other keys are ignored.
pub fn entries<S: AsRef<str>>(keys: &[S]) -> Vec<Entry> {
    let mut out: Vec<Entry> = keys.iter().filter_map(|k| parse_key(k.as_ref())).collect();
    out.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then_with(|| b.hash.cmp(&a.hash)));
    out
}

/// The entries to delete so that only the newest `keep` remain.
pub fn prune(entries: &[Entry], keep: usize) -> &[Entry] {
    entries.get(keep..).unwrap_or_default()
}

/// Why no document can be rolled back to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetError {
    /// No history at all (nothing was pushed with `edge-rules push`).
    Empty,
    /// No kept document has this hash (prefix).
    Unknown(String),
    /// The prefix names more than one document.
    Ambiguous(String, Vec<String>),
    /// The named document is the one already serving.
    AlreadyCurrent(String),
    /// Every kept document is the current one.
    NothingEarlier,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "no history: nothing was pushed with `edge-rules push`"),
            Self::Unknown(h) => write!(f, "no kept document has hash {h:?} (see `edge-rules history`)"),
            Self::Ambiguous(h, all) => write!(f, "hash {h:?} is ambiguous: {}", all.join(", ")),
            Self::AlreadyCurrent(h) => write!(f, "document {h} is already the current one"),
            Self::NothingEarlier => write!(f, "no earlier document than the current one is kept"),
        }
    }
}

/// The document to restore: the one named by `wanted` (a hash or a prefix of
/// at least 4 digits), or else the newest one older than the current
/// document's latest push that is not the current document.
pub fn rollback_target<'a>(entries: &'a [Entry], current: Option<&str>, wanted: Option<&str>) -> Result<&'a Entry, TargetError> {
    if entries.is_empty() {
        return Err(TargetError::Empty);
    }
    if let Some(w) = wanted {
        let w = w.to_ascii_lowercase();
        let mut hashes: Vec<&Entry> = entries.iter().filter(|e| w.len() >= 4 && e.hash.starts_with(&w)).collect();
        hashes.dedup_by(|a, b| a.hash == b.hash);
        let mut distinct: Vec<String> = hashes.iter().map(|e| e.hash.clone()).collect();
        distinct.sort();
        distinct.dedup();
        return match (hashes.first(), distinct.len()) {
            (None, _) => Err(TargetError::Unknown(w)),
            (Some(_), n) if n > 1 => Err(TargetError::Ambiguous(w, distinct)),
            (Some(e), _) if Some(e.hash.as_str()) == current => Err(TargetError::AlreadyCurrent(e.hash.clone())),
            (Some(e), _) => Ok(e),
        };
    }
    let from = match current {
        Some(c) => entries.iter().position(|e| e.hash == c).unwrap_or(0),
        None => 0,
    };
    entries[from..].iter().find(|e| Some(e.hash.as_str()) != current).ok_or(TargetError::NothingEarlier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> Vec<Entry> {
        let keys = [key(3000, "cccc0000"), key(1000, "aaaa0000"), "rules.status".to_string(), key(2000, "bbbb0000"), key(4000, "bbbb0000")];
        entries(&keys)
    }

    #[test]
    fn keys_round_trip_and_sort_newest_first() {
        assert_eq!(key(1_796_162_645_000, "ab12"), "rules.history.1796162645000.ab12");
        let e = parse_key(&key(7, "ab12")).expect("history key");
        assert_eq!((e.at_ms, e.hash.as_str()), (7, "ab12"));
        assert!(parse_key("rules.history.x.ab12").is_none());
        assert!(parse_key("rules.next").is_none());
        let at: Vec<u64> = history().iter().map(|e| e.at_ms).collect();
        assert_eq!(at, [4000, 3000, 2000, 1000]);
    }

    #[test]
    fn prune_keeps_the_newest() {
        let h = history();
        let gone: Vec<u64> = prune(&h, 2).iter().map(|e| e.at_ms).collect();
        assert_eq!(gone, [2000, 1000]);
        assert!(prune(&h, 10).is_empty());
    }

    #[test]
    fn rollback_picks_the_one_before_current() {
        let h = history();
        assert_eq!(rollback_target(&h, Some("bbbb0000"), None).map(|e| e.at_ms), Ok(3000));
        assert_eq!(rollback_target(&h, Some("cccc0000"), None).map(|e| e.at_ms), Ok(2000));
        assert_eq!(rollback_target(&h, Some("ffff"), None).map(|e| e.at_ms), Ok(4000), "current unknown: the newest");
        assert_eq!(rollback_target(&h, Some("bbbb0000"), Some("AAAA")).map(|e| e.at_ms), Ok(1000));
        assert_eq!(rollback_target(&h, None, Some("dead")), Err(TargetError::Unknown("dead".into())));
        assert_eq!(rollback_target(&h, None, Some("aa")), Err(TargetError::Unknown("aa".into())), "too short to name one");
        assert_eq!(rollback_target(&h, Some("bbbb0000"), Some("bbbb")), Err(TargetError::AlreadyCurrent("bbbb0000".into())));
        assert_eq!(rollback_target(&[], None, None), Err(TargetError::Empty));
        let only = entries(&[key(1, "aaaa")]);
        assert_eq!(rollback_target(&only, Some("aaaa"), None), Err(TargetError::NothingEarlier));
        let two = entries(&[key(1, "aaaa1"), key(2, "aaaa2")]);
        assert!(matches!(rollback_target(&two, None, Some("aaaa")), Err(TargetError::Ambiguous(..))));
    }
}
