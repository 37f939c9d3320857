//! What a verified token must additionally satisfy. Deserialized from the
//! rules JSON, so unknown fields are errors (a typo must not silently
//! disable a check).

use serde::{Deserialize, Serialize};

/// Claim checks applied after the signature verifies.
///
/// JSON (all fields optional):
/// `{"issuers": [..], "audiences": [..], "leeway_s": 60, "max_iat_future_s": 60,
///   "require_exp": true, "required_claims": [..],
///   "scopes": {"claim": "scope", "any_of": [..], "all_of": [..]},
///   "forward": {"user_claim": "sub", "claims": [..]}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Accepted `iss` values (exact match). Empty: `iss` is not checked.
    pub issuers: Vec<String>,
    /// Accepted audiences; the token's `aud` (string or array) must contain
    /// one. Empty: `aud` is not checked.
    pub audiences: Vec<String>,
    /// Clock-skew allowance for `exp` and `nbf`, seconds (default 60).
    pub leeway_s: u64,
    /// Largest allowed `iat - now`, seconds (default 60). Guards against
    /// tokens minted with a skewed or malicious clock to outlive rotation.
    pub max_iat_future_s: u64,
    /// Reject tokens without `exp` (default true): a token that never
    /// expires cannot be revoked by waiting.
    pub require_exp: bool,
    /// Claims that must be present and non-null.
    pub required_claims: Vec<String>,
    /// Scope/role requirement; failure is `insufficient_scope` (403).
    pub scopes: Option<ScopeRule>,
    /// Which claims the edge forwards to the origin.
    pub forward: ForwardRule,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway_s: 60,
            max_iat_future_s: 60,
            require_exp: true,
            required_claims: Vec::new(),
            scopes: None,
            forward: ForwardRule::default(),
        }
    }
}

/// Scopes/roles the token must carry.
///
/// The claim may be a space-separated string (OAuth `scope`) or an array of
/// strings (`roles`, `permissions`). Both lists empty means "claim present".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScopeRule {
    /// Claim holding the scopes (default `"scope"`).
    pub claim: String,
    /// At least one of these must be present (ignored when empty).
    pub any_of: Vec<String>,
    /// All of these must be present.
    pub all_of: Vec<String>,
}

impl Default for ScopeRule {
    fn default() -> Self {
        Self {
            claim: "scope".to_owned(),
            any_of: Vec::new(),
            all_of: Vec::new(),
        }
    }
}

/// Identity forwarded to the origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardRule {
    /// Claim used as the user identity (default `"sub"`); string or number.
    pub user_claim: String,
    /// Claims copied into [`super::VerifiedToken::forwarded_claims`] when
    /// present.
    pub claims: Vec<String>,
}

impl Default for ForwardRule {
    fn default() -> Self {
        Self {
            user_claim: "sub".to_owned(),
            claims: Vec::new(),
        }
    }
}
