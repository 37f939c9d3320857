//! `route`: pick the origin; the first matching rule wins, else
//! `settings.default_origin`.

use serde::Deserialize;
use serde_json::Value;

use crate::pipeline::{Ctx, Phase};
use crate::request::RequestInfo;
use crate::rules::validate::{params_required, Errors, PhaseAction};
use crate::rules::{JsonPath, Mode, Rules};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RouteAction {
    /// Send to the named entry of `origins`.
    Origin { origin: String },
}

impl PhaseAction for RouteAction {
    const PHASE: &'static str = "route";
    const ACTIONS: &'static [&'static str] = &["origin"];

    fn compile(_action: &str, p: &Value, path: &JsonPath, errors: &mut Errors) -> Option<Self> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct P {
            origin: String,
        }
        let p: P = params_required(p, path, errors)?;
        Some(Self::Origin { origin: p.origin })
    }
}

/// The chosen origin's name, or `None` when nothing routes this request.
pub fn run(rules: &Rules, req: &RequestInfo, ctx: &mut Ctx) -> Option<String> {
    for rule in rules.route.iter().filter(|r| r.when.matches(req)) {
        let RouteAction::Origin { origin } = &rule.action;
        if rule.mode == Mode::Log {
            ctx.record(Phase::Route, "origin", Some(&rule.id), Some("log only"));
            continue;
        }
        ctx.record(Phase::Route, "origin", Some(&rule.id), Some(origin));
        return Some(origin.clone());
    }
    let default = rules.settings.default_origin.clone();
    ctx.record(Phase::Route, if default.is_some() { "default" } else { "none" }, None, default.as_deref());
    default
}
