//! Request bodies: the head the WAF inspects, and byte counting for bodies
//! streamed without `Content-Length`. The origin always receives the whole body,
//! streamed: the client's stream is teed, one branch read up to the cap and
//! cancelled, the other forwarded untouched.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{self, Array, Object, Reflect, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{AbortController, ReadableStream, ReadableStreamDefaultReader, TransformStream};
use worker::Request;

/// The first `cap` bytes of the body, and the stream to forward in its place.
/// On any stream error the head is what was read so far (inspection is best
/// effort; the forwarded branch reports its own errors to the origin fetch).
pub async fn read_head(req: &Request, cap: usize) -> (Vec<u8>, Option<ReadableStream>) {
    let Some(stream) = req.inner().body() else {
        return (Vec::new(), None);
    };
    let branches: Array = stream.tee();
    let (Ok(inspect), Ok(forward)) =
        (branches.get(0).dyn_into::<ReadableStream>(), branches.get(1).dyn_into::<ReadableStream>())
    else {
        return (Vec::new(), None);
    };
    let mut head = Vec::new();
    if let Ok(reader) = inspect.get_reader().dyn_into::<ReadableStreamDefaultReader>() {
        while head.len() < cap {
            let Ok(chunk) = JsFuture::from(reader.read()).await else { break };
            let done = Reflect::get(&chunk, &JsValue::from_str("done")).ok().and_then(|d| d.as_bool()).unwrap_or(true);
            if done {
                break;
            }
            let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value")) else { break };
            let Ok(bytes) = value.dyn_into::<Uint8Array>() else { break };
            let take = (cap - head.len()).min(bytes.length() as usize);
            let mut part = vec![0u8; take];
            bytes.subarray(0, take as u32).copy_to(&mut part);
            head.extend_from_slice(&part);
        }
        // The rest of this branch is not needed; the other one keeps flowing.
        let _ = reader.cancel();
    }
    (head, Some(forward))
}

/// A body stream that aborts `fetch` (through `abort`) and errors once more
/// than `limit` bytes have passed, so the origin sees a broken upload rather
/// than a short one; the returned counter tells the caller whether that is why
/// the fetch failed.
pub fn count_limited(stream: ReadableStream, limit: u64, abort: AbortController) -> Option<(ReadableStream, Rc<Cell<u64>>)> {
    let seen = Rc::new(Cell::new(0u64));
    let counter = seen.clone();
    let transform = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |chunk: JsValue, controller: JsValue| {
        let len = chunk.dyn_ref::<Uint8Array>().map_or(0, |b| u64::from(b.length()));
        counter.set(counter.get().saturating_add(len));
        let (method, arg) = if counter.get() > limit {
            abort.abort();
            ("error", JsValue::from(js_sys::Error::new("request body too large")))
        } else {
            ("enqueue", chunk)
        };
        if let Ok(f) = Reflect::get(&controller, &JsValue::from_str(method)).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            let _ = f.call1(&controller, &arg);
        }
    });
    let transformer = Object::new();
    Reflect::set(&transformer, &JsValue::from_str("transform"), transform.as_ref()).ok()?;
    // The closure lives as long as the stream, which outlives this request's
    // Rust frames; leaking one small closure per such request is the price.
    transform.forget();
    let ts = TransformStream::new_with_transformer(&transformer).ok()?;
    let pipe_to = Reflect::get(&stream, &JsValue::from_str("pipeTo")).ok()?.dyn_into::<js_sys::Function>().ok()?;
    // Errors surface on the readable side, where the fetch sees them; the
    // pipe's own promise is caught so it is not reported as unhandled.
    if let Ok(promise) = pipe_to.call1(&stream, &ts.writable()) {
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
        if let Ok(catch) = Reflect::get(&promise, &JsValue::from_str("catch")).and_then(|f| f.dyn_into::<js_sys::Function>()) {
            let _ = catch.call1(&promise, ignore.as_ref());
        }
        ignore.forget();
    }
    Some((ts.readable(), seen))
}
