//! `security_headers` (a `respond` action): typed parameters rendered into the
//! usual security headers, so a misspelt directive is a validation error rather
//! than a header browsers silently ignore.
//!
//! Each field is either a value (set it) or `false` (remove what the origin
//! sent); an absent field leaves the origin's header alone. `override: false`
//! only adds headers the origin did not send.

use serde::Deserialize;
use serde_json::Value;

use super::respond::HeaderOp;
use crate::rules::validate::{params, Errors};
use crate::rules::JsonPath;

/// One configured header: `false` removes it, anything else sets it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Field<T> {
    Remove(bool),
    Set(T),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hsts {
    pub max_age: u64,
    #[serde(default)]
    pub include_subdomains: bool,
    #[serde(default)]
    pub preload: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default = "yes", rename = "override")]
    override_origin: bool,
    hsts: Option<Field<Hsts>>,
    content_security_policy: Option<Field<String>>,
    content_security_policy_report_only: Option<Field<String>>,
    frame_options: Option<Field<String>>,
    /// `true` renders `nosniff`.
    content_type_options: Option<bool>,
    referrer_policy: Option<Field<String>>,
    permissions_policy: Option<Field<String>>,
    cross_origin_opener_policy: Option<Field<String>>,
    cross_origin_embedder_policy: Option<Field<String>>,
    cross_origin_resource_policy: Option<Field<String>>,
}

fn yes() -> bool {
    true
}

impl Default for Params {
    fn default() -> Self {
        Self {
            override_origin: true,
            hsts: None,
            content_security_policy: None,
            content_security_policy_report_only: None,
            frame_options: None,
            content_type_options: None,
            referrer_policy: None,
            permissions_policy: None,
            cross_origin_opener_policy: None,
            cross_origin_embedder_policy: None,
            cross_origin_resource_policy: None,
        }
    }
}

/// A string-valued header: JSON key, header name, configured value, check,
/// accepted values (for the error message).
type FieldSpec<'a> = (&'static str, &'static str, &'a Option<Field<String>>, &'a dyn Fn(&str) -> bool, &'static [&'static str]);

/// The compiled edits, in a fixed order.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityHeaders {
    pub ops: Vec<HeaderOp>,
}

const REFERRER_POLICIES: &[&str] = &[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];
const FRAME_OPTIONS: &[&str] = &["DENY", "SAMEORIGIN"];
const COOP: &[&str] = &["unsafe-none", "same-origin-allow-popups", "same-origin", "noopener-allow-popups"];
const COEP: &[&str] = &["unsafe-none", "require-corp", "credentialless"];
const CORP: &[&str] = &["same-site", "same-origin", "cross-origin"];

/// HSTS preload lists require one year or more and subdomains (hstspreload.org).
const PRELOAD_MIN_AGE: u64 = 31_536_000;

impl SecurityHeaders {
    pub fn compile(p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        let p: Params = params(p, path, errors)?;
        let before = errors.0.len();
        let mut ops = Vec::new();
        let set = |ops: &mut Vec<HeaderOp>, name: &str, value: String| {
            ops.push(if p.override_origin {
                HeaderOp::Set(name.into(), value)
            } else {
                HeaderOp::SetIfAbsent(name.into(), value)
            });
        };
        match &p.hsts {
            None => {}
            Some(Field::Remove(false)) => ops.push(HeaderOp::Remove("strict-transport-security".into())),
            Some(Field::Remove(true)) => errors.push(path.key("hsts"), "give an object with max_age, or false to remove"),
            Some(Field::Set(h)) => {
                if h.preload && (!h.include_subdomains || h.max_age < PRELOAD_MIN_AGE) {
                    errors.push(path.key("hsts").key("preload"), "preload needs include_subdomains and max_age of at least 31536000");
                }
                let mut v = format!("max-age={}", h.max_age);
                if h.include_subdomains {
                    v.push_str("; includeSubDomains");
                }
                if h.preload {
                    v.push_str("; preload");
                }
                set(&mut ops, "strict-transport-security", v);
            }
        }
        let free = |_: &str| true;
        let one_of = |allowed: &'static [&'static str]| move |v: &str| allowed.contains(&v);
        let fields: [FieldSpec; 8] = [
            ("content_security_policy", "content-security-policy", &p.content_security_policy, &free, &[]),
            ("content_security_policy_report_only", "content-security-policy-report-only", &p.content_security_policy_report_only, &free, &[]),
            ("frame_options", "x-frame-options", &p.frame_options, &one_of(FRAME_OPTIONS), FRAME_OPTIONS),
            ("referrer_policy", "referrer-policy", &p.referrer_policy, &|v: &str| v.split(',').all(|t| REFERRER_POLICIES.contains(&t.trim())), REFERRER_POLICIES),
            ("permissions_policy", "permissions-policy", &p.permissions_policy, &free, &[]),
            ("cross_origin_opener_policy", "cross-origin-opener-policy", &p.cross_origin_opener_policy, &one_of(COOP), COOP),
            ("cross_origin_embedder_policy", "cross-origin-embedder-policy", &p.cross_origin_embedder_policy, &one_of(COEP), COEP),
            ("cross_origin_resource_policy", "cross-origin-resource-policy", &p.cross_origin_resource_policy, &one_of(CORP), CORP),
        ];
        for (key, header, field, valid, allowed) in fields {
            match field {
                None => {}
                Some(Field::Remove(false)) => ops.push(HeaderOp::Remove(header.into())),
                Some(Field::Remove(true)) => errors.push(path.key(key), "give the header's value, or false to remove it"),
                Some(Field::Set(v)) if v.is_empty() || v.bytes().any(|b| b < 0x20 || b == 0x7f) => {
                    errors.push(path.key(key), "header values are non-empty and contain no control characters")
                }
                Some(Field::Set(v)) if !valid(v) => {
                    errors.push(path.key(key), format!("{v:?} is not one of {}", allowed.join(", ")))
                }
                Some(Field::Set(v)) => set(&mut ops, header, v.clone()),
            }
        }
        match p.content_type_options {
            None => {}
            Some(false) => ops.push(HeaderOp::Remove("x-content-type-options".into())),
            Some(true) => set(&mut ops, "x-content-type-options", "nosniff".into()),
        }
        (errors.0.len() == before).then_some(Self { ops })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phases::respond::apply;
    use serde_json::json;

    fn compile(p: Value) -> Result<SecurityHeaders, Errors> {
        let mut errors = Errors::default();
        SecurityHeaders::compile(&p, &JsonPath::root().key("params"), &mut errors).ok_or(errors)
    }

    fn headers(h: &[(&str, &str)]) -> Vec<(String, String)> {
        h.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn renders_typed_values() {
        let s = compile(json!({
            "hsts": { "max_age": 63072000, "include_subdomains": true, "preload": true },
            "content_security_policy": "default-src 'self'",
            "frame_options": "DENY",
            "content_type_options": true,
            "referrer_policy": "no-referrer",
            "permissions_policy": "camera=(), geolocation=()",
            "cross_origin_opener_policy": "same-origin",
            "cross_origin_embedder_policy": "require-corp",
            "cross_origin_resource_policy": "same-site"
        }))
        .unwrap();
        let mut h = headers(&[("x-frame-options", "SAMEORIGIN")]);
        apply(&s.ops, &mut h);
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("strict-transport-security"), Some("max-age=63072000; includeSubDomains; preload"));
        assert_eq!(get("x-frame-options"), Some("DENY"), "override is the default");
        assert_eq!(get("x-content-type-options"), Some("nosniff"));
        assert_eq!(get("cross-origin-resource-policy"), Some("same-site"));
        assert_eq!(h.len(), 9);
    }

    #[test]
    fn add_only_and_remove() {
        let s = compile(json!({ "override": false, "frame_options": "DENY", "referrer_policy": "same-origin",
                                "content_security_policy": false })).unwrap();
        let mut h = headers(&[("x-frame-options", "SAMEORIGIN"), ("content-security-policy", "x")]);
        apply(&s.ops, &mut h);
        assert_eq!(h, headers(&[("x-frame-options", "SAMEORIGIN"), ("referrer-policy", "same-origin")]));
    }

    #[test]
    fn faults_have_paths() {
        let e = compile(json!({
            "hsts": { "max_age": 300, "preload": true },
            "frame_options": "ALLOW-FROM x",
            "referrer_policy": "sometimes",
            "permissions_policy": "a\nb",
            "cross_origin_opener_policy": true
        }))
        .unwrap_err();
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, [
            "$.params.hsts.preload",
            "$.params.frame_options",
            "$.params.referrer_policy",
            "$.params.permissions_policy",
            "$.params.cross_origin_opener_policy",
        ]);
        assert!(compile(json!({ "x_frame": "DENY" })).is_err(), "unknown fields are errors");
    }
}
