//! Helpers for native tests and the CLI: run the pipeline without workerd.

use std::cell::{Cell, RefCell};

use crate::limit::{check_in, MemoryStore, Outcome};
use crate::phases::limit::Take;
use crate::phases::{authenticate, filter, limit};

/// An [`Io`](crate::pipeline::Io) with nothing behind it: no counters, no keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoIo;

impl authenticate::Keys for NoIo {}
impl limit::Counters for NoIo {
    async fn take(&self, _take: &Take<'_>) -> Result<Outcome, String> {
        Err("no counter store".to_string())
    }
}

/// Counters in memory, every store mode alike (exact GCRA), on the clock the
/// pipeline passes (`Ctx::now_ms`). `fail` makes every call a store error.
#[derive(Debug)]
pub struct MemoryCounters {
    store: RefCell<MemoryStore>,
    pub fail: Cell<bool>,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        Self { store: RefCell::new(MemoryStore::new(100_000)), fail: Cell::new(false) }
    }
}

impl authenticate::Keys for MemoryCounters {}

impl limit::Counters for MemoryCounters {
    async fn take(&self, t: &Take<'_>) -> Result<Outcome, String> {
        if self.fail.get() {
            return Err("store unavailable (test)".to_string());
        }
        Ok(check_in(&mut *self.store.borrow_mut(), t.key, t.quota, t.cost, t.timeout_ms, t.now_ms))
    }
}

impl filter::Secrets for NoIo {}
impl filter::Secrets for MemoryCounters {}
impl crate::phases::botauth::Directories for NoIo {}
impl crate::phases::botauth::Directories for MemoryCounters {}

/// Drives a future to completion on this thread (the phases never wait on
/// anything but their `Io`, which is synchronous in memory).
pub fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut cx = Context::from_waker(Waker::noop());
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}
