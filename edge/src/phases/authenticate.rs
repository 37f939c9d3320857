//! `authenticate`: JWT validation (see [`crate::auth`]). Pass-through until
//! its rules exist.

use serde_json::Value;

use crate::pipeline::{Ctx, Phase, Verdict};
use crate::request::RequestInfo;
use crate::rules::validate::{Errors, PhaseAction};
use crate::rules::{JsonPath, Rules};

/// The actions of the authenticate phase.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthAction {}

impl PhaseAction for AuthAction {
    const PHASE: &'static str = "authenticate";
    const ACTIONS: &'static [&'static str] = &[];

    fn compile(_action: &str, _p: &Value, _path: &JsonPath, _errors: &mut Errors) -> Option<Self> {
        None
    }
}

/// Key material the phase needs from the shell (JWKS fetches, Worker secrets)
/// or from tests.
#[allow(async_fn_in_trait)]
pub trait Keys {}

pub async fn run<K: Keys>(_rules: &Rules, _req: &RequestInfo, ctx: &mut Ctx, _io: &K) -> Verdict {
    ctx.record(Phase::Authenticate, "continue", None, None);
    Verdict::Continue
}
