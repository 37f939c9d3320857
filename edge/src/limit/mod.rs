//! Limit phase: GCRA rate limiting.
//!
//! Split like `governor`: [`gcra`] is the pure decision, [`clock`] supplies
//! time and [`store`] keeps per-key state, so the core is tested natively
//! with a [`FakeClock`] and the wasm shell only plugs in its own clock/store.
//! [`headers`] renders the IETF RateLimit fields from a decision.

pub mod clock;
pub mod gcra;
pub mod headers;
pub mod keys;
pub mod refusals;
pub mod store;

#[cfg(test)]
mod proptests;

pub use clock::{Clock, FakeClock};
pub use gcra::{decide, GcraState, Outcome, Quota, QuotaError};
pub use headers::{PolicyName, PolicyNameError};
pub use refusals::RefusalCache;
pub use store::{check_in, check_state, KeyState, Limiter, MemoryStore, StateStore};
