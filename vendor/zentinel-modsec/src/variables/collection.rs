//! Collection trait and implementations.

use super::resolver::KeyRegex;

/// A collection of key-value pairs.
pub trait Collection: Send + Sync {
    /// Get all key-value pairs.
    fn all(&self) -> Vec<(&str, &str)>;

    /// Get values by key.
    fn get(&self, key: &str) -> Option<Vec<&str>>;

    /// Get values matching a regex pattern.
    fn get_regex(&self, pattern: &KeyRegex) -> Vec<(&str, &str)>;

    /// Count items.
    fn count(&self) -> usize;

    /// Count items with specific key.
    fn count_key(&self, key: &str) -> usize;
}

/// A mutable collection (TX, SESSION, etc.).
pub trait MutableCollection: Collection {
    /// Set a value.
    fn set(&mut self, key: String, value: String);

    /// Delete a key.
    fn delete(&mut self, key: &str);

    /// Increment a numeric value.
    fn increment(&mut self, key: &str, amount: i64);

    /// Decrement a numeric value.
    fn decrement(&mut self, key: &str, amount: i64);
}

/// Simple hash map based collection.
///
/// A key's entry outlives the key (edge patch): [`recycle`](Self::recycle)
/// and [`MutableCollection::delete`] mark it empty and keep its strings, so a
/// recycled transaction sets CRS's hundred-odd TX keys, and a request's usual
/// headers, without allocating. An empty entry is absent to every reader.
#[derive(Debug, Clone, Default)]
pub struct HashMapCollection {
    /// Keys are request data: salted (`crate::hash`).
    data: crate::hash::Map<String, Entry>,
}

/// A key's values: `values[..live]`; the rest are spare strings.
#[derive(Debug, Clone, Default)]
struct Entry {
    live: usize,
    values: Vec<String>,
}

impl Entry {
    fn values(&self) -> &[String] {
        self.values.get(..self.live).unwrap_or(&[])
    }

    /// Makes `value` the only value, in a kept string when there is one.
    fn set_str(&mut self, value: &str) {
        match self.values.first_mut() {
            Some(v) => {
                v.clear();
                v.push_str(value);
            }
            None => self.values.push(value.to_string()),
        }
        self.live = 1;
    }

    fn push(&mut self, value: String) {
        match self.values.get_mut(self.live) {
            Some(spare) => *spare = value,
            None => self.values.push(value),
        }
        self.live += 1;
    }
}

/// What [`HashMapCollection::recycle`] keeps: a few hundred keys whose
/// strings are short (a request with a huge value or thousands of names
/// must not pin that memory in the next one).
const KEPT_KEYS: usize = 512;
const KEPT_STRING: usize = 256;
const KEPT_VALUES: usize = 4;

impl HashMapCollection {
    /// Create a new empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty collection with room for `n` keys before it rehashes.
    pub fn with_capacity(n: usize) -> Self {
        Self { data: crate::hash::Map::with_capacity_and_hasher(n, crate::hash::Salted) }
    }

    /// [`MutableCollection::set`] from borrowed text, reusing the key's
    /// stored strings when it has one: CRS sets the same TX variables (the
    /// anomaly scores, the paranoia gates' flags) many times a request, and a
    /// `set` allocated the key, a one-value `Vec` and the value each time
    /// (edge patch).
    pub fn set_str(&mut self, key: &str, value: &str) {
        match self.data.get_mut(key) {
            Some(entry) => entry.set_str(value),
            None => {
                self.data.insert(key.to_string(), Entry { live: 1, values: vec![value.to_string()] });
            }
        }
    }

    /// The values of `key`, without collecting them (edge patch; see
    /// [`Collection::get`]).
    pub fn values(&self, key: &str) -> &[String] {
        self.data.get(key).map_or(&[], Entry::values)
    }

    /// Add a value to a key.
    pub fn add(&mut self, key: String, value: String) {
        self.data.entry(key).or_default().push(value);
    }

    /// Clear all data.
    pub fn clear(&mut self) {
        self.data.clear();
    }

    /// Empties the collection for the next transaction, keeping the entries
    /// of short keys and values for it to fill again (edge patch).
    pub fn recycle(&mut self) {
        if self.data.len() > KEPT_KEYS {
            self.data = crate::hash::Map::default();
            return;
        }
        self.data.retain(|key, entry| {
            entry.live = 0;
            key.len() <= KEPT_STRING
                && entry.values.len() <= KEPT_VALUES
                && entry.values.iter().all(|v| v.capacity() <= KEPT_STRING)
        });
    }

    /// The present keys and their values.
    fn entries(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.data.iter().filter(|(_, e)| e.live > 0).map(|(k, e)| (k.as_str(), e.values()))
    }
}

impl Collection for HashMapCollection {
    fn all(&self) -> Vec<(&str, &str)> {
        self.entries().flat_map(|(k, vs)| vs.iter().map(move |v| (k, v.as_str()))).collect()
    }

    fn get(&self, key: &str) -> Option<Vec<&str>> {
        let values = self.values(key);
        (!values.is_empty()).then(|| values.iter().map(|s| s.as_str()).collect())
    }

    fn get_regex(&self, pattern: &KeyRegex) -> Vec<(&str, &str)> {
        self.entries()
            .filter(|(k, _)| pattern.is_match(k.as_bytes()))
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k, v.as_str())))
            .collect()
    }

    fn count(&self) -> usize {
        self.data.values().map(|e| e.live).sum()
    }

    fn count_key(&self, key: &str) -> usize {
        self.values(key).len()
    }
}

impl MutableCollection for HashMapCollection {
    fn set(&mut self, key: String, value: String) {
        let entry = self.data.entry(key).or_default();
        entry.live = 0;
        entry.push(value);
    }

    fn delete(&mut self, key: &str) {
        if let Some(entry) = self.data.get_mut(key) {
            entry.live = 0;
        }
    }

    fn increment(&mut self, key: &str, amount: i64) {
        let current: i64 = self.values(key).first().and_then(|s| s.parse().ok()).unwrap_or(0);
        // Saturating: the amount and the stored text come from rules and
        // requests (edge patch; upstream overflowed).
        self.set_str(key, &current.saturating_add(amount).to_string());
    }

    fn decrement(&mut self, key: &str, amount: i64) {
        self.increment(key, amount.saturating_neg());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recycled collection is empty to every reader, refills its kept
    /// entries, and keeps only short strings of a modest number of keys.
    #[test]
    fn recycling_empties_and_bounds_what_is_kept() {
        let mut c = HashMapCollection::new();
        c.set_str("a", "1");
        c.add("b".into(), "x".into());
        c.add("b".into(), "y".into());
        c.add("long".into(), "v".repeat(KEPT_STRING + 1));
        c.recycle();
        assert_eq!((c.count(), c.all(), c.get("a"), c.count_key("b")), (0, vec![], None, 0));
        assert_eq!(c.data.len(), 2, "the long value's entry is not kept");
        c.add("b".into(), "z".into());
        c.increment("a", 2);
        assert_eq!((c.values("b"), c.values("a")), (&["z".to_string()][..], &["2".to_string()][..]));
        c.delete("b");
        assert!(c.get("b").is_none() && c.values("b").is_empty());
        for i in 0..=KEPT_KEYS {
            c.set_str(&i.to_string(), "v");
        }
        c.recycle();
        assert_eq!(c.data.len(), 0, "past KEPT_KEYS keys nothing is kept");
    }
}
