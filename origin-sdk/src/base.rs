//! The signature base (RFC 9421 §2.5), shared by signer and verifier so both
//! sides canonicalize a message the same way.

use crate::sf::{self, BareItem, Item, Parameters, SfError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use core::fmt;
use std::sync::Arc;

/// What the signature base needs to know about an HTTP message.
///
/// Implemented for `http::Request<B>`, `http::request::Parts` and references;
/// implement it for other request types (e.g. a worker runtime's) to sign or
/// verify them with the same code.
pub trait Message {
    /// Request method; `None` for a response.
    fn method(&self) -> Option<&str>;
    /// URI scheme (`https`), if known.
    fn scheme(&self) -> Option<&str>;
    /// Authority from the target URI, or else from the `Host` field.
    fn authority(&self) -> Option<&str>;
    /// Target path (may be empty, normalized to `/`).
    fn path(&self) -> Option<&str>;
    /// Query without the leading `?`, if any.
    fn query(&self) -> Option<&str>;
    /// Every field line value of `name` (lowercase), in message order.
    fn field_values(&self, name: &str) -> Vec<&[u8]>;
    /// The name of every field line, as received (duplicates allowed): what
    /// the verifier checks for underscore twins of trust and covered headers.
    fn field_names(&self) -> Vec<&str>;
    /// For a response: the request it answers, whose values components flagged
    /// `;req` take (RFC 9421 §2.4). `None` where there is none.
    fn related_request(&self) -> Option<&dyn Message> {
        None
    }
}

impl<T: Message + ?Sized> Message for &T {
    fn method(&self) -> Option<&str> {
        (**self).method()
    }
    fn scheme(&self) -> Option<&str> {
        (**self).scheme()
    }
    fn authority(&self) -> Option<&str> {
        (**self).authority()
    }
    fn path(&self) -> Option<&str> {
        (**self).path()
    }
    fn query(&self) -> Option<&str> {
        (**self).query()
    }
    fn field_values(&self, name: &str) -> Vec<&[u8]> {
        (**self).field_values(name)
    }
    fn field_names(&self) -> Vec<&str> {
        (**self).field_names()
    }
    fn related_request(&self) -> Option<&dyn Message> {
        (**self).related_request()
    }
}

fn header_values<'a>(h: &'a http::HeaderMap, name: &str) -> Vec<&'a [u8]> {
    h.get_all(name).iter().map(|v| v.as_bytes()).collect()
}

fn http_authority<'a>(uri: &'a http::Uri, h: &'a http::HeaderMap) -> Option<&'a str> {
    uri.authority()
        .map(|a| a.as_str())
        .or_else(|| h.get(http::header::HOST).and_then(|v| v.to_str().ok()))
}

impl Message for http::request::Parts {
    fn method(&self) -> Option<&str> {
        Some(self.method.as_str())
    }
    fn scheme(&self) -> Option<&str> {
        self.uri.scheme_str()
    }
    fn authority(&self) -> Option<&str> {
        http_authority(&self.uri, &self.headers)
    }
    fn path(&self) -> Option<&str> {
        Some(self.uri.path())
    }
    fn query(&self) -> Option<&str> {
        self.uri.query()
    }
    fn field_values(&self, name: &str) -> Vec<&[u8]> {
        header_values(&self.headers, name)
    }
    fn field_names(&self) -> Vec<&str> {
        self.headers.keys().map(http::HeaderName::as_str).collect()
    }
}

impl<B> Message for http::Request<B> {
    fn method(&self) -> Option<&str> {
        Some(self.method().as_str())
    }
    fn scheme(&self) -> Option<&str> {
        self.uri().scheme_str()
    }
    fn authority(&self) -> Option<&str> {
        http_authority(self.uri(), self.headers())
    }
    fn path(&self) -> Option<&str> {
        Some(self.uri().path())
    }
    fn query(&self) -> Option<&str> {
        self.uri().query()
    }
    fn field_values(&self, name: &str) -> Vec<&[u8]> {
        header_values(self.headers(), name)
    }
    fn field_names(&self) -> Vec<&str> {
        self.headers().keys().map(http::HeaderName::as_str).collect()
    }
}

/// A covered component identifier: a lowercase field name or a derived
/// component (`@method`, ...), with optional parameters (`;key`, `;bs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// Shared: a signer copies its covered components into every request's
    /// parameters.
    name: Arc<str>,
    params: Parameters,
}

impl Component {
    /// A component without parameters; field names are lowercased.
    pub fn new(name: impl Into<String>) -> Self {
        let mut name = name.into();
        name.make_ascii_lowercase();
        Component { name: name.into(), params: Vec::new() }
    }

    /// Adds a parameter, e.g. `("key", BareItem::String("a".into()))`.
    pub fn with_param(mut self, key: impl Into<String>, value: BareItem) -> Self {
        self.params.push((key.into(), value));
        self
    }

    /// The component name (`@method`, `x-edge-user`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its parameters, in order.
    pub fn params(&self) -> &[(String, BareItem)] {
        &self.params
    }

    /// Whether this is a derived component (`@...`).
    pub fn is_derived(&self) -> bool {
        self.name.starts_with('@')
    }

    /// Writes the serialized identifier (`"accept";bs`) without building an
    /// intermediate structured-field item.
    fn write_identifier(&self, out: &mut String) -> Result<(), BaseError> {
        sf::write_string(out, &self.name).map_err(BaseError::Syntax)?;
        sf::write_params(out, &self.params).map_err(BaseError::Syntax)
    }

    fn from_item(item: &Item) -> Result<Self, BaseError> {
        match &item.bare {
            BareItem::String(name) => Ok(Component { name: name.as_str().into(), params: item.params.clone() }),
            _ => Err(BaseError::Syntax(SfError::Syntax("component identifiers are strings"))),
        }
    }

    /// This component without its `req` flag, if it has one (the flag says
    /// "take the value from the related request").
    pub fn without_req(&self) -> Option<Component> {
        let is_req = |(k, v): &(String, BareItem)| k == "req" && *v == BareItem::Boolean(true);
        self.params.iter().any(is_req).then(|| Component {
            name: self.name.clone(),
            params: self.params.iter().filter(|p| !is_req(p)).cloned().collect(),
        })
    }

    /// The serialized identifier as it appears in the signature base, e.g. `"accept";bs`.
    pub fn identifier(&self) -> Result<String, BaseError> {
        let mut s = String::new();
        self.write_identifier(&mut s)?;
        Ok(s)
    }
}

impl From<&str> for Component {
    fn from(s: &str) -> Self {
        Component::new(s)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.identifier() {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{:?}", self.name),
        }
    }
}

/// The covered components and signature parameters of one signature: the
/// value of one `Signature-Input` member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureParams {
    /// Covered components, in order.
    pub components: Vec<Component>,
    /// Parameters (`created`, `expires`, `nonce`, `alg`, `keyid`, `tag`, ...), in order.
    pub params: Parameters,
}

impl SignatureParams {
    /// Covered components with no parameters yet.
    pub fn new(components: impl IntoIterator<Item = Component>) -> Self {
        SignatureParams { components: components.into_iter().collect(), params: Vec::new() }
    }

    /// Appends a parameter (serialized in the order added).
    pub fn with_param(mut self, key: impl Into<String>, value: BareItem) -> Self {
        self.params.push((key.into(), value));
        self
    }

    /// A parameter by name.
    pub fn get(&self, key: &str) -> Option<&BareItem> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A string parameter (`keyid`, `nonce`, `alg`, `tag`); `None` if absent or not a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(BareItem::String(s)) => Some(s),
            _ => None,
        }
    }

    /// An integer parameter (`created`, `expires`); `None` if absent or not an integer.
    pub fn get_int(&self, key: &str) -> Option<i64> {
        match self.get(key) {
            Some(BareItem::Integer(i)) => Some(*i),
            _ => None,
        }
    }

    /// Parses one `Signature-Input` member value, e.g. `("@method");created=1`.
    pub fn parse(s: &str) -> Result<Self, BaseError> {
        let (items, params) = sf::parse_inner_list(s.as_bytes()).map_err(BaseError::Syntax)?;
        Self::from_parts(&items, params)
    }

    pub(crate) fn from_parts(items: &[Item], params: Parameters) -> Result<Self, BaseError> {
        let components = items.iter().map(Component::from_item).collect::<Result<Vec<_>, _>>()?;
        Ok(SignatureParams { components, params })
    }

    /// The `@signature-params` value: the serialized inner list, which is also
    /// the `Signature-Input` member value.
    pub fn serialize(&self) -> Result<String, BaseError> {
        let mut out = String::from("(");
        for (i, c) in self.components.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            c.write_identifier(&mut out)?;
        }
        out.push(')');
        sf::write_params(&mut out, &self.params).map_err(BaseError::Syntax)?;
        Ok(out)
    }
}

/// Why a signature base could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseError {
    /// A covered field is absent from the message.
    MissingField(String),
    /// A derived component has no value for this message (e.g. `@scheme` on an
    /// origin-form request, `@method` on a response).
    Unavailable(String),
    /// A component or component parameter this implementation does not support.
    Unsupported(String),
    /// The same component identifier is covered twice (RFC 9421 §2.5).
    DuplicateComponent(String),
    /// A structured-field problem in identifiers, parameters or `;key` fields.
    Syntax(SfError),
    /// A derived component value or identifier contains a character that would
    /// let it spill into another line of the base.
    InvalidValue(String),
}

impl fmt::Display for BaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseError::MissingField(n) => write!(f, "covered field `{n}` is missing from the message"),
            BaseError::Unavailable(n) => write!(f, "component `{n}` is unavailable for this message"),
            BaseError::Unsupported(n) => write!(f, "unsupported component `{n}`"),
            BaseError::DuplicateComponent(n) => write!(f, "component `{n}` is covered twice"),
            BaseError::Syntax(e) => write!(f, "{e}"),
            BaseError::InvalidValue(n) => write!(f, "invalid value for component `{n}`"),
        }
    }
}

impl std::error::Error for BaseError {}

/// Lowercases the host and drops the scheme's default port (RFC 9421 §2.2.3).
fn normalize_authority(authority: &str, scheme: Option<&str>) -> String {
    let a = authority.to_ascii_lowercase();
    let default_port = match scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Some(":443"),
        Some("http") => Some(":80"),
        _ => None,
    };
    match default_port {
        Some(p) if a.ends_with(p) => a[..a.len() - p.len()].to_string(),
        _ => a,
    }
}

fn derived_value<M: Message + ?Sized>(msg: &M, c: &Component) -> Result<String, BaseError> {
    let unavailable = || BaseError::Unavailable(c.name.to_string());
    if !c.params.is_empty() {
        return Err(BaseError::Unsupported(c.to_string()));
    }
    let path = || match msg.path() {
        Some("") | None => "/",
        Some(p) => p,
    };
    let v = match &*c.name {
        "@method" => msg.method().ok_or_else(unavailable)?.to_string(),
        "@authority" => normalize_authority(msg.authority().ok_or_else(unavailable)?, msg.scheme()),
        "@scheme" => msg.scheme().ok_or_else(unavailable)?.to_ascii_lowercase(),
        "@path" => {
            msg.method().ok_or_else(unavailable)?;
            path().to_string()
        }
        "@query" => {
            msg.method().ok_or_else(unavailable)?;
            format!("?{}", msg.query().unwrap_or(""))
        }
        "@request-target" => {
            msg.method().ok_or_else(unavailable)?;
            match msg.query() {
                Some(q) => format!("{}?{q}", path()),
                None => path().to_string(),
            }
        }
        "@target-uri" => {
            let scheme = msg.scheme().ok_or_else(unavailable)?.to_ascii_lowercase();
            let authority = normalize_authority(msg.authority().ok_or_else(unavailable)?, Some(&scheme));
            match msg.query() {
                Some(q) => format!("{scheme}://{authority}{}?{q}", path()),
                None => format!("{scheme}://{authority}{}", path()),
            }
        }
        _ => return Err(BaseError::Unsupported(c.to_string())),
    };
    if v.bytes().any(|b| b == b'\n' || b == b'\r') {
        return Err(BaseError::InvalidValue(c.name.to_string()));
    }
    Ok(v)
}

/// Trims SP/HTAB around a field line value and replaces obs-fold line breaks
/// with a space (RFC 9421 §2.1).
fn canonical_line(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'\r' | b'\n' => {
                while i < v.len() && matches!(v[i], b'\r' | b'\n' | b' ' | b'\t') {
                    i += 1;
                }
                out.push(b' ');
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    let start = out.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(out.len());
    let end = out.iter().rposition(|b| !matches!(b, b' ' | b'\t')).map_or(start, |e| e + 1);
    out[start..end].to_vec()
}

fn field_value<M: Message + ?Sized>(msg: &M, c: &Component) -> Result<Vec<u8>, BaseError> {
    check_field_name(c)?;
    let lines = msg.field_values(&c.name);
    if lines.is_empty() {
        return Err(BaseError::MissingField(c.name.to_string()));
    }
    let lines: Vec<Vec<u8>> = lines.into_iter().map(canonical_line).collect();
    match c.params.as_slice() {
        [] => Ok(lines.join(&b", "[..])),
        [(k, BareItem::Boolean(true))] if k == "bs" => {
            let wrapped: Vec<Vec<u8>> = lines.iter().map(|l| format!(":{}:", STANDARD.encode(l)).into_bytes()).collect();
            Ok(wrapped.join(&b", "[..]))
        }
        [(k, BareItem::String(key))] if k == "key" => {
            let joined = lines.join(&b", "[..]);
            let dict = sf::parse_dictionary(&joined).map_err(BaseError::Syntax)?;
            let member = dict
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, m)| m)
                .ok_or_else(|| BaseError::MissingField(c.to_string()))?;
            let mut out = String::new();
            sf::write_member(&mut out, member).map_err(BaseError::Syntax)?;
            Ok(out.into_bytes())
        }
        _ => Err(BaseError::Unsupported(c.to_string())),
    }
}

/// Appends the component's value to `out`.
fn write_component_value<M: Message + ?Sized>(msg: &M, c: &Component, out: &mut Vec<u8>) -> Result<(), BaseError> {
    if c.is_derived() {
        out.extend_from_slice(derived_value(msg, c)?.as_bytes());
        Ok(())
    } else if c.params.is_empty() {
        plain_field_value(msg, c, out)
    } else {
        out.extend_from_slice(&field_value(msg, c)?);
        Ok(())
    }
}

/// A field without component parameters, the common case: its canonical
/// lines joined with `, `, written in place (the bytes [`field_value`]
/// builds).
fn plain_field_value<M: Message + ?Sized>(msg: &M, c: &Component, out: &mut Vec<u8>) -> Result<(), BaseError> {
    check_field_name(c)?;
    let lines = msg.field_values(&c.name);
    if lines.is_empty() {
        return Err(BaseError::MissingField(c.name.to_string()));
    }
    for (i, line) in lines.into_iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        push_canonical_line(out, line);
    }
    Ok(())
}

/// [`canonical_line`] appended to `out`; a line that needs no change (no
/// line break, no surrounding SP/HTAB) is copied as is.
fn push_canonical_line(out: &mut Vec<u8>, v: &[u8]) {
    let plain = !v.iter().any(|&b| b == b'\r' || b == b'\n')
        && !matches!(v.first(), Some(b' ' | b'\t'))
        && !matches!(v.last(), Some(b' ' | b'\t'));
    if plain {
        out.extend_from_slice(v);
    } else {
        out.extend_from_slice(&canonical_line(v));
    }
}

fn check_field_name(c: &Component) -> Result<(), BaseError> {
    if c.name.is_empty() || !c.name.bytes().all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b'"') {
        return Err(BaseError::InvalidValue(c.name.to_string()));
    }
    Ok(())
}

/// Builds the signature base for `params` over `msg` (RFC 9421 §2.5).
///
/// Returns bytes because field values may carry obs-text; for ASCII messages
/// it is valid UTF-8.
pub fn signature_base<M: Message + ?Sized>(msg: &M, params: &SignatureParams) -> Result<Vec<u8>, BaseError> {
    signature_base_and_params(msg, params).map(|(base, _)| base)
}

/// [`signature_base`] and the serialized parameters (the `Signature-Input`
/// member value, which the base ends with), serialized once for both.
pub fn signature_base_and_params<M: Message + ?Sized>(msg: &M, params: &SignatureParams) -> Result<(Vec<u8>, String), BaseError> {
    let serialized = params.serialize()?;
    let mut out = Vec::with_capacity(64 * params.components.len() + serialized.len());
    // Reused for every line.
    let (mut identifier, mut value) = (String::new(), Vec::new());
    let mut seen: Vec<&Component> = Vec::with_capacity(params.components.len());
    for c in &params.components {
        if seen.contains(&c) {
            return Err(BaseError::DuplicateComponent(c.to_string()));
        }
        seen.push(c);
        // The value first, so a message lacking it reports that first.
        write_line_value(msg, c, c.without_req().as_ref(), &mut value)?;
        identifier.clear();
        c.write_identifier(&mut identifier)?;
        push_line(&mut out, &identifier, &value);
    }
    out.extend_from_slice(b"\"@signature-params\": ");
    out.extend_from_slice(serialized.as_bytes());
    Ok((out, serialized))
}

/// A component's value into `value` (cleared first); `without_req` is the
/// component without its `req` flag when it has one.
fn write_line_value<M: Message + ?Sized>(msg: &M, c: &Component, without_req: Option<&Component>, value: &mut Vec<u8>) -> Result<(), BaseError> {
    value.clear();
    match without_req {
        // `;req`: the value comes from the request this response answers.
        Some(inner) => {
            let req = msg.related_request().ok_or_else(|| BaseError::Unavailable(c.to_string()))?;
            write_component_value(req, inner, value)
        }
        None => write_component_value(msg, c, value),
    }
}

fn push_line(out: &mut Vec<u8>, identifier: &str, value: &[u8]) {
    out.extend_from_slice(identifier.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// A fixed list of covered components, prepared once for many messages: the
/// identifiers serialized and the list checked for duplicates, so each
/// message's base only adds its values and its own parameters. A signer
/// covers the same components on every request; serializing them again per
/// request was most of the base's cost.
#[derive(Clone, Debug)]
pub(crate) struct BaseTemplate {
    /// Each component, itself without `req` when it has that flag, and its
    /// serialized identifier.
    lines: Vec<(Component, Option<Component>, String)>,
    /// `("@method" "@authority" ...)`: the inner list without parameters.
    list: String,
}

impl BaseTemplate {
    /// `Err` when [`signature_base_and_params`] would fail for any message
    /// (a duplicate or an unserializable identifier): such a list can never
    /// be signed.
    pub(crate) fn new(components: &[Component]) -> Result<Self, BaseError> {
        let mut lines: Vec<(Component, Option<Component>, String)> = Vec::with_capacity(components.len());
        let mut list = String::from("(");
        for (i, c) in components.iter().enumerate() {
            if lines.iter().any(|(seen, ..)| seen == c) {
                return Err(BaseError::DuplicateComponent(c.to_string()));
            }
            let mut identifier = String::new();
            c.write_identifier(&mut identifier)?;
            if i > 0 {
                list.push(' ');
            }
            list.push_str(&identifier);
            lines.push((c.clone(), c.without_req(), identifier));
        }
        list.push(')');
        Ok(BaseTemplate { lines, list })
    }

    /// What [`signature_base_and_params`] returns for these components and
    /// parameters already serialized as `params` (`;created=1;...`).
    pub(crate) fn base_and_params<M: Message + ?Sized>(&self, msg: &M, params: &str) -> Result<(Vec<u8>, String), BaseError> {
        let mut serialized = String::with_capacity(self.list.len() + params.len());
        serialized.push_str(&self.list);
        serialized.push_str(params);
        let mut out = Vec::with_capacity(64 * self.lines.len() + serialized.len());
        let mut value = Vec::new();
        for (c, without_req, identifier) in &self.lines {
            write_line_value(msg, c, without_req.as_ref(), &mut value)?;
            push_line(&mut out, identifier, &value);
        }
        out.extend_from_slice(b"\"@signature-params\": ");
        out.extend_from_slice(serialized.as_bytes());
        Ok((out, serialized))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> http::Request<()> {
        http::Request::builder()
            .method("POST")
            .uri("https://Example.COM:443/foo?param=Value&Pet=dog")
            .header("x-empty", "")
            .header("accept", " a ")
            .header("accept", "b")
            .header("example-dict", "a=1,    b=2;x=1;y=2,   c=(a   b   c)")
            .body(())
            .unwrap()
    }

    fn base(components: &[&str]) -> Result<String, BaseError> {
        let p = SignatureParams::new(components.iter().map(|c| Component::new(*c))).with_param("created", BareItem::Integer(1));
        signature_base(&req(), &p).map(|b| String::from_utf8(b).unwrap())
    }

    /// The in-place path for plain fields writes what the general one builds,
    /// for values with surrounding whitespace, obs-folds and several lines.
    #[test]
    fn plain_fields_match_the_general_path() {
        struct Lines<'a>(&'a [&'a [u8]]);
        impl Message for Lines<'_> {
            fn method(&self) -> Option<&str> {
                None
            }
            fn scheme(&self) -> Option<&str> {
                None
            }
            fn authority(&self) -> Option<&str> {
                None
            }
            fn path(&self) -> Option<&str> {
                None
            }
            fn query(&self) -> Option<&str> {
                None
            }
            fn field_values(&self, _: &str) -> Vec<&[u8]> {
                self.0.to_vec()
            }
            fn field_names(&self) -> Vec<&str> {
                vec!["x"]
            }
        }
        let values: &[&[&[u8]]] = &[
            &[b"a"], &[b""], &[b" a "], &[b"\ta\t"], &[b"a\r\n b"], &[b"a\n\n\tb "], &[b" x", b"y ", b""],
            &[b"\r\n"], &[b"  "], &[b"caf\xc3\xa9"],
        ];
        let c = Component::new("x");
        for v in values {
            let mut fast = Vec::new();
            plain_field_value(&Lines(v), &c, &mut fast).unwrap();
            assert_eq!(fast, field_value(&Lines(v), &c).unwrap(), "{v:?}");
        }
    }

    #[test]
    fn derived_components() {
        let b = base(&["@method", "@authority", "@scheme", "@target-uri", "@request-target", "@path", "@query"]).unwrap();
        assert_eq!(
            b,
            "\"@method\": POST\n\"@authority\": example.com\n\"@scheme\": https\n\
             \"@target-uri\": https://example.com/foo?param=Value&Pet=dog\n\
             \"@request-target\": /foo?param=Value&Pet=dog\n\"@path\": /foo\n\"@query\": ?param=Value&Pet=dog\n\
             \"@signature-params\": (\"@method\" \"@authority\" \"@scheme\" \"@target-uri\" \"@request-target\" \"@path\" \"@query\");created=1"
        );
    }

    #[test]
    fn fields() {
        assert_eq!(base(&["x-empty", "Accept"]).unwrap().lines().take(2).collect::<Vec<_>>(), ["\"x-empty\": ", "\"accept\": a, b"]);
        assert_eq!(base(&["x-missing"]), Err(BaseError::MissingField("x-missing".into())));
        assert!(matches!(base(&["@status"]), Err(BaseError::Unsupported(_))));
        // `;req` needs a related request; a plain request has none.
        let req_authority = Component::new("@authority").with_param("req", BareItem::Boolean(true));
        let params = SignatureParams::new([req_authority.clone()]);
        assert!(matches!(signature_base(&req(), &params), Err(BaseError::Unavailable(_))));
        assert!(matches!(base(&["@method", "@method"]), Err(BaseError::DuplicateComponent(_))));
        let p = SignatureParams::new([Component::new("example-dict").with_param("key", BareItem::String("b".into()))]);
        assert!(String::from_utf8(signature_base(&req(), &p).unwrap()).unwrap().starts_with("\"example-dict\";key=\"b\": 2;x=1;y=2\n"));
        let p = SignatureParams::new([Component::new("accept").with_param("bs", BareItem::Boolean(true))]);
        assert!(String::from_utf8(signature_base(&req(), &p).unwrap()).unwrap().starts_with("\"accept\";bs: :YQ==:, :Yg==:\n"));
    }

    #[test]
    fn empty_query_and_origin_form() {
        let r = http::Request::builder().uri("/").header("host", "Origin.Example:8080").body(()).unwrap();
        let p = SignatureParams::new(["@authority", "@query", "@path"].map(Component::new));
        let b = String::from_utf8(signature_base(&r, &p).unwrap()).unwrap();
        assert!(b.starts_with("\"@authority\": origin.example:8080\n\"@query\": ?\n\"@path\": /\n"));
        assert!(matches!(signature_base(&r, &SignatureParams::new([Component::new("@scheme")])), Err(BaseError::Unavailable(_))));
    }

    #[test]
    fn obs_fold_trimmed() {
        assert_eq!(canonical_line(b"  a\r\n   b  "), b"a b");
        assert_eq!(canonical_line(b"   "), b"");
    }
}
