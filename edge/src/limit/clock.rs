//! Time source for the limiter.
//!
//! The core never reads the platform clock: natively tests drive a
//! [`FakeClock`], and the wasm shell passes e.g. `|| js_sys::Date::now() as u64`
//! (any `Fn() -> u64` is a [`Clock`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Milliseconds since an arbitrary but fixed epoch (the Unix epoch in the
/// shell). Only differences matter, so a monotonic source is ideal.
pub trait Clock {
    fn now_ms(&self) -> u64;
}

impl<F: Fn() -> u64> Clock for F {
    fn now_ms(&self) -> u64 {
        self()
    }
}

/// A manually driven clock. Clones share one instant, so a test can keep a
/// handle and advance the clock that a [`Limiter`](super::Limiter) owns.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    now_ms: Arc<AtomicU64>,
}

impl FakeClock {
    pub fn new(start_ms: u64) -> Self {
        Self {
            now_ms: Arc::new(AtomicU64::new(start_ms)),
        }
    }

    /// Moves time forward, saturating at `u64::MAX` rather than wrapping to
    /// the past.
    pub fn advance(&self, ms: u64) {
        let _ = self
            .now_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// Jumps to an absolute instant; may go backwards to model clock skew.
    pub fn set(&self, ms: u64) {
        self.now_ms.store(ms, Ordering::Relaxed);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_time_and_advance_saturates() {
        let a = FakeClock::new(10);
        let b = a.clone();
        a.advance(5);
        assert_eq!(b.now_ms(), 15);
        b.advance(u64::MAX);
        assert_eq!(a.now_ms(), u64::MAX);
        a.set(3);
        assert_eq!(b.now_ms(), 3);
    }

    #[test]
    fn closures_are_clocks() {
        let c = || 42u64;
        assert_eq!(c.now_ms(), 42);
    }
}
