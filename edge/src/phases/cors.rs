//! `cors` (a `respond` action): an allow-list of origins. Preflights are
//! answered at the edge with 204 before authentication (they carry no
//! credentials); every matching response says `Vary: Origin`, and an origin
//! not on the list never sees `Access-Control-Allow-Origin`, whatever the
//! origin server sent.

use serde::Deserialize;
use serde_json::Value;

use super::respond::{valid_header_name, HeaderOp};
use crate::pipeline::EdgeResponse;
use crate::request::RequestInfo;
use crate::rules::validate::{params_required, Errors};
use crate::rules::JsonPath;

#[derive(Debug, Clone, PartialEq)]
pub enum OriginPattern {
    /// `*`: any origin (refused together with credentials).
    Any,
    /// `https://app.example.com[:port]`, compared case-insensitively.
    Exact(String),
    /// `https://*.example.com`: any subdomain, over that scheme, default port.
    Subdomains { scheme: String, suffix: String },
}

impl OriginPattern {
    fn parse(s: &str) -> Result<Self, String> {
        if s == "*" {
            return Ok(Self::Any);
        }
        let lower = s.to_ascii_lowercase();
        let (scheme, rest) = lower
            .split_once("://")
            .filter(|(sc, _)| matches!(*sc, "http" | "https"))
            .ok_or_else(|| format!("an origin is scheme://host[:port] over http or https, got {s:?}"))?;
        let host_ok = |h: &str| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']'));
        match rest.strip_prefix("*.") {
            Some(suffix) if host_ok(suffix) && !suffix.contains(':') => {
                Ok(Self::Subdomains { scheme: format!("{scheme}://"), suffix: format!(".{suffix}") })
            }
            None if host_ok(rest) => Ok(Self::Exact(lower)),
            _ => Err(format!("not an origin (scheme://host[:port], no path) or https://*.domain pattern: {s:?}")),
        }
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(o) => o.eq_ignore_ascii_case(origin),
            Self::Subdomains { scheme, suffix } => {
                let lower = origin.to_ascii_lowercase();
                lower.strip_prefix(scheme.as_str()).is_some_and(|host| {
                    host.len() > suffix.len()
                        && host.ends_with(suffix.as_str())
                        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                })
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    allow_origins: Vec<String>,
    #[serde(default = "default_methods")]
    allow_methods: Vec<String>,
    #[serde(default)]
    allow_headers: Vec<String>,
    #[serde(default)]
    expose_headers: Vec<String>,
    #[serde(default)]
    allow_credentials: bool,
    #[serde(default = "default_max_age")]
    max_age: u32,
}

fn default_methods() -> Vec<String> {
    ["GET", "HEAD", "POST"].map(String::from).to_vec()
}

fn default_max_age() -> u32 {
    600
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cors {
    pub origins: Vec<OriginPattern>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose: Vec<String>,
    pub credentials: bool,
    pub max_age: u32,
}

impl Cors {
    pub fn compile(p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        let p: Params = params_required(p, path, errors)?;
        let before = errors.0.len();
        let mut origins = Vec::new();
        if p.allow_origins.is_empty() {
            errors.push(path.key("allow_origins"), "list at least one origin");
        }
        for (i, o) in p.allow_origins.iter().enumerate() {
            match OriginPattern::parse(o) {
                Ok(OriginPattern::Any) if p.allow_credentials => errors.push(
                    path.key("allow_origins").index(i),
                    "\"*\" cannot be combined with allow_credentials: list the origins",
                ),
                Ok(o) => origins.push(o),
                Err(msg) => errors.push(path.key("allow_origins").index(i), msg),
            }
        }
        for (i, m) in p.allow_methods.iter().enumerate() {
            if !valid_header_name(m) {
                errors.push(path.key("allow_methods").index(i), "not an HTTP method");
            }
        }
        for (key, list) in [("allow_headers", &p.allow_headers), ("expose_headers", &p.expose_headers)] {
            for (i, h) in list.iter().enumerate() {
                if !valid_header_name(h) {
                    errors.push(path.key(key).index(i), "not a valid header name");
                }
            }
        }
        if p.max_age > 86_400 {
            errors.push(path.key("max_age"), "at most 86400 seconds (browsers cap it lower)");
        }
        (errors.0.len() == before).then(|| Self {
            origins,
            methods: p.allow_methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
            headers: p.allow_headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
            expose: p.expose_headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
            credentials: p.allow_credentials,
            max_age: p.max_age,
        })
    }

    fn allowed_origin<'a>(&self, req: &'a RequestInfo) -> Option<&'a str> {
        req.header("origin").filter(|o| self.origins.iter().any(|p| p.matches(o)))
    }

    /// Whether this is a CORS preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`).
    pub fn is_preflight(req: &RequestInfo) -> bool {
        req.method.eq_ignore_ascii_case("OPTIONS")
            && req.header("origin").is_some()
            && req.header("access-control-request-method").is_some()
    }

    /// The edge's answer to a preflight: 204, with the allowed methods and
    /// headers only when origin and method are allowed. The origin headers
    /// themselves come from [`Cors::response_ops`], as on every response.
    pub fn preflight(&self, req: &RequestInfo) -> EdgeResponse {
        let mut headers = vec![
            ("vary".to_string(), "Access-Control-Request-Method, Access-Control-Request-Headers".to_string()),
            ("cache-control".to_string(), "no-store".to_string()),
        ];
        let method_ok = req
            .header("access-control-request-method")
            .is_some_and(|m| self.methods.iter().any(|a| a.eq_ignore_ascii_case(m.trim())));
        if self.allowed_origin(req).is_some() && method_ok {
            headers.push(("access-control-allow-methods".into(), self.methods.join(", ")));
            if !self.headers.is_empty() {
                headers.push(("access-control-allow-headers".into(), self.headers.join(", ")));
            }
            headers.push(("access-control-max-age".into(), self.max_age.to_string()));
        }
        EdgeResponse { status: 204, headers, body: String::new() }
    }

    /// Header edits for any response to a request this rule covers.
    pub fn response_ops(&self, req: &RequestInfo) -> Vec<HeaderOp> {
        let mut ops = vec![HeaderOp::AppendToken("vary".into(), "Origin".into())];
        match self.allowed_origin(req) {
            Some(origin) => {
                let any = !self.credentials && self.origins.contains(&OriginPattern::Any);
                ops.push(HeaderOp::Set("access-control-allow-origin".into(), if any { "*".into() } else { origin.to_string() }));
                if self.credentials {
                    ops.push(HeaderOp::Set("access-control-allow-credentials".into(), "true".into()));
                }
                if !self.expose.is_empty() {
                    ops.push(HeaderOp::Set("access-control-expose-headers".into(), self.expose.join(", ")));
                }
            }
            None => {
                for h in ["access-control-allow-origin", "access-control-allow-credentials", "access-control-expose-headers"] {
                    ops.push(HeaderOp::Remove(h.into()));
                }
            }
        }
        ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phases::respond::apply;
    use serde_json::json;

    fn compile(p: Value) -> Result<Cors, Errors> {
        let mut errors = Errors::default();
        Cors::compile(&p, &JsonPath::root().key("params"), &mut errors).ok_or(errors)
    }

    fn req(method: &str, headers: &[(&str, &str)]) -> RequestInfo {
        let mut r = RequestInfo::from_url(method, "https://api.example.com/x").unwrap();
        r.headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        r
    }

    fn policy() -> Cors {
        compile(json!({ "allow_origins": ["https://app.example.com", "https://*.example.org"],
                        "allow_methods": ["GET", "PUT"], "allow_headers": ["Content-Type"],
                        "allow_credentials": true, "max_age": 300 }))
        .unwrap()
    }

    fn get<'a>(h: &'a [(String, String)], n: &str) -> Option<&'a str> {
        h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str())
    }

    #[test]
    fn allowed_origin_is_echoed_with_vary() {
        let mut h = vec![("vary".to_string(), "Accept-Encoding".to_string())];
        apply(&policy().response_ops(&req("GET", &[("origin", "https://app.example.com")])), &mut h);
        assert_eq!(get(&h, "access-control-allow-origin"), Some("https://app.example.com"));
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        assert_eq!(get(&h, "vary"), Some("Accept-Encoding, Origin"));
        let mut h = Vec::new();
        apply(&policy().response_ops(&req("GET", &[("origin", "https://a.b.example.org")])), &mut h);
        assert_eq!(get(&h, "access-control-allow-origin"), Some("https://a.b.example.org"));
    }

    #[test]
    fn other_origins_get_nothing_even_from_the_origin_server() {
        for origin in ["https://evil.example", "http://app.example.com", "https://example.org", "https://x.example.org.evil.io", "null"] {
            let mut h = vec![("access-control-allow-origin".to_string(), "*".to_string())];
            apply(&policy().response_ops(&req("GET", &[("origin", origin)])), &mut h);
            assert_eq!(get(&h, "access-control-allow-origin"), None, "{origin}");
            assert_eq!(get(&h, "vary"), Some("Origin"));
        }
    }

    #[test]
    fn preflight_answers_allowed_method_only() {
        let p = policy();
        let ok = req("OPTIONS", &[("origin", "https://app.example.com"), ("access-control-request-method", "PUT")]);
        assert!(Cors::is_preflight(&ok));
        let r = p.preflight(&ok);
        assert_eq!(r.status, 204);
        assert_eq!(get(&r.headers, "access-control-allow-methods"), Some("GET, PUT"));
        assert_eq!(get(&r.headers, "access-control-allow-headers"), Some("content-type"));
        assert_eq!(get(&r.headers, "access-control-max-age"), Some("300"));
        let bad = req("OPTIONS", &[("origin", "https://app.example.com"), ("access-control-request-method", "DELETE")]);
        assert_eq!(get(&p.preflight(&bad).headers, "access-control-allow-methods"), None);
        let evil = req("OPTIONS", &[("origin", "https://evil.example"), ("access-control-request-method", "GET")]);
        assert_eq!(get(&p.preflight(&evil).headers, "access-control-allow-methods"), None);
        assert!(!Cors::is_preflight(&req("OPTIONS", &[("origin", "https://app.example.com")])));
    }

    #[test]
    fn wildcard_without_credentials_says_star() {
        let p = compile(json!({ "allow_origins": ["*"] })).unwrap();
        let mut h = Vec::new();
        apply(&p.response_ops(&req("GET", &[("origin", "https://any.example")])), &mut h);
        assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn star_with_credentials_and_bad_entries_are_errors() {
        let e = compile(json!({ "allow_origins": ["*", "app.example.com", "https://a.example/path"],
                                "allow_credentials": true, "allow_headers": ["bad header"], "max_age": 999999 }))
        .unwrap_err();
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, [
            "$.params.allow_origins[0]",
            "$.params.allow_origins[1]",
            "$.params.allow_origins[2]",
            "$.params.allow_headers[0]",
            "$.params.max_age",
        ]);
        assert!(e.0[0].message.contains("credentials"));
        assert!(compile(json!({})).is_err(), "allow_origins is required");
    }
}
