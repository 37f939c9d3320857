//! Variable resolution engine.

use super::{RequestData, ResponseData, TxCollection};
use crate::parser::{Selection, VariableName, VariableSpec, XmlTarget};
use std::sync::LazyLock as Lazy;
use regex::bytes::Regex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Compile a regex written in rule text (an `ARGS:/.../` selection or a
/// `!ARGS:/.../` exclusion), once per pattern.
///
/// These used to be compiled on every evaluation, once per resolved key for an
/// exclusion. Compiling costs orders of magnitude more than matching: CRS
/// 942431's two `!ARGS_NAMES:/.../` exclusions took ~5.5ms per request on
/// clean traffic, for patterns that never change.
///
/// Patterns come only from loaded rules, so the cache is bounded by the rule
/// set. A pattern that does not compile is cached as `None` and never matches,
/// as before. `Regex` clones share the compiled program.
fn cached_regex(pattern: &str) -> Option<Arc<KeyRegex>> {
    // `Arc`, not a `Regex` clone: a clone gets a fresh cache pool, so every
    // exclusion check allocated new matcher state (edge patch).
    static CACHE: Lazy<RwLock<HashMap<String, Option<Arc<KeyRegex>>>>> = Lazy::new(Default::default);
    if let Some(hit) = CACHE.read().unwrap_or_else(|e| e.into_inner()).get(pattern) {
        return hit.clone();
    }
    let compiled = crate::engine::analysis::compile(pattern)
        .ok()
        .map(|re| Arc::new(KeyRegex { re, prefix: crate::engine::analysis::anchored_prefix(pattern).into(), needles: key_needles(pattern) }));
    CACHE
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(pattern.to_string())
        .or_insert(compiled)
        .clone()
}

/// A regex over collection keys (a selection or an exclusion), with the
/// literal its matches start with (edge patch: see
/// [`anchored_prefix`](crate::engine::analysis::anchored_prefix)) and the
/// literals one of which every match contains.
#[derive(Debug)]
pub struct KeyRegex {
    re: Regex,
    prefix: Box<[u8]>,
    /// Empty when the pattern has no small such set.
    needles: Box<[Box<[u8]>]>,
}

/// [`required_literals`](crate::engine::prefilter::required_literals) of a
/// key pattern, when there are a few: CRS's unanchored `TX:/paramcounter_.*/`
/// ran its regex on every TX key of every request (edge patch).
fn key_needles(pattern: &str) -> Box<[Box<[u8]>]> {
    match crate::engine::prefilter::required_literals(pattern) {
        Some(needles) if needles.len() <= 4 => needles.into_iter().map(Vec::into_boxed_slice).collect(),
        _ => Box::default(),
    }
}

/// Whether `text` is `lower` (ASCII-lowercased) up to ASCII case, refusing
/// at the first byte that differs (most keys differ at the first).
fn eq_folded(text: &[u8], lower: &[u8]) -> bool {
    text.len() == lower.len() && text.iter().zip(lower).all(|(t, l)| t.to_ascii_lowercase() == *l)
}

/// Whether `needle` (ASCII-lowercased) is in `key`, up to ASCII case.
fn contains_folded(key: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || key.windows(needle.len()).any(|w| eq_folded(w, needle))
}

impl KeyRegex {
    /// Whether `key` matches; a key without the prefix, or without any of
    /// the required literals, is refused by byte compares, before the regex.
    pub fn is_match(&self, key: &[u8]) -> bool {
        key.get(..self.prefix.len()).is_some_and(|head| eq_folded(head, &self.prefix))
            && (self.needles.is_empty() || self.needles.iter().any(|n| contains_folded(key, n)))
            && self.re.is_match(key)
    }
}

/// `COLLECTION:key`, the name a resolved value is reported under (edge
/// patch: built directly; `format!` was a visible share of resolving CRS's
/// variables at `opt-level = "z"`).
fn var_name(prefix: &str, key: &str) -> String {
    let mut name = String::with_capacity(prefix.len() + 1 + key.len());
    name.push_str(prefix);
    name.push(':');
    name.push_str(key);
    name
}

/// Resolved values: each name, and the value (borrowed from the request
/// where it can be).
pub(crate) type Values<'a> = Vec<(String, Cow<'a, str>)>;

/// Variable resolver for transaction context.
pub struct VariableResolver<'a> {
    request: &'a RequestData,
    response: &'a ResponseData,
    tx: &'a TxCollection,
    matched_var: Option<&'a str>,
    matched_vars: &'a [(String, String)],
    /// Carried alongside the other resolver inputs for symmetry; no variable
    /// reads it yet (`TX:0`..`TX:9` are served from the TX collection).
    #[allow(dead_code)]
    captures: &'a [String],
}

impl<'a> VariableResolver<'a> {
    /// Create a new resolver.
    pub fn new(
        request: &'a RequestData,
        response: &'a ResponseData,
        tx: &'a TxCollection,
        matched_var: Option<&'a str>,
        matched_vars: &'a [(String, String)],
        captures: &'a [String],
    ) -> Self {
        Self {
            request,
            response,
            tx,
            matched_var,
            matched_vars,
            captures,
        }
    }

    /// Resolve a variable specification to values.
    pub fn resolve(&self, spec: &VariableSpec) -> Vec<(String, String)> {
        self.resolve_values(spec).into_iter().map(|(n, v)| (n, v.into_owned())).collect()
    }

    /// [`resolve`](Self::resolve), a value borrowed from the request where
    /// it is stored there (edge patch: the engine only numbers each value, so
    /// a copy of every header and argument was made to be hashed and freed).
    pub(crate) fn resolve_values(&self, spec: &VariableSpec) -> Values<'a> {
        let values = self.resolve_variable(spec.name, &spec.selection);

        // Apply exclusions
        if spec.exclusions.is_empty() {
            values
        } else {
            values
                .into_iter()
                .filter(|(k, _)| !spec.exclusions.iter().any(|e| exclusion_matches(k, e)))
                .collect()
        }
    }

    /// Resolve a variable by name.
    fn resolve_variable(
        &self,
        name: VariableName,
        selection: &Option<Selection>,
    ) -> Values<'a> {
        match name {
            // Request variables
            VariableName::RequestUri => {
                vec![("REQUEST_URI".to_string(), Cow::Borrowed(self.request.uri.as_str()))]
            }
            VariableName::RequestUriRaw => {
                vec![("REQUEST_URI_RAW".to_string(), Cow::Borrowed(self.request.uri_raw.as_str()))]
            }
            VariableName::RequestMethod => {
                vec![("REQUEST_METHOD".to_string(), Cow::Borrowed(self.request.method.as_str()))]
            }
            VariableName::RequestProtocol => {
                vec![(
                    "REQUEST_PROTOCOL".to_string(),
                    Cow::Borrowed(self.request.protocol.as_str()),
                )]
            }
            VariableName::QueryString => {
                vec![(
                    "QUERY_STRING".to_string(),
                    Cow::Borrowed(self.request.query_string.as_str()),
                )]
            }
            VariableName::RequestFilename => {
                vec![("REQUEST_FILENAME".to_string(), Cow::Borrowed(self.request.path.as_str()))]
            }
            VariableName::RequestLine => {
                // The request line as it arrived. CRS 920100 tests this with a
                // negated regex, so leaving it unresolved made that rule match
                // every request rather than none.
                let uri = if self.request.uri_raw.is_empty() {
                    &self.request.uri
                } else {
                    &self.request.uri_raw
                };
                vec![(
                    "REQUEST_LINE".to_string(),
                    format!("{} {} {}", self.request.method, uri, self.request.protocol).into(),
                )]
            }
            VariableName::RequestBasename => {
                // Final path segment. ModSecurity splits on both separators, so
                // a Windows-style path does not hide the basename.
                let basename = self
                    .request
                    .path
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                vec![("REQUEST_BASENAME".to_string(), basename.into())]
            }
            VariableName::ArgsCombinedSize => {
                use super::collection::Collection;
                let size: usize = [&self.request.args_get, &self.request.args_post]
                    .iter()
                    .flat_map(|c| c.all())
                    .map(|(name, value)| name.len() + value.len())
                    .sum();
                vec![("ARGS_COMBINED_SIZE".to_string(), size.to_string().into())]
            }
            VariableName::RequestBody => {
                vec![("REQUEST_BODY".to_string(), String::from_utf8_lossy(&self.request.body))]
            }
            VariableName::RequestBodyLength => {
                vec![(
                    "REQUEST_BODY_LENGTH".to_string(),
                    self.request.body_length().to_string().into(),
                )]
            }

            // Collections
            VariableName::Args => self.resolve_collection_from_all_args(selection),
            VariableName::ArgsGet => {
                self.resolve_collection(&self.request.args_get, "ARGS_GET", selection)
            }
            VariableName::ArgsPost => {
                self.resolve_collection(&self.request.args_post, "ARGS_POST", selection)
            }
            VariableName::ArgsNames => self.resolve_collection_names(
                &[&self.request.args_get, &self.request.args_post],
                "ARGS_NAMES",
                selection,
            ),
            VariableName::ArgsGetNames => self.resolve_collection_names(
                &[&self.request.args_get],
                "ARGS_GET_NAMES",
                selection,
            ),
            VariableName::ArgsPostNames => self.resolve_collection_names(
                &[&self.request.args_post],
                "ARGS_POST_NAMES",
                selection,
            ),
            VariableName::RequestHeaders => {
                self.resolve_collection_ci(&self.request.headers, "REQUEST_HEADERS", selection)
            }
            VariableName::RequestHeadersNames => self.resolve_collection_names(
                &[&self.request.headers],
                "REQUEST_HEADERS_NAMES",
                selection,
            ),
            VariableName::RequestCookies => {
                self.resolve_collection(&self.request.cookies, "REQUEST_COOKIES", selection)
            }
            VariableName::RequestCookiesNames => self.resolve_collection_names(
                &[&self.request.cookies],
                "REQUEST_COOKIES_NAMES",
                selection,
            ),

            // Multipart body processor results
            VariableName::MultipartPartHeaders => self.resolve_collection(
                &self.request.multipart_part_headers,
                "MULTIPART_PART_HEADERS",
                selection,
            ),
            VariableName::Files => self.resolve_collection(&self.request.files, "FILES", selection),
            VariableName::FilesNames => {
                self.resolve_collection_names(&[&self.request.files], "FILES_NAMES", selection)
            }
            VariableName::ReqBodyProcessor => {
                if self.request.body_processor.is_empty() {
                    vec![]
                } else {
                    vec![(
                        "REQBODY_PROCESSOR".to_string(),
                        Cow::Borrowed(self.request.body_processor.as_str()),
                    )]
                }
            }

            // A body the processor could not handle. These resolved to nothing
            // before, so CRS rule 200002 (`SecRule REQBODY_ERROR "!@eq 0"`)
            // could never fire and a rejected body passed unexamined and
            // unreported.
            //
            // REQBODY_ERROR always has a value -- "0" when the body processed
            // cleanly -- because a rule comparing it against 0 must be able to
            // find it. REQBODY_ERROR_MSG is absent unless there is a message,
            // matching ModSecurity.
            VariableName::ReqBodyError | VariableName::ReqBodyProcessorError => {
                let flag = if self.request.body_error.is_some() {
                    "1"
                } else {
                    "0"
                };
                vec![("REQBODY_ERROR".to_string(), Cow::Borrowed(flag))]
            }
            VariableName::ReqBodyErrorMsg | VariableName::ReqBodyProcessorErrorMsg => {
                match &self.request.body_error {
                    Some(msg) => vec![("REQBODY_ERROR_MSG".to_string(), Cow::Borrowed(msg.as_str()))],
                    None => vec![],
                }
            }

            // Response variables
            VariableName::ResponseStatus => {
                vec![(
                    "RESPONSE_STATUS".to_string(),
                    self.response.status.to_string().into(),
                )]
            }
            VariableName::ResponseBody => {
                vec![("RESPONSE_BODY".to_string(), String::from_utf8_lossy(&self.response.body))]
            }
            VariableName::ResponseContentType => {
                vec![(
                    "RESPONSE_CONTENT_TYPE".to_string(),
                    Cow::Borrowed(self.response.content_type.as_str()),
                )]
            }
            VariableName::ResponseHeaders => {
                self.resolve_collection_ci(&self.response.headers, "RESPONSE_HEADERS", selection)
            }

            // TX collection
            VariableName::Xml => self.resolve_xml(selection),

            VariableName::Tx => self.resolve_tx_collection(selection),

            // Client/Server info
            VariableName::RemoteAddr => {
                vec![("REMOTE_ADDR".to_string(), Cow::Borrowed(self.request.client_ip.as_str()))]
            }
            VariableName::RemotePort => {
                vec![(
                    "REMOTE_PORT".to_string(),
                    self.request.client_port.to_string().into(),
                )]
            }
            VariableName::ServerName => {
                vec![("SERVER_NAME".to_string(), Cow::Borrowed(self.request.server_name.as_str()))]
            }
            VariableName::ServerAddr => {
                vec![("SERVER_ADDR".to_string(), Cow::Borrowed(self.request.server_addr.as_str()))]
            }
            VariableName::ServerPort => {
                vec![(
                    "SERVER_PORT".to_string(),
                    self.request.server_port.to_string().into(),
                )]
            }

            // Matched variables
            VariableName::MatchedVar => {
                if let Some(v) = self.matched_var {
                    vec![("MATCHED_VAR".to_string(), Cow::Borrowed(v))]
                } else {
                    vec![]
                }
            }
            VariableName::MatchedVars => self
                .matched_vars
                .iter()
                .map(|(k, v)| (format!("MATCHED_VARS:{}", k), Cow::Borrowed(v.as_str())))
                .collect(),
            VariableName::MatchedVarName => match self.matched_vars.last() {
                Some((name, _)) => vec![("MATCHED_VAR_NAME".to_string(), Cow::Borrowed(name.as_str()))],
                None => vec![],
            },
            VariableName::MatchedVarsNames => self
                .matched_vars
                .iter()
                .map(|(k, _)| (format!("MATCHED_VARS_NAMES:{}", k), Cow::Borrowed(k.as_str())))
                .collect(),

            // Default - empty
            _ => vec![],
        }
    }

    /// Resolve a collection with optional selection.
    fn resolve_collection(
        &self,
        collection: &'a super::collection::HashMapCollection,
        prefix: &str,
        selection: &Option<Selection>,
    ) -> Values<'a> {
        self.resolve_collection_inner(collection, prefix, selection, false)
    }

    /// Resolve a collection where keys are matched case-insensitively (HTTP headers).
    fn resolve_collection_ci(
        &self,
        collection: &'a super::collection::HashMapCollection,
        prefix: &str,
        selection: &Option<Selection>,
    ) -> Values<'a> {
        self.resolve_collection_inner(collection, prefix, selection, true)
    }

    fn resolve_collection_inner(
        &self,
        collection: &'a super::collection::HashMapCollection,
        prefix: &str,
        selection: &Option<Selection>,
        lowercase_key: bool,
    ) -> Values<'a> {
        use super::collection::Collection;

        match selection {
            Some(Selection::Key(key)) => {
                let lookup = if lowercase_key {
                    key.to_ascii_lowercase()
                } else {
                    key.clone()
                };
                if let Some(values) = collection.get(&lookup) {
                    values
                        .into_iter()
                        .map(|v| (var_name(prefix, key), Cow::Borrowed(v)))
                        .collect()
                } else {
                    vec![]
                }
            }
            Some(Selection::Regex(pattern)) => {
                if let Some(re) = cached_regex(pattern) {
                    collection
                        .get_regex(&re)
                        .into_iter()
                        .map(|(k, v)| (var_name(prefix, k), Cow::Borrowed(v)))
                        .collect()
                } else {
                    vec![]
                }
            }
            None => collection
                .all()
                .into_iter()
                .map(|(k, v)| (var_name(prefix, k), Cow::Borrowed(v)))
                .collect(),
        }
    }

    /// Resolve ARGS collection (GET + POST combined).
    /// Resolve an `XML:` target against the flattened XML body.
    ///
    /// The XML body processor flattens element text to `xml.<path>` and
    /// attributes to `xml.<path>.@<name>` in `ARGS`. `XML:/*` and `XML://@*`
    /// are exactly those two sets, so they are answered from the flattening
    /// rather than by evaluating XPath.
    ///
    /// Values are reported under their XPath-style name -- `xml.order.item.@id`
    /// is reported as `XML:/order/item/@id` -- so `%{MATCHED_VAR_NAME}` in a
    /// rule's `logdata` names the node the way the rule addressed it.
    fn resolve_xml(&self, selection: &Option<Selection>) -> Values<'a> {
        use super::collection::Collection;

        let Some(target) = XmlTarget::from_selection(selection.as_ref()) else {
            // An XPath expression this engine cannot express. Reported when the
            // rules load, so there is nothing to say per request.
            return vec![];
        };

        self.request
            .args_post
            .all()
            .into_iter()
            .filter_map(|(name, value)| {
                let path = name.strip_prefix("xml.")?;
                // An XML element name cannot begin with `@`, so `.@` only ever
                // marks the attribute segment this processor appends.
                let is_attribute = path.contains(".@");
                let wanted = match target {
                    XmlTarget::Elements => !is_attribute,
                    XmlTarget::Attributes => is_attribute,
                    XmlTarget::All => true,
                };
                if !wanted {
                    return None;
                }
                Some((
                    format!("XML:/{}", path.replace('.', "/")),
                    Cow::Borrowed(value),
                ))
            })
            .collect()
    }

    fn resolve_collection_from_all_args(
        &self,
        selection: &Option<Selection>,
    ) -> Values<'a> {
        let mut result = self.resolve_collection(&self.request.args_get, "ARGS", selection);
        result.extend(self.resolve_collection(&self.request.args_post, "ARGS", selection));
        result
    }

    /// Resolve a `*_NAMES` collection: the values are the keys of the backing
    /// collection(s), one entry per stored value (duplicates preserved,
    /// matching ModSecurity).
    fn resolve_collection_names(
        &self,
        collections: &[&'a super::collection::HashMapCollection],
        prefix: &str,
        selection: &Option<Selection>,
    ) -> Values<'a> {
        use super::collection::Collection;

        let mut result = Vec::new();
        for collection in collections {
            for (key, _) in collection.all() {
                let selected = match selection {
                    Some(Selection::Key(sel)) => key.eq_ignore_ascii_case(sel),
                    Some(Selection::Regex(pattern)) => cached_regex(pattern)
                        .map(|re| re.is_match(key.as_bytes()))
                        .unwrap_or(false),
                    None => true,
                };
                if selected {
                    result.push((var_name(prefix, key), Cow::Borrowed(key)));
                }
            }
        }
        result
    }

    /// Resolve TX collection.
    fn resolve_tx_collection(&self, selection: &Option<Selection>) -> Values<'a> {
        use super::collection::Collection;

        match selection {
            Some(Selection::Key(key)) => {
                if let Some(values) = self.tx.get(key) {
                    values
                        .into_iter()
                        .map(|v| (var_name("TX", key), Cow::Borrowed(v)))
                        .collect()
                } else {
                    vec![]
                }
            }
            Some(Selection::Regex(pattern)) => {
                if let Some(re) = cached_regex(pattern) {
                    self.tx
                        .get_regex(&re)
                        .into_iter()
                        .map(|(k, v)| (var_name("TX", k), Cow::Borrowed(v)))
                        .collect()
                } else {
                    vec![]
                }
            }
            None => self
                .tx
                .all()
                .into_iter()
                .map(|(k, v)| (var_name("TX", k), Cow::Borrowed(v)))
                .collect(),
        }
    }
}

/// Check whether a resolved variable key (e.g. `ARGS:password`) is excluded by
/// a target exclusion (`!TARGET` in a rule's variable list or in
/// `SecRuleUpdateTargetById`).
///
/// Supported exclusion forms, per ModSecurity:
/// - `COLLECTION:key` — excludes that member (key compared case-insensitively);
/// - `COLLECTION:/regex/` — excludes members whose key matches the regex;
/// - `COLLECTION` — excludes the entire collection.
pub(crate) fn exclusion_matches(key: &str, exclusion: &str) -> bool {
    Exclusion::new(exclusion).matches(key)
}

/// A target exclusion parsed once ([`exclusion_matches`]' forms), for the
/// lists that filter a shared resolution by it (edge patch: CRS's lists
/// tested every value's name against each exclusion text, splitting it and
/// looking its regex up in the shared cache each time).
#[derive(Debug, Clone)]
pub(crate) struct Exclusion {
    collection: Box<str>,
    member: Member,
}

#[derive(Debug, Clone)]
enum Member {
    /// `COLLECTION`: all of it.
    All,
    /// `COLLECTION:key`.
    Key(Box<str>),
    /// `COLLECTION:/regex/` (`None`: a pattern that does not compile, which
    /// excludes nothing).
    Regex(Option<Arc<KeyRegex>>),
}

impl Exclusion {
    pub(crate) fn new(exclusion: &str) -> Self {
        let Some((collection, selection)) = exclusion.split_once(':') else {
            return Exclusion { collection: exclusion.into(), member: Member::All };
        };
        let member = match selection.strip_prefix('/').and_then(|s| s.strip_suffix('/')).filter(|s| !s.is_empty()) {
            Some(pattern) => Member::Regex(cached_regex(pattern)),
            None => Member::Key(selection.into()),
        };
        Exclusion { collection: collection.into(), member }
    }

    /// Whether it excludes the value reported as `key` (`ARGS:password`).
    pub(crate) fn matches(&self, key: &str) -> bool {
        let (key_collection, key_member) = match key.split_once(':') {
            Some((c, m)) => (c, Some(m)),
            None => (key, None),
        };
        if !key_collection.eq_ignore_ascii_case(&self.collection) {
            return false;
        }
        match (&self.member, key_member) {
            (Member::All, _) => true,
            (_, None) => false,
            (Member::Key(k), Some(m)) => m.eq_ignore_ascii_case(k),
            (Member::Regex(re), Some(m)) => re.as_ref().is_some_and(|re| re.is_match(m.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{cached_regex, exclusion_matches};

    #[test]
    fn test_cached_regex_compiles_once_and_keeps_invalid_patterns_dead() {
        let a = cached_regex(r"^user_\d+$").expect("valid pattern");
        let b = cached_regex(r"^user_\d+$").expect("valid pattern");
        assert!(a.is_match(b"user_42") && b.is_match(b"user_42"));
        // An invalid pattern stays a never-matching selection, cached or not.
        assert!(cached_regex("(unclosed").is_none());
        assert!(cached_regex("(unclosed").is_none());
        assert!(!exclusion_matches("ARGS:x", "ARGS:/(unclosed/"));
    }

    /// An unanchored key pattern refuses keys without its literal before
    /// the regex, up to ASCII case, and still takes every key it matches.
    #[test]
    fn key_patterns_check_their_required_literals_first() {
        let counter = cached_regex("paramcounter_.*").expect("valid pattern");
        assert_eq!(&*counter.needles, [b"paramcounter_".to_vec().into_boxed_slice()]);
        assert!(counter.is_match(b"paramcounter_json.a"));
        assert!(counter.is_match(b"x_paramcounter_"));
        assert!(!counter.is_match(b"paramcounter"));
        let either = cached_regex("(?i)(?:rfi|lfi)_parameter").expect("valid pattern");
        assert_eq!(either.needles.len(), 2);
        assert!(either.is_match(b"LFI_PARAMETER_x") && either.is_match(b"rfi_parameter"));
        assert!(!either.is_match(b"xss_parameter"));
        let open = cached_regex(r"^\w+$").expect("valid pattern");
        assert!(open.needles.is_empty() && open.is_match(b"anything"));
    }

    #[test]
    fn test_exclusion_exact_key() {
        assert!(exclusion_matches("ARGS:password", "ARGS:password"));
        assert!(exclusion_matches("ARGS:Password", "ARGS:password"));
        // Must NOT be a prefix/substring match.
        assert!(!exclusion_matches("ARGS:password2", "ARGS:password"));
        assert!(!exclusion_matches("ARGS:xpassword", "ARGS:password"));
        // Different collection.
        assert!(!exclusion_matches(
            "REQUEST_COOKIES:password",
            "ARGS:password"
        ));
    }

    #[test]
    fn test_exclusion_regex_key() {
        // CRS pattern: SecRuleUpdateTargetById 941100 "!REQUEST_COOKIES:/^_ga(?:_\w+)?$/"
        assert!(exclusion_matches(
            "REQUEST_COOKIES:_ga_ABC123",
            r"REQUEST_COOKIES:/^_ga(?:_\w+)?$/"
        ));
        assert!(exclusion_matches(
            "REQUEST_COOKIES:_ga",
            r"REQUEST_COOKIES:/^_ga(?:_\w+)?$/"
        ));
        assert!(!exclusion_matches(
            "REQUEST_COOKIES:session",
            r"REQUEST_COOKIES:/^_ga(?:_\w+)?$/"
        ));
    }

    #[test]
    fn test_exclusion_whole_collection() {
        assert!(exclusion_matches("ARGS:anything", "ARGS"));
        assert!(!exclusion_matches("ARGS_NAMES:anything", "ARGS"));
    }
}
