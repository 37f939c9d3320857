//! The rules parser and validator take whatever KV holds.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = edge::rules::parse(data);
});
