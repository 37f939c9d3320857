//! The match vocabulary every phase shares, compiled once per document.

use std::net::IpAddr;

use ipnet::IpNet;

use super::document::RawWhen;
use super::path::JsonPath;
use super::validate::Errors;
use crate::request::RequestInfo;

/// Longest pattern accepted in any list: keeps matching cheap and logs short.
const MAX_PATTERN_LEN: usize = 512;

/// Entries of one list: a value matches when it matches any included entry (or
/// there are none) and no excluded (`!`) entry.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOf<T> {
    include: Vec<T>,
    exclude: Vec<T>,
}

impl<T> Default for OneOf<T> {
    fn default() -> Self {
        Self { include: Vec::new(), exclude: Vec::new() }
    }
}

impl<T> OneOf<T> {
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    fn matches(&self, test: impl Fn(&T) -> bool) -> bool {
        (self.include.is_empty() || self.include.iter().any(&test)) && !self.exclude.iter().any(&test)
    }

    fn compile(
        raw: &[String],
        path: &JsonPath,
        errors: &mut Errors,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Self {
        let mut out = Self::default();
        for (i, entry) in raw.iter().enumerate() {
            let (negated, body) = match entry.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, entry.trim()),
            };
            if body.is_empty() || body.len() > MAX_PATTERN_LEN {
                errors.push(path.index(i), format!("entry must be 1 to {MAX_PATTERN_LEN} characters"));
                continue;
            }
            match parse(body) {
                Ok(v) if negated => out.exclude.push(v),
                Ok(v) => out.include.push(v),
                Err(msg) => errors.push(path.index(i), msg),
            }
        }
        out
    }
}

/// A compiled `when`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct When {
    hosts: OneOf<HostPattern>,
    paths: OneOf<Glob>,
    path_regex: OneOf<PathRegex>,
    methods: OneOf<String>,
    schemes: OneOf<String>,
    ips: OneOf<IpNet>,
    countries: OneOf<String>,
    continents: OneOf<String>,
    asns: OneOf<u32>,
    colos: OneOf<String>,
    regions: OneOf<String>,
    headers: Vec<(String, OneOf<String>)>,
    query: Vec<(String, OneOf<String>)>,
    bot_classes: OneOf<String>,
    bot_score_below: Option<u8>,
    bot_verified: Option<bool>,
    signed_agents: OneOf<String>,
}

/// Class names `when.bot_classes` accepts (see [`crate::waf::BotClass::code`]).
pub const BOT_CLASSES: &[&str] = &[
    "browser", "search_engine", "monitoring", "seo", "ai_crawler", "scanner", "http_library", "empty", "other_bot", "unknown", "verified_signed_agent",
];

impl When {
    pub fn compile(raw: &RawWhen, path: &JsonPath, errors: &mut Errors) -> Self {
        let upper = |s: &str| Ok(s.to_ascii_uppercase());
        let code = |len: usize| {
            move |s: &str| {
                if s.len() == len && s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    Ok(s.to_ascii_uppercase())
                } else {
                    Err(format!("expected a {len}-letter code, got {s:?}"))
                }
            }
        };
        Self {
            hosts: OneOf::compile(&raw.hosts, &path.key("hosts"), errors, HostPattern::parse),
            paths: OneOf::compile(&raw.paths, &path.key("paths"), errors, Glob::parse),
            path_regex: OneOf::compile(&raw.path_regex, &path.key("path_regex"), errors, PathRegex::parse),
            methods: OneOf::compile(&raw.methods, &path.key("methods"), errors, |s| {
                if s.chars().all(|c| c.is_ascii_alphabetic()) {
                    Ok(s.to_ascii_uppercase())
                } else {
                    Err(format!("not an HTTP method: {s:?}"))
                }
            }),
            schemes: OneOf::compile(&raw.schemes, &path.key("schemes"), errors, |s| {
                match s.to_ascii_lowercase().as_str() {
                    v @ ("http" | "https") => Ok(v.to_string()),
                    _ => Err(format!("scheme must be \"http\" or \"https\", got {s:?}")),
                }
            }),
            ips: OneOf::compile(&raw.ips, &path.key("ips"), errors, parse_net),
            countries: OneOf::compile(&raw.countries, &path.key("countries"), errors, code(2)),
            continents: OneOf::compile(&raw.continents, &path.key("continents"), errors, code(2)),
            asns: OneOf::compile(&raw.asns, &path.key("asns"), errors, |s| {
                s.trim_start_matches("AS").parse::<u32>().map_err(|_| format!("not an AS number: {s:?}"))
            }),
            colos: OneOf::compile(&raw.colos, &path.key("colos"), errors, upper),
            regions: OneOf::compile(&raw.regions, &path.key("regions"), errors, upper),
            headers: compile_map(&raw.headers, &path.key("headers"), errors),
            query: compile_map(&raw.query, &path.key("query"), errors),
            bot_classes: OneOf::compile(&raw.bot_classes, &path.key("bot_classes"), errors, |s| {
                let s = s.to_ascii_lowercase();
                if BOT_CLASSES.contains(&s.as_str()) {
                    Ok(s)
                } else {
                    Err(format!("unknown bot class {s:?}; expected one of {}", BOT_CLASSES.join(", ")))
                }
            }),
            bot_score_below: match raw.bot_score_below {
                Some(n) if !(2..=99).contains(&n) => {
                    errors.push(path.key("bot_score_below"), "bot_score_below must be 2 to 99");
                    None
                }
                n => n,
            },
            bot_verified: raw.bot_verified,
            signed_agents: OneOf::compile(&raw.signed_agents, &path.key("signed_agents"), errors, |s| {
                Ok(crate::botauth::agent_origin(s).unwrap_or_else(|_| s.to_string()))
            }),
        }
    }

    /// Whether the request satisfies every condition.
    pub fn matches(&self, req: &RequestInfo) -> bool {
        let cf = &req.cf;
        self.hosts.matches(|p| p.matches(&req.host))
            && self.paths.matches(|g| g.matches(&req.path))
            && self.path_regex.matches(|r| r.0.is_match(req.path.as_bytes()))
            && self.methods.matches(|m| m.eq_ignore_ascii_case(&req.method))
            && self.schemes.matches(|s| s.eq_ignore_ascii_case(&req.scheme))
            && matches_opt(&self.ips, req.client_ip, |net, ip| net.contains(&ip))
            && matches_opt(&self.countries, cf.country.as_deref(), |c, v| c.eq_ignore_ascii_case(v))
            && matches_opt(&self.continents, cf.continent.as_deref(), |c, v| c.eq_ignore_ascii_case(v))
            && matches_opt(&self.asns, cf.asn, |a, v| *a == v)
            && matches_opt(&self.colos, cf.colo.as_deref(), |c, v| c.eq_ignore_ascii_case(v))
            && (self.regions.is_empty() || matches_region(&self.regions, cf.region_code.as_deref(), cf.region.as_deref()))
            && self.headers.iter().all(|(name, values)| {
                let present: Vec<&str> = req
                    .headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect();
                matches_present(values, &present)
            })
            && self.query.iter().all(|(name, values)| {
                let present: Vec<&str> = req.query_values(name).collect();
                matches_present(values, &present)
            })
            // Bot conditions last: they classify the User-Agent on first use.
            && (self.bot_classes.is_empty() || self.bot_classes.matches(|c| c == req.bot().class.code()))
            && self.bot_score_below.is_none_or(|n| req.bot().score < n)
            && self.bot_verified.is_none_or(|v| req.bot().verified == v)
            && matches_opt(&self.signed_agents, req.signed_agent.get(), |a, v| *a == v.origin || *a == v.thumbprint)
    }
}

/// A condition on a field the request may lack: an unknown value matches only
/// lists made purely of exclusions (`["!CN"]` lets an unknown country through).
fn matches_opt<T, V: Copy>(list: &OneOf<T>, value: Option<V>, eq: impl Fn(&T, V) -> bool) -> bool {
    match value {
        Some(v) => list.matches(|t| eq(t, v)),
        None => list.include.is_empty(),
    }
}

/// A region entry matches the region code or the region name.
fn matches_region(list: &OneOf<String>, code: Option<&str>, name: Option<&str>) -> bool {
    let present: Vec<&str> = code.into_iter().chain(name).collect();
    if present.is_empty() {
        return list.include.is_empty();
    }
    list.matches(|r| present.iter().any(|p| r.eq_ignore_ascii_case(p)))
}

/// Header and query conditions: an empty list means "present"; otherwise any
/// present value must match.
fn matches_present(values: &OneOf<String>, present: &[&str]) -> bool {
    if values.is_empty() {
        return !present.is_empty();
    }
    if present.is_empty() {
        return values.include.is_empty();
    }
    present.iter().any(|p| values.matches(|v| v == p))
}

fn compile_map(
    raw: &std::collections::BTreeMap<String, Vec<String>>,
    path: &JsonPath,
    errors: &mut Errors,
) -> Vec<(String, OneOf<String>)> {
    raw.iter()
        .map(|(name, values)| {
            let p = path.key(name);
            if name.is_empty() || name.len() > MAX_PATTERN_LEN {
                errors.push(p.clone(), "name must be 1 to 512 characters".to_string());
            }
            (name.to_ascii_lowercase(), OneOf::compile(values, &p, errors, |s| Ok(s.to_string())))
        })
        .collect()
}

fn parse_net(s: &str) -> Result<IpNet, String> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("not an IP address or CIDR block: {s:?}"))
}

/// `example.com` or `*.example.com` (any subdomain, not the apex).
#[derive(Debug, Clone, PartialEq)]
enum HostPattern {
    Exact(String),
    Suffix(String),
}

impl HostPattern {
    fn parse(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        let valid = |h: &str| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        match lower.strip_prefix("*.") {
            Some(rest) if valid(rest) => Ok(Self::Suffix(format!(".{rest}"))),
            None if valid(&lower) => Ok(Self::Exact(lower)),
            _ => Err(format!("not a host name or *.domain pattern: {s:?}")),
        }
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(h) => h.eq_ignore_ascii_case(host),
            Self::Suffix(s) => host.len() > s.len() && host.to_ascii_lowercase().ends_with(s.as_str()),
        }
    }
}

/// A path regex, compiled by the `regex` crate with ASCII semantics: matching
/// is linear in the path whatever the pattern, and the compiled size is capped so a rule
/// cannot become a memory problem.
#[derive(Debug, Clone)]
pub struct PathRegex(regex::bytes::Regex);

/// Compiled size cap of one `path_regex` entry.
const MAX_REGEX_BYTES: usize = 1 << 20;

impl PartialEq for PathRegex {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl PathRegex {
    pub fn parse(s: &str) -> Result<Self, String> {
        // ASCII semantics (`\w`, `(?i)`, `.` per byte), as nginx's PCRE has
        // without UTF mode.
        regex::bytes::RegexBuilder::new(s)
            .unicode(false)
            .size_limit(MAX_REGEX_BYTES)
            .build()
            .map(Self)
            .map_err(|e| format!("not a valid path regex (linear-time syntax: no look-around or backreferences): {}", first_line(&e.to_string())))
    }
}

fn first_line(s: &str) -> String {
    s.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}

/// A path glob: `*` matches any run of characters within one segment, `**`
/// any run including `/`; a pattern ending in `/*` also matches deeper paths,
/// so `/api/*` covers `/api/a/b` the way nginx's `location /api/` does.
///
/// Compiled once to an anchored `regex` automaton: matching is linear in the
/// path whatever the pattern, and any mix of `*` and `**` (`/**/*.php`) works.
#[derive(Debug, Clone)]
pub struct Glob {
    source: String,
    re: regex::bytes::Regex,
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Glob {
    pub fn parse(s: &str) -> Result<Self, String> {
        if !s.starts_with('/') && !s.starts_with('*') {
            return Err(format!("path pattern must start with '/': {s:?}"));
        }
        let mut pattern = String::from("(?s-u)^");
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("**") {
                pattern.push_str(".*");
                rest = r;
            } else if let Some(r) = rest.strip_prefix('*') {
                // A final `/*` reaches deeper paths too.
                pattern.push_str(if r.is_empty() && s.ends_with("/*") { ".*" } else { "[^/]*" });
                rest = r;
            } else {
                let end = rest.find('*').unwrap_or(rest.len());
                let (literal, r) = rest.split_at(end);
                pattern.push_str(&regex::escape(literal));
                rest = r;
            }
        }
        pattern.push('$');
        let re = regex::bytes::RegexBuilder::new(&pattern)
            .size_limit(1 << 16)
            .build()
            .map_err(|_| format!("path pattern too complex: {s:?}"))?;
        Ok(Self { source: s.to_string(), re })
    }

    pub fn matches(&self, path: &str) -> bool {
        self.re.is_match(path.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str, s: &str) -> bool {
        Glob::parse(p).map(|g| g.matches(s)).unwrap_or(false)
    }

    #[test]
    fn globs() {
        assert!(glob("/api/*", "/api/x"));
        assert!(glob("/api/*", "/api/x/y"));
        assert!(!glob("/api/*", "/apix"));
        assert!(glob("/a/*/c", "/a/b/c"));
        assert!(!glob("/a/*/c", "/a/b/x/c"));
        assert!(glob("/a/**/c", "/a/b/x/c"));
        assert!(glob("/health", "/health"));
        assert!(!glob("/health", "/healthz"));
        assert!(glob("/static/*.css", "/static/a.css"));
        // `*` after `**` (the old single-backtrack matcher missed these).
        assert!(glob("/**/*.php", "/a/b/c.php"));
        assert!(glob("/**/*.php", "/x/c.php"));
        assert!(!glob("/**/*.php", "/a/b/c.phpx"));
        assert!(glob("/a/**/b/*/c", "/a/x/y/b/z/c"));
        assert!(!glob("/a/**/b/*/c", "/a/x/y/b/z/w/c"));
        assert!(glob("/api/*", "/api/"));
        // Regex metacharacters in paths are literals.
        assert!(glob("/a.b/(x)", "/a.b/(x)"));
        assert!(!glob("/a.b", "/aXb"));
        assert!(!glob("/static/*.css", "/static/a/b.css"));
    }

    #[test]
    fn negation_and_unknown_values() {
        let mut errors = Errors::default();
        let raw = RawWhen { countries: vec!["!CN".into()], ..RawWhen::default() };
        let when = When::compile(&raw, &JsonPath::root(), &mut errors);
        assert!(errors.is_empty());
        let mut req = RequestInfo::from_url("GET", "https://a.example/").unwrap();
        assert!(when.matches(&req), "unknown country passes a pure exclusion");
        req.cf.country = Some("CN".into());
        assert!(!when.matches(&req));
        req.cf.country = Some("DE".into());
        assert!(when.matches(&req));
    }

    #[test]
    fn ips_and_hosts() {
        let mut errors = Errors::default();
        let raw = RawWhen {
            ips: vec!["10.0.0.0/8".into(), "2001:db8::/32".into(), "!10.9.9.9".into()],
            hosts: vec!["*.example.com".into()],
            ..RawWhen::default()
        };
        let when = When::compile(&raw, &JsonPath::root(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let mut req = RequestInfo::from_url("GET", "https://api.example.com/").unwrap();
        req.client_ip = "10.1.2.3".parse().ok();
        assert!(when.matches(&req));
        req.client_ip = "10.9.9.9".parse().ok();
        assert!(!when.matches(&req));
        req.client_ip = "2001:db8::1".parse().ok();
        assert!(when.matches(&req));
        req.host = "example.com".into();
        assert!(!when.matches(&req));
    }

    #[test]
    fn regions_match_code_or_name() {
        let mut errors = Errors::default();
        let raw = RawWhen { regions: vec!["CA".into(), "Bavaria".into()], ..RawWhen::default() };
        let when = When::compile(&raw, &JsonPath::root(), &mut errors);
        let mut req = RequestInfo::from_url("GET", "https://a.example/").unwrap();
        assert!(!when.matches(&req), "unknown region");
        req.cf.region_code = Some("CA".into());
        assert!(when.matches(&req));
        req.cf.region_code = Some("BY".into());
        req.cf.region = Some("Bavaria".into());
        assert!(when.matches(&req));
        req.cf.region = Some("Hesse".into());
        req.cf.region_code = Some("HE".into());
        assert!(!when.matches(&req));
    }

    #[test]
    fn path_regexes_match_like_nginx_locations() {
        let mut errors = Errors::default();
        let raw = RawWhen { path_regex: vec!["(?i)\\.(php|phtml)$".into(), "!^/static/".into()], ..Default::default() };
        let w = When::compile(&raw, &JsonPath::root(), &mut errors);
        assert!(errors.0.is_empty(), "{errors:?}");
        let at = |path: &str| w.matches(&RequestInfo { path: path.into(), ..Default::default() });
        assert!(at("/a/index.PHP") && at("/x.phtml"));
        assert!(!at("/static/a.php") && !at("/a.php.txt"));
        let bad = RawWhen { path_regex: vec!["/\\.(?!well-known)".into(), "(".into()], ..Default::default() };
        let mut errors = Errors::default();
        When::compile(&bad, &JsonPath::root(), &mut errors);
        let paths: Vec<String> = errors.0.iter().map(|e| e.path.clone()).collect();
        assert_eq!(paths, ["$.path_regex[0]", "$.path_regex[1]"]);
        assert!(errors.0[0].message.contains("look-around"), "{errors:?}");
    }

    #[test]
    fn bad_entries_have_paths() {
        let mut errors = Errors::default();
        let raw = RawWhen { ips: vec!["10.0.0.0/8".into(), "nope".into()], ..RawWhen::default() };
        When::compile(&raw, &JsonPath::root().key("when"), &mut errors);
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].path, "$.when.ips[1]");
    }
}
