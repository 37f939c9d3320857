//! `limit`: rate limiting (GCRA, see [`crate::limit`]). Pass-through until its
//! rules exist.

use serde_json::Value;

use crate::pipeline::{Ctx, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::validate::{Errors, PhaseAction};
use crate::rules::{JsonPath, Rules};

/// The actions of the limit phase.
#[derive(Debug, Clone, PartialEq)]
pub enum LimitAction {}

impl PhaseAction for LimitAction {
    const PHASE: &'static str = "limit";
    const ACTIONS: &'static [&'static str] = &[];

    fn compile(_action: &str, _p: &Value, _path: &JsonPath, _errors: &mut Errors) -> Option<Self> {
        None
    }
}

/// The counter stores the limit phase needs from the shell (Durable Objects,
/// the Rate Limiting binding) or from tests (memory).
#[allow(async_fn_in_trait)]
pub trait Counters {}

pub async fn run<C: Counters>(_rules: &Rules, _req: &RequestInfo, ctx: &mut Ctx, _io: &C) -> Verdict {
    ctx.record(Phase::Limit, "continue", None, None);
    Verdict::Continue
}
