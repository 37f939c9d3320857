//! `cache`: which requests may be served from the edge cache, under which key,
//! and for how long a response may be kept. Pure; the shell
//! (`shell/cache.rs`) does the Cache API I/O these decisions ask for.
//!
//! Actions: `cache` (params below), `bypass` (never cache what matches), and
//! `purge` (the matched path is the purge endpoint; the shell checks the
//! bearer secret and deletes the URLs given). First matching rule wins.

use serde::Deserialize;
use serde_json::Value;

use crate::pipeline::{Ctx, Phase};
use crate::request::RequestInfo;
use crate::rules::validate::{params, Errors, PhaseAction};
use crate::rules::{JsonPath, Mode, Rules};

/// Header on every response: what the cache did.
pub const STATUS_HEADER: &str = "x-edge-cache";
/// On stored copies: `v1;stored_at_ms;ttl_s;swr_s`.
pub const META_HEADER: &str = "x-edge-cache-meta";
/// On stored copies: the origin's own `Cache-Control`, restored when served.
pub const ORIGIN_CC_HEADER: &str = "x-edge-origin-cache-control";
/// Worker secret holding the purge endpoint's bearer token.
pub const PURGE_SECRET: &str = "EDGE_PURGE_TOKEN";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
    Bypass,
    Stale,
    Expired,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "HIT",
            Self::Miss => "MISS",
            Self::Bypass => "BYPASS",
            Self::Stale => "STALE",
            Self::Expired => "EXPIRED",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CacheAction {
    Cache(CachePolicy),
    Bypass,
    Purge,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryKey {
    /// Leave the query out of the key entirely.
    pub ignore: bool,
    /// Only these parameters count (all when empty); `name*` is a prefix.
    pub include: Vec<String>,
    /// These never count (`utm_*`).
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VaryKey {
    /// Request headers whose values split the cache.
    pub headers: Vec<String>,
    /// One entry per visitor country.
    pub country: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CachePolicy {
    /// TTL when the origin says nothing (or when `respect_origin` is false).
    pub ttl_seconds: u64,
    /// Per status (`"404"`) or class (`"2xx"`); 0 means do not store.
    pub ttl_by_status: std::collections::BTreeMap<String, u64>,
    /// Honour the origin's Cache-Control (s-maxage, max-age, private, no-store, no-cache).
    pub respect_origin: bool,
    /// Serve a stale copy this long after expiry while refreshing it in the background.
    pub stale_while_revalidate_seconds: u64,
    pub query: QueryKey,
    pub vary: VaryKey,
    /// Requests carrying one of these cookies are never cached (`name*` is a prefix).
    pub bypass_cookies: Vec<String>,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            ttl_seconds: 0,
            ttl_by_status: Default::default(),
            respect_origin: true,
            stale_while_revalidate_seconds: 0,
            query: QueryKey::default(),
            vary: VaryKey::default(),
            bypass_cookies: ["session*", "sid", "sessionid", "PHPSESSID", "JSESSIONID", "connect.sid", "__Host-*", "__Secure-*"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// Statuses stored with the rule's default TTL (RFC 9111 §4.2.2 heuristically cacheable).
const DEFAULT_CACHEABLE: &[u16] = &[200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501];
/// Longest TTL accepted: a year.
const MAX_TTL: u64 = 31_536_000;

impl PhaseAction for CacheAction {
    const PHASE: &'static str = "cache";
    const ACTIONS: &'static [&'static str] = &["cache", "bypass", "purge"];

    fn compile(action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        if action != "cache" {
            if !p.is_null() && p != &Value::Object(Default::default()) {
                errors.push(path.clone(), format!("the {action} action takes no params"));
                return None;
            }
            return Some(if action == "bypass" { Self::Bypass } else { Self::Purge });
        }
        let c: CachePolicy = params(p, path, errors)?;
        let before = errors.0.len();
        if c.ttl_seconds > MAX_TTL {
            errors.push(path.key("ttl_seconds"), "at most 31536000 (a year)");
        }
        if c.stale_while_revalidate_seconds > 86_400 {
            errors.push(path.key("stale_while_revalidate_seconds"), "at most 86400");
        }
        for (k, ttl) in &c.ttl_by_status {
            if status_class(k).is_none() {
                errors.push(path.key("ttl_by_status").key(k), "a status (\"404\") or class (\"2xx\")");
            } else if *ttl > MAX_TTL {
                errors.push(path.key("ttl_by_status").key(k), "at most 31536000 (a year)");
            }
        }
        for (i, h) in c.vary.headers.iter().enumerate() {
            if !super::respond::valid_header_name(h) {
                errors.push(path.key("vary").key("headers").index(i), "not a valid header name");
            } else if h.eq_ignore_ascii_case("authorization") || h.eq_ignore_ascii_case("cookie") {
                errors.push(path.key("vary").key("headers").index(i), "requests with credentials are never cached");
            }
        }
        (errors.0.len() == before).then_some(Self::Cache(c))
    }
}

/// `"404"` → (404, 404); `"2xx"` → (200, 299).
fn status_class(k: &str) -> Option<(u16, u16)> {
    let b = k.as_bytes();
    if b.len() != 3 || !(b'1'..=b'5').contains(&b[0]) {
        return None;
    }
    if k[1..].eq_ignore_ascii_case("xx") {
        let base = u16::from(b[0] - b'0') * 100;
        return Some((base, base + 99));
    }
    k.parse::<u16>().ok().map(|s| (s, s))
}

/// Prefix pattern (`name*`) or exact name.
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// What the cache phase decided for this request.
#[derive(Debug, Clone, PartialEq)]
pub enum CachePlan {
    Lookup { rule: String, key: String, policy: CachePolicy },
    Purge { rule: String },
    Bypass { reason: &'static str },
}

impl CachePolicy {
    /// Why this request must not use the cache, if it must not.
    pub fn request_bypass(&self, req: &RequestInfo) -> Option<&'static str> {
        if !req.method.eq_ignore_ascii_case("GET") && !req.method.eq_ignore_ascii_case("HEAD") {
            return Some("method");
        }
        if req.header("authorization").is_some() {
            return Some("authorization");
        }
        // A WebSocket handshake must reach the origin, never a stored page.
        if req.header("upgrade").is_some() {
            return Some("upgrade");
        }
        let has_session = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| c.split_once('=').map(|(n, _)| n.trim()))
            .any(|name| self.bypass_cookies.iter().any(|p| name_matches(p, name)));
        has_session.then_some("session cookie")
    }

    /// The cache key: scheme, host, port, path, the normalised query, then
    /// the vary dimensions as reserved query parameters.
    pub fn key(&self, req: &RequestInfo) -> String {
        let mut key = format!("{}://{}", req.scheme, req.host);
        if let Some(p) = req.port {
            key.push_str(&format!(":{p}"));
        }
        key.push_str(&req.path);
        let mut parts: Vec<String> = Vec::new();
        if !self.query.ignore {
            let mut pairs: Vec<&str> = req
                .query
                .as_deref()
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .filter(|p| {
                    let name = p.split('=').next().unwrap_or("");
                    (self.query.include.is_empty() || self.query.include.iter().any(|i| name_matches(i, name)))
                        && !self.query.exclude.iter().any(|e| name_matches(e, name))
                        && !name.starts_with("__edge_")
                })
                .collect();
            pairs.sort_unstable();
            parts.extend(pairs.into_iter().map(str::to_string));
        }
        let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        if self.vary.country {
            parts.push(format!("__edge_country={}", enc(req.cf.country.as_deref().unwrap_or(""))));
        }
        for h in &self.vary.headers {
            let v = req.header(h).unwrap_or("");
            parts.push(format!("__edge_h_{}={}", h.to_ascii_lowercase(), enc(v)));
        }
        if !parts.is_empty() {
            key.push('?');
            key.push_str(&parts.join("&"));
        }
        key
    }

    /// How long to keep a response, or why not to store it.
    pub fn ttl_for(&self, status: u16, cache_control: Option<&str>, has_set_cookie: bool) -> Result<u64, &'static str> {
        if has_set_cookie {
            return Err("set-cookie");
        }
        if self.respect_origin {
            if let Some(cc) = cache_control {
                let d = Directives::parse(cc);
                if d.no_store || d.private || d.no_cache {
                    return Err("origin cache-control");
                }
                if let Some(age) = d.s_maxage.or(d.max_age) {
                    return if age == 0 { Err("origin max-age=0") } else { Ok(age.min(MAX_TTL)) };
                }
            }
        }
        let by_status = self
            .ttl_by_status
            .iter()
            .filter_map(|(k, ttl)| status_class(k).map(|(lo, hi)| (hi - lo, lo, hi, *ttl)))
            .filter(|(_, lo, hi, _)| (*lo..=*hi).contains(&status))
            .min_by_key(|(width, ..)| *width)
            .map(|(.., ttl)| ttl);
        let ttl = match by_status {
            Some(t) => t,
            None if DEFAULT_CACHEABLE.contains(&status) => self.ttl_seconds,
            None => 0,
        };
        if ttl == 0 {
            Err("no ttl for this status")
        } else {
            Ok(ttl)
        }
    }
}

/// The Cache-Control directives that matter to a shared cache.
#[derive(Debug, Default, PartialEq)]
struct Directives {
    no_store: bool,
    no_cache: bool,
    private: bool,
    max_age: Option<u64>,
    s_maxage: Option<u64>,
}

impl Directives {
    fn parse(cc: &str) -> Self {
        let mut d = Self::default();
        for part in cc.split(',') {
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
                None => (part.trim(), None),
            };
            let secs = || value.and_then(|v| v.parse::<u64>().ok());
            match name.to_ascii_lowercase().as_str() {
                "no-store" => d.no_store = true,
                "no-cache" => d.no_cache = true,
                "private" => d.private = true,
                "max-age" => d.max_age = secs().or(Some(0)),
                "s-maxage" => d.s_maxage = secs().or(Some(0)),
                _ => {}
            }
        }
        d
    }
}

/// What a stored copy says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredMeta {
    pub stored_at_ms: u64,
    pub ttl_s: u64,
    pub swr_s: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh { age_s: u64 },
    /// Past its TTL, within stale-while-revalidate.
    Stale { age_s: u64 },
    Expired,
}

impl StoredMeta {
    pub fn to_header(self) -> String {
        format!("v1;{};{};{}", self.stored_at_ms, self.ttl_s, self.swr_s)
    }

    pub fn parse(v: &str) -> Option<Self> {
        let mut it = v.split(';');
        if it.next()? != "v1" {
            return None;
        }
        let mut num = || it.next().and_then(|n| n.parse::<u64>().ok());
        Some(Self { stored_at_ms: num()?, ttl_s: num()?, swr_s: num()? })
    }

    pub fn freshness(self, now_ms: u64) -> Freshness {
        let age_s = now_ms.saturating_sub(self.stored_at_ms) / 1000;
        let age_ms = now_ms.saturating_sub(self.stored_at_ms);
        if age_ms < self.ttl_s.saturating_mul(1000) {
            Freshness::Fresh { age_s }
        } else if age_ms < (self.ttl_s + self.swr_s).saturating_mul(1000) {
            Freshness::Stale { age_s }
        } else {
            Freshness::Expired
        }
    }

    /// How long the Cache API should keep the copy: past TTL and the stale
    /// window, so an expired entry is still found (and reported `EXPIRED`).
    pub fn keep_seconds(self) -> u64 {
        self.ttl_s + self.swr_s + self.ttl_s.clamp(60, 3600)
    }
}

/// The cache decision for this request (first matching rule wins).
pub fn run(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx) -> CachePlan {
    for rule in rules.cache.iter().filter(|r| r.when.matches(req)) {
        let name = match &rule.action {
            CacheAction::Cache(_) => "cache",
            CacheAction::Bypass => "bypass",
            CacheAction::Purge => "purge",
        };
        if rule.mode == Mode::Log {
            ctx.record(Phase::Cache, name, Some(&rule.id), Some("log only"));
            continue;
        }
        let plan = match &rule.action {
            CacheAction::Bypass => CachePlan::Bypass { reason: "rule" },
            CacheAction::Purge => CachePlan::Purge { rule: rule.id.clone() },
            CacheAction::Cache(policy) => match policy.request_bypass(req) {
                Some(reason) => CachePlan::Bypass { reason },
                None => CachePlan::Lookup { rule: rule.id.clone(), key: policy.key(req), policy: policy.clone() },
            },
        };
        let note = match &plan {
            CachePlan::Bypass { reason } => Some(*reason),
            _ => None,
        };
        ctx.record(Phase::Cache, name, Some(&rule.id), note);
        return plan;
    }
    ctx.record(Phase::Cache, "bypass", None, None);
    CachePlan::Bypass { reason: "no rule" }
}

/// The cache keys a purge request names: `{"urls": ["https://…", …]}`, each
/// keyed by the cache rule that would cover a plain GET of it.
pub fn purge_keys(rules: &Rules, body: &[u8]) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        urls: Vec<String>,
    }
    let b: Body = serde_json::from_slice(body).map_err(|e| format!("expected {{\"urls\": [..]}}: {e}"))?;
    if b.urls.len() > 100 {
        return Err("at most 100 URLs per purge".into());
    }
    let mut keys = Vec::new();
    for u in &b.urls {
        let req = RequestInfo::from_url("GET", u)?;
        let policy = rules.cache.iter().filter(|r| r.when.matches(&req)).find_map(|r| match &r.action {
            CacheAction::Cache(p) => Some(p),
            _ => None,
        });
        keys.push(policy.map_or_else(|| u.clone(), |p| p.key(&req)));
    }
    Ok(keys)
}

/// Constant-time comparison of the presented bearer token with the secret.
pub fn purge_authorized(authorization: Option<&str>, secret: &str) -> bool {
    let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else {
        return false;
    };
    if secret.is_empty() || token.len() != secret.len() {
        return false;
    }
    token.bytes().zip(secret.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(p: Value) -> CachePolicy {
        let mut errors = Errors::default();
        match CacheAction::compile("cache", &p, &JsonPath::root(), &mut errors) {
            Some(CacheAction::Cache(c)) => c,
            other => panic!("{other:?} {errors}"),
        }
    }

    fn req(url: &str, headers: &[(&str, &str)]) -> RequestInfo {
        let mut r = RequestInfo::from_url("GET", url).unwrap();
        r.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        r
    }

    #[test]
    fn keys_sort_and_filter_the_query() {
        let p = policy(json!({ "query": { "exclude": ["utm_*", "fbclid"] } }));
        let a = p.key(&req("https://shop.example/p?b=2&a=1&utm_source=x&fbclid=9", &[]));
        let b = p.key(&req("https://shop.example/p?a=1&b=2", &[]));
        assert_eq!(a, b);
        assert_eq!(a, "https://shop.example/p?a=1&b=2");
        let only = policy(json!({ "query": { "include": ["page"] } }));
        assert_eq!(only.key(&req("http://s.example:8080/l?x=1&page=3", &[])), "http://s.example:8080/l?page=3");
        let none = policy(json!({ "query": { "ignore": true } }));
        assert_eq!(none.key(&req("https://s.example/l?x=1", &[])), "https://s.example/l");
        assert_ne!(p.key(&req("https://s.example/l?__edge_country=DE", &[])), "https://s.example/l?__edge_country=DE");
    }

    #[test]
    fn keys_vary_on_country_and_headers() {
        let p = policy(json!({ "vary": { "country": true, "headers": ["Accept-Language"] } }));
        let mut de = req("https://s.example/", &[("accept-language", "de, en;q=0.5")]);
        de.cf.country = Some("DE".into());
        assert_eq!(p.key(&de), "https://s.example/?__edge_country=DE&__edge_h_accept-language=de%2C+en%3Bq%3D0.5");
        let mut fr = de.clone();
        fr.cf.country = Some("FR".into());
        assert_ne!(p.key(&de), p.key(&fr));
    }

    #[test]
    fn credentials_and_methods_bypass() {
        let p = policy(json!({ "ttl_seconds": 60 }));
        assert_eq!(p.request_bypass(&req("https://s.example/", &[])), None);
        assert_eq!(p.request_bypass(&req("https://s.example/", &[("authorization", "Bearer x")])), Some("authorization"));
        assert_eq!(p.request_bypass(&req("https://s.example/", &[("cookie", "theme=dark; sessionid=abc")])), Some("session cookie"));
        assert_eq!(p.request_bypass(&req("https://s.example/", &[("cookie", "theme=dark")])), None);
        assert_eq!(p.request_bypass(&req("https://s.example/", &[("upgrade", "websocket")])), Some("upgrade"));
        let mut post = req("https://s.example/", &[]);
        post.method = "POST".into();
        assert_eq!(p.request_bypass(&post), Some("method"));
    }

    #[test]
    fn ttl_respects_origin_unless_overridden() {
        let p = policy(json!({ "ttl_seconds": 60, "ttl_by_status": { "404": 5, "5xx": 0, "3xx": 30 } }));
        assert_eq!(p.ttl_for(200, None, false), Ok(60));
        assert_eq!(p.ttl_for(200, Some("public, max-age=120"), false), Ok(120));
        assert_eq!(p.ttl_for(200, Some("max-age=120, s-maxage=600"), false), Ok(600));
        assert!(p.ttl_for(200, Some("private, max-age=600"), false).is_err());
        assert!(p.ttl_for(200, Some("no-store"), false).is_err());
        assert!(p.ttl_for(200, Some("no-cache"), false).is_err());
        assert!(p.ttl_for(200, Some("max-age=0"), false).is_err());
        assert!(p.ttl_for(200, None, true).is_err(), "Set-Cookie is never stored");
        assert_eq!(p.ttl_for(404, None, false), Ok(5));
        assert_eq!(p.ttl_for(302, None, false), Ok(30));
        assert!(p.ttl_for(503, None, false).is_err());
        assert!(p.ttl_for(206, None, false).is_err(), "not heuristically cacheable");
        let over = policy(json!({ "ttl_seconds": 60, "respect_origin": false }));
        assert_eq!(over.ttl_for(200, Some("private, no-store"), false), Ok(60));
        assert!(over.ttl_for(200, Some("private"), true).is_err(), "override never stores Set-Cookie");
    }

    #[test]
    fn freshness_windows() {
        let m = StoredMeta { stored_at_ms: 10_000, ttl_s: 2, swr_s: 3 };
        assert_eq!(StoredMeta::parse(&m.to_header()), Some(m));
        assert_eq!(m.freshness(11_500), Freshness::Fresh { age_s: 1 });
        assert_eq!(m.freshness(13_000), Freshness::Stale { age_s: 3 });
        assert_eq!(m.freshness(15_000), Freshness::Expired);
        assert_eq!(m.keep_seconds(), 65);
        for bad in ["", "v2;1;2;3", "v1;x;2;3", "v1;1;2"] {
            assert_eq!(StoredMeta::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn params_are_checked() {
        let mut errors = Errors::default();
        let p = json!({ "ttl_by_status": { "2xx": 1, "abc": 2 }, "vary": { "headers": ["authorization"] }, "ttl": 5 });
        assert!(CacheAction::compile("cache", &p, &JsonPath::root(), &mut errors).is_none());
        let p = json!({ "ttl_by_status": { "2xx": 1, "abc": 2 }, "vary": { "headers": ["authorization"] } });
        let mut errors = Errors::default();
        assert!(CacheAction::compile("cache", &p, &JsonPath::root(), &mut errors).is_none());
        let paths: Vec<&str> = errors.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["$.ttl_by_status.abc", "$.vary.headers[0]"]);
    }

    #[test]
    fn purge_token_and_keys() {
        assert!(purge_authorized(Some("Bearer s3cret"), "s3cret"));
        assert!(!purge_authorized(Some("Bearer s3cres"), "s3cret"));
        assert!(!purge_authorized(Some("s3cret"), "s3cret"));
        assert!(!purge_authorized(None, "s3cret"));
        assert!(!purge_authorized(Some("Bearer "), ""));
        let rules = crate::rules::parse(
            br#"{"version":1,"phases":{"cache":[{"id":"c","when":{"paths":["/c/*"]},"action":"cache",
                 "params":{"ttl_seconds":5,"query":{"exclude":["utm_*"]}}}]}}"#,
        )
        .unwrap();
        let keys = purge_keys(&rules, br#"{"urls":["https://s.example/c/x?b=1&a=2&utm_x=1","https://s.example/o"]}"#).unwrap();
        assert_eq!(keys, ["https://s.example/c/x?a=2&b=1", "https://s.example/o"]);
        assert!(purge_keys(&rules, b"{}").is_err());
        assert!(purge_keys(&rules, br#"{"urls":["not a url"]}"#).is_err());
    }
}
