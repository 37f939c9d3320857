//! Verifying the edge without the tower Layer: any framework on `http` 1.x
//! types (hyper, `lambda_http`, …) calls `verify_and_strip` and keeps a
//! `ReplayCache`, which is what `EdgeAuthLayer` does. The README's snippet.
//!
//! `cargo run -p origin-sdk --features tower --example plain_http`

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use origin_sdk::layer::ReplayCache;
use origin_sdk::{trust, KeySet, Signer, SigningKey, VerifiedFacts, Verifier};

/// The origin's side: facts of a signed, fresh, first-seen request, else `None`
/// (answer 401). Trust headers the signature does not cover are removed either way.
fn verify<B>(verifier: &Verifier, seen: &Mutex<ReplayCache>, req: &mut http::Request<B>, now: u64) -> Option<VerifiedFacts> {
    let facts = verifier.verify_and_strip(req, now).ok()?;
    let nonce = facts.nonce.as_deref()?;
    let fresh = seen.lock().ok()?.check_and_insert(&facts.keyid, nonce, facts.expires, now);
    fresh.then_some(facts)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // What the edge does (demo key; a real origin reads EDGE_VERIFY_KEYS).
    let key = SigningKey::ed25519_from_seed("edge-demo", &[0x5a; 32]);
    let spec = format!("edge-demo:{}", key.verifying_key().public_key_base64().unwrap_or_default());
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut req = http::Request::get("https://origin.example/orders").body(())?;
    req.headers_mut().insert(http::header::HOST, http::HeaderValue::from_static("origin.example"));
    for (name, value) in [
        (trust::CLIENT_IP, "198.51.100.7"), (trust::COUNTRY, "DE"), (trust::ASN, "3320"), (trust::COLO, "FRA"),
        (trust::REQUEST_ID, "nonce-1"), (trust::USER, ""), (trust::CLAIMS, ""), (trust::BOT_SCORE, "91"), (trust::BOT_CLASS, "browser"),
    ] {
        req.headers_mut().insert(name, http::HeaderValue::from_static(value));
    }
    Signer::new(key).sign(&mut req, now, "nonce-1")?;
    let replay = req.clone();

    let verifier = Verifier::new(KeySet::from_spec(&spec)?);
    let seen = Mutex::new(ReplayCache::new(100_000));
    let first = verify(&verifier, &seen, &mut req, now);
    println!("first: {:?}", first.as_ref().map(|f| &f.country));
    let mut replay = replay;
    println!("replayed: {:?}", verify(&verifier, &seen, &mut replay, now).map(|f| f.country));
    let mut unsigned = http::Request::get("https://origin.example/orders").body(())?;
    println!("unsigned: {:?}", verify(&verifier, &seen, &mut unsigned, now).map(|f| f.country));
    Ok(())
}
