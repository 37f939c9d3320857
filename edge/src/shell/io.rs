//! [`WorkerIo`]: the phases' view of workerd's bindings. Each capability
//! implements its phase's trait for it in its own shell file (`limit.rs`:
//! [`Counters`](crate::phases::limit::Counters)).

use worker::Env;

use crate::phases::authenticate;

pub struct WorkerIo<'a> {
    pub env: &'a Env,
}

impl authenticate::Keys for WorkerIo<'_> {}
