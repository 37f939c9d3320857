//! Verify (and, at the edge, produce) RFC 9421 HTTP Message Signatures over
//! the edge's trust headers.
//!
//! The edge strips every `x-edge-*` header a client sends, sets its own
//! ([`trust::ALL`]), and signs them together with method, authority, path and
//! query. An origin that verifies the signature can believe those headers;
//! without verification anyone who reaches the origin directly could forge them.
//!
//! ```
//! use origin_sdk::{KeySet, Signer, SigningKey, Verifier, trust};
//!
//! // Edge side (normally in the worker): sign the forwarded request.
//! let key = SigningKey::ed25519_from_seed("edge-2024", &[42; 32]);
//! let mut req = http::Request::get("https://origin.example/orders?id=7").body(()).unwrap();
//! for name in trust::ALL {
//!     req.headers_mut().insert(name, http::HeaderValue::from_static(""));
//! }
//! req.headers_mut().insert(trust::CLIENT_IP, http::HeaderValue::from_static("203.0.113.9"));
//! Signer::new(key.clone()).sign(&mut req, 1_700_000_000, "7f3c9a").unwrap();
//!
//! // Origin side: keys come from configuration, e.g. `KeySet::from_spec`.
//! let verifier = Verifier::new(KeySet::new().with(key.verifying_key()));
//! let facts = verifier.verify_and_strip(&mut req, 1_700_000_002).unwrap();
//! assert_eq!(facts.client_ip, Some("203.0.113.9".parse().unwrap()));
//! assert_eq!(facts.user, None); // sent empty: unknown
//!
//! // A forged fact breaks the signature.
//! req.headers_mut().insert(trust::USER, http::HeaderValue::from_static("admin"));
//! assert!(verifier.verify(&req, 1_700_000_002).is_err());
//! ```
//!
//! Features: `tower` adds [`layer::EdgeAuthLayer`]; `axum` (implies `tower`)
//! makes [`VerifiedFacts`] an axum extractor. With no features the crate builds
//! for `wasm32-unknown-unknown` and needs no randomness.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod base;
mod facts;
pub mod guard;
pub mod keys;
pub mod replay;
pub mod sf;
pub mod sign;
pub mod trust;
pub mod verify;

#[cfg(feature = "tower")]
pub mod layer;

pub use base::{signature_base, signature_base_and_params, BaseError, Component, Message, SignatureParams};
pub use facts::VerifiedFacts;
pub use guard::{Accepted, Guard};
pub use keys::{Algorithm, Ed25519Backend, KeyError, KeySet, SignatureFailure, SigningKey, VerifyingKey};
pub use sign::{SignError, SignatureHeaders, Signer, TAG};
pub use verify::{VerifiedSignature, VerifyError, Verifier};

#[cfg(feature = "tower")]
pub use layer::{EdgeAuth, EdgeAuthLayer};
