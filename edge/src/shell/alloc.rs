//! The worker's allocator: Talc instead of Rust's default for wasm32
//! (dlmalloc). The edge allocates on every request (header and log strings;
//! CRS's engine a few thousand small blocks a request), and with Talc the
//! worker served slightly more requests a second under workerd, for 0.3 KiB
//! of bundle (docs/benchmarks.md, "The worker's allocator"). An isolate runs
//! one request at a time on one thread, the case `WasmDynamicTalc` is for; it
//! grows wasm memory as dlmalloc did and, like it, never returns it.

#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
