//! Directives → a rules document and a report line per directive.
//!
//! nginx semantics kept where the edge can express them:
//! - inheritance: array directives (`add_header`, `limit_req`, `allow`/`deny`,
//!   `proxy_cache_valid`) come from the innermost level that has any; scalars
//!   from the innermost level that sets them; `proxy_pass` is not inherited;
//! - one location per request ([`super::location`]): each group of locations
//!   sharing an effect gets a `path_regex` selector checked against nginx's
//!   own choice;
//! - a `limit_req` zone shared by several locations is one limit rule (one
//!   counter), as nginx counts them in one zone.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::location::{Locations, Selector};
use super::parse::{walk, Directive};
use super::report::{show, Outcome, Report};

/// nginx's default `client_max_body_size`.
const NGINX_DEFAULT_BODY: u64 = 1024 * 1024;

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only the servers whose `server_name` lists this name.
    pub server: Option<String>,
    /// Upstream name or server address (`backend_1:3001`) → public URL.
    pub origin_map: BTreeMap<String, String>,
}

/// The document and the report.
#[derive(Debug)]
pub struct Translation {
    pub document: Value,
    pub report: Report,
}

/// Where the document says its schema is (`edge-rules schema > rules.schema.json`).
pub const SCHEMA_REF: &str = "rules.schema.json";

struct Zone {
    key: Vec<String>,
    rate: u64,
    period: u64,
}

#[derive(Default)]
struct Doc {
    filter: Vec<Value>,
    limit: Vec<Value>,
    cache: Vec<Value>,
    route: Vec<Value>,
    respond: Vec<Value>,
    origins: BTreeMap<String, Value>,
    default_origin: Option<String>,
    ids: BTreeSet<String>,
}

impl Doc {
    fn id(&mut self, base: &str) -> String {
        let base: String = base.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' }).collect();
        let base = base.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
        let base = if base.is_empty() { "rule".to_string() } else { base.chars().take(48).collect() };
        let mut id = base.clone();
        let mut n = 2;
        while self.ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.ids.insert(id.clone());
        id
    }
}

/// One place a request can end up: a location (or the server itself when no
/// location matches), with the blocks it inherits from.
struct Unit<'a> {
    /// Index in [`Locations`].
    loc: usize,
    /// http block, server block, enclosing locations…, this location's block.
    levels: Vec<&'a [Directive]>,
    /// The `location` directive (`None`: the implicit `location /`).
    directive: Option<&'a Directive>,
    slug: String,
}

fn args_of<'a>(level: &'a [Directive], names: &[&str]) -> Vec<&'a Directive> {
    level.iter().filter(|d| names.contains(&d.name.as_str())).collect()
}

impl Unit<'_> {
    /// Array directives: the innermost level that has any.
    fn array(&self, names: &[&str]) -> Vec<&Directive> {
        self.levels.iter().rev().map(|l| args_of(l, names)).find(|v| !v.is_empty()).unwrap_or_default()
    }

    /// Scalar directives: the innermost setting.
    fn scalar(&self, name: &str) -> Option<&Directive> {
        self.levels.iter().rev().find_map(|l| l.iter().rev().find(|d| d.name == name))
    }

    /// Directives of this location's own block only.
    fn own(&self, name: &str) -> Vec<&Directive> {
        match self.directive {
            Some(_) => self.levels.last().map(|l| args_of(l, &[name])).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// Translates a parsed config.
pub fn translate(tree: &[Directive], opts: &Options) -> Result<Translation, String> {
    let mut report = Report::default();
    let mut doc = Doc::default();
    let http_block: &[Directive] = match tree.iter().find(|d| d.name == "http") {
        Some(h) => h.block.as_deref().unwrap_or_default(),
        None => tree,
    };
    for d in tree {
        if d.name != "http" && tree.len() > 1 && http_block.as_ptr() != tree.as_ptr() {
            classify_default(d, &mut report);
        }
    }
    if let Some(h) = tree.iter().find(|d| d.name == "http") {
        report.note(h, Outcome::NotNeeded, &[], "structure");
    }

    let maps = collect_maps(http_block, &mut report);
    let zones = collect_zones(http_block, &mut report);
    let upstreams = collect_upstreams(http_block, opts, &mut report, &mut doc);

    let servers: Vec<&Directive> = http_block.iter().filter(|d| d.name == "server" && d.block.is_some()).collect();
    let wanted = |s: &Directive| match &opts.server {
        None => true,
        Some(name) => server_names(s).iter().any(|n| n.eq_ignore_ascii_case(name)),
    };
    let servers: Vec<&Directive> = servers.into_iter().filter(|s| wanted(s)).collect();
    if servers.is_empty() {
        return Err(match &opts.server {
            Some(n) => format!("no server block has server_name {n}"),
            None => "the config has no server block".to_string(),
        });
    }

    let (redirects, content): (Vec<&Directive>, Vec<&Directive>) = servers.iter().partition(|s| https_redirect_of(s).is_some());
    for s in &redirects {
        translate_redirect_server(s, &content, &mut doc, &mut report);
    }
    // Servers that only close connections or redirect elsewhere carry no content.
    let content: Vec<&Directive> = content.into_iter().filter(|s| !is_terminal_server(s, &mut report)).collect();
    let all_names: Vec<Vec<String>> = content.iter().map(|s| server_names(s)).collect();
    for (i, s) in content.iter().enumerate() {
        let others: Vec<String> = all_names.iter().enumerate().filter(|(j, _)| *j != i).flat_map(|(_, n)| n.clone()).collect();
        let hosts = hosts_condition(s, &server_names(s), &others, content.len(), &mut report);
        translate_server(s, http_block, &hosts, &zones, &upstreams, &maps, &mut doc, &mut report)?;
    }

    // Every directive gets a line.
    walk(tree, &mut |d, parents| {
        if report.has(d) {
            return;
        }
        if parents.iter().any(|p| p.name == "types") {
            report.note(d, Outcome::NotNeeded, &[], "a media type: the origin sends Content-Type");
        } else {
            classify_default(d, &mut report);
        }
    });

    let mut origins = Map::new();
    for (k, v) in &doc.origins {
        origins.insert(k.clone(), v.clone());
    }
    if origins.is_empty() {
        let url = opts.origin_map.get("app").cloned().unwrap_or_else(|| "http://localhost".to_string());
        origins.insert("app".into(), json!({ "url": url }));
        doc.default_origin = Some("app".into());
    }
    if doc.default_origin.is_none() {
        doc.default_origin = doc.origins.keys().next().cloned();
    }
    let mut settings = Map::new();
    if let Some(o) = &doc.default_origin {
        settings.insert("default_origin".into(), json!(o));
    }
    let mut phases = Map::new();
    for (name, rules) in [("filter", &doc.filter), ("limit", &doc.limit), ("cache", &doc.cache), ("route", &doc.route), ("respond", &doc.respond)] {
        if !rules.is_empty() {
            phases.insert(name.into(), Value::Array(rules.clone()));
        }
    }
    let document = json!({
        "$schema": SCHEMA_REF,
        "version": 1,
        "settings": settings,
        "origins": origins,
        "phases": phases,
    });
    Ok(Translation { document, report })
}

/// A `map`/`geo` variable: its source and (pattern, value) entries in order.
struct MapVar {
    source: String,
    default: String,
    entries: Vec<(String, String)>,
}

impl MapVar {
    /// The value for `input` (regex entries `~`/`~*`, exact strings).
    fn value_for(&self, input: &str) -> String {
        for (pat, val) in &self.entries {
            let hit = if let Some(re) = pat.strip_prefix("~*") {
                regex::RegexBuilder::new(re).case_insensitive(true).build().is_ok_and(|r| r.is_match(input))
            } else if let Some(re) = pat.strip_prefix('~') {
                regex::Regex::new(re).is_ok_and(|r| r.is_match(input))
            } else {
                pat == input
            };
            if hit {
                return val.clone();
            }
        }
        self.default.clone()
    }
}

fn collect_maps(http: &[Directive], report: &mut Report) -> BTreeMap<String, MapVar> {
    let mut out = BTreeMap::new();
    for d in http.iter().filter(|d| d.name == "map" || d.name == "geo") {
        let (source, var) = match (d.name.as_str(), d.args.as_slice()) {
            ("map", [s, v]) => (s.clone(), v.clone()),
            ("geo", [v]) => ("$remote_addr".to_string(), v.clone()),
            ("geo", [s, v]) => (s.clone(), v.clone()),
            _ => continue,
        };
        let mut m = MapVar { source, default: String::new(), entries: Vec::new() };
        for e in d.block.as_deref().unwrap_or_default() {
            match e.args.as_slice() {
                [v] if e.name == "default" => m.default = v.clone(),
                [v] => m.entries.push((e.name.clone(), v.clone())),
                [] if matches!(e.name.as_str(), "hostnames" | "volatile" | "ranges") => {}
                _ => {}
            }
            report.note(e, Outcome::NotNeeded, &[], format!("entry of {} {var}; see where {var} is used", d.name));
        }
        report.note(d, Outcome::NotNeeded, &[], format!("{var} is read where it is used (add_header, if)"));
        out.insert(var, m);
    }
    out
}

fn parse_rate(s: &str) -> Option<(u64, u64)> {
    let s = s.strip_prefix("rate=")?;
    if let Some(n) = s.strip_suffix("r/s") {
        return n.parse().ok().map(|n| (n, 1));
    }
    s.strip_suffix("r/m").and_then(|n| n.parse().ok()).map(|n| (n, 60))
}

fn zone_key(var: &str) -> Result<Vec<String>, String> {
    let mut key = Vec::new();
    for part in var.split('$').filter(|p| !p.is_empty()) {
        let part = part.trim_matches(|c| c == '{' || c == '}');
        key.push(match part {
            "binary_remote_addr" | "remote_addr" | "realip_remote_addr" => "ip".to_string(),
            "host" | "server_name" | "http_host" => "host".to_string(),
            "uri" | "request_uri" | "document_uri" => "path".to_string(),
            "request_method" => "method".to_string(),
            p if p.starts_with("http_") => format!("header:{}", p["http_".len()..].replace('_', "-")),
            p if p.starts_with("cookie_") => format!("cookie:{}", &p["cookie_".len()..]),
            p => return Err(format!("the zone key ${p} has no edge counterpart (ip, host, path, method, $http_*, $cookie_*)")),
        });
    }
    if key.is_empty() {
        return Err("the zone key is constant; nginx counts nothing under an empty key".into());
    }
    Ok(key)
}

fn collect_zones(http: &[Directive], report: &mut Report) -> BTreeMap<String, Zone> {
    let mut zones = BTreeMap::new();
    for d in http.iter().filter(|d| d.name == "limit_req_zone") {
        let key = d.args.first().map(|k| zone_key(k));
        let name = d.args.iter().find_map(|a| a.strip_prefix("zone=")).and_then(|z| z.split(':').next());
        let rate = d.args.iter().find_map(|a| parse_rate(a));
        match (key, name, rate) {
            (Some(Ok(key)), Some(name), Some((rate, period))) => {
                zones.insert(name.to_string(), Zone { key, rate, period });
                report.note(d, Outcome::Translated, &[], "becomes the key, rate and period of each limit rule using the zone");
            }
            (Some(Err(e)), _, _) => report.note(d, Outcome::NotTranslatable, &[], e),
            _ => report.note(d, Outcome::NotTranslatable, &[], "expected KEY zone=NAME:SIZE rate=Nr/s|Nr/m"),
        }
    }
    zones
}

fn seconds(s: &str) -> Option<u64> {
    let (num, mult) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        None => (s, 1),
        Some((i, _)) => (
            &s[..i],
            match &s[i..] {
                "ms" => return s[..i].parse::<u64>().ok().map(|ms| ms.div_ceil(1000)),
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                "w" => 604_800,
                "M" => 2_592_000,
                "y" => 31_536_000,
                _ => return None,
            },
        ),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

fn bytes(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (num, mult) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 1024),
        Some('m') => (&lower[..lower.len() - 1], 1024 * 1024),
        Some('g') => (&lower[..lower.len() - 1], 1024 * 1024 * 1024),
        _ => (lower.as_str(), 1),
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

fn server_url(addr: &str, opts: &Options) -> String {
    if let Some(u) = opts.origin_map.get(addr) {
        return u.clone();
    }
    if addr.starts_with("unix:") {
        return addr.to_string();
    }
    format!("http://{addr}")
}

fn collect_upstreams(http: &[Directive], opts: &Options, report: &mut Report, doc: &mut Doc) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for u in http.iter().filter(|d| d.name == "upstream") {
        let Some(name) = u.args.first() else { continue };
        let rule = format!("origins.{name}");
        let mut servers = Vec::new();
        let (mut max_fails, mut fail_timeout) = (1u64, 10u64);
        for d in u.block.as_deref().unwrap_or_default() {
            match d.name.as_str() {
                "server" => {
                    let Some(addr) = d.args.first() else { continue };
                    let mut weight = 1u64;
                    let mut backup = false;
                    for a in &d.args[1..] {
                        if let Some(w) = a.strip_prefix("weight=") {
                            weight = w.parse().unwrap_or(1);
                        } else if let Some(m) = a.strip_prefix("max_fails=") {
                            max_fails = m.parse().unwrap_or(1);
                        } else if let Some(t) = a.strip_prefix("fail_timeout=") {
                            fail_timeout = seconds(t).unwrap_or(10);
                        } else if a == "backup" || a == "down" {
                            backup = true;
                        }
                    }
                    if backup {
                        report.note(d, Outcome::NotTranslatable, &[], "backup/down servers: the edge has no backup tier; add it to the pool if it should take traffic");
                        continue;
                    }
                    let url = server_url(addr, opts);
                    servers.push(json!({ "url": url, "weight": weight.clamp(1, 100) }));
                    report.note(d, Outcome::Translated, std::slice::from_ref(&rule), "a server of the pool (max_fails/fail_timeout apply pool-wide at the edge)");
                }
                "least_conn" | "ip_hash" | "hash" | "random" => report.note(
                    d,
                    Outcome::Differs,
                    std::slice::from_ref(&rule),
                    "the edge tries servers in a weighted random order per request (no connection counts or stickiness)",
                ),
                "keepalive" | "keepalive_timeout" | "keepalive_requests" | "zone" => {
                    report.note(d, Outcome::Cloudflare, &[], "connection reuse is the Workers runtime's")
                }
                _ => {}
            }
        }
        let origin = if let Some(url) = opts.origin_map.get(name) {
            json!({ "url": url })
        } else if servers.len() == 1 && max_fails == 1 && fail_timeout == 10 {
            json!({ "url": servers[0]["url"] })
        } else {
            json!({ "servers": servers, "max_fails": max_fails.max(1), "fail_timeout_seconds": fail_timeout.max(1) })
        };
        if servers.is_empty() && !opts.origin_map.contains_key(name) {
            report.note(u, Outcome::NotTranslatable, &[], "no usable server in the pool");
            continue;
        }
        doc.origins.insert(name.clone(), origin);
        names.insert(name.clone());
        report.note(u, Outcome::Translated, &[rule], "an origin pool: weighted order, passive health like max_fails/fail_timeout, GET/HEAD fail over");
    }
    names
}

fn server_names(s: &Directive) -> Vec<String> {
    s.block.as_deref().unwrap_or_default().iter().filter(|d| d.name == "server_name").flat_map(|d| d.args.clone()).collect()
}

fn listens(s: &Directive) -> Vec<&Directive> {
    s.block.as_deref().unwrap_or_default().iter().filter(|d| d.name == "listen").collect()
}

fn listens_tls(l: &Directive) -> bool {
    l.args.iter().any(|a| a == "ssl" || a == "quic") || l.args.first().is_some_and(|a| a.ends_with(":443") || a == "443")
}

/// `return 301 https://$host$request_uri` (or a name of the server) at server
/// level, on a plain-HTTP-only server: its status.
fn https_redirect_of(s: &Directive) -> Option<u16> {
    let block = s.block.as_deref().unwrap_or_default();
    let ls = listens(s);
    if ls.is_empty() || ls.iter().any(|l| listens_tls(l)) {
        return None;
    }
    let names = server_names(s);
    // At server level, or as the whole of `location /` (beside an ACME location).
    let in_root = || {
        block
            .iter()
            .find(|d| d.name == "location" && d.args == ["/"])
            .and_then(|l| l.block.as_deref())
            .and_then(|b| b.iter().find(|d| d.name == "return"))
    };
    let ret = block.iter().find(|d| d.name == "return").or_else(in_root)?;
    let [code, target] = ret.args.as_slice() else { return None };
    let code: u16 = code.parse().ok()?;
    if ![301, 302, 307, 308].contains(&code) {
        return None;
    }
    let host = target.strip_prefix("https://")?.strip_suffix("$request_uri")?;
    let same_host = matches!(host, "$host" | "$server_name" | "$http_host") || names.iter().any(|n| n == host);
    same_host.then_some(code)
}

fn translate_redirect_server(s: &Directive, content: &[&Directive], doc: &mut Doc, report: &mut Report) {
    let Some(status) = https_redirect_of(s) else { return };
    let block = s.block.as_deref().unwrap_or_default();
    let names = server_names(s);
    let id = doc.id(&format!("to-https-{}", names.first().map(String::as_str).unwrap_or("all")));
    // Locations on the plain-HTTP server run before its `return`? No: a
    // server-level `return` runs first; only an ACME location written with
    // its own content is reached when the return sits inside `location /`.
    let mut except = Vec::new();
    let server_level_return = block.iter().any(|d| d.name == "return");
    for l in block.iter().filter(|d| d.name == "location") {
        if l.args == ["/"] {
            for d in l.block.as_deref().unwrap_or_default() {
                let detail = if d.name == "return" { "plain-HTTP requests get this redirect (port dropped, path and query kept)" } else { "" };
                report.note(d, Outcome::Translated, std::slice::from_ref(&id), detail);
            }
            report.note(l, Outcome::Translated, std::slice::from_ref(&id), "the redirect");
            continue;
        }
        if server_level_return {
            report.note(l, Outcome::NotNeeded, &[], "never reached: the server-level return answers first");
            continue;
        }
        if let Some(p) = l.args.last() {
            except.push(if p.ends_with('/') { format!("{p}*") } else { p.clone() });
            report.note(l, Outcome::Translated, std::slice::from_ref(&id), "kept on plain HTTP (https_redirect except); its content is the origin's");
        }
    }
    let mut rule = json!({ "id": id, "action": "https_redirect", "params": { "status": status, "except": except } });
    let hosts = hosts_list(&names);
    let all_hosts_served = content.len() <= 1;
    if !hosts.is_empty() && !all_hosts_served {
        rule["when"] = json!({ "hosts": hosts });
    }
    for d in block {
        let detail = match d.name.as_str() {
            "return" => "plain-HTTP requests get this redirect (port dropped, path and query kept)",
            "listen" => "plain HTTP at the edge is the redirect's scheme condition",
            "server_name" => "the redirect's hosts",
            _ => "",
        };
        if !detail.is_empty() {
            report.note(d, Outcome::Translated, std::slice::from_ref(&id), detail);
        }
    }
    report.note(s, Outcome::Translated, std::slice::from_ref(&id), "the plain-HTTP server: an https_redirect rule");
    doc.filter.insert(0, rule);
}

/// Servers whose every request ends in a server-level `return` the edge
/// cannot give (444, redirects to another host): reported, no rules.
fn is_terminal_server(s: &Directive, report: &mut Report) -> bool {
    let block = s.block.as_deref().unwrap_or_default();
    let Some(ret) = block.iter().find(|d| d.name == "return") else { return false };
    let code: u16 = ret.args.first().and_then(|c| c.parse().ok()).unwrap_or(0);
    let detail = match code {
        444 => "444 closes the connection for unknown hosts; at the edge only hosts routed to the Worker arrive, so there is nothing to write".to_string(),
        301 | 302 | 303 | 307 | 308 => format!(
            "a redirect to {}: the edge has no host redirect action; use a Cloudflare Redirect Rule",
            ret.args.get(1).map(String::as_str).unwrap_or("?")
        ),
        400..=599 => return false,
        _ => format!("return {code} with a body: the edge answers only 4xx/5xx itself; serve it from the origin"),
    };
    report.note(ret, Outcome::NotTranslatable, &[], detail);
    report.note(s, Outcome::NotTranslatable, &[], "server not translated (see its return)");
    for d in block {
        if !report.has(d) {
            report.note(d, Outcome::NotNeeded, &[], "part of a server that is not translated");
        }
    }
    true
}

fn hosts_list(names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        if n.is_empty() || n == "_" || n.starts_with('~') || n == "localhost" && names.len() == 1 {
            continue;
        }
        if let Some(rest) = n.strip_prefix('.') {
            out.push(rest.to_string());
            out.push(format!("*.{rest}"));
        } else {
            out.push(n.clone());
        }
    }
    out
}

fn hosts_condition(s: &Directive, names: &[String], others: &[String], servers: usize, report: &mut Report) -> Vec<String> {
    let block = s.block.as_deref().unwrap_or_default();
    let hosts = hosts_list(names);
    for d in block.iter().filter(|d| d.name == "server_name") {
        if d.args.iter().any(|a| a.starts_with('~')) {
            report.note(d, Outcome::Differs, &[], "regex server names are not expressible in when.hosts: dropped from the condition");
        } else if servers <= 1 {
            report.note(d, Outcome::Translated, &[], "the only server: every host reaching the edge gets its rules, as nginx's default server");
        } else {
            report.note(d, Outcome::Translated, &[], "when.hosts of every rule of this server");
        }
    }
    for d in block.iter().filter(|d| d.name == "listen") {
        let detail = if listens_tls(d) { "TLS and HTTP/2 are Cloudflare's" } else { "the edge answers plain HTTP and HTTPS" };
        report.note(d, Outcome::Cloudflare, &[], detail);
    }
    if servers <= 1 {
        return Vec::new();
    }
    if hosts.is_empty() {
        // The catch-all server: every host the other servers do not name.
        return hosts_list(others).into_iter().map(|h| format!("!{h}")).collect();
    }
    hosts
}

#[allow(clippy::too_many_arguments)]
fn translate_server(
    s: &Directive,
    http: &[Directive],
    hosts: &[String],
    zones: &BTreeMap<String, Zone>,
    upstreams: &BTreeSet<String>,
    maps: &BTreeMap<String, MapVar>,
    doc: &mut Doc,
    report: &mut Report,
) -> Result<(), String> {
    let block = s.block.as_deref().unwrap_or_default();
    let server_slug = hosts.iter().find(|h| !h.starts_with('!')).cloned().unwrap_or_default();
    let slug = |base: &str| if server_slug.is_empty() { base.to_string() } else { format!("{server_slug}-{base}") };
    report.note(s, Outcome::Translated, &[], "its locations and directives become the rules below");

    // Locations, flattened, parents first.
    let mut locs = Locations::default();
    let mut units: Vec<Unit<'_>> = Vec::new();
    fn collect<'a>(
        level: &'a [Directive],
        chain: Vec<&'a [Directive]>,
        parent: Option<usize>,
        locs: &mut Locations,
        units: &mut Vec<Unit<'a>>,
        report: &mut Report,
    ) {
        for d in level.iter().filter(|d| d.name == "location") {
            let Some(b) = d.block.as_deref() else { continue };
            match locs.add(&d.args, parent) {
                Ok(i) => {
                    let mut levels = chain.clone();
                    levels.push(b);
                    let slug = d.args.last().map(|p| p.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()).unwrap_or_default();
                    units.push(Unit { loc: i, levels: levels.clone(), directive: Some(d), slug: if slug.is_empty() { "root".into() } else { slug } });
                    collect(b, levels, Some(i), locs, units, report);
                }
                Err(e) => {
                    report.note(d, Outcome::NotTranslatable, &[], e);
                    walk(b, &mut |x, _| report.note(x, Outcome::NotTranslatable, &[], "inside a location that is not translated"));
                }
            }
        }
    }
    collect(block, vec![http, block], None, &mut locs, &mut units, report);
    if !units.iter().any(|u| u.directive.is_some_and(|d| d.args == ["/"])) {
        let i = locs.add(&["/".to_string()], None).map_err(|e| e.to_string())?;
        units.push(Unit { loc: i, levels: vec![http, block], directive: None, slug: "default".into() });
    }
    for u in &units {
        if let Some(d) = u.directive {
            report.note(d, Outcome::Translated, &[], format!("nginx's choice of {} is reproduced by each rule's path_regex", locs.describe(u.loc)));
            if locs.approximated(u.loc) {
                report.note(d, Outcome::Differs, &[], "its look-ahead A(?!B) becomes path_regex A and !A(?:B): a path where A occurs twice, once followed by B, is not matched");
            }
        }
    }
    let probes = locs.probe();
    let when_base = |sel: &Selector| -> Value {
        let mut w = Map::new();
        if !hosts.is_empty() {
            w.insert("hosts".into(), json!(hosts));
        }
        if !(sel.include.iter().any(|i| i == "^/") && sel.exclude.is_empty()) {
            w.insert("path_regex".into(), json!(sel.entries()));
        }
        Value::Object(w)
    };

    // Groups units by an effect key; each group gets rules from `make`.
    struct Group<'u, 'a> {
        key: String,
        members: Vec<&'u Unit<'a>>,
    }
    let group_by = |f: &dyn Fn(&Unit<'_>) -> Option<String>| -> Vec<Group<'_, '_>> {
        let mut groups: Vec<Group<'_, '_>> = Vec::new();
        for u in &units {
            if let Some(k) = f(u) {
                match groups.iter_mut().find(|g| g.key == k) {
                    Some(g) => g.members.push(u),
                    None => groups.push(Group { key: k, members: vec![u] }),
                }
            }
        }
        groups
    };
    // Selectors for a group: one if exact, else one per member (inexact ones reported).
    let selectors = |members: &[&Unit<'_>], report: &mut Report| -> Vec<(Selector, Vec<usize>)> {
        let idx: Vec<usize> = members.iter().map(|u| u.loc).collect();
        locs.build(&idx, &probes)
            .into_iter()
            .map(|(part, sel, diff)| {
                if let (Some(diff), Some(d)) = (diff, part.first().and_then(|&m| units.iter().find(|u| u.loc == m)).and_then(|u| u.directive)) {
                    report.note(d, Outcome::Differs, &[], format!("its path_regex is close to nginx's choice, not exact: {diff}"));
                }
                (sel, part)
            })
            .collect()
    };
    let unit_of = |i: usize| units.iter().find(|u| u.loc == i);

    // filter: server-level method checks and returns, then per location.
    server_level_filter(block, hosts, &slug, doc, report);

    // filter: allow/deny.
    for g in group_by(&|u| {
        let rules = u.array(&["allow", "deny"]);
        (!rules.is_empty()).then(|| rules.iter().map(|d| format!("{} {}", d.at, show(d))).collect::<Vec<_>>().join(";"))
    }) {
        let access = g.members[0].array(&["allow", "deny"]);
        for (sel, members) in selectors(&g.members, report) {
            let name = unit_of(members[0]).map(|u| u.slug.clone()).unwrap_or_default();
            // Runs of `deny` between `allow`s: one block rule each, excluding
            // the addresses allowed before it (nginx's first match wins).
            let mut allowed: Vec<String> = Vec::new();
            let mut ids = Vec::new();
            let mut run: Vec<String> = Vec::new();
            let flush = |run: &mut Vec<String>, allowed: &[String], doc: &mut Doc, ids: &mut Vec<String>| {
                if run.is_empty() {
                    return;
                }
                let id = doc.id(&slug(&format!("deny-{name}")));
                let mut when = when_base(&sel);
                let mut ips: Vec<String> = if run.iter().any(|a| a == "all") { Vec::new() } else { run.clone() };
                ips.extend(allowed.iter().cloned());
                if !ips.is_empty() {
                    when["ips"] = json!(ips);
                }
                doc.filter.push(json!({ "id": id, "when": when, "action": "block", "params": { "status": 403, "message": "Forbidden" } }));
                ids.push(id);
                run.clear();
            };
            for d in &access {
                let Some(addr) = d.args.first() else { continue };
                if d.name == "allow" {
                    flush(&mut run, &allowed, doc, &mut ids);
                    if addr == "all" {
                        break;
                    }
                    allowed.push(format!("!{addr}"));
                    continue;
                }
                run.push(addr.clone());
                if addr == "all" {
                    break;
                }
            }
            flush(&mut run, &allowed, doc, &mut ids);
            for d in &access {
                report.note(d, Outcome::Translated, &ids, "block rules in nginx's first-match order; ips is the client address Cloudflare saw");
            }
        }
    }

    // filter: `return 4xx` in a location, and method checks in location `if`s.
    for u in &units {
        for d in u.own("return") {
            let code: u16 = d.args.first().and_then(|c| c.parse().ok()).unwrap_or(0);
            if (400..=599).contains(&code) && code != 444 && code != 499 {
                let id = doc.id(&slug(&format!("return-{}-{code}", u.slug)));
                for (sel, _) in selectors(&[u], report) {
                    let message = reason(code);
                    doc.filter.push(json!({ "id": id, "when": when_base(&sel), "action": "block", "params": { "status": code, "message": message } }));
                }
                report.note(d, Outcome::Translated, std::slice::from_ref(&id), "answered at the edge with this status");
            } else {
                report.note(d, Outcome::NotTranslatable, &[], "the edge answers only 4xx/5xx itself (no bodies, redirects or 444): serve it from the origin or use a Cloudflare Redirect Rule");
            }
        }
        for d in u.own("if") {
            if let Some((methods, code, ret)) = method_check(d) {
                let id = doc.id(&slug(&format!("methods-{}", u.slug)));
                for (sel, _) in selectors(&[u], report) {
                    let mut when = when_base(&sel);
                    when["methods"] = json!(methods);
                    doc.filter.push(json!({ "id": id, "when": when, "action": "block", "params": { "status": code, "message": reason(code) } }));
                }
                report.note(d, Outcome::Translated, std::slice::from_ref(&id), "method check");
                report.note(ret, Outcome::Translated, std::slice::from_ref(&id), "");
            }
        }
    }

    // filter: body size (nginx's default 1m where nothing is set).
    for g in group_by(&|u| {
        let v = u.scalar("client_max_body_size").and_then(|d| d.args.first()).and_then(|a| bytes(a)).unwrap_or(NGINX_DEFAULT_BODY);
        (v > 0).then(|| v.to_string())
    }) {
        let max: u64 = g.key.parse().unwrap_or(NGINX_DEFAULT_BODY);
        let mut ids = Vec::new();
        for (sel, _) in selectors(&g.members, report) {
            let id = doc.id(&slug(&format!("body-{}", human_bytes(max))));
            doc.filter.push(json!({ "id": id, "when": when_base(&sel), "action": "limits", "params": { "max_body_bytes": max } }));
            ids.push(id);
        }
        let mut explicit = false;
        for u in &g.members {
            if let Some(d) = u.scalar("client_max_body_size") {
                explicit = true;
                report.note(d, Outcome::Translated, &ids, "413 over the size (Content-Length, or counted while streaming)");
            }
        }
        if !explicit {
            report.note(s, Outcome::Translated, &ids, format!("client_max_body_size not set: nginx's default 1m applies ({})", ids.join(", ")));
        }
    }
    if let Some(d) = units.first().and_then(|u| u.levels.iter().rev().find_map(|l| l.iter().find(|d| d.name == "large_client_header_buffers"))) {
        if let (Some(n), Some(size)) = (d.args.first().and_then(|n| n.parse::<u64>().ok()), d.args.get(1).and_then(|s| bytes(s))) {
            let id = doc.id(&slug("header-sizes"));
            let mut rule = json!({ "id": id, "action": "limits", "params": { "max_url_bytes": size, "max_header_bytes": n * size } });
            if !hosts.is_empty() {
                rule["when"] = json!({ "hosts": hosts });
            }
            doc.filter.push(rule);
            report.note(d, Outcome::Differs, &[id], "nginx refuses a request line over the size (414) or one header line over it (400); the edge refuses a URL over the size (414) and headers over N×size in total (431)");
        }
    }

    // limit: one rule per zone use (zone, burst, delay) over every location
    // using it, so a zone shared by locations is one counter as in nginx.
    let mut uses_seen: Vec<String> = Vec::new();
    for u in &units {
        for d in u.array(&["limit_req"]) {
            let key = d.args.join(" ");
            if !uses_seen.contains(&key) {
                uses_seen.push(key);
            }
        }
    }
    for use_key in uses_seen {
        let members: Vec<&Unit<'_>> = units.iter().filter(|u| u.array(&["limit_req"]).iter().any(|d| d.args.join(" ") == use_key)).collect();
        let dirs: Vec<&Directive> = members.iter().flat_map(|u| u.array(&["limit_req"])).filter(|d| d.args.join(" ") == use_key).collect();
        let Some(d) = dirs.first().copied() else { continue };
        let statuses: BTreeSet<u16> = members
            .iter()
            .map(|u| u.scalar("limit_req_status").and_then(|d| d.args.first()).and_then(|s| s.parse::<u16>().ok()).unwrap_or(503))
            .collect();
        let status = statuses.iter().next().copied().unwrap_or(503);
        let dry_run = members[0].scalar("limit_req_dry_run").is_some_and(|d| d.args.first().is_some_and(|a| a == "on"));
        let Some(zone_name) = d.args.iter().find_map(|a| a.strip_prefix("zone=")) else {
            for x in &dirs {
                report.note(x, Outcome::NotTranslatable, &[], "no zone=");
            }
            continue;
        };
        let Some(zone) = zones.get(zone_name) else {
            for x in &dirs {
                report.note(x, Outcome::NotTranslatable, &[], format!("zone {zone_name} is not defined by a translatable limit_req_zone"));
            }
            continue;
        };
        let burst: u64 = d.args.iter().find_map(|a| a.strip_prefix("burst=")).and_then(|b| b.parse().ok()).unwrap_or(0);
        let nodelay = d.args.iter().any(|a| a == "nodelay");
        let mut ids = Vec::new();
        for (sel, _) in selectors(&members, report) {
            let id = doc.id(&slug(&format!("limit-{zone_name}")));
            let mut rule = json!({ "id": id, "when": when_base(&sel), "action": if dry_run { "log" } else { "block" },
                "params": { "key": zone.key, "rate": zone.rate, "period": zone.period, "burst": burst, "status": status } });
            if rule["when"] == json!({}) {
                rule.as_object_mut().map(|o| o.remove("when"));
            }
            doc.limit.push(rule);
            ids.push(id);
        }
        let (mut outcome, mut detail) = if nodelay {
            (Outcome::Translated, format!("same admission: burst+1 at once, then {} per {} s, refused with {status}", zone.rate, zone.period))
        } else {
            (Outcome::Differs, "same admitted count, but nginx delays the excess requests of a burst to the rate while the edge admits them at once (as nodelay)".to_string())
        };
        if ids.len() > 1 {
            outcome = Outcome::Differs;
            detail.push_str("; one counter per rule, where nginx shares the zone");
        }
        if statuses.len() > 1 {
            outcome = Outcome::Differs;
            detail.push_str(&format!("; locations refuse with different statuses {statuses:?}, the rule uses {status}"));
        }
        for x in &dirs {
            report.note(x, outcome, &ids, detail.clone());
        }
        for u in &members {
            if let Some(s) = u.scalar("limit_req_status") {
                report.note(s, Outcome::Translated, &ids, "the limit rules' status");
            }
        }
    }

    // cache: proxy_cache + proxy_cache_valid.
    for g in group_by(&|u| {
        let on = u.scalar("proxy_cache").and_then(|d| d.args.first()).is_some_and(|a| a != "off");
        on.then(|| u.array(&["proxy_cache_valid"]).iter().map(|d| d.args.join(" ")).collect::<Vec<_>>().join(";"))
    }) {
        let valid = g.members[0].array(&["proxy_cache_valid"]);
        let mut ttl_by_status = Map::new();
        let mut ttl_seconds = 0u64;
        for d in &valid {
            let Some((time, codes)) = d.args.split_last() else { continue };
            let t = seconds(time).unwrap_or(0);
            if codes.is_empty() {
                for c in ["200", "301", "302"] {
                    ttl_by_status.insert(c.into(), json!(t));
                }
            }
            for c in codes {
                if c == "any" {
                    ttl_seconds = t;
                } else {
                    ttl_by_status.insert(c.clone(), json!(t));
                }
            }
        }
        let mut ids = Vec::new();
        for (sel, members) in selectors(&g.members, report) {
            let name = unit_of(members[0]).map(|u| u.slug.clone()).unwrap_or_default();
            let id = doc.id(&slug(&format!("cache-{name}")));
            doc.cache.push(json!({ "id": id, "when": when_base(&sel), "action": "cache",
                "params": { "ttl_seconds": ttl_seconds, "ttl_by_status": ttl_by_status, "respect_origin": true } }));
            ids.push(id);
        }
        for u in &g.members {
            for d in u.array(&["proxy_cache_valid"]).into_iter().chain(u.scalar("proxy_cache")) {
                report.note(d, Outcome::Translated, &ids, "the Cache API at the edge; origin Cache-Control is respected as nginx does");
            }
            for name in ["proxy_cache_key", "proxy_cache_bypass", "proxy_no_cache", "proxy_cache_methods", "proxy_cache_lock"] {
                if let Some(d) = u.scalar(name) {
                    report.note(d, Outcome::Differs, &ids, "the edge keys by scheme, host, path and sorted query, and never caches requests with Authorization or a session cookie");
                }
            }
            if let Some(d) = u.scalar("proxy_cache_use_stale") {
                report.note(d, Outcome::Differs, &ids, "set stale_while_revalidate_seconds on the cache rule to serve stale while refreshing");
            }
        }
    }

    // route: proxy_pass per location.
    let mut default_target: Option<String> = None;
    let mut targets: Vec<(usize, Option<String>)> = Vec::new();
    for u in &units {
        let pass = u.own("proxy_pass").into_iter().next();
        let target = pass.and_then(|d| proxy_target(d, u, upstreams, doc, report));
        if pass.is_none() && u.directive.is_some() && !u.own("return").is_empty() {
            continue;
        }
        if u.directive.is_none_or(|d| d.args == ["/"]) {
            default_target = target.clone();
        }
        targets.push((u.loc, target));
    }
    if doc.default_origin.is_none() {
        doc.default_origin = default_target.clone();
    }
    let default = doc.default_origin.clone();
    let mut by_target: BTreeMap<String, Vec<&Unit<'_>>> = BTreeMap::new();
    for (loc, target) in &targets {
        if let (Some(t), Some(u)) = (target, unit_of(*loc)) {
            if Some(t) != default.as_ref() {
                by_target.entry(t.clone()).or_default().push(u);
            }
        }
    }
    for (target, members) in by_target {
        for (sel, _) in selectors(&members, report) {
            let id = doc.id(&slug(&format!("to-{target}")));
            doc.route.push(json!({ "id": id, "when": when_base(&sel), "action": "origin", "params": { "origin": target } }));
            for u in &members {
                for d in u.own("proxy_pass") {
                    report.note(d, Outcome::Translated, std::slice::from_ref(&id), "");
                }
            }
        }
    }
    for u in &units {
        if let Some(d) = u.directive {
            if u.own("proxy_pass").is_empty() && u.own("return").is_empty() && !u.own("root").is_empty() || u.own("try_files").len() + u.own("alias").len() > 0 {
                report.note(d, Outcome::Differs, &[], "nginx serves files here; the edge forwards to the default origin: serve them from an origin (or Workers static assets)");
            }
        }
    }

    // respond: add_header (CORS headers split off), expires.
    respond_rules(&units, &locs, &probes, hosts, maps, &slug, &selectors, &when_base, doc, report);
    Ok(())
}

fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Not Allowed",
        410 => "Gone",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        _ => "Refused",
    }
}

fn human_bytes(n: u64) -> String {
    if n.is_multiple_of(1024 * 1024) {
        format!("{}m", n / (1024 * 1024))
    } else if n.is_multiple_of(1024) {
        format!("{}k", n / 1024)
    } else {
        n.to_string()
    }
}

/// `if ($request_method !~ ^(GET|POST)$) { return 405; }` → (methods, status, the return).
fn method_check(d: &Directive) -> Option<(Vec<String>, u16, &Directive)> {
    let body = d.block.as_deref()?;
    let [ret] = body else { return None };
    if ret.name != "return" {
        return None;
    }
    let code: u16 = ret.args.first()?.parse().ok()?;
    if !(400..=599).contains(&code) {
        return None;
    }
    let args: Vec<&str> = d.args.iter().map(|a| a.trim_start_matches('(').trim_end_matches(')')).filter(|a| !a.is_empty()).collect();
    let [var, op, value] = args.as_slice() else { return None };
    if *var != "$request_method" {
        return None;
    }
    let list = |v: &str| -> Option<Vec<String>> {
        let inner = v.trim_start_matches('^').trim_end_matches('$');
        let inner = inner.strip_prefix("(?:").or_else(|| inner.strip_prefix('(')).map(|i| i.trim_end_matches(')')).unwrap_or(inner);
        let ms: Vec<String> = inner.split('|').map(str::to_string).collect();
        ms.iter().all(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_uppercase())).then_some(ms)
    };
    let methods = match *op {
        "!~" => list(value)?.into_iter().map(|m| format!("!{m}")).collect(),
        "~" => list(value)?,
        "=" => vec![value.to_string()],
        "!=" => vec![format!("!{value}")],
        _ => return None,
    };
    Some((methods, code, ret))
}

fn server_level_filter(block: &[Directive], hosts: &[String], slug: &dyn Fn(&str) -> String, doc: &mut Doc, report: &mut Report) {
    for d in block.iter().filter(|d| d.name == "if") {
        if let Some((methods, code, ret)) = method_check(d) {
            let id = doc.id(&slug("methods"));
            let mut when = json!({ "methods": methods });
            if !hosts.is_empty() {
                when["hosts"] = json!(hosts);
            }
            doc.filter.push(json!({ "id": id, "when": when, "action": "block", "params": { "status": code, "message": reason(code) } }));
            report.note(d, Outcome::Translated, std::slice::from_ref(&id), "method check for the whole server");
            report.note(ret, Outcome::Translated, &[id], "");
        }
    }
    for d in block.iter().filter(|d| d.name == "return") {
        let code: u16 = d.args.first().and_then(|c| c.parse().ok()).unwrap_or(0);
        if (400..=599).contains(&code) && code != 444 {
            let id = doc.id(&slug(&format!("return-{code}")));
            let mut rule = json!({ "id": id, "action": "block", "params": { "status": code, "message": reason(code) } });
            if !hosts.is_empty() {
                rule["when"] = json!({ "hosts": hosts });
            }
            doc.filter.push(rule);
            report.note(d, Outcome::Translated, &[id], "every request of the server");
        }
    }
}

/// The origin a `proxy_pass` sends to, adding an origin for a direct URL.
fn proxy_target(d: &Directive, u: &Unit<'_>, upstreams: &BTreeSet<String>, doc: &mut Doc, report: &mut Report) -> Option<String> {
    let Some(url) = d.args.first() else { return None };
    if url.contains('$') {
        report.note(d, Outcome::NotTranslatable, &[], "proxy_pass with variables: choose the origin with route rules");
        return None;
    }
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    let Some(rest) = rest else {
        report.note(d, Outcome::NotTranslatable, &[], "only http(s) upstreams");
        return None;
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let location_prefix = u.directive.and_then(|l| l.args.last()).cloned().unwrap_or_else(|| "/".into());
    if !path.is_empty() && path != location_prefix {
        report.note(d, Outcome::Differs, &[], format!("nginx replaces the location prefix with {path}; the edge appends the whole request path to the origin URL"));
    }
    let name = if upstreams.contains(host) {
        host.to_string()
    } else {
        let name: String = host.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        doc.origins.entry(name.clone()).or_insert_with(|| json!({ "url": format!("{}{host}", &url[..url.len() - rest.len()]) }));
        name
    };
    if !report.has(d) {
        report.note(d, Outcome::Translated, &[format!("origins.{name}")], "");
    }
    for name in ["proxy_http_version", "proxy_set_header", "proxy_buffering", "proxy_request_buffering", "proxy_read_timeout", "proxy_send_timeout", "proxy_connect_timeout", "proxy_redirect", "proxy_hide_header"] {
        for x in u.own(name) {
            let (outcome, detail) = match name {
                "proxy_set_header" if x.args.first().is_some_and(|h| h.eq_ignore_ascii_case("upgrade") || h.eq_ignore_ascii_case("connection")) => {
                    (Outcome::NotNeeded, "WebSocket upgrades pass through the edge as they are")
                }
                "proxy_set_header" => (Outcome::Differs, "the edge sends signed trust headers (x-edge-client-ip, …) instead; verify them with origin-sdk"),
                "proxy_buffering" | "proxy_request_buffering" => (Outcome::NotNeeded, "the edge streams bodies already"),
                "proxy_http_version" => (Outcome::NotNeeded, "the Workers runtime picks the HTTP version"),
                "proxy_read_timeout" | "proxy_connect_timeout" | "proxy_send_timeout" => (Outcome::Differs, "set timeout_ms on the origin (time to response headers)"),
                _ => (Outcome::NotTranslatable, "no edge equivalent"),
            };
            report.note(x, outcome, &[], detail);
        }
    }
    Some(name)
}

/// CORS header names nginx configs add by hand.
const CORS_HEADERS: &[&str] = &[
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-max-age",
];

/// `add_header` values: variables from a `map $sent_http_content_type` are
/// taken for text/html, as most pages are; others cannot be expressed.
fn header_value(value: &str, maps: &BTreeMap<String, MapVar>) -> Result<(String, bool), String> {
    if !value.contains('$') {
        return Ok((value.to_string(), false));
    }
    let var = value.trim();
    match maps.get(var) {
        Some(m) if m.source == "$sent_http_content_type" => Ok((m.value_for("text/html"), true)),
        _ => Err(format!("the value {value:?} uses variables; write the literal value")),
    }
}

#[allow(clippy::too_many_arguments)]
fn respond_rules(
    units: &[Unit<'_>],
    _locs: &Locations,
    _probes: &super::location::Probes,
    hosts: &[String],
    maps: &BTreeMap<String, MapVar>,
    slug: &dyn Fn(&str) -> String,
    selectors: &dyn Fn(&[&Unit<'_>], &mut Report) -> Vec<(Selector, Vec<usize>)>,
    when_base: &dyn Fn(&Selector) -> Value,
    doc: &mut Doc,
    report: &mut Report,
) {
    let _ = hosts;
    // Headers: key = the effective (name, value) set without CORS headers.
    let mut groups: Vec<(BTreeMap<String, String>, Vec<&Unit<'_>>, Vec<&Directive>)> = Vec::new();
    let mut cors_groups: Vec<(Value, Vec<&Unit<'_>>, Vec<&Directive>)> = Vec::new();
    for u in units {
        let adds = u.array(&["add_header"]);
        let mut set = BTreeMap::new();
        let mut cors = BTreeMap::new();
        let mut used = Vec::new();
        for d in &adds {
            let (Some(name), Some(value)) = (d.args.first(), d.args.get(1)) else { continue };
            let lname = name.to_ascii_lowercase();
            match header_value(value, maps) {
                Ok((v, by_type)) => {
                    if by_type {
                        report.note(d, Outcome::Differs, &[], "nginx picks the value by the response's Content-Type (a map); translated with its text/html value, set on every response");
                    }
                    if v.is_empty() {
                        report.note(d, Outcome::Differs, &[], "empty for text/html: nginx adds no header; nothing set");
                        continue;
                    }
                    if CORS_HEADERS.contains(&lname.as_str()) {
                        cors.insert(lname, v);
                    } else {
                        set.insert(lname, v);
                    }
                    used.push(*d);
                }
                Err(e) => report.note(d, Outcome::NotTranslatable, &[], e),
            }
        }
        // `if ($request_method = OPTIONS) { add_header …; return 204; }` preflights.
        let mut preflight = BTreeMap::new();
        let mut preflight_dirs = Vec::new();
        for i in u.own("if") {
            let is_options = i.args.iter().any(|a| a.contains("OPTIONS")) && i.args.iter().any(|a| a.contains("$request_method"));
            if !is_options {
                continue;
            }
            preflight_dirs.push(i);
            for x in i.block.as_deref().unwrap_or_default() {
                if x.name == "add_header" {
                    if let (Some(n), Some(v)) = (x.args.first(), x.args.get(1)) {
                        preflight.insert(n.to_ascii_lowercase(), v.clone());
                    }
                }
                preflight_dirs.push(x);
            }
        }
        if let Some(origin) = cors.get("access-control-allow-origin").or(preflight.get("access-control-allow-origin")).cloned() {
            let get = |k: &str| cors.get(k).or(preflight.get(k)).cloned();
            let split = |v: Option<String>| -> Vec<String> { v.map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default() };
            let methods = split(get("access-control-allow-methods"));
            let methods = if methods.is_empty() { vec!["GET".to_string(), "HEAD".into(), "POST".into()] } else { methods };
            let params = json!({
                "allow_origins": [origin],
                "allow_methods": methods,
                "allow_headers": split(get("access-control-allow-headers")).into_iter().map(|h| h.to_ascii_lowercase()).collect::<Vec<_>>(),
                "expose_headers": split(get("access-control-expose-headers")).into_iter().map(|h| h.to_ascii_lowercase()).collect::<Vec<_>>(),
                "allow_credentials": get("access-control-allow-credentials").is_some_and(|v| v == "true"),
                "max_age": get("access-control-max-age").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0),
            });
            let mut dirs: Vec<&Directive> = used.iter().copied().filter(|d| d.args.first().is_some_and(|n| CORS_HEADERS.contains(&n.to_ascii_lowercase().as_str()))).collect();
            dirs.extend(preflight_dirs);
            match cors_groups.iter_mut().find(|(p, _, _)| *p == params) {
                Some(g) => {
                    g.1.push(u);
                    g.2.extend(dirs);
                }
                None => cors_groups.push((params, vec![u], dirs)),
            }
        }
        let used: Vec<&Directive> = used.into_iter().filter(|d| d.args.first().is_some_and(|n| !CORS_HEADERS.contains(&n.to_ascii_lowercase().as_str()))).collect();
        if set.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(s, _, _)| *s == set) {
            Some(g) => {
                g.1.push(u);
                g.2.extend(used);
            }
            None => groups.push((set, vec![u], used)),
        }
    }
    for (set, members, dirs) in groups {
        let mut ids = Vec::new();
        for (sel, _) in selectors(&members, report) {
            let id = doc.id(&slug(&format!("headers-{}", members[0].slug)));
            let mut rule = json!({ "id": id, "when": when_base(&sel), "action": "headers", "params": { "set": set } });
            if rule["when"] == json!({}) {
                rule.as_object_mut().map(|o| o.remove("when"));
            }
            doc.respond.push(rule);
            ids.push(id);
        }
        for d in dirs {
            let always = d.args.get(2).is_some_and(|a| a == "always");
            if always {
                report.note(d, Outcome::Translated, &ids, "on every response, edge-made ones too");
            } else {
                report.note(d, Outcome::Differs, &ids, "nginx adds it only to 200, 201, 204, 206, 301, 302, 303, 304, 307, 308 (no `always`); the edge adds it to every response");
            }
        }
    }
    for (params, members, dirs) in cors_groups {
        let origin = params["allow_origins"][0].as_str().unwrap_or("").to_string();
        let mut ids = Vec::new();
        if origin.contains('$') {
            for d in dirs {
                report.note(d, Outcome::NotTranslatable, &[], "an Access-Control-Allow-Origin from a variable echoes any origin; list the allowed origins in a cors rule");
            }
            continue;
        }
        for (sel, _) in selectors(&members, report) {
            let id = doc.id(&slug(&format!("cors-{}", members[0].slug)));
            doc.respond.push(json!({ "id": id, "when": when_base(&sel), "action": "cors", "params": params }));
            ids.push(id);
        }
        for d in dirs {
            report.note(
                d,
                Outcome::Differs,
                &ids,
                "a cors rule: preflights answered 204 at the edge; CORS headers only for the allowed origin (nginx sends them to every request)",
            );
        }
    }
    // expires → Cache-Control on responses.
    let mut exp_groups: Vec<(String, Vec<&Unit<'_>>, Vec<&Directive>)> = Vec::new();
    for u in units {
        let Some(d) = u.scalar("expires") else { continue };
        let value = match d.args.as_slice() {
            [v] if v == "off" => continue,
            [v] if v == "epoch" => Some("no-cache".to_string()),
            [v] if v == "max" => Some("max-age=315360000".to_string()),
            [v] if v.starts_with('$') => None,
            [v] => seconds(v.trim_start_matches('+')).map(|s| format!("max-age={s}")).or_else(|| v.starts_with('-').then(|| "no-cache".to_string())),
            _ => None,
        };
        match value {
            Some(v) => match exp_groups.iter_mut().find(|(x, _, _)| *x == v) {
                Some(g) => {
                    g.1.push(u);
                    g.2.push(d);
                }
                None => exp_groups.push((v, vec![u], vec![d])),
            },
            None => report.note(d, Outcome::NotTranslatable, &[], "expires by variable (per response type): set Cache-Control at the origin or add cache rules"),
        }
    }
    for (value, members, dirs) in exp_groups {
        let mut ids = Vec::new();
        for (sel, _) in selectors(&members, report) {
            let id = doc.id(&slug(&format!("expires-{}", members[0].slug)));
            doc.respond.push(json!({ "id": id, "when": when_base(&sel), "action": "headers", "params": { "set": { "cache-control": value } } }));
            ids.push(id);
        }
        for d in dirs {
            report.note(d, Outcome::Differs, &ids, "Cache-Control set on every response of the location; nginx sets it (and Expires) on 2xx/3xx only");
        }
    }
}

/// The line for a directive nothing above translated.
fn classify_default(d: &Directive, report: &mut Report) {
    let name = d.name.as_str();
    let (outcome, detail) = match name {
        n if n.starts_with("ssl_") || n == "ssl" || n.starts_with("http2") || n == "http3" || n == "quic_retry" => (Outcome::Cloudflare, "TLS, HTTP/2 and HTTP/3 are Cloudflare's (edge certificates)"),
        n if n.starts_with("gzip") || n.starts_with("brotli") || n.starts_with("zstd") => (Outcome::Cloudflare, "compression is Cloudflare's"),
        "resolver" | "resolver_timeout" => (Outcome::Cloudflare, "DNS is Cloudflare's"),
        "access_log" | "error_log" | "log_format" | "log_not_found" | "open_log_file_cache" => (Outcome::Cloudflare, "the edge logs one JSON line per request (Workers Logs / Logpush)"),
        "user" | "worker_processes" | "worker_rlimit_nofile" | "worker_connections" | "events" | "pid" | "pcre_jit" | "multi_accept" | "use" | "sendfile" | "tcp_nopush"
        | "tcp_nodelay" | "keepalive_timeout" | "keepalive_requests" | "types_hash_max_size" | "server_names_hash_bucket_size" | "include" | "daemon"
        | "master_process" | "client_body_buffer_size" | "client_header_buffer_size" | "client_body_timeout" | "client_header_timeout" | "send_timeout"
        | "reset_timedout_connection" | "open_file_cache" | "open_file_cache_valid" | "open_file_cache_min_uses" | "open_file_cache_errors"
        | "proxy_temp_path" | "client_body_temp_path" | "proxy_cache_path" | "lingering_close" | "lingering_time" => {
            (Outcome::NotNeeded, "process and connection tuning: the Workers runtime's")
        }
        "types" | "default_type" | "charset" | "charset_types" | "source_charset" => (Outcome::NotNeeded, "media types come from the origin"),
        "server_tokens" => (Outcome::NotNeeded, "the edge sends no version banner; a headers rule can remove the origin's Server"),
        "real_ip_header" | "set_real_ip_from" | "real_ip_recursive" => (Outcome::NotNeeded, "the edge reads the client address from Cloudflare (CF-Connecting-IP)"),
        "limit_conn" | "limit_conn_zone" | "limit_conn_status" | "limit_rate" | "limit_rate_after" => {
            (Outcome::NotTranslatable, "no connection counts at the edge: use a limit rule (requests per period) instead")
        }
        "auth_basic" | "auth_basic_user_file" => (Outcome::NotTranslatable, "no Basic auth at the edge: use a jwt rule or Cloudflare Access"),
        "auth_request" => (Outcome::NotTranslatable, "use a jwt rule in the authenticate phase"),
        "rewrite" => (Outcome::NotTranslatable, "the edge does not rewrite paths: use Cloudflare Transform Rules or do it at the origin"),
        "root" | "index" | "try_files" | "alias" | "autoindex" => (Outcome::NotTranslatable, "static files are served by the origin (or Workers static assets), not this edge"),
        "error_page" => (Outcome::NotTranslatable, "error pages come from the origin; edge-made answers have a small JSON body"),
        "location" | "server" | "http" | "upstream" | "if" | "map" | "geo" => (Outcome::NotNeeded, "structure"),
        "expires" | "add_header" => (Outcome::NotTranslatable, "not reached by any translated location"),
        "server_name" => (Outcome::NotNeeded, "names of a server not translated"),
        "listen" => (Outcome::Cloudflare, "Cloudflare terminates the connections"),
        "proxy_pass" | "proxy_set_header" | "proxy_http_version" | "proxy_buffering" => (Outcome::NotNeeded, "see the location's route"),
        "client_max_body_size" | "limit_req" | "limit_req_status" | "allow" | "deny" => (Outcome::NotTranslatable, "not reached by any translated location"),
        n if n.ends_with("_by_lua_block") || n.ends_with("_by_lua") || n.ends_with("_by_lua_file") => (Outcome::NotTranslatable, "Lua code: port it to a rule or to the origin"),
        _ => (Outcome::NotTranslatable, "no edge equivalent known"),
    };
    report.note(d, outcome, &[], detail);
}
