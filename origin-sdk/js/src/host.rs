//! Ed25519 by the host (Node's `node:crypto`, i.e. OpenSSL) instead of dalek
//! compiled to wasm32 (which has no 64-bit multiply; OpenSSL measured a few
//! percent faster, docs/benchmarks.md).
//!
//! The JS wrapper passes a factory `(publicKey: Uint8Array) => check | null`,
//! called once per Ed25519 key when the verifier is built; `check(message,
//! signature)` must return a boolean. Only that answer comes from JS: origin-sdk
//! still picks the key by `keyid`, pins its algorithm, checks the components,
//! time window and replay, and strips. A check that throws or answers anything
//! but a boolean refuses the request (`signature_check_failed`).
//!
//! The checks are JS functions, which Rust may not share across threads, so
//! the key holds only a slot number in this (single-threaded) module's table.

use js_sys::{Function, Uint8Array};
use origin_sdk::{Ed25519Backend, KeySet};
use std::cell::RefCell;
use std::sync::Arc;
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    /// Per-key check functions; a slot is freed when its key is dropped.
    static CHECKS: RefCell<Vec<Option<Function>>> = const { RefCell::new(Vec::new()) };
}

/// One key's host check, by slot in [`CHECKS`].
struct HostCheck {
    slot: usize,
}

fn describe(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    v.as_string().unwrap_or_else(|| v.js_typeof().as_string().unwrap_or_default())
}

impl HostCheck {
    fn install(check: Function) -> Result<HostCheck, String> {
        CHECKS
            .try_with(|c| {
                let mut c = c.try_borrow_mut().map_err(|_| "host check table in use".to_string())?;
                let slot = match c.iter().position(Option::is_none) {
                    Some(i) => {
                        c[i] = Some(check);
                        i
                    }
                    None => {
                        c.push(Some(check));
                        c.len() - 1
                    }
                };
                Ok(HostCheck { slot })
            })
            .map_err(|_| "host check table gone".to_string())?
    }

    fn function(&self) -> Option<Function> {
        // A clone, so the table is not borrowed while JS runs.
        CHECKS.try_with(|c| c.try_borrow().ok().and_then(|c| c.get(self.slot).cloned().flatten())).ok().flatten()
    }
}

impl Ed25519Backend for HostCheck {
    fn verify(&self, _public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> Result<bool, String> {
        let check = self.function().ok_or("the host Ed25519 check is not installed")?;
        let answer = check
            .call2(&JsValue::NULL, &Uint8Array::from(message), &Uint8Array::from(&signature[..]))
            .map_err(|e| format!("the host Ed25519 check threw: {}", describe(&e)))?;
        answer.as_bool().ok_or_else(|| format!("the host Ed25519 check returned {} instead of a boolean", describe(&answer)))
    }
}

impl Drop for HostCheck {
    fn drop(&mut self) {
        let _ = CHECKS.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                if let Some(s) = c.get_mut(self.slot) {
                    *s = None;
                }
            }
        });
    }
}

/// `keys` with every Ed25519 key the factory accepts checked by the host.
/// The factory answering `null`/`undefined` keeps that key on dalek; throwing
/// or answering something else than a function is an error naming the key.
pub fn route_ed25519(keys: KeySet, factory: &Function) -> Result<KeySet, String> {
    let mut routed = KeySet::new();
    for key in keys.iter() {
        let public = match key.ed25519_public_key() {
            Some(p) => p,
            None => {
                routed.insert(key.clone());
                continue;
            }
        };
        let made = factory
            .call1(&JsValue::NULL, &Uint8Array::from(&public[..]))
            .map_err(|e| format!("keys: the host Ed25519 backend refused key `{}`: {}", key.keyid(), describe(&e)))?;
        let key = if made.is_null() || made.is_undefined() {
            key.clone()
        } else {
            let check = made
                .dyn_into::<Function>()
                .map_err(|v| format!("keys: the host Ed25519 backend gave {} for key `{}`, not a function", describe(&v), key.keyid()))?;
            key.clone().with_ed25519_backend(Arc::new(HostCheck::install(check)?))
        };
        routed.insert(key);
    }
    Ok(routed)
}
