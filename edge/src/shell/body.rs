//! Request bodies: the head the WAF inspects, and byte counting for bodies
//! streamed without `Content-Length`. The origin always receives the whole body,
//! streamed: the client's stream is teed, one branch read up to the cap and
//! cancelled, the other forwarded untouched.

use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{Array, Object, Reflect, Uint8Array};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{AbortController, ReadableStream, ReadableStreamDefaultReader};

/// The first `cap` bytes of the body, and the stream to forward in its place.
/// On any stream error the head is what was read so far (inspection is best
/// effort; the forwarded branch reports its own errors to the origin fetch).
pub async fn read_head(req: &worker::web_sys::Request, cap: usize) -> (Vec<u8>, Option<ReadableStream>) {
    let Some(stream) = req.body() else {
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
/// the fetch failed. The counting runs in the glue (`count_limited`): a Rust
/// closure handed to the stream would have to be leaked, one per request.
pub fn count_limited(stream: ReadableStream, limit: u64, abort: AbortController) -> Option<(ReadableStream, BodyCounter)> {
    let counter = Object::new();
    Reflect::set(&counter, &JsValue::from_str("seen"), &JsValue::from_f64(0.0)).ok()?;
    let readable = super::glue::count_limited(&stream, limit as f64, &abort, &counter);
    Some((readable, BodyCounter(counter)))
}

/// Bytes a [`count_limited`] stream has passed so far.
pub struct BodyCounter(Object);

impl BodyCounter {
    pub fn seen(&self) -> u64 {
        Reflect::get(&self.0, &JsValue::from_str("seen")).ok().and_then(|v| v.as_f64()).map_or(0, |v| v as u64)
    }
}
