//! Helpers for native tests and the CLI: run the pipeline without workerd.

use crate::phases::{authenticate, filter, limit};

/// An [`Io`](crate::pipeline::Io) with nothing behind it: no counters, no keys.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoIo;

impl authenticate::Keys for NoIo {}
impl limit::Counters for NoIo {}
impl filter::Secrets for NoIo {}

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
