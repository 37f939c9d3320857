//! Token parsing and verification against a fixed key set and policy.
#![no_main]
use std::sync::OnceLock;

use edge::auth::{Alg, KeyStore, Policy};

fn keys() -> &'static KeyStore {
    static KEYS: OnceLock<KeyStore> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut k = KeyStore::new();
        let _ = k.add_secret(Some("k1"), Alg::Hs256, b"fuzzing-secret-0123456789abcdef");
        k
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        let _ = edge::auth::verify(token, keys(), &Policy::default(), 1_700_000_000);
    }
});
