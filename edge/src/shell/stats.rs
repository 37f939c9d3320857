//! Counts requests and, when [`crate::stats::IsolateStats`] says one is due,
//! logs the isolate's wasm heap and cache sizes.

use std::cell::RefCell;

use worker::console_log;

use crate::stats::{IsolateStats, Sizes};

thread_local! {
    static STATS: RefCell<IsolateStats> = RefCell::new(IsolateStats::default());
}

/// Bytes in one wasm memory page.
const PAGE: u64 = 65_536;

pub(super) fn count(now_ms: u64, every: u64) {
    let Ok(line) = STATS.with(|s| {
        let mut s = s.try_borrow_mut()?;
        Ok::<_, std::cell::BorrowMutError>(s.count(now_ms, every).then(|| s.line(now_ms, &measure())))
    }) else {
        return;
    };
    if let Some(line) = line {
        console_log!("{line}");
    }
}

fn measure() -> Sizes {
    let (limit_keys, refused_keys) = super::limit::isolate_keys();
    Sizes {
        wasm_heap_bytes: core::arch::wasm32::memory_size(0) as u64 * PAGE,
        limit_keys,
        refused_keys,
        jwks_urls: super::jwks::cached_urls(),
        agent_directories: super::agents::cached_directories(),
    }
}
