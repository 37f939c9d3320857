//! `edge-verify`: the edge's signature checked in front of an app written in
//! any language, as a reverse proxy or as nginx's `auth_request` endpoint.
//! Verification is `origin-sdk`'s (`layer::admit`), as in the tower Layer and
//! the npm package; this crate only moves requests and headers.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod auth_request;
pub mod config;
pub mod diagnose;
pub mod facts_headers;
pub mod gate;
pub mod proxy;

pub use config::{Config, Mode};
pub use gate::Gate;

/// The router for `mode`; every path is handled (nginx picks the auth path).
pub fn router(gate: Gate, mode: &Mode) -> axum::Router {
    match mode {
        Mode::AuthRequest => axum::Router::new().fallback(auth_request::handle).with_state(gate),
        Mode::Proxy { upstream } => axum::Router::new().fallback(proxy::handle).with_state(proxy::Proxy::new(gate, upstream.clone())),
    }
}
