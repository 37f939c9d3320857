//! [`WorkerIo`]: the phases' view of workerd's bindings. Each capability
//! implements its phase's trait for it in its own shell file.

use worker::Env;

use crate::phases::{authenticate, limit};

pub struct WorkerIo<'a> {
    pub env: &'a Env,
}

impl authenticate::Keys for WorkerIo<'_> {}

impl limit::Counters for WorkerIo<'_> {}
