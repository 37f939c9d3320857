//! `authenticate`: JWT validation (see [`crate::auth`]). The first matching
//! rule decides: `jwt` checks the request's token, `skip` exempts a route
//! (put it before a broader `jwt` rule).
//!
//! Keys come from the rule itself (`params.keys`): a static JWKS, a JWKS
//! URL the shell fetches and caches, and/or HMAC secrets named by their
//! Worker secret. A rule is self-contained so a dashboard editor sees every
//! key a route trusts in one place; rules sharing a JWKS URL share its cache.
//! The algorithm is pinned by the configured key, never by the token.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::auth::{
    verify, Alg, JwksOptions, JwksSource, JwksTimings, JwtError, KeyStore, Policy, TokenSource, VerifiedToken,
};
use crate::pipeline::{Ctx, EdgeResponse, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::validate::{params_required, Errors, PhaseAction};
use crate::rules::{JsonPath, Mode, OnError, Rules};

/// The actions of the authenticate phase.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthAction {
    /// Validate a JWT.
    Jwt(Box<JwtRule>),
    /// No authentication for matching requests.
    Skip,
}

/// Whether a request without a token may pass (anonymously). A token that
/// is present but invalid is refused either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Require {
    #[default]
    Required,
    Optional,
}

/// A compiled `jwt` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtRule {
    pub require: Require,
    pub source: TokenSource,
    /// `realm` of the `WWW-Authenticate` challenge.
    pub realm: Option<String>,
    pub keys: KeySources,
    pub policy: Policy,
}

/// Where a rule's verification keys come from.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySources {
    pub inline: Option<InlineKeys>,
    pub jwks_url: Option<JwksSource>,
    pub secrets: Vec<SecretRef>,
}

/// A JWKS written into the rules, parsed once when the rules compile.
#[derive(Clone)]
pub struct InlineKeys {
    pub store: Arc<KeyStore>,
    /// The JSON it came from (for equality: keys have no `PartialEq`).
    pub source: Value,
}

impl fmt::Debug for InlineKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineKeys").field("keys", &self.store.len()).finish()
    }
}

impl PartialEq for InlineKeys {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// An HMAC key held in a Worker secret (`npx wrangler secret put NAME`); its
/// UTF-8 bytes are the key. Secrets never live in the rules or in KV.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// The Worker secret's name.
    pub secret: String,
    /// HS256, HS384 or HS512.
    pub alg: Alg,
    #[serde(default)]
    pub kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJwtParams {
    #[serde(default)]
    require: Require,
    #[serde(default)]
    source: TokenSource,
    #[serde(default)]
    realm: Option<String>,
    keys: RawKeys,
    #[serde(default)]
    policy: Policy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    /// `{"keys": [...]}` public keys.
    #[serde(default)]
    jwks: Option<Value>,
    #[serde(default)]
    jwks_url: Option<String>,
    #[serde(default)]
    secrets: Vec<SecretRef>,
    #[serde(default)]
    jwks_options: JwksOptions,
    #[serde(default = "default_ttl")]
    jwks_ttl_s: u64,
    #[serde(default = "default_cooldown")]
    jwks_refresh_cooldown_s: u64,
}

fn default_ttl() -> u64 {
    300
}

fn default_cooldown() -> u64 {
    30
}

impl PhaseAction for AuthAction {
    const PHASE: &'static str = "authenticate";
    const ACTIONS: &'static [&'static str] = &["jwt", "skip"];
    /// Keys that cannot be had mean nobody can be authenticated: refuse.
    const DEFAULT_ON_ERROR: OnError = OnError::Closed;

    fn compile(action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        if action == "skip" {
            if !p.is_null() && p != &Value::Object(Default::default()) {
                errors.push(path.clone(), "the skip action takes no params");
                return None;
            }
            return Some(Self::Skip);
        }
        let raw: RawJwtParams = params_required(p, path, errors)?;
        let before = errors.0.len();
        let keys = compile_keys(raw.keys, &path.key("keys"), errors);
        check_source(&raw.source, &path.key("source"), errors);
        if let Some(realm) = &raw.realm {
            if realm.is_empty() || realm.len() > 128 || !realm.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
                errors.push(path.key("realm"), "realm is 1 to 128 visible ASCII characters without '\"' or '\\'");
            }
        }
        check_policy(&raw.policy, &path.key("policy"), errors);
        if errors.0.len() > before {
            return None;
        }
        Some(Self::Jwt(Box::new(JwtRule {
            require: raw.require,
            source: raw.source,
            realm: raw.realm,
            keys: keys?,
            policy: raw.policy,
        })))
    }
}

fn compile_keys(raw: RawKeys, path: &JsonPath, errors: &mut Errors) -> Option<KeySources> {
    if raw.jwks.is_none() && raw.jwks_url.is_none() && raw.secrets.is_empty() {
        errors.push(path.clone(), "name at least one key source: jwks, jwks_url or secrets");
    }
    if raw.jwks_options.allow_oct {
        errors.push(path.key("jwks_options").key("allow_oct"), "HMAC keys come from Worker secrets (keys.secrets), never from a JWKS");
    }
    let inline = raw.jwks.and_then(|jwks| {
        let at = path.key("jwks");
        let bytes = serde_json::to_vec(&jwks).ok()?;
        let mut store = KeyStore::new();
        match store.add_jwks(&bytes, &raw.jwks_options) {
            Ok(report) => {
                for (kid, why) in &report.skipped {
                    errors.push(at.clone(), format!("key {}: {why}", kid.as_deref().unwrap_or("without kid")));
                }
                if report.loaded == 0 && report.skipped.is_empty() {
                    errors.push(at.key("keys"), "the JWKS has no keys");
                }
                Some(InlineKeys { store: Arc::new(store), source: jwks })
            }
            Err(e) => {
                errors.push(at, e.to_string());
                None
            }
        }
    });
    if !(1..=86_400).contains(&raw.jwks_ttl_s) {
        errors.push(path.key("jwks_ttl_s"), "must be between 1 and 86400");
    }
    if raw.jwks_refresh_cooldown_s == 0 || raw.jwks_refresh_cooldown_s > raw.jwks_ttl_s {
        errors.push(path.key("jwks_refresh_cooldown_s"), "must be at least 1 and at most jwks_ttl_s");
    }
    let jwks_url = raw.jwks_url.and_then(|url| match check_jwks_url(&url) {
        Ok(()) => Some(JwksSource {
            url,
            options: raw.jwks_options.clone(),
            timings: JwksTimings {
                ttl_ms: raw.jwks_ttl_s.saturating_mul(1000),
                cooldown_ms: raw.jwks_refresh_cooldown_s.saturating_mul(1000),
            },
        }),
        Err(msg) => {
            errors.push(path.key("jwks_url"), msg);
            None
        }
    });
    for (i, s) in raw.secrets.iter().enumerate() {
        let at = path.key("secrets").index(i);
        let name_ok = (1..=64).contains(&s.secret.len())
            && s.secret.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            errors.push(at.key("secret"), "a Worker secret name: A-Z, 0-9 and '_' (1 to 64)");
        }
        if !matches!(s.alg, Alg::Hs256 | Alg::Hs384 | Alg::Hs512) {
            errors.push(at.key("alg"), "secrets are HMAC keys: HS256, HS384 or HS512");
        }
    }
    Some(KeySources { inline, jwks_url, secrets: raw.secrets })
}

/// JWKS over HTTPS; plain HTTP only to this machine (local development).
fn check_jwks_url(url: &str) -> Result<(), String> {
    let u = crate::rules::parse_url(url)?;
    let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("JWKS URLs are https (http only for localhost)".to_owned()),
    }
}

fn check_source(source: &TokenSource, path: &JsonPath, errors: &mut Errors) {
    let name = match source {
        TokenSource::Bearer => return,
        TokenSource::Cookie { name } | TokenSource::Header { name } => name,
    };
    let token_char = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || name.len() > 128 || !name.bytes().all(token_char) {
        errors.push(path.key("name"), "a header or cookie name (1 to 128 token characters)");
    }
}

fn check_policy(p: &Policy, path: &JsonPath, errors: &mut Errors) {
    if p.leeway_s > 3600 {
        errors.push(path.key("leeway_s"), "at most 3600 seconds");
    }
    if p.max_iat_future_s > 3600 {
        errors.push(path.key("max_iat_future_s"), "at most 3600 seconds");
    }
    if let Some(s) = &p.scopes {
        if s.claim.is_empty() {
            errors.push(path.key("scopes").key("claim"), "name the claim holding scopes or roles");
        }
    }
    if p.forward.user_claim.is_empty() {
        errors.push(path.key("forward").key("user_claim"), "name the claim forwarded as the user");
    }
}

/// Key material the phase needs from the shell (JWKS fetches, Worker
/// secrets) or from tests. The defaults have none: every key source fails.
#[allow(async_fn_in_trait)]
pub trait Keys {
    /// The keys published at `source.url`, cached by the implementation;
    /// `refresh` when a token named a `kid` the cached keys lack (the
    /// implementation refetches at most once per cooldown).
    async fn jwks(&self, source: &JwksSource, now_ms: u64, refresh: bool) -> Result<Arc<KeyStore>, String> {
        let _ = (source, now_ms, refresh);
        Err("no JWKS fetcher".to_owned())
    }

    /// The value of the Worker secret `name`.
    fn secret(&self, name: &str) -> Option<Vec<u8>> {
        let _ = name;
        None
    }
}

pub async fn run<K: Keys>(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx, io: &K) -> Verdict {
    let Some(rule) = rules.authenticate.iter().find(|r| r.when.matches(req)) else {
        ctx.record(Phase::Authenticate, "continue", None, None);
        return Verdict::Continue;
    };
    let jwt = match &rule.action {
        AuthAction::Skip => {
            ctx.record(Phase::Authenticate, "skip", Some(&rule.id), None);
            return Verdict::Continue;
        }
        AuthAction::Jwt(jwt) => jwt,
    };
    let outcome = match jwt.source.extract(req.headers.iter().map(|(n, v)| (n, v))) {
        Err(JwtError::MissingToken) if jwt.require == Require::Optional => {
            ctx.record(Phase::Authenticate, "anonymous", Some(&rule.id), Some("no token"));
            return Verdict::Continue;
        }
        Err(e) => Err(Failure::Token(e)),
        Ok(token) => check(jwt, &token, ctx.now_ms, io).await,
    };
    let log_only = rule.mode == Mode::Log;
    match outcome {
        Ok(v) => {
            let note = format!("{} kid={}", v.alg, v.kid.as_deref().unwrap_or("-"));
            ctx.record(Phase::Authenticate, "allow", Some(&rule.id), Some(&note));
            ctx.facts.user = v.user;
            if !jwt.policy.forward.claims.is_empty() {
                ctx.facts.claims = Some(Value::Object(v.forwarded_claims));
            }
            ctx.facts.verified_claims = Some(v.claims);
            Verdict::Continue
        }
        // The note says why, from fixed strings: never the token.
        Err(Failure::Token(e)) => {
            let note = format!("{}: {e:?}", e.description());
            if log_only {
                ctx.record(Phase::Authenticate, "deny", Some(&rule.id), Some(&format!("log only; {note}")));
                return Verdict::Continue;
            }
            ctx.record(Phase::Authenticate, "deny", Some(&rule.id), Some(&note));
            let mut r = EdgeResponse::error(e.status(), e.description(), Some(&rule.id), &ctx.request_id);
            r.headers.push(("www-authenticate".into(), e.www_authenticate(jwt.realm.as_deref())));
            Verdict::Respond(r)
        }
        Err(Failure::Keys(why)) => {
            let note = format!("keys unavailable: {why}");
            if log_only || rule.on_error == OnError::Open {
                let why = if log_only { "log only" } else { "on_error open" };
                ctx.record(Phase::Authenticate, "error", Some(&rule.id), Some(&format!("{note}; {why}")));
                return Verdict::Continue;
            }
            ctx.record(Phase::Authenticate, "error", Some(&rule.id), Some(&note));
            Verdict::Respond(EdgeResponse::error(503, "authentication keys unavailable", Some(&rule.id), &ctx.request_id))
        }
    }
}

enum Failure {
    Token(JwtError),
    Keys(String),
}

/// Verifies `token` against the rule's key sources; an unknown `kid`
/// refreshes the JWKS once (the [`Keys`] implementation enforces the
/// cooldown).
async fn check<K: Keys>(jwt: &JwtRule, token: &str, now_ms: u64, io: &K) -> Result<VerifiedToken, Failure> {
    let now_s = now_ms / 1000;
    let mut stores: Vec<Arc<KeyStore>> = Vec::new();
    if !jwt.keys.secrets.is_empty() {
        let mut store = KeyStore::new();
        for s in &jwt.keys.secrets {
            let value = io.secret(&s.secret).ok_or_else(|| Failure::Keys(format!("secret {} is not set", s.secret)))?;
            store
                .add_secret(s.kid.as_deref(), s.alg, &value)
                .map_err(|e| Failure::Keys(format!("secret {}: {e}", s.secret)))?;
        }
        stores.push(Arc::new(store));
    }
    if let Some(inline) = &jwt.keys.inline {
        stores.push(inline.store.clone());
    }
    let Some(url) = &jwt.keys.jwks_url else {
        return verify_any(token, &stores, &jwt.policy, now_s).map_err(Failure::Token);
    };
    let fetched = io.jwks(url, now_ms, false).await.map_err(Failure::Keys)?;
    stores.push(fetched);
    match verify_any(token, &stores, &jwt.policy, now_s) {
        Err(e) if e.may_refresh_keys() => {
            let fetched = io.jwks(url, now_ms, true).await.map_err(Failure::Keys)?;
            if let Some(last) = stores.last_mut() {
                *last = fetched;
            }
            verify_any(token, &stores, &jwt.policy, now_s).map_err(Failure::Token)
        }
        other => other.map_err(Failure::Token),
    }
}

/// Tries each store in turn while the token's key is simply not in it; any
/// other failure is final (a key that exists but does not verify is not
/// retried elsewhere).
fn verify_any(token: &str, stores: &[Arc<KeyStore>], policy: &Policy, now_s: u64) -> Result<VerifiedToken, JwtError> {
    let mut last = JwtError::NoMatchingKey;
    for store in stores {
        match verify(token, store, policy, now_s) {
            Err(e @ (JwtError::UnknownKid | JwtError::NoMatchingKey)) => {
                // Prefer UnknownKid: it is what allows a JWKS refresh.
                if !matches!(last, JwtError::UnknownKid) {
                    last = e;
                }
            }
            other => return other,
        }
    }
    Err(last)
}
