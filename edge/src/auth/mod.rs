//! Authentication phase: JWT validation (pure; no I/O, no clock).
//!
//! The shell extracts the token ([`TokenSource`]), keeps a [`KeyStore`]
//! (JWKS fetched by the shell, HMAC secrets from Worker secrets) and calls
//! [`verify`] with the current time. Errors render as RFC 6750 challenges
//! ([`JwtError::www_authenticate`]); [`JwtError::may_refresh_keys`] tells
//! the shell when a JWKS refetch could help.
//!
//! Closed by default: each key verifies exactly one algorithm, `alg: none`,
//! `crit` and token-supplied keys (`jku`/`x5u`/`jwk`/`x5c`) are refused.

mod error;
mod extract;
mod json;
mod jwks_cache;
mod keys;
mod policy;
mod verify;

#[cfg(test)]
mod tests;

pub use error::{bearer_challenge, BearerError, JwtError, Part};
pub use extract::TokenSource;
pub use jwks_cache::{cached_jwks, JwksCache, JwksPlan, JwksSource, JwksTimings};
pub use keys::{
    Alg, JwksOptions, JwksReport, Key, KeyError, KeyLookupError, KeyStore, MAX_CANDIDATES,
    MIN_RSA_BITS,
};
pub use policy::{ForwardRule, Policy, ScopeRule};
pub use verify::{verify, verify_jws, UntrustedToken, VerifiedJws, VerifiedToken, MAX_TOKEN_LEN};
