//! The npm package's core: `origin-sdk` compiled to wasm with wasm-bindgen.
//!
//! Only translation lives here: JS strings and arrays in, one JSON outcome
//! out. Verification, stripping and the replay cache are `origin-sdk`'s
//! (`layer::admit`), the same code the tower Layer and the sidecar run. The
//! JS side (`package/index.js`) adds the idiomatic API on top.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod host;
pub mod options;
pub mod outcome;
pub mod request;

use options::Guard;
use outcome::Outcome;
use origin_sdk::VerifyError;
use wasm_bindgen::prelude::*;

/// One configured verifier with its replay cache (exported to JS as `Core`).
#[wasm_bindgen]
pub struct Core {
    guard: Guard,
}

/// Unix seconds from a JS number; refuses NaN, negatives and fractions of
/// nonsense rather than casting them silently.
fn unix_seconds(now: f64) -> Result<u64, VerifyError> {
    if now.is_finite() && (0.0..9.0e15).contains(&now) {
        Ok(now.floor() as u64)
    } else {
        Err(VerifyError::Malformed(format!("clock value {now} is not Unix seconds")))
    }
}

impl Core {
    /// From the options JSON (see `options.rs`), Ed25519 by dalek.
    pub fn from_options(json: &str) -> Result<Core, String> {
        Guard::from_options_json(json, None).map(|guard| Core { guard })
    }

    /// Verifies one request given as (name, value) lines.
    pub fn check_lines<'a>(&self, method: &str, url: &str, lines: impl IntoIterator<Item = (&'a str, &'a str)>, now: f64) -> Outcome {
        let now = match unix_seconds(now) {
            Ok(n) => n,
            Err(e) => return Outcome::refused(e),
        };
        match request::build(method, url, lines) {
            Ok(req) => outcome::admit(&self.guard, req, now),
            Err(e) => Outcome::refused(e),
        }
    }
}

#[wasm_bindgen]
impl Core {
    /// `options` is the JSON of the JS options object; `ed25519_host`, if
    /// given, the per-key factory of host Ed25519 checks (see `host.rs`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str, ed25519_host: Option<js_sys::Function>) -> Result<Core, JsError> {
        Guard::from_options_json(options, ed25519_host.as_ref()).map(|guard| Core { guard }).map_err(|e| JsError::new(&e))
    }

    /// How many keys the host checks (0: all on dalek or not Ed25519).
    #[wasm_bindgen(js_name = hostKeys)]
    pub fn host_keys(&self) -> usize {
        self.guard.verifier.keys().iter().filter(|k| k.uses_ed25519_backend()).count()
    }

    /// `headers` is flat: `[name, value, name, value, ...]`, as Node's
    /// `rawHeaders`. Returns the outcome JSON; never throws for request input.
    // A JS array crosses the boundary only as an owned boxed slice.
    #[allow(clippy::boxed_local)]
    pub fn check(&self, method: &str, url: &str, headers: Box<[JsValue]>, now: f64) -> String {
        let strings: Option<Vec<String>> = headers.iter().map(JsValue::as_string).collect();
        let outcome = match strings {
            Some(s) if s.len() % 2 == 0 => self.check_lines(method, url, s.chunks_exact(2).map(|p| (p[0].as_str(), p[1].as_str())), now),
            _ => Outcome::refused(VerifyError::Malformed("headers must be name/value string pairs".into())),
        };
        outcome.to_json()
    }
}
