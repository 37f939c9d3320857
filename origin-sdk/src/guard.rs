//! The whole origin-side check for request types that are not
//! `http::Request` (a Python WSGI environ, an ASGI scope, a JS `Request`):
//! verify the signature, refuse replays, and say which headers the
//! application may see. Language bindings call this instead of re-implementing
//! any part of it.

use crate::base::{Component, Message};
use crate::replay::{admit, ReplayCache, DEFAULT_REPLAY_CAPACITY};
use crate::trust;
use crate::verify::{VerifiedSignature, Verifier, VerifyError};
use crate::VerifiedFacts;
use std::sync::Mutex;

/// A [`Verifier`] plus the per-process replay cache: what the tower layer
/// does, for any [`Message`].
#[derive(Debug)]
pub struct Guard {
    verifier: Verifier,
    replay: Option<Mutex<ReplayCache>>,
}

/// A request that passed: its facts and the signature they came from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Accepted {
    /// Facts read from the covered trust headers.
    pub facts: VerifiedFacts,
    /// The verified signature (covered components, parameters).
    pub signature: VerifiedSignature,
}

impl Guard {
    /// Verifies with `verifier` and a replay cache of
    /// [`DEFAULT_REPLAY_CAPACITY`] nonces.
    pub fn new(verifier: Verifier) -> Self {
        Guard { verifier, replay: Some(Mutex::new(ReplayCache::new(DEFAULT_REPLAY_CAPACITY))) }
    }

    /// Replay cache with room for `capacity` nonces; `0` turns replay
    /// protection off (e.g. for signatures without unique nonces).
    pub fn replay_capacity(mut self, capacity: usize) -> Self {
        self.replay = (capacity > 0).then(|| Mutex::new(ReplayCache::new(capacity)));
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Verifies `msg` at `now` (Unix seconds) and, with a replay cache,
    /// admits its nonce once. Like [`Verifier::verify`], an underscore twin of
    /// a trust or covered header (`X_Edge_User`) refuses the request
    /// ([`VerifyError::AmbiguousHeader`]): a WSGI or CGI server could hand it
    /// to the application as the real one.
    pub fn check<M: Message + ?Sized>(&self, msg: &M, now: u64) -> Result<Accepted, VerifyError> {
        let signature = self.verifier.verify_unambiguous(msg, now)?;
        let facts = VerifiedFacts::from_message(
            msg,
            &signature.params,
            signature.keyid.clone(),
            signature.created,
            signature.expires,
            signature.nonce.clone(),
        );
        if let Some(cache) = &self.replay {
            admit(cache, &facts, self.verifier.skew(), now)?;
        }
        Ok(Accepted { facts, signature })
    }
}

/// Whether `name` is, or a server could turn it into, a trust header: WSGI
/// and CGI map `-` and `_` to the same `HTTP_X_EDGE_USER`, so `X_Edge_User`
/// counts too (ASCII case-insensitive).
pub fn is_trust_like(name: &str) -> bool {
    if name.contains('_') {
        trust::is_trust_header(&name.replace('_', "-"))
    } else {
        trust::is_trust_header(name)
    }
}

impl Accepted {
    /// Whether the application may see header `name` after this verification:
    /// every header but `x-edge-*` ones the signature does not cover and
    /// underscore spellings of trust headers (never covered, and read as the
    /// real one by some servers). `Signature`/`Signature-Input` stay, as with
    /// [`Verifier::verify_and_strip`].
    pub fn keeps(&self, name: &str) -> bool {
        if !is_trust_like(name) {
            return true;
        }
        if name.contains('_') {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        !lower.starts_with(trust::PREFIX) || self.signature.params.components.contains(&Component::new(lower))
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeySet, Signer, SigningKey};

    fn signed(nonce: &str) -> (SigningKey, http::Request<()>) {
        let key = SigningKey::ed25519_from_seed("edge-1", &[9; 32]);
        let mut req = http::Request::get("https://origin.example/a?b=1").body(()).unwrap();
        for h in trust::ALL {
            req.headers_mut().insert(h, http::HeaderValue::from_static(""));
        }
        req.headers_mut().insert(trust::USER, http::HeaderValue::from_static("alice"));
        Signer::new(key.clone()).sign(&mut req, 1_700_000_000, nonce).unwrap();
        (key, req)
    }

    #[test]
    fn check_admits_once_and_keeps_only_covered_trust_headers() {
        let (key, req) = signed("n-1");
        let guard = Guard::new(Verifier::new(KeySet::new().with(key.verifying_key())));
        let ok = guard.check(&req, 1_700_000_001).unwrap();
        assert_eq!(ok.facts.user.as_deref(), Some("alice"));
        assert!(ok.keeps("X-Edge-User") && ok.keeps("accept") && ok.keeps("signature"));
        assert!(!ok.keeps("x-edge-extra") && !ok.keeps("X_Edge_User") && !ok.keeps("signature_input"));
        assert_eq!(guard.check(&req, 1_700_000_002).unwrap_err(), VerifyError::Replayed);
        let no_cache = Guard::new(Verifier::new(KeySet::new().with(key.verifying_key()))).replay_capacity(0);
        assert!(no_cache.check(&req, 1_700_000_001).is_ok() && no_cache.check(&req, 1_700_000_001).is_ok());
    }

    #[test]
    fn underscore_twins_refuse_the_request_as_in_the_verifier() {
        let (key, mut req) = signed("n-2");
        req.headers_mut().insert("x_edge_user", http::HeaderValue::from_static("admin"));
        let guard = Guard::new(Verifier::new(KeySet::new().with(key.verifying_key())));
        let err = guard.check(&req, 1_700_000_001).unwrap_err();
        assert_eq!(err, VerifyError::AmbiguousHeader("x_edge_user".into()));
        assert_eq!(err.reason(), "ambiguous_header");
    }

    #[test]
    fn trust_like_names() {
        assert!(is_trust_like("X_EDGE_USER") && is_trust_like("x-edge_user") && is_trust_like("Signature_Input"));
        assert!(!is_trust_like("x_edgeuser") && !is_trust_like("accept_language"));
    }
}
