//! WAF settings, embedded in the rules JSON; strict so a typo fails loudly at load time.

use serde::Deserialize;

use super::rules::{Category, Rule};

/// Default body bytes inspected: 16 KiB covers typical form/JSON API payloads while
/// keeping the worst-case CPU per request well inside a Worker's budget. Larger bodies
/// are inspected up to this limit (the tail is not seen), so raise it for APIs that
/// accept big JSON documents.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;
/// Hard ceiling whatever the config says (CPU bound per request).
pub const MAX_BODY_LIMIT: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct WafConfig {
    pub enabled: bool,
    /// CRS paranoia level 1–4: rules above it are skipped (values are clamped).
    pub paranoia: u8,
    /// Inbound anomaly score at which the request is blocked (CRS default 5: one critical).
    pub threshold: u32,
    pub categories: Categories,
    pub body_limit_bytes: usize,
    pub exclusions: Vec<Exclusion>,
    /// What the application does with request text; see [`Profile`].
    pub profile: Profile,
    /// Targets (as in [`Exclusion::targets`], `*` suffix for a prefix) whose string
    /// values are natural language whatever their shape: a prompt field.
    pub text_fields: Vec<String>,
    /// What to do with a body longer than `body_limit_bytes`; see [`OnOversize`].
    pub on_oversize: OnOversize,
    /// Signature sets to run: the edge's own detectors and/or OWASP CRS 4
    /// (`["edge"]` by default; see [`super::crs`]).
    pub rulesets: Vec<super::crs::Ruleset>,
}

/// How string values are read. Prompt and chat APIs receive prose that quotes code,
/// shell commands and SQL as text for a model, so matching it as code only produces
/// false positives; their structured fields (ids, names, URLs, options) still are code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Every value is inspected with every rule.
    #[default]
    Default,
    /// A value that reads as natural language (see `waf::prose`), or one named in
    /// `text_fields`, is inspected only by the rules that attack the infrastructure
    /// whatever the application does with the text (`${jndi:…}` reaches any logger);
    /// every other value is inspected as in `default`.
    PromptApi,
}

/// A body beyond the inspected head cannot be judged: an attack after it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnOversize {
    /// Inspect the head, forward the whole body (the tail is not seen).
    #[default]
    InspectHead,
    /// Refuse it (413), like ModSecurity's `SecRequestBodyLimitAction Reject`.
    Block,
}

impl Default for WafConfig {
    fn default() -> Self {
        WafConfig {
            enabled: true,
            paranoia: 1,
            threshold: 5,
            categories: Categories::default(),
            body_limit_bytes: DEFAULT_BODY_LIMIT,
            exclusions: Vec::new(),
            profile: Profile::Default,
            text_fields: Vec::new(),
            on_oversize: OnOversize::InspectHead,
            rulesets: vec![super::crs::Ruleset::Edge],
        }
    }
}

/// Per-category switch, all on by default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct Categories {
    pub sqli: bool,
    pub xss: bool,
    pub traversal: bool,
    pub rce: bool,
    pub ssti: bool,
    pub crlf: bool,
    pub xxe: bool,
    pub nosql: bool,
    pub ldap: bool,
    pub ssi: bool,
    pub mail: bool,
    pub graphql: bool,
    pub proto: bool,
}

impl Default for Categories {
    fn default() -> Self {
        Categories {
            sqli: true,
            xss: true,
            traversal: true,
            rce: true,
            ssti: true,
            crlf: true,
            xxe: true,
            nosql: true,
            ldap: true,
            ssi: true,
            mail: true,
            graphql: true,
            proto: true,
        }
    }
}

impl Categories {
    pub fn enabled(&self, c: Category) -> bool {
        match c {
            Category::Sqli => self.sqli,
            Category::Xss => self.xss,
            Category::Traversal => self.traversal,
            Category::Rce => self.rce,
            Category::Ssti => self.ssti,
            Category::Crlf => self.crlf,
            Category::Xxe => self.xxe,
            Category::Nosql => self.nosql,
            Category::Ldap => self.ldap,
            Category::Ssi => self.ssi,
            Category::Mail => self.mail,
            Category::Graphql => self.graphql,
            Category::Proto => self.proto,
        }
    }
}

/// Suppresses matches. Every field given must match (AND); a list matches if any entry
/// does (OR). With no `rule_ids`/`categories`/`targets`, the whole WAF is off for `paths`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Exclusion {
    /// Path prefix globs: `*` matches any run of characters, and the pattern only has
    /// to match a prefix of the path (`/api/upload` covers `/api/upload/x`).
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    #[serde(default)]
    pub rule_ids: Option<Vec<String>>,
    #[serde(default)]
    pub categories: Option<Vec<Category>>,
    /// Targets as reported in matches: `query:id`, `body:user.name`, `header:x-foo`,
    /// `cookie:session`, `path`, `body`. A trailing `*` matches a prefix.
    #[serde(default)]
    pub targets: Option<Vec<String>>,
    /// CRS rule tags (`attack-sqli`, `paranoia-level/2`, …); only CRS rules carry
    /// tags, so an exclusion naming tags never covers the edge's own rules.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

impl WafConfig {
    pub(crate) fn paranoia_level(&self) -> u8 {
        self.paranoia.clamp(1, 4)
    }

    pub fn body_limit(&self) -> usize {
        self.body_limit_bytes.min(MAX_BODY_LIMIT)
    }

    /// Body bytes the shell should read: one past the limit when oversized bodies are
    /// refused, so a body without `Content-Length` shows whether it goes on.
    pub fn body_read_cap(&self) -> usize {
        match self.on_oversize {
            OnOversize::Block => self.body_limit() + 1,
            OnOversize::InspectHead => self.body_limit(),
        }
    }

    /// Should this body be refused as too long to inspect? `seen` is the number of
    /// body bytes read (up to [`WafConfig::body_read_cap`]), `declared` the
    /// `Content-Length`, if any.
    pub fn refuses_oversize(&self, seen: usize, declared: Option<u64>) -> bool {
        let limit = self.body_limit();
        self.on_oversize == OnOversize::Block
            && (seen > limit || declared.is_some_and(|d| d > limit as u64))
    }

    /// Is this target's value natural language by configuration?
    pub(crate) fn text_field(&self, target: &str) -> bool {
        self.text_fields.iter().any(|t| target_matches(t, target))
    }

    /// Is the whole request exempt (an exclusion with only `paths` that matches)?
    pub(crate) fn path_fully_excluded(&self, path: &str) -> bool {
        self.exclusions.iter().any(|e| {
            e.rule_ids.is_none()
                && e.tags.is_none()
                && e.categories.is_none()
                && e.targets.is_none()
                && e.paths
                    .as_ref()
                    .is_some_and(|ps| ps.iter().any(|p| prefix_glob(p, path)))
        })
    }

    /// Should this rule hit on this target be reported and scored?
    pub(crate) fn allows(&self, rule: &Rule, target: &str, path: &str) -> bool {
        if rule.paranoia > self.paranoia_level() || !self.categories.enabled(rule.category) {
            return false;
        }
        !self.exclusions.iter().any(|e| e.covers(rule, target, path))
    }
}

impl Exclusion {
    fn covers(&self, rule: &Rule, target: &str, path: &str) -> bool {
        let path_ok = self
            .paths
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|p| prefix_glob(p, path)));
        let id_ok = self
            .rule_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|i| i == rule.id));
        let cat_ok = self
            .categories
            .as_ref()
            .is_none_or(|cs| cs.contains(&rule.category));
        let tgt_ok = self
            .targets
            .as_ref()
            .is_none_or(|ts| ts.iter().any(|t| target_matches(t, target)));
        path_ok && id_ok && cat_ok && tgt_ok && self.tags.is_none()
    }
}

/// A configured target (`query:id`, `body:user.*`) against a reported one.
fn target_matches(pattern: &str, target: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => target.starts_with(prefix),
        None => pattern.eq_ignore_ascii_case(target),
    }
}

/// Does glob `pat` (only `*` is special) match a prefix of `text`? Greedy with
/// single-star backtracking: O(len(pat) * len(text)) worst case, and both are short
/// (patterns come from config; the path is capped by the caller).
pub(crate) fn prefix_glob(pat: &str, text: &str) -> bool {
    let (p, t) = (pat.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi == p.len() {
            return true; // pattern exhausted: it matched a prefix
        }
        if p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if ti < t.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
            continue;
        }
        match star {
            Some((sp, st)) if st < t.len() => {
                star = Some((sp, st + 1));
                pi = sp + 1;
                ti = st + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_strictness() {
        let c: WafConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, WafConfig::default());
        assert!(serde_json::from_str::<WafConfig>(r#"{"paranoya":2}"#).is_err());
        let c: WafConfig = serde_json::from_str(
            r#"{"paranoia":2,"categories":{"graphql":false},"exclusions":[{"paths":["/api/*/raw"],"categories":["sqli"],"targets":["body:sql"]}]}"#,
        )
        .unwrap();
        assert!(!c.categories.graphql && c.categories.sqli);
        assert_eq!(
            c.exclusions[0].categories.as_deref(),
            Some(&[Category::Sqli][..])
        );
    }

    #[test]
    fn oversize_and_profiles() {
        let c: WafConfig = serde_json::from_str(
            r#"{"profile":"prompt_api","on_oversize":"block","body_limit_bytes":10,"text_fields":["body:messages.*"]}"#,
        )
        .unwrap();
        assert_eq!((c.profile, c.body_read_cap()), (Profile::PromptApi, 11));
        assert!(c.refuses_oversize(11, None) && c.refuses_oversize(3, Some(11)));
        assert!(!c.refuses_oversize(10, Some(10)) && !c.refuses_oversize(0, None));
        assert!(c.text_field("body:messages.content") && !c.text_field("body:model"));
        let head = WafConfig { body_limit_bytes: 10, ..Default::default() };
        assert_eq!(head.body_read_cap(), 10);
        assert!(!head.refuses_oversize(11, Some(1 << 20)));
        assert!(serde_json::from_str::<WafConfig>(r#"{"on_oversize":"reject"}"#).is_err());
        assert!(serde_json::from_str::<WafConfig>(r#"{"profile":"chat"}"#).is_err());
    }

    #[test]
    fn globs() {
        assert!(prefix_glob("/api/", "/api/x"));
        assert!(prefix_glob("/api/*/raw", "/api/v1/raw/1"));
        assert!(!prefix_glob("/api/*/raw", "/api/v1/cooked"));
        assert!(prefix_glob("*", ""));
        assert!(!prefix_glob("/a", "/"));
    }
}
