//! Decoders and attack-signature scanners over hostile query, header and body.
#![no_main]
use edge::waf::{inspect, Inspectable, WafConfig};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let query = lines.next().unwrap_or("");
    let content_type = lines.next();
    let ua = lines.next().unwrap_or("");
    let req = Inspectable {
        path: "/fuzz",
        query,
        headers: vec![("user-agent", ua), ("cookie", ua)],
        content_type,
        body,
    };
    let cfg = WafConfig { paranoia: 4, ..WafConfig::default() };
    let _ = inspect(&req, &cfg);
});
