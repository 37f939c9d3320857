//! `https_redirect` (a `filter` action): plain-HTTP requests are sent to the
//! same URL over HTTPS, like nginx's `return 301 https://$host$request_uri;`,
//! except for paths that must stay reachable over HTTP (ACME HTTP-01
//! challenges by default).

use serde::Deserialize;
use serde_json::Value;

use crate::pipeline::EdgeResponse;
use crate::request::RequestInfo;
use crate::rules::validate::{params, Errors};
use crate::rules::when::Glob;
use crate::rules::JsonPath;

/// Where ACME HTTP-01 validation fetches its token: over HTTP, always.
pub const ACME_CHALLENGE: &str = "/.well-known/acme-challenge/*";

#[derive(Debug, Clone, PartialEq)]
pub struct HttpsRedirect {
    pub status: u16,
    /// Paths answered over plain HTTP too.
    pub except: Vec<Glob>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Params {
    status: u16,
    except: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self { status: 301, except: vec![ACME_CHALLENGE.to_string()] }
    }
}

impl HttpsRedirect {
    pub fn compile(p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        let p: Params = params(p, path, errors)?;
        let before = errors.0.len();
        if ![301, 302, 307, 308].contains(&p.status) {
            errors.push(path.key("status"), "redirect status must be 301, 302, 307 or 308");
        }
        let mut except = Vec::new();
        for (i, g) in p.except.iter().enumerate() {
            match Glob::parse(g) {
                Ok(g) => except.push(g),
                Err(msg) => errors.push(path.key("except").index(i), msg),
            }
        }
        (errors.0.len() == before).then_some(Self { status: p.status, except })
    }

    /// The redirect for this request, or `None` when it is already HTTPS or
    /// on an excepted path.
    pub fn response(&self, req: &RequestInfo) -> Option<EdgeResponse> {
        if !req.scheme.eq_ignore_ascii_case("http") || self.except.iter().any(|g| g.matches(&req.path)) {
            return None;
        }
        // The port is dropped: an HTTP port says nothing about the HTTPS one.
        let mut location = format!("https://{}{}", req.host, req.path);
        if let Some(q) = &req.query {
            location.push('?');
            location.push_str(q);
        }
        Some(EdgeResponse {
            status: self.status,
            headers: vec![("location".into(), location), ("content-type".into(), "text/plain".into())],
            body: String::from("Redirecting to HTTPS\n"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(p: Value) -> Result<HttpsRedirect, Errors> {
        let mut errors = Errors::default();
        HttpsRedirect::compile(&p, &JsonPath::root().key("params"), &mut errors).ok_or(errors)
    }

    #[test]
    fn redirects_plain_http_keeping_path_and_query() {
        let r = compile(Value::Null).unwrap();
        let req = RequestInfo::from_url("GET", "http://shop.example:8080/a/b?x=1&y=2").unwrap();
        let resp = r.response(&req).unwrap();
        assert_eq!(resp.status, 301);
        assert!(resp.headers.contains(&("location".into(), "https://shop.example/a/b?x=1&y=2".into())));
    }

    #[test]
    fn https_and_acme_challenges_pass() {
        let r = compile(Value::Null).unwrap();
        assert!(r.response(&RequestInfo::from_url("GET", "https://shop.example/a").unwrap()).is_none());
        let acme = RequestInfo::from_url("GET", "http://shop.example/.well-known/acme-challenge/tok").unwrap();
        assert!(r.response(&acme).is_none());
    }

    #[test]
    fn configured_status_and_exceptions() {
        let r = compile(serde_json::json!({ "status": 308, "except": ["/health"] })).unwrap();
        let req = RequestInfo::from_url("POST", "http://shop.example/.well-known/acme-challenge/tok").unwrap();
        assert_eq!(r.response(&req).unwrap().status, 308, "the default exception is replaced, not merged");
        assert!(r.response(&RequestInfo::from_url("GET", "http://shop.example/health").unwrap()).is_none());
    }

    #[test]
    fn bad_params_have_paths() {
        let e = compile(serde_json::json!({ "status": 200, "except": ["nope"] })).unwrap_err();
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["$.params.status", "$.params.except[0]"]);
        assert!(compile(serde_json::json!({ "to": "x" })).is_err());
    }
}
