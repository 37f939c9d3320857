//! OWASP CRS 4 as a ruleset of the `waf` action (`"rulesets": ["owasp-crs"]`).
//!
//! The stock request-phase rules (REQUEST-901 … 949, 999) and their word lists
//! ship inside the worker ([`bundle`]) and run on `zentinel-modsec`, a pure-Rust
//! SecLang engine whose regexes are the linear-time `regex` crate. The blocking
//! decision is CRS's own: rule 949110 denies when the inbound anomaly score
//! reaches `threshold` at the configured paranoia level. This module is the thin
//! layer over the engine: it feeds it the request, maps the document's
//! `paranoia`, `threshold`, `categories` and `exclusions` to CRS settings and
//! exclusion rules, fixes what the engine gets wrong for stock CRS
//! ([`load`]), and reports the CRS rule ids that fired.
//!
//! Compiling the rules costs ~40 ms of CPU natively (a quarter of a second on
//! an isolate's first CRS request in workerd, with the regexes that request
//! needs), so it happens once per isolate and configuration ([`engine`]), not
//! per request; the shipped patterns' analyses come precomputed ([`known`]).

//!
//! The engine is behind the cargo feature `owasp-crs` (off in the default
//! worker, for bundle size); without it a document naming the ruleset fails
//! validation instead of running without it.

#[cfg(feature = "owasp-crs")]
mod bundle;
#[cfg(feature = "owasp-crs")]
mod captures;
#[cfg(feature = "owasp-crs")]
mod engine;
#[cfg(feature = "owasp-crs")]
mod exclusions;
#[cfg(feature = "owasp-crs")]
mod known;
#[cfg(feature = "owasp-crs")]
mod load;
#[cfg(feature = "owasp-crs")]
mod paranoia;

use serde::Deserialize;

#[cfg(feature = "owasp-crs")]
pub use engine::*;
#[cfg(feature = "owasp-crs")]
pub use exclusions::{category_tag, check as check_exclusion, is_id_selector};
#[cfg(feature = "owasp-crs")]
pub use load::LoadNote;

/// Whether this build carries the CRS engine (cargo feature `owasp-crs`).
pub const AVAILABLE: bool = cfg!(feature = "owasp-crs");

/// A signature set the `waf` action can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ruleset {
    /// The edge's own detectors ([`crate::waf::inspect`]).
    Edge,
    /// OWASP CRS 4 request-phase rules.
    OwaspCrs,
}

#[cfg(all(test, feature = "owasp-crs"))]
mod tests;
