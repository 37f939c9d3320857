//! TX (transaction) collection.

use super::collection::{Collection, HashMapCollection, MutableCollection};
use super::resolver::KeyRegex;
use std::borrow::Cow;

/// Transaction collection for storing intermediate values.
///
/// Keys are **case-insensitive**, as they are in ModSecurity. The OWASP CRS
/// depends on this: it writes `setvar:'tx.blocking_paranoia_level=1'` and reads
/// `TX:BLOCKING_PARANOIA_LEVEL`, and its anomaly scoring never accumulates if
/// those are treated as two different keys. Normalising here rather than at the
/// call sites keeps the guarantee in one place -- every read and write in the
/// engine goes through this type -- and leaves case-sensitive collections such
/// as `ARGS` untouched.
#[derive(Debug, Clone, Default)]
pub struct TxCollection {
    data: HashMapCollection,
}

/// Lowercase a key only when it actually contains uppercase, so the common path
/// (CRS writes and reads lowercase) does not allocate.
fn normalize(key: &str) -> Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(key.to_ascii_lowercase())
    } else {
        Cow::Borrowed(key)
    }
}

/// `f` of the lowercased key, on the stack for a key of up to 64 bytes: CRS
/// reads `TX:BLOCKING_PARANOIA_LEVEL` and its like in most rules of a
/// request, and each read allocated its lowercase copy (edge patch).
fn with_lowercase<R>(key: &str, f: impl FnOnce(&str) -> R) -> R {
    if !key.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(key);
    }
    let mut buf = [0u8; 64];
    if let Some(lower) = buf.get_mut(..key.len()) {
        lower.copy_from_slice(key.as_bytes());
        lower.make_ascii_lowercase();
        // ASCII lowercasing keeps UTF-8 valid; the fallback is never taken.
        if let Ok(lower) = std::str::from_utf8(lower) {
            return f(lower);
        }
    }
    f(&key.to_ascii_lowercase())
}

impl TxCollection {
    /// Create a new TX collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty collection with room for `n` keys before it rehashes.
    pub fn with_capacity(n: usize) -> Self {
        Self { data: HashMapCollection::with_capacity(n) }
    }

    /// Clear all data.
    pub fn clear(&mut self) {
        self.data.clear();
    }

    /// Empties the collection for a recycled transaction, keeping its keys'
    /// strings to fill again ([`HashMapCollection::recycle`], edge patch).
    pub fn recycle(&mut self) {
        self.data.recycle();
    }

    /// [`MutableCollection::set`] from borrowed text, reusing the stored
    /// strings of a key set before (edge patch; [`HashMapCollection::set_str`]).
    pub fn set_str(&mut self, key: &str, value: &str) {
        with_lowercase(key, |key| self.data.set_str(key, value));
    }

    /// The values of `key`, without collecting them into a `Vec` as
    /// [`Collection::get`] does (edge patch).
    pub fn values(&self, key: &str) -> &[String] {
        with_lowercase(key, |key| self.data.values(key))
    }
}

impl Collection for TxCollection {
    fn all(&self) -> Vec<(&str, &str)> {
        self.data.all()
    }

    fn get(&self, key: &str) -> Option<Vec<&str>> {
        with_lowercase(key, |key| self.data.get(key))
    }

    /// Regex selection (`TX:/^foo/`) matches against the stored, lowercased
    /// key, so a pattern anchored on uppercase will not match.
    fn get_regex(&self, pattern: &KeyRegex) -> Vec<(&str, &str)> {
        self.data.get_regex(pattern)
    }

    fn count(&self) -> usize {
        self.data.count()
    }

    fn count_key(&self, key: &str) -> usize {
        with_lowercase(key, |key| self.data.count_key(key))
    }
}

impl MutableCollection for TxCollection {
    fn set(&mut self, key: String, value: String) {
        match normalize(&key) {
            Cow::Borrowed(_) => self.data.set(key, value),
            Cow::Owned(lower) => self.data.set(lower, value),
        }
    }

    fn delete(&mut self, key: &str) {
        with_lowercase(key, |key| self.data.delete(key));
    }

    fn increment(&mut self, key: &str, amount: i64) {
        with_lowercase(key, |key| self.data.increment(key, amount));
    }

    fn decrement(&mut self, key: &str, amount: i64) {
        with_lowercase(key, |key| self.data.decrement(key, amount));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `set_str` is `set` (one value, key case-insensitive), overwriting in
    /// place; `increment` saturates instead of overflowing.
    #[test]
    fn set_str_and_increment_are_sets() {
        let mut tx = TxCollection::new();
        tx.set_str("Anomaly_Score", "5");
        assert_eq!(tx.values("anomaly_score"), ["5"]);
        tx.data.add("anomaly_score".into(), "7".into());
        tx.set_str("ANOMALY_SCORE", "");
        assert_eq!(tx.get("anomaly_score"), Some(vec![""]));
        tx.increment("anomaly_score", 3);
        assert_eq!(tx.values("Anomaly_score"), ["3"]);
        tx.set_str("big", &i64::MAX.to_string());
        tx.increment("big", 10);
        assert_eq!(tx.values("big"), [i64::MAX.to_string()]);
        tx.decrement("absent", 2);
        assert_eq!(tx.values("absent"), ["-2"]);
        tx.decrement("negated", i64::MIN);
        assert_eq!(tx.values("negated"), [i64::MAX.to_string()]);
        assert!(tx.values("nothing").is_empty());
    }
}
