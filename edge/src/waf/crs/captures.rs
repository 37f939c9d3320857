//! Values zentinel-modsec 0.5 does not provide (or provides differently from
//! ModSecurity), computed by the layer per request and handed to the engine
//! as TX variables the rules are rewritten at load time to read: macros of
//! request collections (`%{request_headers.host}`, `%{ARGS._method}`),
//! per-match setvars, `REQUEST_BODY`, `FILES`/`FILES_NAMES` and the decoded
//! `REQUEST_FILENAME`/`REQUEST_BASENAME` (each function says why).
//!
//! zentinel expands only `tx.*` macros, so every CRS rule that reads a request
//! macro saw an empty string (943110 and 931130 compared the Referer or URL
//! host with nothing). The references are renamed at load time to TX
//! variables (`%{request_headers.host}` → `%{tx.edge_macro_request_headers_host}`)
//! that the layer fills before the engine runs. Upstream fix: expand every
//! collection in macros.
//!
//! Capture groups (`capture`, `TX:0`–`TX:9`, `%{tx.N}`) were computed here
//! too, by evaluating each capturing rule's variables, transformations and
//! regex a second time per request; the engine now stores them itself when a
//! `capture` rule matches (zentinel-modsec patch 34), so they honour the
//! rule's target exclusions and cost nothing until a rule matches.
//!
//! Known difference: the per-match collectors run even where
//! `ctl:ruleRemoveById` removed the rule.

use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use regex::Regex;
use zentinel_modsec::engine::match_text;
use zentinel_modsec::parser::{Action, DataAction, Directive, FlowAction, OperatorName, SecRule, Selection, SetVarValue, VariableName, VariableSpec};
use zentinel_modsec::transformations::TransformationPipeline;
use zentinel_modsec::variables::{MutableCollection, RequestData, ResponseData, TxCollection, VariableResolver};

use super::load::LoadNote;
use super::CrsError;

/// Prefix of the TX variables this module fills.
const MACRO_PREFIX: &str = "edge_macro_";
/// Where rules read `REQUEST_BODY` from (see [`request_body`]).
pub(crate) const REQUEST_BODY_TX: &str = "edge_request_body";

/// The SecLang name to report for a variable the rules now read from TX.
pub(crate) fn reported_target(variable: &str) -> String {
    // See `xml_paths`.
    if let Some(name) = variable.strip_prefix("ARGS_GET_NAMES:").or_else(|| variable.strip_prefix("ARGS_POST_NAMES:")) {
        return format!("ARGS_NAMES:{name}");
    }
    let Some(key) = variable.strip_prefix("TX:") else { return variable.to_string() };
    let key = key.to_ascii_lowercase();
    if key == REQUEST_BODY_TX {
        "REQUEST_BODY".into()
    } else if key == FILENAME_TX {
        "REQUEST_FILENAME".into()
    } else if key == BASENAME_TX {
        "REQUEST_BASENAME".into()
    } else if key.starts_with(FILES_NAMES_TX) {
        "FILES_NAMES".into()
    } else if key.starts_with(FILES_TX) {
        "FILES".into()
    } else {
        variable.to_string()
    }
}

/// One request macro (`collection.key`) the layer resolves per request.
struct MacroProbe {
    key: String,
    spec: VariableSpec,
}

/// A rule that collects *every* match into TX variables named by a macro
/// (`setvar:tx.name_%{tx.counter}=%{tx.1}` in 922150,
/// `setvar:tx.header_name_920450_%{tx.0}=/%{tx.0}/` in 920450): ModSecurity
/// runs a rule's setvars once per matched value, zentinel once per rule (on
/// its first match) and without expanding macros in the key, so 922110 and
/// 920450 saw only the first part or header. The layer sets one variable per
/// match itself (a counter starts at 0, as 922140 sets it).
struct CollectProbe {
    variables: Vec<VariableSpec>,
    slots: Vec<u32>,
    transformations: TransformationPipeline,
    regex: LazyRx,
    /// The setvar's key: a `%{tx.N}` in it is group N, any other macro the
    /// match's index.
    key: Template,
    value: Collected,
}

/// What a per-match setvar does with its variable.
enum Collected {
    /// Set it to this text (its `%{tx.N}` are the match's groups).
    Text(Template),
    /// Add to it (`=+1`, 921170's parameter counter).
    Add(i64),
}

/// A `setvar` whose key is named by a macro, run once per match.
fn per_match(a: &Action) -> Option<(Template, Collected)> {
    let Action::Data(DataAction::SetVar(sv)) = a else { return None };
    if !sv.key.contains("%{") {
        return None;
    }
    let value = match &sv.value {
        SetVarValue::Macro(m) => Collected::Text(Template::new(m)),
        SetVarValue::String(t) => Collected::Text(Template::new(t)),
        SetVarValue::Increment(n) => Collected::Add(*n),
        _ => return None,
    };
    Some((Template::new(&sv.key.to_ascii_lowercase()), value))
}

/// A per-match setvar's key or value split at its macros at load, so a match
/// fills it in without a regex pass per match.
struct Template(Vec<Piece>);

enum Piece {
    Text(String),
    /// `%{tx.N}`: the match's group N.
    Group(usize),
    /// `%{matched_var_name}`.
    Name,
    /// Any other macro, as written.
    Other(String),
}

impl Template {
    fn new(text: &str) -> Template {
        let mut pieces = Vec::new();
        let mut at = 0;
        for m in self_macro_regex().captures_iter(text) {
            let (Some(whole), Some(inner)) = (m.get(0), m.get(1)) else { continue };
            if whole.start() > at {
                pieces.push(Piece::Text(text[at..whole.start()].to_string()));
            }
            pieces.push(match capture_group_macro(inner.as_str()) {
                Some(n) => Piece::Group(n),
                None if inner.as_str().eq_ignore_ascii_case("matched_var_name") => Piece::Name,
                None => Piece::Other(whole.as_str().to_string()),
            });
            at = whole.end();
        }
        if at < text.len() {
            pieces.push(Piece::Text(text[at..].to_string()));
        }
        Template(pieces)
    }

    /// The text for one match (groups `caps`, variable `name`); `other` is
    /// what any other macro becomes.
    fn render(&self, caps: &regex::bytes::Captures<'_>, name: &str, other: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(n) => {
                    if let Some(g) = caps.get(*n) {
                        out.push_str(&match_text(g.as_bytes()));
                    }
                }
                Piece::Name => out.push_str(name),
                Piece::Other(m) => out.push_str(&other(m)),
            }
        }
        out
    }
}

/// Move a rule's per-match setvars into collectors (see [`CollectProbe`]).
fn collect(r: &mut SecRule, id: u64, probes: &mut Probes, notes: &mut Vec<LoadNote>) -> Result<(), CrsError> {
    if r.operator.name != OperatorName::Rx || r.operator.negated || !r.actions.iter().any(|a| per_match(a).is_some()) {
        return Ok(());
    }
    let regex = LazyRx::new(&r.operator.argument);
    let names: Vec<String> = r.actions.iter().filter_map(|a| if let Action::Transformation(t) = a { Some(t.clone()) } else { None }).collect();
    let transformations = TransformationPipeline::from_names(&names).map_err(|e| CrsError::Load(format!("rule {id}: {e}")))?;
    for (key, value) in r.actions.iter().filter_map(per_match) {
        probes.collects.push(CollectProbe { variables: r.variables.clone(), slots: Vec::new(), transformations: transformations.clone(), regex: regex.clone(), key, value });
        notes.push(LoadNote { rule_id: id, note: "per-match setvar hoisted: the layer sets one TX variable per match".into() });
    }
    r.actions.retain(|a| per_match(a).is_none());
    Ok(())
}

/// What the layer computes per request for the engine.
#[derive(Default)]
pub(crate) struct Probes {
    macros: Vec<MacroProbe>,
    collects: Vec<CollectProbe>,
    /// How many distinct request variables the probes read ([`Probes::number_specs`]).
    slots: usize,
}

/// A probe's regex, built on its first use: CRS's patterns are large, and
/// on benign traffic a probe rarely meets a value holding one of the
/// literals every match contains (the engine's prefilter, applied here too).
/// The engine compiles the same pattern for the rule itself, so its syntax
/// was checked at load, and the literals come from the analysis it keeps: a
/// probe costs nothing until it first sees a value.
#[derive(Clone)]
struct LazyRx {
    pattern: Arc<str>,
    /// `None` inside: no literal set, every value goes to the regex.
    literals: Arc<OnceLock<Option<aho_corasick::AhoCorasick>>>,
    /// Compiled as every SecLang pattern: on bytes, ASCII classes (PCRE).
    regex: Arc<OnceLock<Option<regex::bytes::Regex>>>,
}

impl LazyRx {
    fn new(pattern: &str) -> LazyRx {
        LazyRx { pattern: pattern.into(), literals: Arc::default(), regex: Arc::default() }
    }

    fn captures<'t>(&self, text: &'t str) -> Option<regex::bytes::Captures<'t>> {
        let literals = self.literals.get_or_init(|| {
            zentinel_modsec::engine::required_literals(&self.pattern)
                .and_then(|l| aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(l).ok())
        });
        if literals.as_ref().is_some_and(|ac| !ac.is_match(text)) {
            return None;
        }
        self.regex.get_or_init(|| zentinel_modsec::engine::compile_regex(&self.pattern).ok()).as_ref()?.captures(text.as_bytes())
    }
}

fn self_macro_regex() -> &'static Regex {
    static MACRO: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    MACRO.get_or_init(macro_regex)
}

fn macro_regex() -> Regex {
    // A fixed, valid pattern.
    Regex::new(r"%\{([^}]+)\}").unwrap_or_else(|_| unreachable!())
}

fn chains(r: &SecRule) -> bool {
    r.actions.iter().any(|a| matches!(a, Action::Flow(FlowAction::Chain)))
}

/// `%{tx.N}` (any case) as a macro.
fn capture_group_macro(inner: &str) -> Option<usize> {
    let (c, n) = inner.split_once('.')?;
    (c.eq_ignore_ascii_case("tx") && n.len() == 1).then(|| n.parse().ok()).flatten()
}

struct Rewriter {
    macros: Regex,
    probes: Probes,
}

impl Rewriter {
    /// Rename what the engine cannot expand in one macro-bearing text: the
    /// request collections' macros (`%{tx.N}`, the groups of a `capture`,
    /// are the engine's own since patch 34).
    fn text(&mut self, s: &str) -> String {
        let mut wanted: Vec<(String, VariableSpec)> = Vec::new();
        let out = self
            .macros
            .replace_all(s, |c: &regex::Captures<'_>| {
                let inner = &c[1];
                if let Some((collection, member)) = inner.split_once('.') {
                    let name = VariableName::from_str(collection);
                    if let Some(name @ (VariableName::RequestHeaders | VariableName::Args | VariableName::ArgsGet | VariableName::ArgsPost | VariableName::RequestCookies)) = name {
                        let key: String = inner.chars().map(|ch| if ch.is_ascii_alphanumeric() { ch.to_ascii_lowercase() } else { '_' }).collect();
                        let selection = if name == VariableName::RequestHeaders { member.to_ascii_lowercase() } else { member.to_string() };
                        wanted.push((key.clone(), VariableSpec { name, selection: Some(Selection::Key(selection)), count_mode: false, exclusions: Vec::new() }));
                        return format!("%{{tx.{MACRO_PREFIX}{key}}}");
                    }
                }
                c[0].to_string()
            })
            .into_owned();
        for (key, spec) in wanted {
            if !self.probes.macros.iter().any(|m| m.key == key) {
                self.probes.macros.push(MacroProbe { key, spec });
            }
        }
        out
    }

    fn rule(&mut self, r: &mut SecRule) {
        if r.operator.argument.contains("%{") {
            let arg = r.operator.argument.clone();
            r.operator.argument = self.text(&arg);
        }
        for a in r.actions.iter_mut() {
            if let Action::Data(DataAction::SetVar(s)) = a {
                if let SetVarValue::Macro(m) = &s.value {
                    let m = m.clone();
                    s.value = SetVarValue::Macro(self.text(&m));
                }
            }
        }
    }
}

/// `REQUEST_BODY` as ModSecurity defines it: the raw body only when no body
/// processor parsed it or the URL-encoded one did (CRS 901340 forces the
/// variable in the first case); with the XML, JSON or multipart processor it
/// is empty, and rules see the parsed `ARGS`/`XML:`/`FILES` instead.
/// zentinel always fills it with the raw body, so 944120 and its siblings
/// matched a Java class name in an XML *element name* (`<ProcessBuilder…>`),
/// which CRS deliberately does not inspect. The rules read it from
/// `TX:edge_request_body`, which the layer fills per request (reported back as
/// `REQUEST_BODY`). Upstream fix: honour the body processor and
/// `ctl:forceRequestBodyVariable`.
fn request_body(directives: &mut [Directive], notes: &mut Vec<LoadNote>) {
    for d in directives.iter_mut() {
        let Directive::SecRule(r) = d else { continue };
        let mut changed = false;
        for v in r.variables.iter_mut() {
            if v.name == VariableName::RequestBody {
                v.name = VariableName::Tx;
                v.selection = Some(Selection::Key(REQUEST_BODY_TX.to_string()));
                changed = true;
            }
        }
        if let (true, Some(id)) = (changed, super::load::rule_id(r)) {
            notes.push(LoadNote { rule_id: id, note: "REQUEST_BODY hoisted into TX:edge_request_body, empty under the XML/JSON/multipart body processors".into() });
        }
    }
}

/// Where rules read `REQUEST_FILENAME` / `REQUEST_BASENAME` from (see [`path`]).
pub(crate) const FILENAME_TX: &str = "edge_request_filename";
const BASENAME_TX: &str = "edge_request_basename";

/// `REQUEST_FILENAME` and `REQUEST_BASENAME` percent-decoded, as ModSecurity
/// has them (the server decodes the path before the rules see it). zentinel
/// gives the raw path, so `/get/array_diff%20%28` never matched 933151's
/// `array_diff (`, and every path rule could be evaded by percent-encoding one
/// letter. Upstream fix: decode the path for these two variables.
fn path(directives: &mut [Directive], notes: &mut Vec<LoadNote>) {
    for d in directives.iter_mut() {
        let Directive::SecRule(r) = d else { continue };
        let mut changed = false;
        for v in r.variables.iter_mut() {
            let key = match v.name {
                VariableName::RequestFilename => FILENAME_TX,
                VariableName::RequestBasename => BASENAME_TX,
                _ => continue,
            };
            v.name = VariableName::Tx;
            v.selection = Some(Selection::Key(key.to_string()));
            changed = true;
        }
        if let (true, Some(id)) = (changed, super::load::rule_id(r)) {
            notes.push(LoadNote { rule_id: id, note: "REQUEST_FILENAME/BASENAME hoisted into TX, percent-decoded".into() });
        }
    }
}

/// Percent-decode a path: UTF-8 where the bytes are, else one char per byte
/// (what zentinel's `t:urlDecode` does, so byte-oriented CRS regexes match).
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => e.into_bytes().into_iter().map(char::from).collect(),
    }
}

/// Where rules read `FILES` / `FILES_NAMES` from (see [`files`]).
const FILES_TX: &str = "edge_files_";
const FILES_NAMES_TX: &str = "edge_files_names_";

/// `FILES` (uploaded file names) and `FILES_NAMES` (their part names) parsed
/// from `Content-Disposition` as a quoted-string, as ModSecurity does.
/// zentinel splits the header on every `;`, quotes or not, so
/// `name="fi;le"` became `fi` and `filename="shell.jpg;.php"` became
/// `shell.jpg`: 920120/920121 never saw the `;`, and 933110 (PHP upload) could
/// be bypassed. The rules read them from `TX:edge_files_<i>` /
/// `TX:edge_files_names_<i>`, filled per request from the part headers
/// (reported back as `FILES` / `FILES_NAMES`). Upstream fix: parse
/// `Content-Disposition` parameters as RFC 7578 quoted-strings.
fn files(directives: &mut [Directive], notes: &mut Vec<LoadNote>) {
    for d in directives.iter_mut() {
        let Directive::SecRule(r) = d else { continue };
        let mut changed = false;
        for v in r.variables.iter_mut() {
            let prefix = match (v.name, &v.selection) {
                (VariableName::Files, None) => FILES_TX,
                (VariableName::FilesNames, None) => FILES_NAMES_TX,
                _ => continue,
            };
            v.name = VariableName::Tx;
            v.selection = Some(Selection::Regex(format!(r"^{prefix}\d+$")));
            changed = true;
        }
        if let (true, Some(id)) = (changed, super::load::rule_id(r)) {
            notes.push(LoadNote { rule_id: id, note: "FILES/FILES_NAMES hoisted into TX:edge_files_*, parsed as quoted-strings".into() });
        }
    }
}

/// The `name` and `filename` parameters of a `Content-Disposition` value,
/// quoted-strings unescaped (`\"` and `\\`; any other backslash is kept,
/// as ModSecurity keeps it).
fn disposition(value: &str) -> (Option<String>, Option<String>) {
    let (mut name, mut filename) = (None, None);
    let mut rest = value;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].rsplit(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let after = &rest[eq + 1..];
        let (val, next) = if let Some(quoted) = after.trim_start().strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    '\\' => match chars.clone().next() {
                        Some((_, q @ ('"' | '\\'))) => {
                            out.push(q);
                            chars.next();
                        }
                        _ => out.push('\\'),
                    },
                    c => out.push(c),
                }
            }
            (out, &quoted[end.min(quoted.len())..])
        } else {
            let stop = after.find(';').unwrap_or(after.len());
            (after[..stop].trim().to_string(), &after[stop..])
        };
        match key.as_str() {
            "name" => name = Some(val),
            "filename" => filename = Some(val),
            _ => {}
        }
        rest = next;
    }
    (name, filename)
}

/// Keep XML element and attribute paths out of `ARGS_NAMES`, as ModSecurity
/// does: its XML body processor fills only `XML:`, whose values CRS inspects
/// through `XML:/*` and `XML://@*`, never the element names. zentinel also
/// puts every XML text node and attribute into `ARGS_POST` named
/// `xml.<element path>`, so 944100–944210 fired on an element *named*
/// `java.lang.Runtime`. A rule's `ARGS_NAMES` becomes
/// `ARGS_GET_NAMES|ARGS_POST_NAMES`, and a phase-2 rule placed before the
/// rules removes `ARGS_POST_NAMES` from them when the body processor is XML
/// (which then fills `ARGS_POST` with paths only), so a form or multipart
/// field or query parameter named `xml.…` is still inspected. A rule with its
/// own `ARGS_NAMES` exclusions is left as it is (stricter). The XML values
/// stay in `ARGS`, also stricter than CRS. Returns the rewritten rules' ids.
/// Upstream fix: keep the XML processor's output out of `ARGS_POST`.
pub(crate) fn xml_paths(directives: &mut [Directive], notes: &mut Vec<LoadNote>) -> Vec<u64> {
    let mut ids = Vec::new();
    for d in directives.iter_mut() {
        let Directive::SecRule(r) = d else { continue };
        let own_exclusions = r.variables.iter().any(|v| v.exclusions.iter().any(|e| e.get(..11).is_some_and(|c| c.eq_ignore_ascii_case("ARGS_NAMES:"))));
        let Some(at) = r.variables.iter().position(|v| v.name == VariableName::ArgsNames && v.selection.is_none() && !v.count_mode) else { continue };
        let Some(id) = super::load::rule_id(r) else { continue };
        if own_exclusions {
            continue;
        }
        r.variables[at].name = VariableName::ArgsGetNames;
        let post = VariableSpec { name: VariableName::ArgsPostNames, ..r.variables[at].clone() };
        r.variables.insert(at + 1, post);
        ids.push(id);
        notes.push(LoadNote { rule_id: id, note: "ARGS_NAMES split into ARGS_GET_NAMES|ARGS_POST_NAMES, the latter removed for XML bodies (XML paths hoisted out)".into() });
    }
    ids
}

/// The phase-2 rule that drops XML paths from the rules [`xml_paths`] rewrote.
pub(crate) fn xml_paths_rule(ids: &[u64]) -> String {
    let ctls: Vec<String> = ids.iter().map(|id| format!("ctl:ruleRemoveTargetById={id};ARGS_POST_NAMES")).collect();
    format!("SecRule REQBODY_PROCESSOR \"@streq XML\" \"id:{XML_PATHS_RULE},phase:2,pass,t:none,nolog,{}\"\n", ctls.join(","))
}

/// Id of [`xml_paths_rule`]: outside CRS's, the plugins' and the exclusions' ranges.
const XML_PATHS_RULE: u64 = 8_990_001;

/// TX keys are case-insensitive in ModSecurity, and zentinel stores them
/// lowercased but matches a `TX:/regex/` selection case-sensitively, so CRS's
/// `TX:/MULTIPART_HEADERS_CONTENT_TYPES_*/` (922110) never saw a key.
/// Upstream fix: match TX regex selections case-insensitively.
fn tx_regex_case_insensitive(directives: &mut [Directive]) {
    for d in directives.iter_mut() {
        let Directive::SecRule(r) = d else { continue };
        for v in r.variables.iter_mut() {
            if let (VariableName::Tx, Some(Selection::Regex(p))) = (&v.name, &mut v.selection) {
                if !p.starts_with("(?i)") {
                    *p = format!("(?i){p}");
                }
            }
        }
    }
}

/// Rename capture, macro and `REQUEST_BODY` references in the rules,
/// returning what to compute per request.
pub(crate) fn rewrite(directives: &mut [Directive], notes: &mut Vec<LoadNote>) -> Result<Probes, CrsError> {
    request_body(directives, notes);
    files(directives, notes);
    path(directives, notes);
    let probes = Probes::default();
    tx_regex_case_insensitive(directives);
    let mut w = Rewriter { macros: macro_regex(), probes };
    // Chains as index ranges (a lone rule is a chain of one).
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut open = false;
    for (i, d) in directives.iter().enumerate() {
        if let Directive::SecRule(r) = d {
            if open {
                if let Some(g) = groups.last_mut() {
                    g.push(i);
                }
            } else {
                groups.push(vec![i]);
            }
            open = chains(r);
        }
    }
    for group in groups {
        let id = match &directives[group[0]] {
            Directive::SecRule(r) => super::load::rule_id(r).unwrap_or(0),
            _ => 0,
        };
        for &i in &group {
            let Directive::SecRule(r) = &mut directives[i] else { continue };
            collect(r, id, &mut w.probes, notes)?;
            w.rule(r);
        }
    }
    w.probes.number_specs();
    Ok(w.probes)
}

/// The request as zentinel's body processors parse it (the same choice of
/// processor by Content-Type as `Transaction::process_request_body`).
pub(crate) fn request_data(method: &str, uri: &str, protocol: &str, headers: &[(&str, &str)], body: &[u8]) -> RequestData {
    let mut rd = RequestData::new();
    rd.set_uri(uri);
    rd.set_method(method);
    rd.set_protocol(protocol);
    for (n, v) in headers {
        rd.add_header(n, v);
    }
    if !body.is_empty() {
        rd.append_body(body);
        let ct = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|(_, v)| *v).unwrap_or_default();
        // The boundary is case-sensitive; only the media type is not.
        let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if media == "multipart/form-data" {
            rd.parse_multipart_body(ct);
        } else if media == "application/xml" || media == "text/xml" || media.ends_with("+xml") {
            let _ = rd.parse_xml_body();
        } else if media == "application/json" || media == "text/json" || media.ends_with("+json") {
            let _ = rd.parse_json_body();
        } else {
            rd.parse_form_body();
        }
    }
    rd
}

/// A request variable as a key: name, selection, exclusions.
type SpecKey<'s> = (VariableName, Option<(bool, &'s str)>, &'s [String]);

/// `spec` as a key; `None` for TX, which changes while the probes fill it.
fn spec_key(spec: &VariableSpec) -> Option<SpecKey<'_>> {
    if spec.name == VariableName::Tx {
        return None;
    }
    let selection = spec.selection.as_ref().map(|s| match s {
        Selection::Key(k) => (false, k.as_str()),
        Selection::Regex(r) => (true, r.as_str()),
    });
    Some((spec.name, selection, spec.exclusions.as_slice()))
}

/// The slot of `spec` among `keys` (added when new); [`NO_SLOT`] for TX.
fn slot_of<'s>(keys: &mut Vec<SpecKey<'s>>, spec: &'s VariableSpec) -> u32 {
    let Some(key) = spec_key(spec) else { return NO_SLOT };
    let i = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
        keys.push(key);
        keys.len() - 1
    });
    u32::try_from(i).unwrap_or(NO_SLOT)
}

/// A variable resolved afresh on every read (TX, or one never numbered).
const NO_SLOT: u32 = u32::MAX;

/// A variable's resolved `(name, value)` pairs, shared by the probes that read it.
type Resolved = Rc<Vec<(String, String)>>;

/// `spec` resolved, once per `table` (one request) for a numbered one.
fn cached(table: &mut [Option<Resolved>], resolver: &VariableResolver<'_>, spec: &VariableSpec, slot: u32) -> Resolved {
    match table.get_mut(slot as usize) {
        Some(entry) => Rc::clone(entry.get_or_insert_with(|| Rc::new(resolver.resolve(spec)))),
        None => Rc::new(resolver.resolve(spec)),
    }
}

/// `spec`s with their slots; a variable without one is resolved afresh.
fn with_slots<'p>(specs: &'p [VariableSpec], slots: &'p [u32]) -> impl Iterator<Item = (&'p VariableSpec, u32)> {
    specs.iter().enumerate().filter(|(_, s)| !s.count_mode).map(move |(i, s)| (s, slots.get(i).copied().unwrap_or(NO_SLOT)))
}

impl Probes {
    /// Numbers the distinct request variables the probes read, so `fill`
    /// keeps what it resolved in a table indexed by slot rather than a map
    /// hashing each variable's name, selection and exclusions on every read
    /// (3.6 % of a benign GET's instructions under CRS, rehashing included).
    fn number_specs(&mut self) {
        let Probes { collects, slots, .. } = self;
        let mut keys: Vec<SpecKey<'_>> = Vec::new();
        let probes = collects.iter_mut().map(|p| (&p.variables, &mut p.slots));
        for (variables, numbered) in probes {
            *numbered = variables.iter().map(|s| slot_of(&mut keys, s)).collect();
        }
        *slots = keys.len();
    }

    /// Compute the captures and macros for one request into `tx`.
    pub(crate) fn fill(&self, rd: &RequestData, tx: &mut TxCollection) {
        let mut computed = TxCollection::new();
        let parsed = matches!(rd.body_processor.as_str(), "MULTIPART" | "XML" | "JSON");
        computed.set(REQUEST_BODY_TX.to_string(), if parsed { String::new() } else { rd.body_str() });
        let decoded = percent_decode(&rd.path);
        let basename = decoded.rsplit(['/', '\\']).next().unwrap_or("").to_string();
        computed.set(BASENAME_TX.to_string(), basename);
        computed.set(FILENAME_TX.to_string(), decoded);
        let mut uploads = 0usize;
        for (_, line) in zentinel_modsec::variables::Collection::all(&rd.multipart_part_headers) {
            let Some((header, value)) = line.split_once(':') else { continue };
            if !header.trim().eq_ignore_ascii_case("content-disposition") {
                continue;
            }
            if let (Some(name), Some(filename)) = disposition(value) {
                computed.set(format!("{FILES_TX}{uploads}"), filename);
                computed.set(format!("{FILES_NAMES_TX}{uploads}"), name);
                uploads += 1;
            }
        }
        let response = ResponseData::new();
        // The probes read the same request variables (ARGS, cookies, …) again
        // and again: resolve each once. TX changes as the probes fill it, so
        // it is resolved afresh.
        let mut resolved: Vec<Option<Resolved>> = vec![None; self.slots];
        for m in &self.macros {
            let resolver = VariableResolver::new(rd, &response, &computed, None, &[], &[]);
            if let Some((_, v)) = resolver.resolve(&m.spec).into_iter().next() {
                tx.set(format!("{MACRO_PREFIX}{}", m.key), v);
            }
        }
        for c in &self.collects {
            let resolver = VariableResolver::new(rd, &response, &computed, None, &[], &[]);
            let mut index = 0usize;
            for (spec, slot) in with_slots(&c.variables, &c.slots) {
                for (name, value) in cached(&mut resolved, &resolver, spec, slot).iter() {
                    let t = c.transformations.apply(value);
                    let Some(caps) = c.regex.captures(&t) else { continue };
                    let k = c.key.render(&caps, name, |_| index.to_string());
                    match &c.value {
                        Collected::Text(text) => tx.set(k, text.render(&caps, name, str::to_string)),
                        Collected::Add(n) => tx.increment(&k, *n),
                    }
                    index += 1;
                }
            }
        }
        for (k, v) in zentinel_modsec::variables::Collection::all(&computed) {
            tx.set(k.to_string(), v.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(super::percent_decode("/get/array_diff%20%28"), "/get/array_diff (");
        assert_eq!(super::percent_decode("/caf%C3%A9/%zz%4"), "/café/%zz%4");
        assert_eq!(super::percent_decode("/%c0%af"), "/\u{c0}\u{af}");
    }

    #[test]
    fn disposition_parameters_are_quoted_strings() {
        let d = |v: &str| disposition(v);
        assert_eq!(d(r#" form-data; name="fi;le"; filename="test""#), (Some("fi;le".into()), Some("test".into())));
        assert_eq!(d(r#" form-data; name="a"; filename="shell.jpg;.php""#), (Some("a".into()), Some("shell.jpg;.php".into())));
        assert_eq!(d(r#" form-data; name="f"; filename="te\"st.txt""#), (Some("f".into()), Some("te\"st.txt".into())));
        assert_eq!(d(r#" form-data; name="cv"; filename="1.j\s\p""#), (Some("cv".into()), Some(r"1.j\s\p".into())));
        assert_eq!(d(" form-data; name=plain; filename=a.txt"), (Some("plain".into()), Some("a.txt".into())));
        assert_eq!(d(r#" form-data; name="x"#), (Some("x".into()), None));
        assert_eq!(d(" form-data"), (None, None));
    }
}
