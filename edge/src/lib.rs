//! The edge: a Cloudflare Worker whose pure core (everything outside `shell`)
//! builds and tests natively.
//!
//! Request phases, in order: normalize → filter → authenticate → limit → cache
//! → route → forward → respond → log. Each lives in [`phases`]; the
//! [`pipeline`] runs them; the wasm-only `shell` does the I/O they ask for.

pub mod analytics;
pub mod auth;
pub mod botauth;
pub mod challenge;
pub mod fetch_cache;
pub mod json;
pub mod lifecycle;
pub mod limit;
pub mod log;
pub mod phases;
pub mod pipeline;
pub mod request;
pub mod rules;
pub mod signing;
pub mod stats;
pub mod testing;
pub mod trust;
pub mod upstream;
pub mod waf;
pub mod wire;

// Public (hidden) only so the wasm-bindgen tests in `edge/tests/wasm_shell.rs`
// reach the translation code; nothing outside the crate should use it.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod shell;
