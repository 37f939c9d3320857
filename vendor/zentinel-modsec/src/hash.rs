//! The hasher of the engine's maps keyed by request data (edge patch): a
//! request's header, argument and cookie names, TX keys built from them
//! (`tx.header_name_920450_<name>`), and its values' texts.
//!
//! std's `RandomState` draws its SipHash keys from the OS, but on
//! `wasm32-unknown-unknown` (a Worker) it has none and takes them from memory
//! addresses, which are the same in every isolate of a build: a client could
//! precompute names that all land in one bucket and turn each insert into a
//! scan. Here SipHash-1-3 starts from a state that has absorbed a 128-bit
//! salt from `getrandom` (the OS natively, `crypto.getRandomValues` in a
//! Worker), drawn once per process, on first use (Workers refuse random
//! numbers outside a request, and no map is built before the first one).
//!
//! ```
//! use std::hash::BuildHasher;
//! use zentinel_modsec::hash::Salted;
//! assert_eq!(Salted.hash_one("user-agent"), Salted.hash_one("user-agent"));
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

/// A [`BuildHasher`] for maps whose keys a client chooses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Salted;

/// `HashMap` with [`Salted`].
pub type Map<K, V> = std::collections::HashMap<K, V, Salted>;

impl BuildHasher for Salted {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        salted().clone()
    }
}

/// SipHash's state after the salt, computed once.
fn salted() -> &'static DefaultHasher {
    static SALTED: OnceLock<DefaultHasher> = OnceLock::new();
    SALTED.get_or_init(|| {
        let mut salt = [0u8; 16];
        if getrandom::getrandom(&mut salt).is_err() {
            // No entropy source: std's own keys are the best left.
            let fallback = std::collections::hash_map::RandomState::new().hash_one(0u64);
            salt[..8].copy_from_slice(&fallback.to_le_bytes());
        }
        let mut state = DefaultHasher::new();
        state.write(&salt);
        state
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The salt is part of the hash: the same key hashes the same within a
    /// process, and not as unsalted SipHash does.
    #[test]
    fn hashes_are_stable_and_salted() {
        let key = "x-forwarded-for";
        assert_eq!(Salted.hash_one(key), Salted.hash_one(key));
        let mut plain = DefaultHasher::new();
        std::hash::Hash::hash(key, &mut plain);
        assert_ne!(Salted.hash_one(key), plain.finish());
        let mut m: Map<String, u32> = Map::default();
        m.insert(key.into(), 1);
        assert_eq!(m.get(key), Some(&1));
    }
}
