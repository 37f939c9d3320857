//! The nginx importer reads whatever config a user points it at: the
//! tokenizer, the directive tree and the translation must return an error,
//! never panic or hang, on any input.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(tree) = edge_rules::import::nginx::parse_text(&text, "fuzz.conf") {
        let _ = edge_rules::import::nginx::translate(&tree, &Default::default());
    }
});
