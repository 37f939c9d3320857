//! RFC 9421 `Signature` / `Signature-Input` parsing and verification.
#![no_main]
use origin_sdk::{KeySet, Verifier, VerifyingKey};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (input, sig, extra) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut req = http::Request::get("https://origin.example/p?q=1");
    for (name, value) in [("signature-input", input), ("signature", sig), ("x-edge-country", extra)] {
        if let Ok(v) = http::HeaderValue::from_str(value) {
            req = req.header(name, v);
        }
    }
    let Ok(mut req) = req.body(()) else { return };
    let Ok(key) = VerifyingKey::hmac("k1", b"fuzzing-secret-0123456789abcdef") else { return };
    let verifier = Verifier::new(KeySet::new().with(key));
    let _ = verifier.verify_and_strip(&mut req, 1_700_000_000);
});
