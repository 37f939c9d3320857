//! The baseline the edge is measured against under load (`scripts/load.sh`):
//! the least a Rust worker can do in front of an origin, forward the request
//! as it came (method, headers, body stream) to `ORIGIN` and return the
//! response as it streams.
#![cfg(target_arch = "wasm32")]

use worker::*;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let origin = env.var("ORIGIN")?.to_string();
    let url = req.url()?;
    let target = match url.query() {
        Some(q) => format!("{origin}{}?{q}", url.path()),
        None => format!("{origin}{}", url.path()),
    };
    let mut init = RequestInit::new();
    init.with_method(req.method()).with_headers(req.headers().clone()).with_body(req.inner().body().map(Into::into));
    Fetch::Request(Request::new_with_init(&target, &init)?).send().await
}
