//! CRS's paranoia gates, decided once at load instead of on every request.
//!
//! Every CRS file opens each paranoia level's rules with a gate,
//! `SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" "…,skipAfter:END-…"`, and the
//! scoring file adds the levels' scores behind `@ge` rules. An engine's
//! paranoia level is fixed when it is loaded (a `waf` config builds its own
//! engine), so at paranoia 1 a GET evaluated 52 gates and matched 26 of them,
//! each a TX lookup, an integer compare, a skip and a few allocations; and
//! the level 2–4 rules behind them were compiled for nothing.
//!
//! Here a gate whose test is always false is dropped (it could only ever not
//! match), and one whose test is always true takes the rules it skips with
//! it. That is exact only while the level cannot change during a request, so
//! nothing is folded when anything but CRS's own initialisation writes it,
//! or writes it from a macro; a gate an exclusion or a `ctl` could remove
//! stays, with its rules, as does a gate whose rules a tag removal would not
//! remove with it.

use zentinel_modsec::parser::{Action, DataAction, Directive, DisruptiveAction, FlowAction, MetadataAction, OperatorName, Selection, SetVarValue, VariableName};

use super::exclusions;
use super::load::{rule_id, LoadNote};

const BLOCKING: &str = "blocking_paranoia_level";
const DETECTION: &str = "detection_paranoia_level";

fn actions(d: &Directive) -> &[Action] {
    match d {
        Directive::SecRule(r) => &r.actions,
        Directive::SecAction(a) => &a.actions,
        _ => &[],
    }
}

fn chains(d: &Directive) -> bool {
    matches!(d, Directive::SecRule(r) if r.is_chained())
}

/// 0 for a key that is no paranoia level, else which one (1 blocking, 2 detection).
fn level_key(key: &str) -> u8 {
    if key.eq_ignore_ascii_case(BLOCKING) {
        1
    } else if key.eq_ignore_ascii_case(DETECTION) {
        2
    } else {
        0
    }
}

/// The detection and blocking levels every request of this ruleset runs at,
/// when the setup (`head`) fixes them with plain `SecAction`s and the rules
/// leave them alone but for CRS's initialisation (901), which defaults the
/// blocking level to 1 and raises the detection level to the blocking one.
pub(crate) fn fixed_levels(head: &[Directive], rules: &[Directive]) -> Option<(u8, u8)> {
    let mut levels = [None, None];
    for (n, d) in head.iter().chain(rules).enumerate() {
        let setup = n < head.len();
        let initialisation = matches!(d, Directive::SecRule(r) if rule_id(r).is_some_and(|id| (901_000..902_000).contains(&id)));
        for a in actions(d) {
            let Action::Data(DataAction::SetVar(v)) = a else { continue };
            let which = level_key(&v.key);
            if which == 0 || !v.collection.eq_ignore_ascii_case("tx") || initialisation {
                continue;
            }
            match (&v.value, setup && matches!(d, Directive::SecAction(_))) {
                (SetVarValue::String(s), true) => levels[usize::from(which - 1)] = Some(s.trim().parse::<u8>().ok()?),
                _ => return None,
            }
        }
    }
    let blocking = levels[0].unwrap_or(1);
    Some((levels[1].unwrap_or(blocking).max(blocking), blocking))
}

/// What a level test decides: whether it holds, and for a gate the marker
/// it skips to and its phase.
struct Test<'a> {
    holds: bool,
    skip_after: Option<&'a str>,
    phase: u8,
}

/// `d` as a level test: one plain TX level variable compared with an
/// integer, no chain, and no action but metadata, logging, `pass`, `t:none`
/// and either `skipAfter` (a gate) or nothing; or, if its test never holds,
/// any actions (the rule is dead).
fn level_test(d: &Directive, levels: (u8, u8)) -> Option<Test<'_>> {
    let Directive::SecRule(r) = d else { return None };
    let ([v], false, false) = (&r.variables[..], r.is_chained(), r.operator.negated) else { return None };
    let Some(Selection::Key(key)) = &v.selection else { return None };
    let level = match level_key(key) {
        1 => levels.1,
        2 => levels.0,
        _ => return None,
    };
    if v.name != VariableName::Tx || v.count_mode || !v.exclusions.is_empty() {
        return None;
    }
    let n: u8 = r.operator.argument.trim().parse().ok()?;
    let holds = match r.operator.name {
        OperatorName::Lt => level < n,
        OperatorName::Le => level <= n,
        OperatorName::Gt => level > n,
        OperatorName::Ge => level >= n,
        OperatorName::Eq => level == n,
        _ => return None,
    };
    let mut test = Test { holds, skip_after: None, phase: phase_of(&r.actions) };
    let mut effects = false;
    for a in &r.actions {
        match a {
            Action::Flow(FlowAction::SkipAfter(m)) => test.skip_after = Some(m),
            // (Logging is the audit log's business; the edge keeps none.)
            Action::Metadata(_) | Action::Logging(_) | Action::Disruptive(DisruptiveAction::Pass) => {}
            Action::Transformation(t) if t.eq_ignore_ascii_case("none") => {}
            _ => effects = true,
        }
    }
    (!effects || !holds && test.skip_after.is_none()).then_some(test)
}

fn phase_of(actions: &[Action]) -> u8 {
    let phase = actions.iter().find_map(|a| match a {
        Action::Metadata(MetadataAction::Phase(p)) => Some(*p),
        _ => None,
    });
    phase.filter(|p| (1..=5).contains(p)).unwrap_or(2)
}

fn has_tag(d: &Directive, tag: &str) -> bool {
    actions(d).iter().any(|a| matches!(a, Action::Metadata(MetadataAction::Tag(t)) if t == tag))
}

/// What the `ctl`s of the setup and the rules may remove: rules by id
/// selector (`N`, `N-M`), and by tag or message.
struct Removals<'a> {
    ids: Vec<&'a str>,
    tags: Vec<&'a str>,
}

impl<'a> Removals<'a> {
    fn of(all: &[&'a [Directive]]) -> Self {
        let mut removals = Removals { ids: Vec::new(), tags: Vec::new() };
        for a in all.iter().flat_map(|ds| ds.iter()).flat_map(actions) {
            let Action::Control(c) = a else { continue };
            if c.directive.eq_ignore_ascii_case("ruleRemoveById") {
                removals.ids.extend(c.value.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()));
            } else if c.directive.eq_ignore_ascii_case("ruleRemoveByTag") || c.directive.eq_ignore_ascii_case("ruleRemoveByMsg") {
                removals.tags.push(c.value.trim());
            }
        }
        removals
    }

    /// Could rule `id` be removed by id? A selector this cannot read could
    /// name any rule.
    fn may_remove(&self, id: u64) -> bool {
        self.ids.iter().any(|s| !exclusions::is_id_selector(s) || exclusions::id_matches(s, id))
    }
}

/// Folds the level tests of `rules` (CRS's rules, after the setup `head`)
/// at the fixed `levels` (detection, blocking); `pinned` (sorted) are the
/// rule ids an exclusion selects, whose gates stay, as do those a `ctl` of
/// either may remove.
pub(crate) fn fold(head: &[Directive], rules: &mut Vec<Directive>, levels: (u8, u8), pinned: &[u64], notes: &mut Vec<LoadNote>) {
    let removals = Removals::of(&[head, rules]);
    let mut drop = vec![false; rules.len()];
    for i in 0..rules.len() {
        // A link's test is part of its chain's, never decided alone; a rule
        // a gate already took needs no decision.
        if drop[i] || (i > 0 && chains(&rules[i - 1])) {
            continue;
        }
        let Some(test) = level_test(&rules[i], levels) else { continue };
        let Some(id) = (match &rules[i] {
            Directive::SecRule(r) => rule_id(r).filter(|id| pinned.binary_search(id).is_err() && !removals.may_remove(*id)),
            _ => None,
        }) else {
            continue;
        };
        let mut taken = vec![i];
        if let (true, Some(marker)) = (test.holds, test.skip_after) {
            let Some(end) = (i + 1..rules.len()).find(|&j| matches!(&rules[j], Directive::SecMarker(m) if m.name == marker)) else { continue };
            // The rules of the gate's phase up to the marker, whole chains.
            let mut phase = 0;
            for j in i + 1..end {
                if !chains(&rules[j - 1]) {
                    phase = if matches!(rules[j], Directive::SecRule(_) | Directive::SecAction(_)) { phase_of(actions(&rules[j])) } else { 0 };
                    // A tag removal that takes the gate must take its rules too.
                    if phase == test.phase && removals.tags.iter().any(|t| has_tag(&rules[i], t) && !has_tag(&rules[j], t)) {
                        taken.clear();
                        break;
                    }
                }
                if phase == test.phase {
                    taken.push(j);
                }
            }
        }
        if !taken.is_empty() {
            let note = if taken.len() > 1 { "paranoia gate folded: always true here, its rules dropped" } else { "paranoia test folded: decided at load" };
            notes.push(LoadNote { rule_id: id, note: note.into() });
        }
        for j in taken {
            drop[j] = true;
        }
    }
    let mut keep = drop.iter().map(|d| !d);
    rules.retain(|_| keep.next().unwrap_or(true));
}
