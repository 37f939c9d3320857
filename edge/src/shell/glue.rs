//! Bindings to `glue.js`: one JS↔wasm call per request read, per upstream
//! attempt, per signature and per response's header edits (framing in [`crate::wire`]).

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen(module = "/src/shell/glue.js")]
extern "C" {
    /// The request's method, URL, `request.cf` fields and headers as one string.
    pub fn request_parts(req: &worker::web_sys::Request) -> String;

    /// A Promise of the origin's `Response`; rejects with `"timeout"`,
    /// `"connect"` or `"bad_header"`.
    pub fn forward(
        url: &str,
        method: &str,
        header_lines: &str,
        body: &JsValue,
        timeout_ms: f64,
        controller: Option<&worker::web_sys::AbortController>,
    ) -> worker::js_sys::Promise;

    /// A Promise of the base64 Ed25519 signature of `base` by the key with
    /// this base64 seed, made by WebCrypto; rejects when the runtime cannot.
    pub fn sign_ed25519(seed_b64: &str, base: &[u8]) -> worker::js_sys::Promise;

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
}
