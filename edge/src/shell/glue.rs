//! Bindings to `glue.js`: one JS↔wasm call per request read, per signed
//! upstream attempt and per response (framing in [`crate::wire`]).

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen(module = "/src/shell/glue.js")]
extern "C" {
    /// The request's method, URL, `request.cf` fields and headers as one string.
    pub fn request_parts(req: &worker::web_sys::Request) -> String;

    /// A Promise of the origin's `Response`; rejects with `"timeout"`,
    /// `"connect"`, `"bad_header"`, or `"sign"` when `seed` is given and
    /// WebCrypto could not sign `base` with it (see `glue.js`).
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        url: &str,
        method: &str,
        header_lines: &str,
        body: &JsValue,
        timeout_ms: f64,
        controller: Option<&worker::web_sys::AbortController>,
        seed: Option<&str>,
        base: &[u8],
        signature_input: &str,
        signature_label: &str,
    ) -> worker::js_sys::Promise;

    /// The client's Response: `resp` with a mutable copy of its headers and
    /// these framed edits applied.
    pub fn finish(resp: &worker::web_sys::Response, op_lines: &str) -> worker::web_sys::Response;

    /// A Response the edge makes: status, framed header lines, body.
    pub fn respond(status: u16, header_lines: &str, body: &[u8]) -> worker::web_sys::Response;

    /// `stream` through a byte counter (`counter.seen`) that aborts
    /// `controller` and errors the stream past `limit` bytes.
    pub fn count_limited(
        stream: &worker::web_sys::ReadableStream,
        limit: f64,
        controller: &worker::web_sys::AbortController,
        counter: &worker::js_sys::Object,
    ) -> worker::web_sys::ReadableStream;

    /// Applies framed header edits in place.
    pub fn edit_headers(headers: &worker::web_sys::Headers, op_lines: &str);

    // The request executor's glue (see `super::task`).
    pub fn set_driver(on_settle: &worker::js_sys::Function, on_wake: &worker::js_sys::Function, on_lost: &worker::js_sys::Function);
    pub fn client_promise(task: u32) -> worker::js_sys::Promise;
    pub fn settle_client(task: u32, response: &JsValue);
    pub fn drop_client(task: u32);
    pub fn resume_on(promise: &worker::js_sys::Promise, task: u32, seq: u32);
    pub fn wake_soon(task: u32);
}
