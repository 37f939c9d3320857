//! [`WorkerIo`]: the phases' view of workerd's bindings. Each capability
//! implements its phase's trait for it in its own shell file
//! (`limit.rs`: [`Counters`](crate::phases::limit::Counters);
//! `jwks.rs`: [`Keys`](crate::phases::authenticate::Keys)).

use worker::Env;

pub struct WorkerIo<'a> {
    pub env: &'a Env,
}
