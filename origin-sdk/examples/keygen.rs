//! Prints a fresh Ed25519 keypair as base64: the seed (keep secret, for the
//! edge's signing key) and the public key (for origins' `EDGE_VERIFY_KEYS`).
//!
//! `cargo run -p origin-sdk --example keygen [keyid]`

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore};

fn main() {
    let keyid = std::env::args().nth(1).unwrap_or_else(|| "edge-1".to_string());
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let key = origin_sdk::SigningKey::ed25519_from_seed(keyid.as_str(), &seed);
    let public = key.verifying_key().public_key_base64().unwrap_or_default();
    println!("keyid={keyid}");
    println!("seed={}", STANDARD.encode(seed));
    println!("public={public}");
    println!("EDGE_VERIFY_KEYS={keyid}:{public}");
}
