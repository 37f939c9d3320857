//! `normalize`: refuse requests the later phases cannot reason about.

use crate::pipeline::{Ctx, EdgeResponse, Phase, Verdict};
use crate::request::RequestInfo;

/// Longest URL (path + query) accepted; nginx's default header buffers refuse
/// more than 8 KB on the request line, and so do we.
pub const MAX_URL_BYTES: usize = 8 * 1024;

pub fn run(req: &RequestInfo, ctx: &mut Ctx) -> Verdict {
    let url_len = req.path.len() + req.query.as_deref().map_or(0, str::len);
    let fault = if !req.path.starts_with('/') {
        Some("path must start with '/'")
    } else if url_len > MAX_URL_BYTES {
        Some("URL too long")
    } else if req.host.is_empty() {
        Some("missing host")
    } else {
        None
    };
    match fault {
        Some(why) => {
            ctx.record(Phase::Normalize, "reject", None, Some(why));
            let status = if url_len > MAX_URL_BYTES { 414 } else { 400 };
            Verdict::Respond(EdgeResponse::error(status, why, None, &ctx.request_id))
        }
        None => {
            ctx.record(Phase::Normalize, "continue", None, None);
            Verdict::Continue
        }
    }
}
