//! The User-Agent classifier and header-consistency scoring.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let ua = String::from_utf8_lossy(data);
    let _ = edge::waf::classify_user_agent(&ua);
    let _ = edge::waf::bot_score(&ua, &[("accept", "*/*"), ("sec-ch-ua", &ua)], "HTTP/1.0", None, false);
});
