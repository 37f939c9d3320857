//! The rules document: parsed, validated and compiled once per KV read.
//!
//! ```
//! let doc = br#"{ "version": 1,
//!   "origins": { "app": { "url": "https://app.internal.example" } },
//!   "settings": { "default_origin": "app" },
//!   "phases": { "filter": [
//!     { "id": "no-admin", "when": { "paths": ["/admin/*"] }, "action": "block" } ] } }"#;
//! let rules = edge::rules::parse(doc).expect("valid");
//! assert_eq!(rules.filter[0].id, "no-admin");
//!
//! let bad = br#"{ "version": 1, "phases": { "filter": [ { "id": "x", "action": "explode" } ] } }"#;
//! let errors = edge::rules::parse(bad).unwrap_err();
//! assert_eq!(errors.0[0].path, "$.phases.filter[0].action");
//! ```

pub mod document;
pub mod path;
#[cfg(feature = "schema")]
pub mod schema;
pub mod validate;
pub mod when;

use std::collections::BTreeMap;

pub use document::{Mode, OnError, RawDocument};
pub use path::JsonPath;
pub use validate::{Errors, Rule, RuleError};
pub use when::When;

use crate::phases::{
    authenticate::AuthAction, cache::CacheAction, filter::FilterAction, limit::LimitAction, respond::RespondAction, route::RouteAction,
};

/// Largest document accepted. A rules document is configuration, not data; a
/// value this large in KV is a mistake, and refusing it keeps one bad write from
/// exhausting an isolate's memory.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// A validated, compiled rules document.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub version: u32,
    pub settings: Settings,
    pub origins: BTreeMap<String, Origin>,
    pub filter: Vec<Rule<FilterAction>>,
    pub authenticate: Vec<Rule<AuthAction>>,
    pub limit: Vec<Rule<LimitAction>>,
    pub cache: Vec<Rule<CacheAction>>,
    pub route: Vec<Rule<RouteAction>>,
    pub respond: Vec<Rule<RespondAction>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub rules_ttl_seconds: u64,
    pub default_origin: Option<String>,
    pub signature_validity_seconds: u64,
    pub log_requests: bool,
    pub server_timing: bool,
    pub isolate_stats_every: u64,
    pub drop_underscore_headers: bool,
}

/// A named origin: a pool of one or more servers (see [`crate::upstream`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// Never empty (validation).
    pub servers: Vec<Server>,
    /// Time to response headers, per attempt.
    pub timeout_ms: u64,
    pub max_fails: u32,
    pub fail_timeout_ms: u64,
}

impl Origin {
    /// A pool of one with the default timings (nginx's `max_fails=1 fail_timeout=10s`).
    pub fn single(url: &str) -> Result<Self, String> {
        Ok(Self { servers: vec![Server::parse(url, 1)?], timeout_ms: 10_000, max_fails: 1, fail_timeout_ms: 10_000 })
    }

    /// The upstream URL on the pool's first server (the shell tries servers in
    /// the order [`crate::upstream::plan`] gives).
    pub fn url_for(&self, path: &str, query: Option<&str>) -> String {
        self.servers.first().map(|s| s.url_for(path, query)).unwrap_or_default()
    }
}

/// One server's base URL, split so forwarding only appends.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// `scheme://host[:port]`
    pub base: String,
    /// Path prefix without a trailing slash (often empty).
    pub path_prefix: String,
    pub weight: u32,
}

/// A URL of the rules document (origins, JWKS). The worker carries no IDNA
/// tables (`idna_adapter` 1.0, ~50 KiB of the gzipped bundle): the runtime
/// hands it ASCII hosts, and an operator writes an internationalized host in
/// its ASCII form, which the error says.
pub(crate) fn parse_url(url: &str) -> Result<url::Url, String> {
    url::Url::parse(url).map_err(|e| match e {
        url::ParseError::IdnaError => "not an ASCII host name: write an internationalized host in its punycode form (xn--…)".to_string(),
        e => format!("not a URL: {e}"),
    })
}

impl Server {
    pub fn parse(url: &str, weight: u32) -> Result<Self, String> {
        let u = parse_url(url)?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!("origin URLs are http or https, not {:?}", u.scheme()));
        }
        if u.query().is_some() || u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
            return Err("origin URLs carry no query, fragment or credentials".to_string());
        }
        let host = u.host_str().ok_or("origin URL has no host")?;
        let base = match u.port() {
            Some(p) => format!("{}://{host}:{p}", u.scheme()),
            None => format!("{}://{host}", u.scheme()),
        };
        Ok(Self { base, path_prefix: u.path().trim_end_matches('/').to_string(), weight })
    }

    /// Identity in the health table.
    pub fn key(&self) -> String {
        format!("{}{}", self.base, self.path_prefix)
    }

    /// The upstream URL for a request path and raw query.
    pub fn url_for(&self, path: &str, query: Option<&str>) -> String {
        let mut url = format!("{}{}{}", self.base, self.path_prefix, path);
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        url
    }
}

/// Parses and validates a document. Errors name the JSON path of every fault
/// found; a syntax or type error stops at the first one (serde's limit).
pub fn parse(bytes: &[u8]) -> Result<Rules, Errors> {
    let mut errors = Errors::default();
    if bytes.len() > MAX_DOCUMENT_BYTES {
        errors.push(JsonPath::root(), format!("document is {} bytes; the limit is {MAX_DOCUMENT_BYTES}", bytes.len()));
        return Err(errors);
    }
    let raw: RawDocument = read(bytes)?;
    validate::compile(raw)
}

/// Reads a JSON document into `T`: syntax and duplicate keys first (see
/// [`crate::json`]), then the typed read from the tree, so a fault names its
/// JSON path (`$.phases.filter[2].params.rate`).
pub(crate) fn read<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Errors> {
    let mut errors = Errors::default();
    let tree = match crate::json::tree(bytes) {
        Ok(tree) => tree,
        Err(e) => {
            errors.push(JsonPath::root(), e.to_string());
            return Err(errors);
        }
    };
    serde_path_to_error::deserialize(&tree).map_err(|e| {
        // serde_path_to_error says "." for the root and "?" where it lost track.
        let path = match e.path().to_string().as_str() {
            "." | "?" => "$".to_string(),
            p => format!("$.{}", p.trim_end_matches(".?")),
        };
        errors.0.push(RuleError { path, message: e.into_inner().to_string() });
        errors
    })
}

/// The document served while KV holds none: everything goes to the origin named
/// by the `DEFAULT_ORIGIN` variable, with no filtering. Without that variable the
/// edge has nowhere to send traffic and answers 503 (see the shell).
pub fn builtin_default(default_origin_url: &str) -> Result<Rules, Errors> {
    let doc = serde_json::json!({
        "version": 1,
        "settings": { "default_origin": "default" },
        "origins": { "default": { "url": default_origin_url } },
    });
    parse(doc.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_errors_with_paths() {
        let e = parse(br#"{"version":1,"settings":{"rules_ttl":5}}"#).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert!(e.0[0].path.starts_with("$.settings"), "{e}");
        assert!(e.0[0].message.contains("rules_ttl"), "{e}");
    }

    #[test]
    fn collects_every_semantic_error() {
        let doc = br#"{"version":2,
          "settings":{"rules_ttl_seconds":0,"default_origin":"nowhere"},
          "origins":{"a":{"url":"ftp://x"}},
          "phases":{"filter":[{"id":"r1","action":"block","when":{"ips":["1.2.3.4/40"]}},
                              {"id":"r1","action":"block","params":{"status":42}}],
                    "route":[{"id":"r3","action":"origin","params":{"origin":"b"}}]}}"#;
        let e = parse(doc).unwrap_err();
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        for want in [
            "$.version",
            "$.settings.rules_ttl_seconds",
            "$.origins.a.url",
            "$.settings.default_origin",
            "$.phases.filter[0].when.ips[0]",
            "$.phases.filter[1].id",
            "$.phases.filter[1].params.status",
            "$.phases.route[0].params.origin",
        ] {
            assert!(paths.contains(&want), "missing {want} in {paths:?}");
        }
    }

    #[test]
    fn oversized_and_malformed_documents_are_refused() {
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(parse(&big).unwrap_err().0[0].message.contains("limit"));
        assert_eq!(parse(b"{\"version\":1,").unwrap_err().0[0].path, "$");
        assert!(parse(b"[1,2]").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn origin_urls_join_paths() {
        let o = Origin::single("https://o.example:8443/base/").unwrap();
        assert_eq!(o.url_for("/a", Some("b=1")), "https://o.example:8443/base/a?b=1");
        assert!(Origin::single("https://u:p@o.example").is_err());
    }

    #[test]
    fn internationalized_hosts_are_written_in_punycode() {
        let e = Server::parse("https://bücher.example/a", 1).unwrap_err();
        assert!(e.contains("punycode"), "{e}");
        let s = Server::parse("https://xn--bcher-kva.example/ä", 1).unwrap();
        assert_eq!((s.base.as_str(), s.path_prefix.as_str()), ("https://xn--bcher-kva.example", "/%C3%A4"));
    }

    #[test]
    fn builtin_default_is_valid() {
        let r = builtin_default("http://127.0.0.1:9000").unwrap();
        assert_eq!(r.settings.default_origin.as_deref(), Some("default"));
        assert!(builtin_default("not a url").is_err());
    }
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    #[test]
    fn pools_and_single_urls() {
        let doc = br#"{"version":1,"origins":{
            "one":{"url":"http://a.example"},
            "pool":{"servers":[{"url":"http://b.example","weight":3},{"url":"http://c.example/p/"}],
                    "timeout_ms":2500,"max_fails":3,"fail_timeout_seconds":30}}}"#;
        let r = parse(doc).unwrap();
        assert_eq!(r.origins["one"].servers.len(), 1);
        let p = &r.origins["pool"];
        assert_eq!((p.servers[0].weight, p.servers[1].weight), (3, 1));
        assert_eq!((p.timeout_ms, p.max_fails, p.fail_timeout_ms), (2500, 3, 30_000));
        assert_eq!(p.servers[1].url_for("/x", None), "http://c.example/p/x");
    }

    #[test]
    fn pool_faults_have_paths() {
        let doc = br#"{"version":1,"origins":{
            "none":{},
            "both":{"url":"http://a.example","servers":[{"url":"http://b.example"}]},
            "bad":{"servers":[{"url":"ftp://x"},{"url":"http://y.example","weight":0}],"timeout_ms":0,"max_fails":0}}}"#;
        let e = parse(doc).unwrap_err();
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        for want in [
            "$.origins.none",
            "$.origins.both",
            "$.origins.bad.servers[0].url",
            "$.origins.bad.servers[1].weight",
            "$.origins.bad.timeout_ms",
            "$.origins.bad.max_fails",
        ] {
            assert!(paths.contains(&want), "missing {want} in {paths:?}");
        }
    }
}
