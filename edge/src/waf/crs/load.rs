//! Turns the shipped CRS files plus one `waf` config into a compiled
//! zentinel-modsec ruleset, fixing on the way what the engine gets wrong for
//! stock CRS (each fix names the upstream change that would make it needless).

use zentinel_modsec::parser::{Action, DataAction, Directive, DisruptiveAction, FlowAction, MetadataAction, OperatorName, Parser, SecRule};
use zentinel_modsec::{CompiledRuleset, ModSecurity};

use super::bundle;
use super::known;
use super::captures;
use super::exclusions;
use super::paranoia;
use super::{CrsError, Settings};

/// One CRS rule as loaded: its id and tags (what exclusions select by).
#[derive(Debug, Clone)]
pub(crate) struct RuleMeta {
    pub id: u64,
    pub tags: Vec<String>,
}

/// Something the loader changed or dropped, reported by tests and docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadNote {
    pub rule_id: u64,
    pub note: String,
}

pub(crate) struct Loaded {
    pub modsec: ModSecurity,
    pub notes: Vec<LoadNote>,
    pub probes: captures::Probes,
    /// See [`reported_ids`].
    pub reported: Vec<u64>,
}

/// Engine mode, paranoia and threshold, in CRS's own variables (what an
/// operator would write in `crs-setup.conf`).
fn settings_text(s: &Settings) -> String {
    format!(
        "SecAction \"id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level={p}\"\n\
         SecAction \"id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold={t},setvar:tx.outbound_anomaly_score_threshold=4\"\n",
        p = s.paranoia.clamp(1, 4),
        t = s.threshold.max(1),
    )
}

pub(crate) fn load(s: &Settings) -> Result<Loaded, CrsError> {
    // The shipped patterns were parsed and factored before the build
    // (`known.rs`): a cold isolate skips that work for every stock rule.
    zentinel_modsec::engine::use_known_analyses(known::KNOWN);
    let mut head = String::from("SecRuleEngine On\nSecRequestBodyAccess On\n");
    head.push_str(bundle::SETUP);
    head.push('\n');
    head.push_str(&settings_text(s));
    head.push_str(&s.extra_setup);
    head.push('\n');
    // The exclusions go between setup and rules (path-scoped `ctl`s, like
    // REQUEST-900) and after the rules (global removals, like RESPONSE-999),
    // so count the setup's directives to know where "between" is.
    let head_len = parse(&head)?.len();
    let mut text = head;
    for (_, rules) in bundle::RULES {
        text.push_str(rules);
        text.push('\n');
    }
    let mut directives = parse(&text)?;
    let mut notes = Vec::new();
    for d in directives.iter_mut().skip(head_len) {
        if let Directive::SecRule(rule) = d {
            fix_rule(rule, &mut notes)?;
        }
    }
    let head_len = head_len.min(directives.len());
    // Before the rewrites below, so nothing is built for a rule the level
    // rules out (`paranoia.rs`).
    if !s.keep_paranoia_gates {
        if let Some(levels) = paranoia::fixed_levels(&directives[..head_len], &directives[head_len..]) {
            let pinned = exclusions::selected_by_any(s, &metadata(&directives[head_len..]));
            let mut rules = directives.split_off(head_len);
            paranoia::fold(&directives, &mut rules, levels, &pinned, &mut notes);
            directives.extend(rules);
        }
    }
    let xml_path_rules = captures::xml_paths(&mut directives[head_len..], &mut notes);
    let probes = captures::rewrite(&mut directives[head_len..], &mut notes)?;
    // Order matters: the hoist copies only the starters' own setvars, so it
    // runs before the links' actions move up.
    let mut directives = hoist_chain_setvars(directives, &mut notes);
    run_link_actions_on_completion(&mut directives[head_len..], &mut notes);
    let reported = reported_ids(&directives[head_len..]);
    let rules = metadata(&directives[head_len..]);
    let (before, after) = exclusions::seclang(s, &rules)?;
    let mut before = parse(&before)?;
    before.extend(parse(&captures::xml_paths_rule(&xml_path_rules))?);
    let after = parse(&after)?;
    let tail = directives.split_off(head_len);
    directives.extend(before);
    directives.extend(tail);
    directives.extend(after);
    let ruleset = CompiledRuleset::compile(directives).map_err(|e| CrsError::Load(e.to_string()))?;
    Ok(Loaded { modsec: ModSecurity::new(ruleset), notes, probes, reported })
}

/// The ids of the rules a verdict reports when they fire: CRS's own rules,
/// not the setup's, the exclusions' or the loader's shadow copies; sorted.
///
/// Which rules fired is the engine's `matched_rules`, which records a chain
/// under its starter only once the whole chain matched (vendor PATCHES.md;
/// the loader used to add a `setvar` marker to every rule to find out).
fn reported_ids(directives: &[Directive]) -> Vec<u64> {
    let mut ids: Vec<u64> = directives
        .iter()
        .filter_map(|d| match d {
            Directive::SecRule(r) => rule_id(r).filter(|id| *id < SHADOW_ID_BASE),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn parse(text: &str) -> Result<Vec<Directive>, CrsError> {
    let mut p = Parser::new();
    p.parse(text).map_err(|e| CrsError::Load(e.to_string()))?;
    Ok(p.into_directives())
}

pub(crate) fn rule_id(rule: &SecRule) -> Option<u64> {
    rule.actions.iter().find_map(|a| match a {
        Action::Metadata(MetadataAction::Id(id)) => Some(*id),
        _ => None,
    })
}

fn metadata(directives: &[Directive]) -> Vec<RuleMeta> {
    directives
        .iter()
        .filter_map(|d| match d {
            Directive::SecRule(r) => Some(&r.actions),
            Directive::SecAction(a) => Some(&a.actions),
            _ => None,
        })
        .filter_map(|actions| {
            let id = actions.iter().find_map(|a| match a {
                Action::Metadata(MetadataAction::Id(id)) => Some(*id),
                _ => None,
            })?;
            let tags = actions
                .iter()
                .filter_map(|a| match a {
                    Action::Metadata(MetadataAction::Tag(t)) => Some(t.clone()),
                    _ => None,
                })
                .collect();
            Some(RuleMeta { id, tags })
        })
        .collect()
}

/// Shadow rules carry a hoisted chain-starter `setvar` (see [`hoist_chain_setvars`]).
const SHADOW_ID_BASE: u64 = 90_000_000;

/// Run a chain starter's own bookkeeping `setvar`s as soon as the starter
/// matches, as ModSecurity does.
///
/// zentinel holds *all* of a chain starter's actions until the whole chain has
/// matched, so a later link that reads what the starter set (931130 reads
/// `tx.rfi_parameter_*`, 920420 `tx.content_type`, 943110
/// `tx.943110_matched_var_name`, …) never matches and the rule never fires.
/// The fix: a pass-through copy of the starter (same variables, operator,
/// transformations, `capture`) placed just before it, carrying only the
/// setvars that are not scores. Scores stay where they are, applied only when
/// the chain completes. Upstream fix: apply non-disruptive actions of a chain
/// link when that link matches.
fn hoist_chain_setvars(directives: Vec<Directive>, notes: &mut Vec<LoadNote>) -> Vec<Directive> {
    let mut out = Vec::with_capacity(directives.len() + 32);
    for d in directives {
        if let Directive::SecRule(r) = &d {
            let chain = r.actions.iter().any(|a| matches!(a, Action::Flow(FlowAction::Chain)));
            let id = rule_id(r);
            let bookkeeping: Vec<Action> = r
                .actions
                .iter()
                .filter(|a| matches!(a, Action::Data(DataAction::SetVar(v)) if !v.key.to_ascii_lowercase().contains("score")))
                .cloned()
                .collect();
            if let (true, Some(id), false) = (chain, id, bookkeeping.is_empty()) {
                if id < SHADOW_ID_BASE {
                    let mut actions = vec![Action::Metadata(MetadataAction::Id(SHADOW_ID_BASE + id))];
                    actions.extend(r.actions.iter().filter(|a| {
                        matches!(a, Action::Metadata(MetadataAction::Phase(_)) | Action::Transformation(_) | Action::Data(DataAction::Capture) | Action::Flow(FlowAction::MultiMatch))
                    }).cloned());
                    actions.push(Action::Disruptive(DisruptiveAction::Pass));
                    actions.extend(bookkeeping);
                    out.push(Directive::SecRule(SecRule {
                        variables: r.variables.clone(),
                        operator: r.operator.clone(),
                        actions,
                        location: r.location.clone(),
                    }));
                    notes.push(LoadNote { rule_id: id, note: "chain starter's setvars hoisted into a pass-through copy".into() });
                }
            }
        }
        out.push(d);
    }
    out
}

/// Give a chain's links' `setvar`s and `ctl`s to its starter.
///
/// zentinel runs only the starter's actions when a chain completes and drops
/// every link's, but CRS 4 puts a chained rule's score on its last link
/// (`setvar:tx.inbound_anomaly_score_pl1=+…` in 920360's, 942440's, …), so no
/// chained rule ever added to the anomaly score: a wrong blocking decision.
/// ModSecurity runs a link's actions when that link matches; for the last
/// link that is when the chain completes, which is when the starter's held
/// actions run here. Upstream fix: run each link's non-disruptive actions when
/// it matches.
fn run_link_actions_on_completion(directives: &mut [Directive], notes: &mut Vec<LoadNote>) {
    let mut starter: Option<usize> = None;
    for i in 0..directives.len() {
        let Directive::SecRule(r) = &directives[i] else { continue };
        let chains = r.actions.iter().any(|a| matches!(a, Action::Flow(FlowAction::Chain)));
        let Some(s) = starter else {
            if chains {
                starter = Some(i);
            }
            continue;
        };
        let moved: Vec<Action> = r.actions.iter().filter(|a| matches!(a, Action::Data(DataAction::SetVar(_)) | Action::Control(_))).cloned().collect();
        if !chains {
            starter = None;
        }
        if moved.is_empty() {
            continue;
        }
        if let Directive::SecRule(head) = &mut directives[s] {
            head.actions.extend(moved);
            if let Some(id) = rule_id(head) {
                notes.push(LoadNote { rule_id: id, note: "chain links' setvars hoisted onto the starter, run when the chain completes".into() });
            }
        }
    }
}

/// Per-rule fixes for stock CRS on this engine.
fn fix_rule(rule: &mut SecRule, notes: &mut Vec<LoadNote>) -> Result<(), CrsError> {
    let id = rule_id(rule).unwrap_or(0);
    // zentinel's `t:normalizePathWin` turns `/` into `\` (ModSecurity turns `\`
    // into `/` and then normalises), so `/etc/passwd` never matches a list of
    // forward-slash paths. Upstream fix: swap the direction. Here: plain
    // `normalizePath`, and the word list below matches either slash.
    let mut either_slash = false;
    for a in rule.actions.iter_mut() {
        if let Action::Transformation(t) = a {
            if t.eq_ignore_ascii_case("normalizePathWin") {
                *t = "normalizePath".to_string();
                either_slash = true;
            }
        }
    }
    if rule.operator.name == OperatorName::PmFromFile {
        // No filesystem in a Worker: the list ships in the bundle. A phrase
        // list becomes one case-insensitive alternation of literals (`@pm` on
        // words would split phrases such as `Mozilla/4.0 (Hydra)` and match
        // every browser). Upstream: a data-file provider instead of `std::fs`.
        let name = rule.operator.argument.trim().to_string();
        let list = bundle::data(&name).ok_or_else(|| CrsError::Load(format!("rule {id}: data file {name} is not bundled")))?;
        rule.operator.name = OperatorName::Rx;
        rule.operator.argument = phrase_regex(list, either_slash);
        notes.push(LoadNote { rule_id: id, note: format!("@pmFromFile {name} inlined as a literal alternation") });
    }
    // Every CRS 4 regex is accepted by the `regex` crate (linear time, no
    // backtracking); one that were not would fail the load in the engine's
    // own syntax check (`RxOperator::new`), never run on a backtracking
    // engine. Not checked twice here: parsing the patterns is most of the
    // compile.
    Ok(())
}

/// A `@pmFromFile` list as an `@rx` alternation: ASCII case-insensitive,
/// literals only, optionally with `/` standing for either slash.
pub(crate) fn phrase_regex(list: &str, either_slash: bool) -> String {
    let alternatives: Vec<String> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let escaped = regex_syntax::escape(l);
            if either_slash {
                escaped.replace('/', r"[/\\]")
            } else {
                escaped
            }
        })
        .collect();
    format!("(?i-u)(?:{})", alternatives.join("|"))
}
