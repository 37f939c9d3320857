//! A host Ed25519 backend (`Ed25519Backend`, what the npm package plugs
//! node:crypto into) answers only "valid or not" for its own key: key choice,
//! algorithm pinning, time window and components stay the crate's.

mod common;

use common::{hmac_key, key, signed, signed_with, NOW};
use origin_sdk::{Ed25519Backend, KeySet, Signer, SigningKey, Verifier, VerifyError, VerifyingKey};
use std::sync::{Arc, Mutex};

/// What the backend answers.
#[derive(Clone, Copy)]
enum Answer {
    /// A real RFC 8032 check (dalek's plain, non-strict one, as OpenSSL does).
    Real,
    /// Whatever is asked: shows what the crate still refuses on its own.
    AlwaysValid,
    /// The host failed (a JS exception, a non-boolean).
    Fails,
}

struct Recording {
    answer: Answer,
    calls: Mutex<Vec<[u8; 32]>>,
}

impl Recording {
    fn new(answer: Answer) -> Arc<Self> {
        Arc::new(Recording { answer, calls: Mutex::new(Vec::new()) })
    }
    fn calls(&self) -> Vec<[u8; 32]> {
        self.calls.lock().unwrap().clone()
    }
}

impl Ed25519Backend for Recording {
    fn verify(&self, public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String> {
        self.calls.lock().unwrap().push(*public_key);
        match self.answer {
            Answer::Real => {
                let k = ed25519_dalek::VerifyingKey::from_bytes(public_key).map_err(|e| e.to_string())?;
                Ok(ed25519_dalek::Verifier::verify(&k, message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok())
            }
            Answer::AlwaysValid => Ok(true),
            Answer::Fails => Err("host threw TypeError: boom".into()),
        }
    }
}

fn with_backend(backend: &Arc<Recording>, keys: &[&SigningKey]) -> Verifier {
    let set: KeySet = keys.iter().map(|k| k.verifying_key()).collect();
    Verifier::new(set.with_ed25519_backend(backend.clone()))
}

fn public(k: &SigningKey) -> [u8; 32] {
    k.verifying_key().ed25519_public_key().unwrap()
}

#[test]
fn the_backend_decides_the_signature_and_the_crate_the_rest() {
    let backend = Recording::new(Answer::Real);
    let v = with_backend(&backend, &[&key()]);
    assert!(v.keys().get("edge-test").unwrap().uses_ed25519_backend());
    let f = v.verify(&signed(), NOW + 1).unwrap();
    assert_eq!(f.user.as_deref(), Some("alice"));
    assert_eq!(backend.calls(), vec![public(&key())]);

    let mut forged = signed();
    forged.headers_mut().insert("x-edge-user", "admin".parse().unwrap());
    assert_eq!(v.verify(&forged, NOW + 1), Err(VerifyError::BadSignature));
    assert_eq!(backend.calls().len(), 2);
}

#[test]
fn a_failing_backend_refuses_with_its_reason() {
    let backend = Recording::new(Answer::Fails);
    let v = with_backend(&backend, &[&key()]);
    let e = v.verify(&signed(), NOW + 1).unwrap_err();
    assert_eq!(e, VerifyError::SignatureCheckFailed("host threw TypeError: boom".into()));
    assert_eq!(e.reason(), "signature_check_failed");
    assert!(e.to_string().contains("boom"), "{e}");
    assert!(!v.keys().get("edge-test").unwrap().verify(b"base", &[0; 64]));
}

#[test]
fn a_yes_man_backend_still_cannot_pass_what_the_crate_refuses() {
    let backend = Recording::new(Answer::AlwaysValid);
    let v = with_backend(&backend, &[&key(), &hmac_key()]);
    // HMAC keys never go to the backend: a wrong MAC is refused.
    assert!(!v.keys().get("edge-hmac").unwrap().uses_ed25519_backend());
    let mut hmac = signed_with(&Signer::new(hmac_key()));
    hmac.headers_mut().insert("x-edge-user", "admin".parse().unwrap());
    assert_eq!(v.verify(&hmac, NOW + 1), Err(VerifyError::BadSignature));
    // Time window, unknown keyid and algorithm are checked before any curve work.
    assert!(matches!(v.verify(&signed(), NOW + 3600), Err(VerifyError::Expired { .. })));
    let stranger = signed_with(&Signer::new(SigningKey::ed25519_from_seed("edge-other", &[3; 32])));
    assert_eq!(v.verify(&stranger, NOW + 1), Err(VerifyError::UnknownKeyId("edge-other".into())));
    // An Ed25519 signature under an HMAC key's keyid: the key pins the algorithm.
    let confused = signed_with(&Signer::new(SigningKey::ed25519_from_seed("edge-hmac", &[9; 32])));
    assert!(matches!(v.verify(&confused, NOW + 1), Err(VerifyError::AlgorithmMismatch { .. })));
    // Signatures of the wrong length never reach it either.
    assert!(!v.keys().get("edge-test").unwrap().verify(b"base", &[0; 63]));
    assert!(backend.calls().is_empty(), "backend asked {} times", backend.calls().len());
}

#[test]
fn rotated_keys_each_ask_with_their_own_public_key() {
    let (new, old) = (SigningKey::ed25519_from_seed("edge-2026", &[1; 32]), SigningKey::ed25519_from_seed("edge-2025", &[2; 32]));
    let backend = Recording::new(Answer::Real);
    let v = with_backend(&backend, &[&new, &old]);
    assert_eq!(v.verify(&signed_with(&Signer::new(old.clone())), NOW).unwrap().keyid, "edge-2025");
    assert_eq!(v.verify(&signed_with(&Signer::new(new.clone())), NOW).unwrap().keyid, "edge-2026");
    assert_eq!(backend.calls(), vec![public(&old), public(&new)]);
    // Old key's signature relabelled as the new key's: the new key refuses it.
    let old_as_new = signed_with(&Signer::new(old.with_keyid("edge-2026")));
    assert_eq!(v.verify(&old_as_new, NOW), Err(VerifyError::BadSignature));
}

#[test]
fn small_order_keys_stay_on_the_strict_dalek_check() {
    // The identity point: every plain RFC 8032 check would accept forgeries under it.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifyingKey::ed25519("weak", &identity).unwrap();
    let backend = Recording::new(Answer::AlwaysValid);
    let routed = weak.with_ed25519_backend(backend.clone());
    assert!(!routed.uses_ed25519_backend());
    assert!(!routed.verify(b"anything", &[0; 64]));
    assert!(backend.calls().is_empty());
}

#[test]
fn default_keys_use_dalek_and_debug_names_the_backend() {
    let plain = key().verifying_key();
    assert!(!plain.uses_ed25519_backend());
    let routed = plain.with_ed25519_backend(Recording::new(Answer::Real));
    assert!(format!("{routed:?}").contains("backend"), "{routed:?}");
    assert_eq!(routed.public_key_base64(), key().verifying_key().public_key_base64());
}
