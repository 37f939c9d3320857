//! [`WorkerIo`]: the phases' view of workerd's bindings. Each capability
//! implements its phase's trait for it in its own shell file
//! (`authenticate::Keys`: `jwks.rs`).

use worker::Env;

use crate::phases::limit;

pub struct WorkerIo<'a> {
    pub env: &'a Env,
}

impl limit::Counters for WorkerIo<'_> {}
