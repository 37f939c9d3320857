//! [`WorkerIo`]: the phases' view of workerd's bindings. Each capability
//! implements its phase's trait for it in its own shell file
//! (`limit.rs`: [`Counters`](crate::phases::limit::Counters);
//! `jwks.rs`: [`Keys`](crate::phases::authenticate::Keys); `filter::Secrets` here).

use worker::Env;

use crate::challenge;
use crate::phases::filter;

pub struct WorkerIo<'a> {
    pub env: &'a Env,
}

impl filter::Secrets for WorkerIo<'_> {
    fn challenge_key(&self) -> Option<Vec<u8>> {
        self.env.secret(challenge::SECRET_NAME).ok().map(|s| s.to_string().into_bytes())
    }
}
