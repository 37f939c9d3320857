//! The document's `exclusions` (and `categories` switches) as CRS rule
//! exclusions, written the way CRS documents them: a path-scoped exclusion is a
//! phase-1 rule with `ctl:ruleRemoveById` / `ctl:ruleRemoveTargetById` placed
//! before the rules (REQUEST-900 style); a global one is `SecRuleRemoveById` /
//! `SecRuleUpdateTargetById` after them (RESPONSE-999 style).
//!
//! zentinel-modsec has no `ruleRemoveByTag` / `ctl:ruleRemoveTargetByTag`, so
//! tags and categories are resolved to rule ids here, from the loaded rules.

use crate::waf::{Category, Exclusion};

use super::load::RuleMeta;
use super::{CrsError, Settings};

/// Rule ids that can be excluded: the detection rules, not CRS's own
/// initialisation (901), common exceptions (905) or scoring (949).
fn detection(id: u64) -> bool {
    (910_000..949_000).contains(&id)
}

/// The CRS tag that stands for an edge category, where CRS has one.
pub fn category_tag(c: Category) -> Option<&'static str> {
    Some(match c {
        Category::Sqli => "attack-sqli",
        Category::Xss => "attack-xss",
        Category::Traversal => "attack-lfi",
        Category::Rce => "attack-rce",
        Category::Ssti => "attack-ssti",
        Category::Crlf => "attack-protocol",
        _ => return None,
    })
}

/// `942100` or `942100-942199`.
pub(crate) fn id_matches(selector: &str, id: u64) -> bool {
    match selector.split_once('-') {
        Some((lo, hi)) => match (lo.trim().parse::<u64>(), hi.trim().parse::<u64>()) {
            (Ok(lo), Ok(hi)) => (lo..=hi).contains(&id),
            _ => false,
        },
        None => selector.trim().parse::<u64>().is_ok_and(|s| s == id),
    }
}

/// Is `selector` a rule id or id range (so validation can tell edge ids apart)?
pub fn is_id_selector(selector: &str) -> bool {
    let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match selector.split_once('-') {
        Some((lo, hi)) => num(lo) && num(hi),
        None => num(selector),
    }
}

/// The SecLang variable(s) for one document target (`query:id`, `header:x`,
/// `cookie:sid`, `body:user.name`, `path`, `body`), or a SecLang target given
/// as is (`ARGS:id`, `REQUEST_HEADERS:User-Agent`).
pub fn seclang_targets(target: &str) -> Result<Vec<String>, String> {
    let bad = |why: &str| Err(format!("target {target:?}: {why}"));
    if target.contains(['"', '\'', ',', ' ', '|', '\\']) || target.chars().any(char::is_control) {
        return bad("quotes, commas, spaces, `|` and `\\` are not allowed in a CRS target");
    }
    if target.ends_with('*') {
        return bad("CRS exclusions name one variable; prefixes (`*`) are for the edge's own rules");
    }
    let out = match target.split_once(':') {
        // The rules read the decoded path from here (see `captures::path`).
        None if target == "path" => vec![format!("TX:{}", super::captures::FILENAME_TX)],
        // The rules read the raw body from here (see `captures::request_body`).
        None if target == "body" => vec![format!("TX:{}", super::captures::REQUEST_BODY_TX)],
        Some(("query", name)) if !name.is_empty() => vec![format!("ARGS:{name}")],
        // Form fields are `ARGS:name`; JSON fields `ARGS:json.a.b` (ModSecurity's naming).
        Some(("body", name)) if !name.is_empty() => vec![format!("ARGS:{name}"), format!("ARGS:json.{name}")],
        Some(("header", name)) if !name.is_empty() => vec![format!("REQUEST_HEADERS:{name}")],
        Some(("cookie", name)) if !name.is_empty() => vec![format!("REQUEST_COOKIES:{name}"), format!("REQUEST_COOKIES_NAMES:{name}")],
        // The rules read argument names as ARGS_GET_NAMES|ARGS_POST_NAMES (see `captures::xml_paths`).
        Some(("ARGS_NAMES", name)) if !name.is_empty() => vec![target.to_string(), format!("ARGS_GET_NAMES:{name}"), format!("ARGS_POST_NAMES:{name}")],
        Some((collection, name))
            if !name.is_empty()
                && matches!(
                    collection,
                    "ARGS" | "ARGS_GET" | "ARGS_POST" | "ARGS_NAMES" | "REQUEST_HEADERS" | "REQUEST_COOKIES" | "REQUEST_COOKIES_NAMES"
                ) =>
        {
            vec![target.to_string()]
        }
        _ => return bad("expected query:NAME, body:NAME, header:NAME, cookie:NAME, path, body, or ARGS:NAME-style SecLang"),
    };
    Ok(out)
}

/// A path glob (`*` = any run, prefix match) as an anchored regex.
fn glob_regex(glob: &str) -> String {
    let parts: Vec<String> = glob.split('*').map(regex_syntax::escape).collect();
    format!("^{}", parts.join(".*"))
}

/// Check the parts of an exclusion the CRS mapping needs (used by validation).
pub fn check(e: &Exclusion) -> Result<(), String> {
    for t in e.targets.iter().flatten() {
        seclang_targets(t)?;
    }
    for p in e.paths.iter().flatten() {
        if p.contains(['"', '\'', ',', '\\']) || p.chars().any(char::is_whitespace) {
            return Err(format!("path {p:?}: quotes, commas, backslashes and spaces are not allowed"));
        }
    }
    Ok(())
}

/// The rule ids `e` selects: every field given must match (AND); within a list, any (OR).
fn selected(e: &Exclusion, rules: &[RuleMeta]) -> Vec<u64> {
    rules
        .iter()
        .filter(|r| detection(r.id))
        .filter(|r| e.rule_ids.as_ref().is_none_or(|ids| ids.iter().any(|s| id_matches(s, r.id))))
        .filter(|r| {
            e.categories.as_ref().is_none_or(|cs| {
                cs.iter().filter_map(|c| category_tag(*c)).any(|tag| r.tags.iter().any(|t| t == tag))
            })
        })
        .filter(|r| e.tags.as_ref().is_none_or(|ts| ts.iter().any(|tag| r.tags.iter().any(|t| t == tag))))
        .map(|r| r.id)
        .collect()
}

/// The categories `s` switches off, as one exclusion of their rules.
fn switched_off(s: &Settings) -> Option<Exclusion> {
    let off: Vec<Category> = Category::ALL.into_iter().filter(|c| !s.categories.enabled(*c)).collect();
    (!off.is_empty()).then(|| Exclusion { categories: Some(off), ..Default::default() })
}

/// Every rule id an exclusion or a switched-off category of `s` selects, sorted.
pub(crate) fn selected_by_any(s: &Settings, rules: &[RuleMeta]) -> Vec<u64> {
    let off = switched_off(s);
    let mut ids: Vec<u64> = s.exclusions.iter().chain(off.as_ref()).flat_map(|e| selected(e, rules)).collect();
    ids.sort_unstable();
    ids
}

/// SecLang text placed before and after the rules.
pub(crate) fn seclang(s: &Settings, rules: &[RuleMeta]) -> Result<(String, String), CrsError> {
    let (mut before, mut after) = (String::new(), String::new());
    // A category switched off removes its CRS rules everywhere.
    if let Some(e) = switched_off(s) {
        remove_ids(&mut after, &selected(&e, rules));
    }
    let mut next_id = 9_000_000u64; // outside CRS's and the plugins' id ranges
    for e in &s.exclusions {
        check(e).map_err(CrsError::Config)?;
        let ids = selected(e, rules);
        let whole = e.rule_ids.is_none() && e.categories.is_none() && e.tags.is_none();
        let targets: Vec<String> = match &e.targets {
            Some(ts) => ts.iter().map(|t| seclang_targets(t)).collect::<Result<Vec<_>, _>>().map_err(CrsError::Config)?.concat(),
            None => Vec::new(),
        };
        match &e.paths {
            None if targets.is_empty() => remove_ids(&mut after, &ids),
            None => {
                for id in &ids {
                    let list: Vec<String> = targets.iter().map(|t| format!("!{t}")).collect();
                    after.push_str(&format!("SecRuleUpdateTargetById {id} \"{}\"\n", list.join("|")));
                }
            }
            Some(paths) => {
                let ctls: Vec<String> = if whole && targets.is_empty() {
                    vec!["ctl:ruleEngine=Off".to_string()]
                } else if targets.is_empty() {
                    ids.iter().map(|id| format!("ctl:ruleRemoveById={id}")).collect()
                } else {
                    ids.iter().flat_map(|id| targets.iter().map(move |t| format!("ctl:ruleRemoveTargetById={id};{t}"))).collect()
                };
                if ctls.is_empty() {
                    continue;
                }
                let re: Vec<String> = paths.iter().map(|p| glob_regex(p)).collect();
                next_id += 1;
                before.push_str(&format!(
                    "SecRule REQUEST_FILENAME \"@rx (?:{})\" \"id:{next_id},phase:1,pass,t:none,nolog,{}\"\n",
                    re.join("|"),
                    ctls.join(",")
                ));
            }
        }
    }
    Ok((before, after))
}

fn remove_ids(out: &mut String, ids: &[u64]) {
    for chunk in ids.chunks(32) {
        let list: Vec<String> = chunk.iter().map(u64::to_string).collect();
        out.push_str(&format!("SecRuleRemoveById {}\n", list.join(" ")));
    }
}
